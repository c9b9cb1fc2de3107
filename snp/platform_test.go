package snp

import (
	"bytes"
	"testing"

	"github.com/cocoon-vm/cocoon/kernel/cpu"
	"github.com/cocoon-vm/cocoon/snp/cpuidpage"
	"github.com/cocoon-vm/cocoon/snp/ghcb"
	"github.com/cocoon-vm/cocoon/snp/ghcbmsr"
	"github.com/cocoon-vm/cocoon/snp/guestmsg"
	"github.com/cocoon-vm/cocoon/snp/secrets"
	"github.com/cocoon-vm/cocoon/snp/snptest"
)

const (
	testPages     = 1024     // 4 MiB of guest memory
	testSharedGPA = 0x100000 // the shared window
	testCode      = 0x7e00_0020_1000
)

// testCPUID is a CPUID page as a hypervisor would propose it: leaf 0
// bounds the standard range at 0xD, 0x8000_0000 the extended one at
// 0x8000_001F; leaf 5 is in range but absent.
var testCPUID = cpuidpage.Table{Functions: []cpuidpage.Function{
	{EAXIn: 0, EAX: 0xD, EBX: 0x68747541, ECX: 0x444d4163, EDX: 0x69746e65},
	{EAXIn: 1, EAX: 0xa10f11, EBX: 0x800, ECX: 0x76fa3203 &^ leaf1ECXOSXSAVE, EDX: 0x178bfbff},
	{EAXIn: 7, ECXIn: 0, EBX: 0x219c91a9, ECX: 0x40069c | leaf7ECXOSPKE},
	{EAXIn: 0xD, ECXIn: 0, XCR0In: 1, EAX: 0x7, EBX: 0x240, ECX: 0x340},
	{EAXIn: 0xD, ECXIn: 1, XCR0In: 1, EAX: 0xf, EBX: 0x240},
	{EAXIn: 0xD, ECXIn: 2, EAX: 0x100, EBX: 0x240},
	{EAXIn: 0x8000_0000, EAX: 0x8000_001F},
	{EAXIn: 0x8000_001F, EAX: cpuidSEV | cpuidSEVES | cpuidSNP | 1, EBX: 51},
}}

type setup struct {
	g   *snptest.Guest
	cfg Config
}

// newSetup returns an honest guest and the configuration the boot path
// would hand the platform.
func newSetup(t *testing.T) *setup {
	t.Helper()
	g := snptest.NewGuest(testPages)
	page, err := testCPUID.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	sp := (&secrets.Page{Version: secrets.Version3}).Marshal()
	shared := g.Mem(testSharedGPA, SharedPages*ghcb.PageSize)
	for i := uint64(0); i < SharedPages; i++ {
		g.Shared[g.DirectMap+testSharedGPA+i*ghcb.PageSize] = testSharedGPA + i*ghcb.PageSize
	}
	return &setup{g: g, cfg: Config{
		Machine:     g,
		Status:      Status{Kind: SNP, CBit: 51, SEVStatus: StatusSEV | StatusSEVES | StatusSNP},
		SharedGPA:   testSharedGPA,
		Shared:      shared,
		CPUIDPage:   page,
		SecretsPage: sp,
	}}
}

func (s *setup) platform(t *testing.T) *Platform {
	t.Helper()
	p := new(Platform)
	if r, ok := p.Init(&s.cfg); !ok {
		t.Fatalf("Init: %v", r)
	}
	return p
}

func cocoon(c ghcbmsr.ReasonCode) ghcbmsr.Reason {
	return ghcbmsr.Reason{Set: ghcbmsr.ReasonSetCocoon, Code: c}
}

func general(c ghcbmsr.ReasonCode) ghcbmsr.Reason {
	return ghcbmsr.Reason{Set: ghcbmsr.ReasonSetGeneral, Code: c}
}

func TestDecode(t *testing.T) {
	snp := uint64(StatusSEV | StatusSEVES | StatusSNP)
	all := uint32(cpuidSEV | cpuidSEVES | cpuidSNP)
	for _, tc := range []struct {
		name     string
		eax, ebx uint32
		status   uint64
		want     Kind
	}{
		{"plain", all, 51, 0, NotEncrypted},
		{"SNP", all, 51, snp, SNP},
		{"SNP with C-bit 47", all, 47, snp | StatusDebugSwap, SNP},
		{"SEV only", all, 51, StatusSEV, Unsupported},
		{"SEV-ES only", all, 51, StatusSEV | StatusSEVES, Unsupported},
		{"SNP bit alone", all, 51, StatusSNP, Unsupported},
		{"CPUID denies SNP", cpuidSEV | cpuidSEVES, 51, snp, Unsupported},
		{"C-bit in low memory", all, 12, snp, Unsupported},
		{"C-bit past 51", all, 52, snp, Unsupported},
		{"SNP with transparent features", all, 51, snp | StatusPreventHostIBS | StatusBTBIsolation | StatusSMTProtection | StatusVMSARegProt, SNP},
		{"vTOM", all, 51, snp | StatusVTOM, Unsupported},
		{"restricted injection", all, 51, snp | StatusRestrictedInjection, Unsupported},
		{"alternate injection", all, 51, snp | StatusAlternateInjection, Unsupported},
		{"reflect #VC", all, 51, snp | StatusReflectVC, Unsupported},
		{"Secure TSC", all, 51, snp | StatusSecureTSC, SNP},
		{"Secure TSC and vTOM", all, 51, snp | StatusSecureTSC | StatusVTOM, Unsupported},
		{"VMPL supervisor shadow stacks", all, 51, snp | StatusVMPLSSS, Unsupported},
		{"undefined bit 40", all, 51, snp | 1<<40, Unsupported},
	} {
		s := Decode(tc.eax, tc.ebx, tc.status)
		if s.Kind != tc.want {
			t.Errorf("%s: Decode = %v, want %v", tc.name, s.Kind, tc.want)
		}
		if want := tc.want == SNP; (s.CBitMask() != 0) != want || want && s.CBitMask() != 1<<tc.ebx {
			t.Errorf("%s: CBitMask = %#x", tc.name, s.CBitMask())
		}
	}
}

type prober struct {
	maxExt, eax, ebx uint32
	status           uint64
	msrReads         int
}

func (p *prober) CPUID(leaf, _ uint32) (uint32, uint32, uint32, uint32) {
	switch leaf {
	case LeafMaxExtended:
		return p.maxExt, 0, 0, 0
	case LeafEncryption:
		return p.eax, p.ebx, 0, 0
	}
	return 0, 0, 0, 0
}

func (p *prober) ReadMSR(msr uint32) uint64 {
	if msr != MSRSEVStatus {
		panic("unexpected MSR")
	}
	p.msrReads++
	return p.status
}

// TestDetect checks that SEV_STATUS is read only where it exists: reading
// it on a processor without SEV faults.
func TestDetect(t *testing.T) {
	snp := uint64(StatusSEV | StatusSEVES | StatusSNP)
	for _, tc := range []struct {
		name  string
		p     prober
		want  Kind
		reads int
	}{
		{"old processor", prober{maxExt: 0x8000_0008, eax: 0xff, status: snp}, NotEncrypted, 0},
		{"no SEV", prober{maxExt: 0x8000_0021, eax: 1, status: snp}, NotEncrypted, 0},
		{"SNP guest", prober{maxExt: 0x8000_0021, eax: 0x1b, ebx: 51, status: snp}, SNP, 1},
		{"SEV host, plain guest", prober{maxExt: 0x8000_0021, eax: 0x1b, ebx: 51}, NotEncrypted, 1},
	} {
		s := Detect(&tc.p)
		if s.Kind != tc.want || tc.p.msrReads != tc.reads {
			t.Errorf("%s: Detect = %v after %d MSR reads, want %v after %d", tc.name, s.Kind, tc.p.msrReads, tc.want, tc.reads)
		}
	}
}

func TestInit(t *testing.T) {
	s := newSetup(t)
	p := s.platform(t)
	if p.version != 2 {
		t.Errorf("version %d, want 2", p.version)
	}
	if got := s.g.ReadGHCBMSR(); ghcbmsr.Word(got).Info() != ghcbmsr.InfoRegisterGHCBResponse || ghcbmsr.Word(got).Data() != testSharedGPA/ghcb.PageSize {
		t.Errorf("GHCB MSR after Init = %#x, want the registration of GFN %#x", got, testSharedGPA/ghcb.PageSize)
	}
	if p.Exits.MSRProtocol != 3 {
		t.Errorf("%d MSR-protocol exits, want 3 (SEV info, features, registration)", p.Exits.MSRProtocol)
	}
	if p.Name() != "snp" || len(p.HostExits()) == 0 {
		t.Errorf("Name %q, %d host exits", p.Name(), len(p.HostExits()))
	}
}

// TestInitHostile feeds Init the answers of a hypervisor (or a launch)
// that the guest must refuse, each with its own termination reason.
func TestInitHostile(t *testing.T) {
	for _, tc := range []struct {
		name   string
		break_ func(s *setup)
		want   ghcbmsr.Reason
	}{
		{"wrong GHCB GPA echo", func(s *setup) {
			s.g.RegisterReply = func(gfn uint64) uint64 { return gfn + 1 }
		}, cocoon(ghcbmsr.ReasonGHCBRegistration)},
		{"registration refused", func(s *setup) {
			s.g.RegisterReply = func(uint64) uint64 { return 1<<52 - 1 }
		}, cocoon(ghcbmsr.ReasonGHCBRegistration)},
		{"protocol version 1 only", func(s *setup) {
			s.g.SEVInfo = ghcbmsr.SEVInfo{MinVersion: 1, MaxVersion: 1, CBit: 51}
		}, general(ghcbmsr.ReasonProtocolUnsupported)},
		{"versions from 3", func(s *setup) {
			s.g.SEVInfo = ghcbmsr.SEVInfo{MinVersion: 3, MaxVersion: 4, CBit: 51}
		}, general(ghcbmsr.ReasonProtocolUnsupported)},
		{"C-bit disagrees with CPUID", func(s *setup) {
			s.g.SEVInfo.CBit = 47
		}, general(ghcbmsr.ReasonSNPUnsupported)},
		{"no SNP feature", func(s *setup) {
			s.g.Features = 0
		}, general(ghcbmsr.ReasonSNPUnsupported)},
		{"not an SNP guest", func(s *setup) {
			s.cfg.Status.Kind = Unsupported
		}, general(ghcbmsr.ReasonSNPUnsupported)},
		{"empty CPUID page", func(s *setup) {
			clear(s.cfg.CPUIDPage)
		}, cocoon(ghcbmsr.ReasonCPUID)},
		{"CPUID count beyond the page", func(s *setup) {
			s.cfg.CPUIDPage[0] = cpuidpage.MaxEntries + 1
		}, cocoon(ghcbmsr.ReasonCPUID)},
		{"secrets page version 1", func(s *setup) {
			s.cfg.SecretsPage[0] = 1
		}, cocoon(ghcbmsr.ReasonSecretsPage)},
		{"shared window too small", func(s *setup) {
			s.cfg.Shared = s.cfg.Shared[:ghcb.PageSize]
		}, cocoon(ghcbmsr.ReasonGHCBRegistration)},
	} {
		s := newSetup(t)
		tc.break_(s)
		r, ok := new(Platform).Init(&s.cfg)
		if ok || r != tc.want {
			t.Errorf("%s: Init = %v, %v; want %v", tc.name, r, ok, tc.want)
		}
	}
}

// vcFrame returns a kernel-mode #VC frame for exit code at testCode,
// where code holds the instruction bytes.
func vcFrame(s *setup, exit uint64, code ...byte) *cpu.Frame {
	s.g.Code[testCode] = code
	return &cpu.Frame{ErrCode: exit, Vector: 29, RIP: testCode, CS: cpu.KCode}
}

func TestCPUID(t *testing.T) {
	s := newSetup(t)
	p := s.platform(t)
	ref, err := cpuidpage.Parse(s.cfg.CPUIDPage)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		leaf, sub  uint32
		osxsave    bool
		xcr0       uint64
		a, b, c, d uint32
	}{
		{leaf: 0, a: 0xD, b: 0x68747541, c: 0x444d4163, d: 0x69746e65},
		{leaf: 1, osxsave: true, xcr0: 7, a: 0xa10f11, b: 0x800, c: 0x76fa3203 | leaf1ECXOSXSAVE, d: 0x178bfbff},
		{leaf: 1, a: 0xa10f11, b: 0x800, c: 0x76fa3203 &^ leaf1ECXOSXSAVE, d: 0x178bfbff},
		{leaf: 7, osxsave: true, xcr0: 7, b: 0x219c91a9, c: 0x40069c &^ leaf7ECXOSPKE},
		{leaf: 0xD, sub: 2, osxsave: true, xcr0: 7, a: 0x100, b: 0x240},
		{leaf: 0x8000_001F, a: 0x1b, b: 51},
		// Beyond a range's maximum and outside the described ranges:
		// zeros, as the hardware answers, without asking the host.
		{leaf: 0xE},
		{leaf: 0x8000_0020},
		{leaf: 0x4000_0000},
	} {
		s.g.OSXSAVE, s.g.XCR0 = tc.osxsave, tc.xcr0
		a, b, c, d, ok := p.CPUID(tc.leaf, tc.sub)
		if !ok || a != tc.a || b != tc.b || c != tc.c || d != tc.d {
			t.Errorf("CPUID(%#x, %d) = %#x %#x %#x %#x %v; want %#x %#x %#x %#x", tc.leaf, tc.sub, a, b, c, d, ok, tc.a, tc.b, tc.c, tc.d)
		}
	}
	// Leaf 0xD's sizes follow XCR0, computed as the reference parser does.
	for _, xcr0 := range []uint64{3, 7} {
		s.g.OSXSAVE, s.g.XCR0 = true, xcr0
		for sub := uint32(0); sub <= 1; sub++ {
			want, err := ref.XSAVESize(xcr0, sub == 1)
			if err != nil {
				t.Fatal(err)
			}
			if _, b, _, _, ok := p.CPUID(0xD, sub); !ok || b != want {
				t.Errorf("XCR0 %#x: CPUID(0xD, %d).EBX = %d, %v; want %d", xcr0, sub, b, ok, want)
			}
		}
	}
	if _, _, _, _, ok := p.CPUID(5, 0); ok {
		t.Error("CPUID(5), in range but not in the page: answered")
	}
	s.g.XCR0 = 1<<9 | 7 // a component the page does not describe
	if _, _, _, _, ok := p.CPUID(0xD, 0); ok {
		t.Error("CPUID(0xD, 0) with an undescribed XCR0 component: answered")
	}
	if len(s.g.Exits) != 0 {
		t.Errorf("CPUID reached the host: %v", s.g.Exits)
	}
}

func TestVCCPUID(t *testing.T) {
	s := newSetup(t)
	p := s.platform(t)
	f := vcFrame(s, uint64(ghcb.ExitCPUID), 0x0F, 0xA2)
	f.RAX, f.RCX, f.RBX = 0x8000_001F, 0, 0xdead_0000_0000_0000
	if r, ok := p.HandleVC(f); !ok {
		t.Fatalf("HandleVC: %v", r)
	}
	if f.RAX != 0x1b || f.RBX != 51 || f.RIP != testCode+2 {
		t.Errorf("after CPUID: RAX %#x RBX %#x RIP %#x", f.RAX, f.RBX, f.RIP)
	}
	f = vcFrame(s, uint64(ghcb.ExitCPUID), 0x0F, 0xA2)
	if n := testing.AllocsPerRun(100, func() { f.RIP = testCode; p.HandleVC(f) }); n != 0 {
		t.Errorf("HandleVC(CPUID) allocates %v times", n)
	}

	for _, tc := range []struct {
		name string
		exit uint64
		code []byte
		rax  uint64
		want ghcbmsr.Reason
	}{
		{"CPUID exit, RDMSR at RIP", uint64(ghcb.ExitCPUID), []byte{0x0F, 0x32}, 0, cocoon(ghcbmsr.ReasonVC)},
		{"nothing readable at RIP", uint64(ghcb.ExitCPUID), nil, 0, cocoon(ghcbmsr.ReasonVC)},
		{"leaf missing from the page", uint64(ghcb.ExitCPUID), []byte{0x0F, 0xA2}, 5, cocoon(ghcbmsr.ReasonCPUID)},
		{"VMMCALL", 0x81, []byte{0x0F, 0x01, 0xD9}, 0, cocoon(ghcbmsr.ReasonVC)},
	} {
		f := vcFrame(s, tc.exit, tc.code...)
		f.RAX = tc.rax
		r, ok := p.HandleVC(f)
		if ok || r != tc.want || f.RIP != testCode {
			t.Errorf("%s: HandleVC = %v, %v, RIP moved by %d; want %v", tc.name, r, ok, f.RIP-testCode, tc.want)
		}
	}
}

func TestVCMSR(t *testing.T) {
	s := newSetup(t)
	p := s.platform(t)
	s.g.MSRs[0x1b] = 0x1_fee0_0900

	f := vcFrame(s, uint64(ghcb.ExitMSR), 0x0F, 0x32)
	f.RCX, f.RAX, f.RDX = 0x1b, 0xffff_ffff_ffff_ffff, 0xffff_ffff_ffff_ffff
	if r, ok := p.HandleVC(f); !ok {
		t.Fatalf("RDMSR: %v", r)
	}
	if f.RAX != 0xfee0_0900 || f.RDX != 1 || f.RIP != testCode+2 {
		t.Errorf("RDMSR: RAX %#x RDX %#x RIP %#x", f.RAX, f.RDX, f.RIP)
	}

	f = vcFrame(s, uint64(ghcb.ExitMSR), 0x0F, 0x30)
	f.RCX, f.RAX, f.RDX = 0x838, 0xdead_0000_1234, 0x5
	if r, ok := p.HandleVC(f); !ok {
		t.Fatalf("WRMSR: %v", r)
	}
	if got := s.g.MSRs[0x838]; got != 0x5_0000_1234 {
		t.Errorf("WRMSR stored %#x, want %#x", got, 0x5_0000_1234)
	}
	if p.Exits.MSR != 2 {
		t.Errorf("%d MSR exits, want 2", p.Exits.MSR)
	}

	hostile := []struct {
		name  string
		setup func(s *setup)
		f     func(s *setup) *cpu.Frame
		want  ghcbmsr.Reason
	}{
		{"host injects #GP", nil, func(s *setup) *cpu.Frame {
			f := vcFrame(s, uint64(ghcb.ExitMSR), 0x0F, 0x32)
			f.RCX = 0x1234
			return f
		}, cocoon(ghcbmsr.ReasonGHCBProtocol)},
		{"outputs not marked valid", func(s *setup) { s.g.DropOutputs = true }, func(s *setup) *cpu.Frame {
			f := vcFrame(s, uint64(ghcb.ExitMSR), 0x0F, 0x32)
			f.RCX = 0x1b
			return f
		}, cocoon(ghcbmsr.ReasonGHCBProtocol)},
		{"SW_EXITCODE changed", func(s *setup) { s.g.ChangeExitCode = uint64(ghcb.ExitIOIO) }, func(s *setup) *cpu.Frame {
			f := vcFrame(s, uint64(ghcb.ExitMSR), 0x0F, 0x30)
			f.RCX = 0x838
			return f
		}, cocoon(ghcbmsr.ReasonGHCBProtocol)},
		{"#VC for the GHCB MSR", nil, func(s *setup) *cpu.Frame {
			f := vcFrame(s, uint64(ghcb.ExitMSR), 0x0F, 0x30)
			f.RCX = ghcbmsr.MSR
			return f
		}, cocoon(ghcbmsr.ReasonVC)},
	}
	for _, tc := range hostile {
		s := newSetup(t)
		p := s.platform(t)
		s.g.MSRs[0x1b] = 0xfee0_0900
		if tc.setup != nil {
			tc.setup(s)
		}
		f := tc.f(s)
		rax := f.RAX
		r, ok := p.HandleVC(f)
		if ok || r != tc.want || f.RIP != testCode || f.RAX != rax {
			t.Errorf("%s: HandleVC = %v, %v (RIP %#x, RAX %#x); want %v and no change", tc.name, r, ok, f.RIP, f.RAX, tc.want)
		}
	}
}

func TestVCIOIO(t *testing.T) {
	s := newSetup(t)
	p := s.platform(t)
	s.g.Ports[0x3fd] = 0x60

	// OUT DX, AL: only the low byte goes to the host.
	f := vcFrame(s, uint64(ghcb.ExitIOIO), 0xEE)
	f.RDX, f.RAX = 0x3f8, 0x1234_5641
	if r, ok := p.HandleVC(f); !ok {
		t.Fatalf("OUT: %v", r)
	}
	if got := s.g.Ports[0x3f8]; got != 0x41 || f.RIP != testCode+1 {
		t.Errorf("OUT DX,AL: port holds %#x, RIP %#x", got, f.RIP)
	}
	// IN AL, DX merges into AL; the rest of RAX stays.
	f = vcFrame(s, uint64(ghcb.ExitIOIO), 0xEC)
	f.RDX, f.RAX = 0x3fd, 0xaaaa_bbbb_cccc_dd00
	if r, ok := p.HandleVC(f); !ok {
		t.Fatalf("IN: %v", r)
	}
	if f.RAX != 0xaaaa_bbbb_cccc_dd60 {
		t.Errorf("IN AL,DX: RAX %#x", f.RAX)
	}
	// IN EAX, DX zero-extends into RAX.
	s.g.Ports[0xcfc] = 0x8086_1237
	f = vcFrame(s, uint64(ghcb.ExitIOIO), 0xED)
	f.RDX, f.RAX = 0xcfc, 0xffff_ffff_0000_0000
	if r, ok := p.HandleVC(f); !ok || f.RAX != 0x8086_1237 {
		t.Errorf("IN EAX,DX: RAX %#x (%v)", f.RAX, r)
	}
	// OUT imm8, EAX (isa-debug-exit style).
	f = vcFrame(s, uint64(ghcb.ExitIOIO), 0xE7, 0xF4)
	f.RAX = 0x7
	if r, ok := p.HandleVC(f); !ok || s.g.Ports[0xf4] != 7 || f.RIP != testCode+2 {
		t.Errorf("OUT 0xf4,EAX: port %#x, RIP %#x (%v)", s.g.Ports[0xf4], f.RIP, r)
	}
	if p.Exits.IOIO != 4 {
		t.Errorf("%d IOIO exits, want 4", p.Exits.IOIO)
	}

	for _, tc := range []struct {
		name string
		f    func(s *setup) *cpu.Frame
		want ghcbmsr.Reason
	}{
		{"string I/O", func(s *setup) *cpu.Frame { return vcFrame(s, uint64(ghcb.ExitIOIO), 0xF3, 0x6E) }, cocoon(ghcbmsr.ReasonVC)},
		{"from user mode", func(s *setup) *cpu.Frame {
			f := vcFrame(s, uint64(ghcb.ExitIOIO), 0xEC)
			f.CS = cpu.UCode | 3
			return f
		}, cocoon(ghcbmsr.ReasonVC)},
		{"IOIO exit, MOV at RIP", func(s *setup) *cpu.Frame { return vcFrame(s, uint64(ghcb.ExitIOIO), 0x89, 0x07) }, cocoon(ghcbmsr.ReasonVC)},
		{"IN result not marked valid", func(s *setup) *cpu.Frame {
			s.g.DropOutputs = true
			return vcFrame(s, uint64(ghcb.ExitIOIO), 0xEC)
		}, cocoon(ghcbmsr.ReasonGHCBProtocol)},
	} {
		s := newSetup(t)
		p := s.platform(t)
		f := tc.f(s)
		r, ok := p.HandleVC(f)
		if ok || r != tc.want || f.RIP != testCode {
			t.Errorf("%s: HandleVC = %v, %v; want %v", tc.name, r, ok, tc.want)
		}
	}
}

func TestVCRDTSC(t *testing.T) {
	s := newSetup(t)
	p := s.platform(t)
	s.g.TSC = 0x1_0000_0002
	f := vcFrame(s, exitRDTSC, 0x0F, 0x31)
	if r, ok := p.HandleVC(f); !ok || f.RAX != 2 || f.RDX != 1 || f.RIP != testCode+2 {
		t.Errorf("RDTSC: RAX %#x RDX %#x RIP %#x (%v)", f.RAX, f.RDX, f.RIP, r)
	}
	f = vcFrame(s, exitRDTSCP, 0x0F, 0x01, 0xF9)
	f.RCX = 99
	if r, ok := p.HandleVC(f); !ok || f.RAX != 2 || f.RCX != 0 || f.RIP != testCode+3 {
		t.Errorf("RDTSCP: RAX %#x RCX %#x RIP %#x (%v)", f.RAX, f.RCX, f.RIP, r)
	}
	s.g.DropOutputs = true
	f = vcFrame(s, exitRDTSC, 0x0F, 0x31)
	if _, ok := p.HandleVC(f); ok {
		t.Error("RDTSC without valid outputs: served")
	}
}

func TestValidate(t *testing.T) {
	const base = 0x200000 // 2 MiB aligned
	s := newSetup(t)
	p := s.platform(t)
	va := func(pa uint64) uintptr { return uintptr(s.g.DirectMap + pa) }

	// 2 MiB + 8 KiB: one 2 MiB PVALIDATE, two 4 KiB ones.
	if r, ok := p.Validate(base, 2<<20+8<<10, va(base)); !ok {
		t.Fatalf("Validate: %v", r)
	}
	for gfn := uint64(base >> 12); gfn < base>>12+514; gfn++ {
		if !s.g.Validated[gfn] {
			t.Fatalf("GFN %#x not validated", gfn)
		}
	}
	// Validating again must fail: PVALIDATE leaves the RMP unchanged.
	if r, ok := p.Validate(base+2<<20, 4<<10, va(base+2<<20)); ok || r != cocoon(ghcbmsr.ReasonPValidate) {
		t.Errorf("second validation: %v, %v", r, ok)
	}

	// RMP holds 4 KiB entries: the 2 MiB attempt falls back.
	s = newSetup(t)
	p = s.platform(t)
	s.g.Small[base>>12] = true
	if r, ok := p.Validate(base, 2<<20, va(base)); !ok {
		t.Fatalf("Validate with 4 KiB RMP entries: %v", r)
	}
	if !s.g.Validated[base>>12+511] {
		t.Error("fallback left the last page unvalidated")
	}

	for _, tc := range []struct {
		name         string
		fail         uint32
		pa, size, at uint64
	}{
		{"FAIL_PERMISSION", PValidateFailPerm, base, 4 << 10, base},
		{"FAIL_INPUT", PValidateFailInput, base, 2 << 20, base},
		{"unaligned", 0, base + 1, 4 << 10, base + 1},
		{"va and pa disagree", 0, base, 4 << 10, base + 4<<10},
	} {
		s := newSetup(t)
		p := s.platform(t)
		s.g.PValidateFail = tc.fail
		if r, ok := p.Validate(tc.pa, tc.size, va(tc.at)); ok || r != cocoon(ghcbmsr.ReasonPValidate) {
			t.Errorf("%s: Validate = %v, %v", tc.name, r, ok)
		}
	}
}

func TestShare(t *testing.T) {
	const pa = 0x300000
	s := newSetup(t)
	p := s.platform(t)
	va := uintptr(s.g.DirectMap + pa)
	for i := uint64(0); i < 3; i++ {
		s.g.Validated[pa>>12+i] = true
	}
	if r, ok := p.Share(pa, va, 3); !ok {
		t.Fatalf("Share: %v", r)
	}
	for i := uint64(0); i < 3; i++ {
		if s.g.Validated[pa>>12+i] || s.g.RMP[pa>>12+i] != ghcbmsr.PageShared {
			t.Errorf("page %d: validated %v, RMP %v", i, s.g.Validated[pa>>12+i], s.g.RMP[pa>>12+i])
		}
	}
	// Not validated before: rescinding changes nothing, which Share
	// refuses like any unexpected RMP state.
	if r, ok := p.Share(pa, va, 1); ok || r != cocoon(ghcbmsr.ReasonPValidate) {
		t.Errorf("sharing a page twice: %v, %v", r, ok)
	}
	s = newSetup(t)
	p = s.platform(t)
	s.g.Validated[pa>>12] = true
	s.g.MSRPSCError = 3
	if r, ok := p.Share(pa, va, 1); ok || r != cocoon(ghcbmsr.ReasonPageStateChange) {
		t.Errorf("host fails the page state change: %v, %v", r, ok)
	}
}

func TestPowerOff(t *testing.T) {
	s := newSetup(t)
	p := s.platform(t)
	p.PowerOff(3)
	if got := s.g.Ports[0xf4]; got != 3 {
		t.Errorf("isa-debug-exit got %d, want 3", got)
	}
	if s.g.Terminated == nil || *s.g.Terminated != cocoon(ghcbmsr.ReasonPowerOff) {
		t.Errorf("termination request %v, want %v", s.g.Terminated, cocoon(ghcbmsr.ReasonPowerOff))
	}
}

func TestVCMMIO(t *testing.T) {
	const apic = 0xfee00000
	apicVA := uint64(0x7e00_fee0_0000)
	s := newSetup(t)
	p := s.platform(t)
	s.g.Shared[apicVA] = apic
	s.g.MMIO[apic+0x390] = 0x1234_5678

	// MOV EAX, [RCX+0x390]: a 4-byte read zero-extends into RAX.
	f := vcFrame(s, exitNPF, 0x8B, 0x81, 0x90, 0x03, 0x00, 0x00)
	f.RCX, f.RAX = apicVA, 0xffff_ffff_ffff_ffff
	if r, ok := p.HandleVC(f); !ok {
		t.Fatalf("MMIO read: %v", r)
	}
	if f.RAX != 0x1234_5678 || f.RIP != testCode+6 {
		t.Errorf("MMIO read: RAX %#x RIP %#x", f.RAX, f.RIP)
	}
	// MOV [RDI+0xb0], ESI: EOI.
	f = vcFrame(s, exitNPF, 0x89, 0xB7, 0xB0, 0x00, 0x00, 0x00)
	f.RDI, f.RSI = apicVA, 0xdead_0000_0000_0000
	if r, ok := p.HandleVC(f); !ok {
		t.Fatalf("MMIO write: %v", r)
	}
	if got := s.g.MMIOLog[len(s.g.MMIOLog)-1]; got != (snptest.MMIOAccess{GPA: apic + 0xb0, Size: 4, Write: true, Value: 0}) {
		t.Errorf("MMIO write: host saw %+v", got)
	}
	// MOV byte [RDI+0x20], 0x5a.
	f = vcFrame(s, exitNPF, 0xC6, 0x47, 0x20, 0x5a)
	f.RDI = apicVA
	if r, ok := p.HandleVC(f); !ok || s.g.MMIO[apic+0x20] != 0x5a {
		t.Errorf("MMIO store of an immediate: %#x (%v)", s.g.MMIO[apic+0x20], r)
	}
	if p.Exits.MMIO != 3 {
		t.Errorf("%d MMIO exits, want 3", p.Exits.MMIO)
	}

	for _, tc := range []struct {
		name string
		code []byte
		rcx  uint64
		user bool
	}{
		{"private page", []byte{0x8B, 0x01}, s.g.DirectMap + 0x1000, false},
		{"unmapped page", []byte{0x8B, 0x01}, 0x1000, false},
		{"crosses a page", []byte{0x8B, 0x81, 0xFE, 0x0F, 0x00, 0x00}, apicVA, false},
		{"read-modify-write", []byte{0x01, 0x01}, apicVA, false},
		{"REP MOVS", []byte{0xF3, 0xA4}, apicVA, false},
		{"FS override", []byte{0x64, 0x8B, 0x01}, apicVA, false},
		{"from user mode", []byte{0x8B, 0x01}, apicVA, true},
	} {
		f := vcFrame(s, exitNPF, tc.code...)
		f.RCX = tc.rcx
		if tc.user {
			f.CS = cpu.UCode | 3
		}
		n := len(s.g.MMIOLog)
		r, ok := p.HandleVC(f)
		if ok || r != cocoon(ghcbmsr.ReasonMMIO) || len(s.g.MMIOLog) != n || f.RIP != testCode {
			t.Errorf("%s: HandleVC = %v, %v; want %v and no access", tc.name, r, ok, cocoon(ghcbmsr.ReasonMMIO))
		}
	}
}

// TestGuestTransportExclusive checks that every guest-request exit runs
// inside Config.Exclusive (interrupt handlers share the GHCB) and that
// the platform's secrets page is the one it was given.
func TestGuestTransportExclusive(t *testing.T) {
	s := newSetup(t)
	inside, calls := false, 0
	s.cfg.Exclusive = func(fn func()) {
		calls++
		inside = true
		fn()
		inside = false
	}
	p := s.platform(t)
	vmpck := bytes.Repeat([]byte{7}, 32)
	psp, err := snptest.NewPSP(vmpck)
	if err != nil {
		t.Fatal(err)
	}
	s.g.PSP = psp
	seen := false
	s.g.TamperResponse = func([]byte) { seen = inside }
	ch, err := guestmsg.NewChannel(guestmsg.PlatformTransport(p.GuestRequests()), vmpck, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.Report(&guestmsg.ReportRequest{}); err != nil {
		t.Fatal(err)
	}
	if calls != 1 || !seen || p.Exits.GuestReq != 1 {
		t.Errorf("Exclusive called %d times, exit inside it: %v, %d guest-request exits", calls, seen, p.Exits.GuestReq)
	}
	if !bytes.Equal(p.SecretsPage(), s.cfg.SecretsPage) {
		t.Error("SecretsPage is not the configured page")
	}
}

// startSetup is newSetup before the boot path has shared the window: its
// pages are validated private memory, mapped private in the direct map.
func startSetup(t *testing.T) (*setup, uintptr) {
	s := newSetup(t)
	clear(s.g.Shared)
	for i := uint64(0); i < SharedPages; i++ {
		s.g.Validated[testSharedGPA>>12+i] = true
	}
	for i := range s.cfg.Shared {
		s.cfg.Shared[i] = 0xa5 // whatever the firmware left there
	}
	return s, uintptr(s.g.DirectMap + testSharedGPA)
}

// mapWindow is the boot path's mapShared on the fake guest: C-bit clear.
func (s *setup) mapWindow(va uintptr, pages int) {
	for i := 0; i < pages; i++ {
		off := uint64(i) * ghcb.PageSize
		s.g.Shared[uint64(va)+off] = uint64(va) - s.g.DirectMap + off
	}
}

func TestStart(t *testing.T) {
	s, va := startSetup(t)
	calls := 0
	p := new(Platform)
	r, ok := p.Start(&s.cfg, va, func(v uintptr, pages int) {
		calls++
		if v != va || pages != SharedPages {
			t.Errorf("mapShared(%#x, %d), want (%#x, %d)", v, pages, va, SharedPages)
		}
		// The order SNP demands: rescinded and shared before the
		// C-bit-clear mapping exists.
		for i := uint64(0); i < SharedPages; i++ {
			gfn := testSharedGPA>>12 + i
			if s.g.Validated[gfn] || s.g.RMP[gfn] != ghcbmsr.PageShared {
				t.Errorf("page %d when mapped shared: validated %v, RMP %v", i, s.g.Validated[gfn], s.g.RMP[gfn])
			}
		}
		if w := ghcbmsr.Word(s.g.ReadGHCBMSR()); w.Info() == ghcbmsr.InfoRegisterGHCBResponse {
			t.Error("GHCB registered before the window was mapped shared")
		}
		s.mapWindow(v, pages)
	})
	if !ok {
		t.Fatalf("Start: %v", r)
	}
	if calls != 1 {
		t.Errorf("mapShared called %d times", calls)
	}
	if !bytes.Equal(s.cfg.Shared, make([]byte, len(s.cfg.Shared))) {
		t.Error("the shared window still holds what was there before")
	}
	if w := ghcbmsr.Word(s.g.ReadGHCBMSR()); w.Info() != ghcbmsr.InfoRegisterGHCBResponse || w.Data() != testSharedGPA>>12 {
		t.Errorf("GHCB MSR after Start = %#x, want the registration of GFN %#x", uint64(w), testSharedGPA>>12)
	}
	if p.Exits.PSC != SharedPages {
		t.Errorf("%d page state changes, want %d", p.Exits.PSC, SharedPages)
	}
}

// TestStartHostile: every way the sharing can go wrong stops the boot
// with a reason, before the GHCB is registered.
func TestStartHostile(t *testing.T) {
	for _, tc := range []struct {
		name   string
		break_ func(s *setup, va *uintptr, mapShared *func(*setup, uintptr, int))
		want   ghcbmsr.Reason
	}{
		{"host fails the page state change", func(s *setup, _ *uintptr, _ *func(*setup, uintptr, int)) {
			s.g.MSRPSCError = 2
		}, cocoon(ghcbmsr.ReasonPageStateChange)},
		{"window already validated away", func(s *setup, _ *uintptr, _ *func(*setup, uintptr, int)) {
			s.g.Validated[testSharedGPA>>12+3] = false
		}, cocoon(ghcbmsr.ReasonPValidate)},
		{"va maps other memory", func(s *setup, va *uintptr, _ *func(*setup, uintptr, int)) {
			*va += ghcb.PageSize
		}, cocoon(ghcbmsr.ReasonPageStateChange)},
		{"va already shared", func(s *setup, va *uintptr, _ *func(*setup, uintptr, int)) {
			s.mapWindow(*va, 1)
		}, cocoon(ghcbmsr.ReasonPageStateChange)},
		{"mapping left private", func(s *setup, _ *uintptr, m *func(*setup, uintptr, int)) {
			*m = func(*setup, uintptr, int) {}
		}, cocoon(ghcbmsr.ReasonPageStateChange)},
		{"mapping misses a page", func(s *setup, _ *uintptr, m *func(*setup, uintptr, int)) {
			*m = func(s *setup, va uintptr, pages int) { s.mapWindow(va, pages-1) }
		}, cocoon(ghcbmsr.ReasonPageStateChange)},
		{"wrong GHCB GPA echo", func(s *setup, _ *uintptr, _ *func(*setup, uintptr, int)) {
			s.g.RegisterReply = func(gfn uint64) uint64 { return gfn + 1 }
		}, cocoon(ghcbmsr.ReasonGHCBRegistration)},
		{"not an SNP guest", func(s *setup, _ *uintptr, _ *func(*setup, uintptr, int)) {
			s.cfg.Status.Kind = Unsupported
		}, general(ghcbmsr.ReasonSNPUnsupported)},
		{"protocol version 1 only", func(s *setup, _ *uintptr, _ *func(*setup, uintptr, int)) {
			s.g.SEVInfo = ghcbmsr.SEVInfo{MinVersion: 1, MaxVersion: 1, CBit: 51}
		}, general(ghcbmsr.ReasonProtocolUnsupported)},
		{"no SNP feature", func(s *setup, _ *uintptr, _ *func(*setup, uintptr, int)) {
			s.g.Features = 0
		}, general(ghcbmsr.ReasonSNPUnsupported)},
		{"bad CPUID page", func(s *setup, _ *uintptr, _ *func(*setup, uintptr, int)) {
			clear(s.cfg.CPUIDPage)
		}, cocoon(ghcbmsr.ReasonCPUID)},
	} {
		s, va := startSetup(t)
		mapShared := (*setup).mapWindow
		tc.break_(s, &va, &mapShared)
		r, ok := new(Platform).Start(&s.cfg, va, func(v uintptr, n int) { mapShared(s, v, n) })
		if ok || r != tc.want {
			t.Errorf("%s: Start = %v, %v; want %v", tc.name, r, ok, tc.want)
		}
		if tc.name != "wrong GHCB GPA echo" && s.g.Hypervisor.Registered(testSharedGPA>>12) {
			t.Errorf("%s: the GHCB was registered", tc.name)
		}
		// Negotiation comes first: a hypervisor refused there sees no
		// page state change (GHCB spec section 2.3.1).
		if r.Set == ghcbmsr.ReasonSetGeneral && len(s.g.RMP) != 0 {
			t.Errorf("%s: page state changed before the protocol was negotiated: %v", tc.name, s.g.RMP)
		}
	}
}

// TestValidateAssignsFirst: memory is asked for as private before it is
// validated, and a hypervisor that refuses leaves it unvalidated.
func TestValidateAssignsFirst(t *testing.T) {
	const pa = 0x200000
	s := newSetup(t)
	p := s.platform(t)
	va := uintptr(s.g.DirectMap + pa)
	if r, ok := p.Validate(pa, 0x203000-pa+0x1000, va); !ok {
		t.Fatalf("Validate: %v", r)
	}
	for gfn := uint64(pa >> 12); gfn < 0x204; gfn++ {
		if s.g.RMP[gfn] != ghcbmsr.PagePrivate || !s.g.Validated[gfn] {
			t.Errorf("GFN %#x: RMP %v, validated %v", gfn, s.g.RMP[gfn], s.g.Validated[gfn])
		}
	}
	s = newSetup(t)
	p = s.platform(t)
	s.g.MSRPSCError = 1
	if r, ok := p.Validate(pa, 0x1000, va); ok || r != cocoon(ghcbmsr.ReasonPageStateChange) {
		t.Errorf("host refuses the assignment: Validate = %v, %v", r, ok)
	}
	if s.g.Validated[pa>>12] {
		t.Error("a page the host did not assign was validated")
	}
}

func TestSecureTSCHz(t *testing.T) {
	for _, tc := range []struct {
		msr    uint64
		factor uint32
		want   uint64
		ok     bool
	}{
		{2000, 0, 2_000_000_000, true},
		{2000, 200, 1_996_000_000, true},                  // 0.2% below nominal
		{0xffff_fffc_0000 | 2400, 0, 2_400_000_000, true}, // reserved bits 63:18 ignored
		{1<<18 - 1, 1, 262_140_378_570, true},
		{0, 0, 0, false},
		{1 << 18, 0, 0, false}, // only reserved bits
		{2000, 100_000, 0, false},
		{2000, 0xffff_ffff, 0, false},
	} {
		got, ok := SecureTSCHz(tc.msr, tc.factor)
		if got != tc.want || ok != tc.ok {
			t.Errorf("SecureTSCHz(%#x, %d) = %d, %v; want %d, %v", tc.msr, tc.factor, got, ok, tc.want, tc.ok)
		}
	}
}

// secureTSCSetup is newSetup for a guest launched with Secure TSC at
// 2 GHz nominal, TSC_FACTOR 250 in its secrets page.
func secureTSCSetup(t *testing.T) *setup {
	s := newSetup(t)
	s.cfg.Status.SEVStatus |= StatusSecureTSC
	s.cfg.SecretsPage = (&secrets.Page{Version: secrets.Version3, TSCFactor: 250}).Marshal()
	s.g.GuestTSCFreqMSR = 2000
	return s
}

func TestSecureTSCFrequency(t *testing.T) {
	s := secureTSCSetup(t)
	p := s.platform(t)
	if _, _, ok := p.SecureTSC(); ok {
		t.Error("SecureTSC reported on before calibration")
	}
	// secureTSC is TSCFrequency's Secure TSC part; the rest measures
	// the APIC timer against the TSC with real instructions.
	if hz, ok := p.secureTSC(); !ok || hz != 1_995_000_000 {
		t.Errorf("secureTSC = %d, %v; want 1995000000 (2000 MHz less 0.25%%)", hz, ok)
	}
	if hz, factor, ok := p.SecureTSC(); !ok || hz != 1_995_000_000 || factor != 250 {
		t.Errorf("SecureTSC = %d, %d, %v", hz, factor, ok)
	}
	if s.g.Terminated != nil {
		t.Errorf("terminated: %v", *s.g.Terminated)
	}
	for _, port := range s.g.PortLog {
		if port.Port == 0x40 || port.Port == 0x43 {
			t.Fatalf("Secure TSC calibration touched the PIT (port %#x)", port.Port)
		}
	}

	// A version 2 secrets page has no TSC_FACTOR: the nominal frequency.
	s = secureTSCSetup(t)
	s.cfg.SecretsPage = (&secrets.Page{Version: secrets.Version2}).Marshal()
	if hz, ok := s.platform(t).secureTSC(); !ok || hz != 2_000_000_000 {
		t.Errorf("version 2 secrets page: secureTSC = %d, %v; want 2000000000", hz, ok)
	}

	// GUEST_TSC_FREQ reading 0: no usable clock, the guest terminates.
	s = secureTSCSetup(t)
	s.g.GuestTSCFreqMSR = 0
	p = s.platform(t)
	if hz := p.TSCFrequency(); hz != 0 || s.g.Terminated == nil || *s.g.Terminated != cocoon(ghcbmsr.ReasonSecureTSC) {
		t.Errorf("GUEST_TSC_FREQ 0: TSCFrequency = %d, terminated %v", hz, s.g.Terminated)
	}
	// Nor does a guest run on a clock the host controls instead: the
	// PIT and the hypervisor's CPUID leaf were never consulted.
	if len(s.g.PortLog) != 0 {
		t.Errorf("refused Secure TSC calibration fell back to ports: %+v", s.g.PortLog)
	}
	if _, _, ok := p.SecureTSC(); ok {
		t.Error("SecureTSC on after a refused calibration")
	}
}

// TestSecureTSCRefusesHostTime: under Secure TSC the hypervisor cannot
// intercept RDTSC(P), GUEST_TSC_FREQ or the TSC MSR; a #VC claiming it
// did is refused without asking the host, and the context is unchanged.
func TestSecureTSCRefusesHostTime(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func(s *setup) *cpu.Frame
	}{
		{"RDTSC", func(s *setup) *cpu.Frame { return vcFrame(s, exitRDTSC, 0x0F, 0x31) }},
		{"RDTSCP", func(s *setup) *cpu.Frame { return vcFrame(s, exitRDTSCP, 0x0F, 0x01, 0xF9) }},
		{"RDMSR GUEST_TSC_FREQ", func(s *setup) *cpu.Frame {
			f := vcFrame(s, uint64(ghcb.ExitMSR), 0x0F, 0x32)
			f.RCX = MSRGuestTSCFreq
			return f
		}},
		{"RDMSR TSC", func(s *setup) *cpu.Frame {
			f := vcFrame(s, uint64(ghcb.ExitMSR), 0x0F, 0x32)
			f.RCX = 0x10
			return f
		}},
		{"WRMSR TSC", func(s *setup) *cpu.Frame {
			f := vcFrame(s, uint64(ghcb.ExitMSR), 0x0F, 0x30)
			f.RCX = 0x10
			return f
		}},
	} {
		s := secureTSCSetup(t)
		p := s.platform(t)
		s.g.TSC = 0x1234
		s.g.MSRs[MSRGuestTSCFreq] = 5000
		s.g.MSRs[0x10] = 0x5678
		f := tc.f(s)
		rax, exits := f.RAX, len(s.g.Exits)
		r, ok := p.HandleVC(f)
		if ok || r != cocoon(ghcbmsr.ReasonSecureTSC) || f.RIP != testCode || f.RAX != rax {
			t.Errorf("%s under Secure TSC: HandleVC = %v, %v (RIP %#x, RAX %#x); want %v and no change", tc.name, r, ok, f.RIP, f.RAX, cocoon(ghcbmsr.ReasonSecureTSC))
		}
		if len(s.g.Exits) != exits {
			t.Errorf("%s under Secure TSC: the host was asked", tc.name)
		}

		// Without Secure TSC the same exits are served by the host.
		s = newSetup(t)
		p = s.platform(t)
		s.g.TSC = 0x1234
		s.g.MSRs[MSRGuestTSCFreq] = 5000
		s.g.MSRs[0x10] = 0x5678
		if r, ok := p.HandleVC(tc.f(s)); !ok {
			t.Errorf("%s without Secure TSC: refused (%v)", tc.name, r)
		}
	}
}
