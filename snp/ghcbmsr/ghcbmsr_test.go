package ghcbmsr

import (
	"errors"
	"testing"
)

// The oracle is the GHCB specification's table of MSR protocol messages
// (AMD publication 56421, section 2.3.1, "GHCB MSR Protocol"): GHCBInfo in
// bits 11:0 and the fields at the bit positions it gives. specWord builds
// a word from those positions without the package's constants.
func specWord(info uint64, fields ...[3]uint64) Word {
	w := info
	for _, f := range fields { // {value, low bit, width}
		w |= (f[0] & (1<<f[2] - 1)) << f[1]
	}
	return Word(w)
}

func TestWordsMatchSpec(t *testing.T) {
	reg, ok := RegisterWord(0x12345)
	if !ok {
		t.Fatal("RegisterWord(0x12345) refused")
	}
	psc, ok := PageStateWord(0xAB_CDEF_0123, PageShared)
	if !ok {
		t.Fatal("PageStateWord refused a 40-bit GFN")
	}
	for _, tc := range []struct {
		name string
		got  Word
		want Word
	}{
		// 0x002: SEV information request, no data.
		{"SEVInfoRequest", SEVInfoRequest(), specWord(0x002)},
		// 0x001: max version 63:48, min version 47:32, C-bit 31:24.
		{"SEVInfo", SEVInfo{MaxVersion: 2, MinVersion: 1, CBit: 51}.Word(), specWord(0x001, [3]uint64{2, 48, 16}, [3]uint64{1, 32, 16}, [3]uint64{51, 24, 8})},
		// 0x080/0x081: hypervisor features, bitmap in 63:12 (bit 0 SNP,
		// bit 1 AP creation).
		{"HypervisorFeaturesRequest", HypervisorFeaturesRequest(), specWord(0x080)},
		{"Features", (FeatureSNP | FeatureSNPAPCreation).Word(), specWord(0x081, [3]uint64{0b11, 12, 52})},
		// 0x012/0x013: GHCB GPA registration, GFN in 63:12.
		{"RegisterWord", reg, specWord(0x012, [3]uint64{0x12345, 12, 52})},
		{"RegisterGHCBResponse", RegisterGHCBResponse(0x12345), specWord(0x013, [3]uint64{0x12345, 12, 52})},
		// 0x014: page state change, operation 55:52 (1 private, 2
		// shared), GFN 51:12; 0x015: error code 63:32.
		{"PageStateWord", psc, specWord(0x014, [3]uint64{2, 52, 4}, [3]uint64{0xAB_CDEF_0123, 12, 40})},
		{"PageStateChangeResponse", PageStateChangeResponse(0xDEAD), specWord(0x015, [3]uint64{0xDEAD, 32, 32})},
		// 0x100: termination, reason set 15:12, reason code 23:16.
		{"TerminateGeneral", TerminateRequest(Reason{ReasonSetGeneral, ReasonSNPUnsupported}), specWord(0x100, [3]uint64{0, 12, 4}, [3]uint64{2, 16, 8})},
		{"TerminateCocoon", TerminateRequest(Reason{ReasonSetCocoon, ReasonPValidate}), specWord(0x100, [3]uint64{0xC, 12, 4}, [3]uint64{3, 16, 8})},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %#016x, the spec's layout gives %#016x", tc.name, uint64(tc.got), uint64(tc.want))
		}
	}
}

func TestWordAccessors(t *testing.T) {
	w := Word(0xFEDC_BA98_7654_3210)
	if w.Info() != 0x210 || w.Data() != 0xF_EDCB_A987_6543 {
		t.Errorf("Word(%#x): Info = %#x, Data = %#x", uint64(w), w.Info(), w.Data())
	}
}

func TestParseSEVInfo(t *testing.T) {
	for _, tc := range []struct {
		w    Word
		want SEVInfo
		ok   bool
	}{
		{specWord(0x001, [3]uint64{2, 48, 16}, [3]uint64{1, 32, 16}, [3]uint64{51, 24, 8}), SEVInfo{2, 1, 51}, true},
		{specWord(0x001, [3]uint64{2, 48, 16}, [3]uint64{2, 32, 16}, [3]uint64{47, 24, 8}), SEVInfo{2, 2, 47}, true},
		{specWord(0x002, [3]uint64{2, 48, 16}, [3]uint64{1, 32, 16}), SEVInfo{}, false},                      // the request code echoed back
		{specWord(0x001, [3]uint64{2, 48, 16}, [3]uint64{1, 32, 16}, [3]uint64{1, 12, 1}), SEVInfo{}, false}, // reserved bit 12
		{specWord(0x001, [3]uint64{1, 48, 16}, [3]uint64{2, 32, 16}), SEVInfo{}, false},                      // min above max
	} {
		got, ok := ParseSEVInfo(tc.w)
		if ok != tc.ok || ok && got != tc.want {
			t.Errorf("ParseSEVInfo(%#x) = %+v, %v; want %+v, %v", uint64(tc.w), got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseHypervisorFeatures(t *testing.T) {
	if f, ok := ParseHypervisorFeatures(specWord(0x081, [3]uint64{0b11, 12, 52})); !ok || f != FeatureSNP|FeatureSNPAPCreation {
		t.Errorf("ParseHypervisorFeatures = %#x, %v", f, ok)
	}
	if _, ok := ParseHypervisorFeatures(specWord(0x080, [3]uint64{1, 12, 52})); ok {
		t.Error("ParseHypervisorFeatures accepted a request word")
	}
}

func TestRegistration(t *testing.T) {
	if _, ok := RegisterWord(1 << 52); ok {
		t.Error("RegisterWord accepted a 53-bit GFN")
	}
	if _, ok := RegisterWord(1<<52 - 1); ok {
		t.Error("RegisterWord accepted the all-ones refusal pattern")
	}
	for _, tc := range []struct {
		name string
		w    Word
		ok   bool
	}{
		{"echo", specWord(0x013, [3]uint64{0x1000, 12, 52}), true},
		{"wrong echo", specWord(0x013, [3]uint64{0x1001, 12, 52}), false},
		{"refused", specWord(0x013, [3]uint64{1<<52 - 1, 12, 52}), false},
		{"request code", specWord(0x012, [3]uint64{0x1000, 12, 52}), false},
	} {
		if got := RegisterEchoed(tc.w, 0x1000); got != tc.ok {
			t.Errorf("%s: RegisterEchoed = %v, want %v", tc.name, got, tc.ok)
		}
	}
}

func TestPageStateChange(t *testing.T) {
	if _, ok := PageStateWord(1<<40, PagePrivate); ok {
		t.Error("PageStateWord accepted a 41-bit GFN")
	}
	if _, ok := PageStateWord(1, 3); ok {
		t.Error("PageStateWord accepted operation 3")
	}
	w, _ := PageStateWord(0x777, PagePrivate)
	gfn, op, err := DecodePageStateChangeRequest(w)
	if err != nil || gfn != 0x777 || op != PagePrivate {
		t.Errorf("DecodePageStateChangeRequest(%#x) = %#x, %v, %v", uint64(w), gfn, op, err)
	}
	for _, tc := range []struct {
		name string
		w    Word
		ok   bool
	}{
		{"success", specWord(0x015), true},
		{"error code 5", specWord(0x015, [3]uint64{5, 32, 32}), false},
		{"reserved bit 12", specWord(0x015, [3]uint64{1, 12, 1}), false},
		{"request code", specWord(0x014), false},
	} {
		if got := PageStateDone(tc.w); got != tc.ok {
			t.Errorf("%s: PageStateDone(%#x) = %v, want %v", tc.name, uint64(tc.w), got, tc.ok)
		}
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

type terminal struct{ r Reason }

func (t terminal) Error() string             { return "terminal" }
func (t terminal) TerminationReason() Reason { return t.r }

func TestReasonFor(t *testing.T) {
	if r := ReasonFor(errors.New("x")); r != (Reason{ReasonSetGeneral, ReasonGeneral}) {
		t.Errorf("ReasonFor(plain error) = %v", r)
	}
	want := Reason{ReasonSetCocoon, ReasonPageStateChange}
	if r := ReasonFor(errors.Join(errors.New("context"), terminal{want})); r != want {
		t.Errorf("ReasonFor(wrapped) = %v", r)
	}
}

// FuzzParseResponses checks that every response word the guest accepts is
// the one the spec's layout gives for the values it read.
func FuzzParseResponses(f *testing.F) {
	for _, w := range []uint64{0x0002_0001_3300_0001, 0x3081, 0x1234_5013, 0x15, 0xDEAD_0000_0015, 0x3_C100} {
		f.Add(w)
	}
	f.Fuzz(func(t *testing.T, v uint64) {
		w := Word(v)
		if i, ok := ParseSEVInfo(w); ok && specWord(0x001, [3]uint64{uint64(i.MaxVersion), 48, 16}, [3]uint64{uint64(i.MinVersion), 32, 16}, [3]uint64{uint64(i.CBit), 24, 8}) != w {
			t.Errorf("SEV information %#x accepted as %+v", v, i)
		}
		if f, ok := ParseHypervisorFeatures(w); ok && specWord(0x081, [3]uint64{uint64(f), 12, 52}) != w {
			t.Errorf("features %#x accepted as %#x", v, uint64(f))
		}
		if RegisterEchoed(w, w.Data()) && specWord(0x013, [3]uint64{w.Data(), 12, 52}) != w {
			t.Errorf("registration response %#x accepted but not canonical", v)
		}
		if PageStateDone(w) && w != specWord(0x015) {
			t.Errorf("page state response %#x accepted as success", v)
		}
		if r, err := DecodeTerminateRequest(w); err == nil && TerminateRequest(r) != w {
			t.Errorf("termination %#x re-encodes to %#x", v, uint64(TerminateRequest(r)))
		}
	})
}
