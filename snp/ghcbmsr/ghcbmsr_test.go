package ghcbmsr

import (
	"errors"
	"testing"
)

func TestWordEncoders(t *testing.T) {
	reg, err := RegisterGHCBRequest(0x12345)
	if err != nil {
		t.Fatal(err)
	}
	psc, err := PageStateChangeRequest(0xAB_CDEF_0123, PageShared)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		got  Word
		want uint64
	}{
		{"SEVInfoRequest", SEVInfoRequest(), 0x002},
		{"SEVInfo", SEVInfo{MaxVersion: 2, MinVersion: 1, CBit: 51}.Word(), 0x0002_0001_3300_0001},
		{"HypervisorFeaturesRequest", HypervisorFeaturesRequest(), 0x080},
		{"Features", (FeatureSNP | FeatureSNPAPCreation).Word(), 0x3081},
		{"RegisterGHCBRequest", reg, 0x1234_5012},
		{"RegisterGHCBResponse", RegisterGHCBResponse(0x12345), 0x1234_5013},
		{"PageStateChangeRequest", psc, 0x002A_BCDE_F012_3014},
		{"PageStateChangeResponse", PageStateChangeResponse(0xDEAD), 0x0000_DEAD_0000_0015},
		{"TerminateGeneral", TerminateRequest(Reason{ReasonSetGeneral, ReasonSNPUnsupported}), 0x0002_0100},
		{"TerminateCocoon", TerminateRequest(Reason{ReasonSetCocoon, ReasonPValidate}), 0x0003_C100},
	} {
		if uint64(tc.got) != tc.want {
			t.Errorf("%s = %#016x, want %#016x", tc.name, uint64(tc.got), tc.want)
		}
	}
}

func TestWordAccessors(t *testing.T) {
	w := Word(0xFEDC_BA98_7654_3210)
	if w.Info() != 0x210 || w.Data() != 0xF_EDCB_A987_6543 {
		t.Errorf("Word(%#x): Info = %#x, Data = %#x", uint64(w), w.Info(), w.Data())
	}
}

func TestDecodeSEVInfo(t *testing.T) {
	for _, tc := range []struct {
		w       Word
		want    SEVInfo
		wantErr bool
	}{
		{0x0002_0001_3300_0001, SEVInfo{2, 1, 51}, false},
		{0x0002_0002_2F00_0001, SEVInfo{2, 2, 47}, false},
		{0x0002_0001_3300_0002, SEVInfo{}, true}, // request code echoed back
		{0x0002_0001_3300_1001, SEVInfo{}, true}, // reserved bit 12
		{0x0001_0002_3300_0001, SEVInfo{}, true}, // min > max
	} {
		got, err := DecodeSEVInfo(tc.w)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("DecodeSEVInfo(%#x) = %+v, %v; want %+v, error %v", uint64(tc.w), got, err, tc.want, tc.wantErr)
		}
	}
}

func TestDecodeHypervisorFeatures(t *testing.T) {
	f, err := DecodeHypervisorFeatures(0x3081)
	if err != nil || f != FeatureSNP|FeatureSNPAPCreation {
		t.Errorf("DecodeHypervisorFeatures(0x3081) = %#x, %v", f, err)
	}
	if _, err := DecodeHypervisorFeatures(0x3080); err == nil {
		t.Error("DecodeHypervisorFeatures accepted a request word")
	}
}

func TestRegisterGHCB(t *testing.T) {
	if _, err := RegisterGHCBRequest(1 << 52); err == nil {
		t.Error("RegisterGHCBRequest accepted a 53-bit GFN")
	}
	for _, tc := range []struct {
		name string
		w    Word
		ok   bool
	}{
		{"echo", RegisterGHCBResponse(0x1000), true},
		{"wrong echo", RegisterGHCBResponse(0x1001), false},
		{"refused", RegisterGHCBResponse(registerRefuse), false},
		{"wrong info", Word(0x1000<<12 | 0x012), false},
	} {
		err := DecodeRegisterGHCBResponse(tc.w, 0x1000)
		if (err == nil) != tc.ok {
			t.Errorf("%s: DecodeRegisterGHCBResponse = %v, want ok %v", tc.name, err, tc.ok)
		}
		if err != nil && ReasonFor(err) != (Reason{ReasonSetCocoon, ReasonGHCBRegistration}) {
			t.Errorf("%s: ReasonFor = %v", tc.name, ReasonFor(err))
		}
	}
}

func TestPageStateChangeWords(t *testing.T) {
	if _, err := PageStateChangeRequest(1<<40, PagePrivate); err == nil {
		t.Error("PageStateChangeRequest accepted a 41-bit GFN")
	}
	if _, err := PageStateChangeRequest(1, 3); err == nil {
		t.Error("PageStateChangeRequest accepted operation 3")
	}
	w, _ := PageStateChangeRequest(0x777, PagePrivate)
	gfn, op, err := DecodePageStateChangeRequest(w)
	if err != nil || gfn != 0x777 || op != PagePrivate {
		t.Errorf("DecodePageStateChangeRequest(%#x) = %#x, %v, %v", uint64(w), gfn, op, err)
	}
	if err := DecodePageStateChangeResponse(PageStateChangeResponse(0), 1, PageShared); err != nil {
		t.Errorf("success response: %v", err)
	}
	err = DecodePageStateChangeResponse(PageStateChangeResponse(5), 1, PageShared)
	var pe *PageStateError
	if !errors.As(err, &pe) || pe.Code != 5 {
		t.Errorf("error response: %v", err)
	}
	if err := DecodePageStateChangeResponse(Word(0x1015), 1, PageShared); err == nil {
		t.Error("accepted reserved bits in response")
	}
	if err := DecodePageStateChangeResponse(Word(0x0014), 1, PageShared); err == nil {
		t.Error("accepted request code as response")
	}
}

func TestTerminateRoundTrip(t *testing.T) {
	for set := ReasonSet(0); set < 16; set++ {
		for _, code := range []ReasonCode{0, 1, 0x7F, 0xFF} {
			r := Reason{set, code}
			got, err := DecodeTerminateRequest(TerminateRequest(r))
			if err != nil || got != r {
				t.Errorf("DecodeTerminateRequest(TerminateRequest(%v)) = %v, %v", r, got, err)
			}
		}
	}
	if _, err := DecodeTerminateRequest(Word(1<<24 | 0x100)); err == nil {
		t.Error("accepted reserved bits in termination request")
	}
}

// fakeCPU answers each VMGEXIT with answer(request).
type fakeCPU struct {
	msr    uint64
	answer func(Word) Word
	exits  []Word
}

func (c *fakeCPU) ReadGHCBMSR() uint64   { return c.msr }
func (c *fakeCPU) WriteGHCBMSR(v uint64) { c.msr = v }
func (c *fakeCPU) VMGEXIT() {
	c.exits = append(c.exits, Word(c.msr))
	c.msr = uint64(c.answer(Word(c.msr)))
}

func TestNegotiate(t *testing.T) {
	for _, tc := range []struct {
		hv      SEVInfo
		want    uint16
		wantErr bool
	}{
		{SEVInfo{MaxVersion: 2, MinVersion: 1, CBit: 51}, 2, false},
		{SEVInfo{MaxVersion: 3, MinVersion: 2, CBit: 51}, 2, false},
		{SEVInfo{MaxVersion: 1, MinVersion: 1, CBit: 51}, 0, true},
		{SEVInfo{MaxVersion: 5, MinVersion: 3, CBit: 51}, 0, true},
	} {
		cpu := &fakeCPU{answer: func(Word) Word { return tc.hv.Word() }}
		info, v, err := Negotiate(cpu, 2, 2)
		if (err != nil) != tc.wantErr || v != tc.want {
			t.Errorf("Negotiate with %+v = %d, %v; want %d, error %v", tc.hv, v, err, tc.want, tc.wantErr)
		}
		if err == nil && info != tc.hv {
			t.Errorf("Negotiate info = %+v, want %+v", info, tc.hv)
		}
		if err != nil && ReasonFor(err) != (Reason{ReasonSetGeneral, ReasonProtocolUnsupported}) {
			t.Errorf("ReasonFor(%v) = %v", err, ReasonFor(err))
		}
	}
}

func TestHypervisorFeatures(t *testing.T) {
	cpu := &fakeCPU{answer: func(Word) Word { return FeatureSNPAPCreation.Word() }}
	_, err := HypervisorFeatures(cpu, FeatureSNP)
	if ReasonFor(err) != (Reason{ReasonSetGeneral, ReasonSNPUnsupported}) {
		t.Errorf("HypervisorFeatures without SNP = %v", err)
	}
	cpu.answer = func(Word) Word { return FeatureSNP.Word() }
	if f, err := HypervisorFeatures(cpu, FeatureSNP); err != nil || f != FeatureSNP {
		t.Errorf("HypervisorFeatures = %#x, %v", f, err)
	}
}

func TestRegisterAndPageStateFlows(t *testing.T) {
	cpu := &fakeCPU{answer: func(w Word) Word { return RegisterGHCBResponse(w.Data()) }}
	if err := RegisterGHCB(cpu, 0x5000); err != nil {
		t.Errorf("RegisterGHCB with honest echo: %v", err)
	}
	cpu.answer = func(w Word) Word { return RegisterGHCBResponse(w.Data() + 1) }
	if err := RegisterGHCB(cpu, 0x5000); err == nil {
		t.Error("RegisterGHCB accepted a wrong echo")
	}
	cpu.answer = func(Word) Word { return PageStateChangeResponse(0) }
	if err := PageStateChange(cpu, 9, PageShared); err != nil {
		t.Errorf("PageStateChange: %v", err)
	}
	if gfn, op, _ := DecodePageStateChangeRequest(cpu.exits[len(cpu.exits)-1]); gfn != 9 || op != PageShared {
		t.Errorf("hypervisor saw GFN %#x op %v", gfn, op)
	}
	cpu.answer = func(Word) Word { return PageStateChangeResponse(1) }
	if err := PageStateChange(cpu, 9, PageShared); ReasonFor(err) != (Reason{ReasonSetCocoon, ReasonPageStateChange}) {
		t.Errorf("PageStateChange failure = %v", err)
	}
}

func TestTerminate(t *testing.T) {
	cpu := &fakeCPU{answer: func(w Word) Word { return w }}
	r := Reason{ReasonSetCocoon, ReasonCPUID}
	if err := Terminate(cpu, r); err != ErrNotTerminated {
		t.Errorf("Terminate = %v, want ErrNotTerminated", err)
	}
	if got, err := DecodeTerminateRequest(cpu.exits[0]); err != nil || got != r {
		t.Errorf("hypervisor saw %v, %v; want %v", got, err, r)
	}
}

func TestReasonFor(t *testing.T) {
	if r := ReasonFor(errors.New("x")); r != (Reason{ReasonSetGeneral, ReasonGeneral}) {
		t.Errorf("ReasonFor(plain error) = %v", r)
	}
	wrapped := errors.Join(errors.New("context"), &PageStateError{})
	if r := ReasonFor(wrapped); r != (Reason{ReasonSetCocoon, ReasonPageStateChange}) {
		t.Errorf("ReasonFor(wrapped) = %v", r)
	}
}

func FuzzDecodeResponses(f *testing.F) {
	for _, w := range []uint64{0x0002_0001_3300_0001, 0x3081, 0x1234_5013, 0x15, 0xDEAD_0000_0015, 0x3_C100} {
		f.Add(w)
	}
	f.Fuzz(func(t *testing.T, v uint64) {
		w := Word(v)
		if i, err := DecodeSEVInfo(w); err == nil && i.Word() != w {
			t.Errorf("SEVInfo %#x re-encodes to %#x", v, uint64(i.Word()))
		}
		if f, err := DecodeHypervisorFeatures(w); err == nil && f.Word() != w {
			t.Errorf("Features %#x re-encodes to %#x", v, uint64(f.Word()))
		}
		if err := DecodeRegisterGHCBResponse(w, w.Data()); err == nil && RegisterGHCBResponse(w.Data()) != w {
			t.Errorf("registration response %#x accepted but not canonical", v)
		}
		if err := DecodePageStateChangeResponse(w, 0, PagePrivate); err == nil && w != PageStateChangeResponse(0) {
			t.Errorf("page state response %#x accepted as success", v)
		}
		if r, err := DecodeTerminateRequest(w); err == nil && TerminateRequest(r) != w {
			t.Errorf("termination %#x re-encodes to %#x", v, uint64(TerminateRequest(r)))
		}
	})
}
