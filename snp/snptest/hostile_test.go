package snptest_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cocoon-vm/cocoon/snp"
	"github.com/cocoon-vm/cocoon/snp/cpuidpage"
	"github.com/cocoon-vm/cocoon/snp/ghcb"
	"github.com/cocoon-vm/cocoon/snp/ghcbmsr"
	"github.com/cocoon-vm/cocoon/snp/psc"
	"github.com/cocoon-vm/cocoon/snp/secrets"
	"github.com/cocoon-vm/cocoon/snp/snptest"
)

// Guest memory map of the tests.
const (
	memPages  = 64
	ghcbGPA   = 0x1000
	reqGPA    = 0x2000
	respGPA   = 0x3000
	certsGPA  = 0x4000
	certPages = 16
)

// boot brings the SNP platform up against h through its real entry point
// (snp.Platform.Init: protocol version, features, GHCB registration), as
// the kernel does; on failure it asks for termination with Init's reason,
// as the kernel must. The returned Block issues exits through the
// platform's registered GHCB, for the protocol tests below.
func boot(h *snptest.Hypervisor) (*snp.Platform, *ghcb.Block, error) {
	cpuidPage, err := (&cpuidpage.Table{Functions: []cpuidpage.Function{
		{EAXIn: 0, EAX: 0xD}, {EAXIn: 0x8000_0000, EAX: 0x8000_001F},
	}}).Marshal()
	if err != nil {
		return nil, nil, err
	}
	p := new(snp.Platform)
	r, ok := p.Init(&snp.Config{
		Machine:     &snptest.Guest{Hypervisor: h},
		Status:      snp.Decode(0x1b, 51, snp.StatusSEV|snp.StatusSEVES|snp.StatusSNP),
		SharedGPA:   ghcbGPA,
		Shared:      h.Mem(ghcbGPA, snp.SharedPages*ghcb.PageSize),
		CPUIDPage:   cpuidPage,
		SecretsPage: (&secrets.Page{Version: secrets.Version3}).Marshal(),
	})
	if !ok {
		p.Terminate(r)
		return nil, nil, fmt.Errorf("platform Init: %v", r)
	}
	return p, ghcb.Registered(h, h.Page(ghcbGPA), ghcbGPA, 2), nil
}

func mustBoot(t *testing.T, h *snptest.Hypervisor) *ghcb.Block {
	t.Helper()
	_, b, err := boot(h)
	if err != nil {
		t.Fatalf("boot: %v", err)
	}
	return b
}

func TestBootHonest(t *testing.T) {
	h := snptest.New(memPages)
	mustBoot(t, h)
	if h.Terminated != nil {
		t.Errorf("honest boot terminated with %v", *h.Terminated)
	}
}

func TestBootTerminates(t *testing.T) {
	for _, tc := range []struct {
		name   string
		setup  func(h *snptest.Hypervisor)
		reason ghcbmsr.Reason
	}{
		{"wrong GHCB GPA echo", func(h *snptest.Hypervisor) {
			h.RegisterReply = func(gfn uint64) uint64 { return gfn + 1 }
		}, ghcbmsr.Reason{Set: ghcbmsr.ReasonSetCocoon, Code: ghcbmsr.ReasonGHCBRegistration}},
		{"GHCB registration refused", func(h *snptest.Hypervisor) {
			h.RegisterReply = func(uint64) uint64 { return 1<<52 - 1 }
		}, ghcbmsr.Reason{Set: ghcbmsr.ReasonSetCocoon, Code: ghcbmsr.ReasonGHCBRegistration}},
		{"protocol version 1 only", func(h *snptest.Hypervisor) {
			h.SEVInfo = ghcbmsr.SEVInfo{MinVersion: 1, MaxVersion: 1, CBit: 51}
		}, ghcbmsr.Reason{Set: ghcbmsr.ReasonSetGeneral, Code: ghcbmsr.ReasonProtocolUnsupported}},
		{"no SNP feature", func(h *snptest.Hypervisor) {
			h.Features = ghcbmsr.FeatureSNPAPCreation
		}, ghcbmsr.Reason{Set: ghcbmsr.ReasonSetGeneral, Code: ghcbmsr.ReasonSNPUnsupported}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := snptest.New(memPages)
			tc.setup(h)
			if _, _, err := boot(h); err == nil {
				t.Fatal("boot succeeded")
			}
			if h.Terminated == nil || *h.Terminated != tc.reason {
				t.Errorf("terminated with %v, want %v", h.Terminated, tc.reason)
			}
		})
	}
}

// validator is a fake PVALIDATE that checks the ordering rules against the
// hypervisor's RMP: validate only pages already private; rescind only pages
// still private.
type validator struct {
	h     *snptest.Hypervisor
	calls int
	fail  uint64 // GFN whose PVALIDATE fails, if nonzero
	err   error
}

func (v *validator) PValidate(gfn uint64, on bool) error {
	v.calls++
	if v.h.RMP[gfn] == psc.OpShared && v.err == nil {
		v.err = fmt.Errorf("PVALIDATE(%#x, %v) on a page the RMP already has shared", gfn, on)
	}
	if on && v.h.RMP[gfn] != psc.OpPrivate && v.err == nil {
		v.err = fmt.Errorf("PVALIDATE(%#x) before the page was made private", gfn)
	}
	if gfn == v.fail {
		return errors.New("FAIL_SIZEMISMATCH")
	}
	return nil
}

func TestPageStateChangeHonestAndPartial(t *testing.T) {
	for _, perExit := range []int{0, 1, 10, psc.MaxEntries} {
		h := snptest.New(memPages)
		b := mustBoot(t, h)
		h.PSCMaxPerExit = perExit
		v := &validator{h: h}
		const base, n = 0x100, 600
		if err := psc.Change(b, v, psc.OpPrivate, base, n); err != nil {
			t.Fatalf("perExit %d: Change(private): %v", perExit, err)
		}
		if err := psc.Change(b, v, psc.OpShared, base+100, 50); err != nil {
			t.Fatalf("perExit %d: Change(shared): %v", perExit, err)
		}
		if v.err != nil || v.calls != n+50 {
			t.Errorf("perExit %d: %d PVALIDATEs, %v", perExit, v.calls, v.err)
		}
		for gfn := uint64(base); gfn < base+n; gfn++ {
			want := psc.OpPrivate
			if gfn >= base+100 && gfn < base+150 {
				want = psc.OpShared
			}
			if h.RMP[gfn] != want {
				t.Fatalf("perExit %d: RMP[%#x] = %v, want %v", perExit, gfn, h.RMP[gfn], want)
			}
		}
		exits := len(h.Exits)
		if perExit == 1 && exits != n+50 || perExit == 0 && exits != 3+1 {
			t.Errorf("perExit %d: %d exits", perExit, exits)
		}
	}
}

func TestPageStateChangeHostile(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(h *snptest.Hypervisor)
	}{
		{"hypervisor error", func(h *snptest.Hypervisor) { h.PSCFailAt, h.PSCError = 7, 0x1_0000_0010 }},
		{"cur_entry moves back", func(h *snptest.Hypervisor) {
			h.PSCMaxPerExit = 4
			exits := 0
			h.PSCTamper = func(buf []byte) {
				if exits++; exits == 2 {
					buf[0] = 1
				}
			}
		}},
		{"cur_entry past end", func(h *snptest.Hypervisor) { h.PSCTamper = func(buf []byte) { buf[0], buf[1] = 0xFF, 0 } }},
		{"end_entry shrinks", func(h *snptest.Hypervisor) { h.PSCTamper = func(buf []byte) { buf[2] = 1 } }},
		{"GFN rewritten", func(h *snptest.Hypervisor) {
			h.PSCMaxPerExit = 1
			h.PSCTamper = func(buf []byte) { buf[psc.HeaderSize+psc.EntrySize*5+2] ^= 0x10 }
		}},
		{"operation rewritten", func(h *snptest.Hypervisor) {
			h.PSCTamper = func(buf []byte) { buf[psc.HeaderSize+6] ^= 0x30 }
		}},
		{"completed entries reopened", func(h *snptest.Hypervisor) { h.PSCTamper = func(buf []byte) { buf[0], buf[1] = 0, 0 } }},
		{"no progress", func(h *snptest.Hypervisor) {
			h.PSCTamper = func(buf []byte) {
				b, err := psc.Unmarshal(buf)
				if err != nil {
					panic(err)
				}
				b.Header.CurEntry = 0
				for i := range b.Entries {
					b.Entries[i].CurPage = 0
				}
				if err := b.Marshal(buf); err != nil {
					panic(err)
				}
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := snptest.New(memPages)
			b := mustBoot(t, h)
			tc.setup(h)
			v := &validator{h: h}
			err := psc.Change(b, v, psc.OpPrivate, 0x200, 20)
			var pe *psc.Error
			if !errors.As(err, &pe) || !strings.HasPrefix(err.Error(), "page state change of 20 entries from GFN 0x200 to private") {
				t.Fatalf("Change = %v, want *psc.Error", err)
			}
			if v.calls != 0 {
				t.Errorf("validated %d pages after a failed page state change", v.calls)
			}
			if tc.name == "no progress" && len(h.Exits) != psc.MaxStalls {
				t.Errorf("gave up after %d exits, want %d", len(h.Exits), psc.MaxStalls)
			}
			if terr := ghcbmsr.Terminate(h, ghcbmsr.ReasonFor(err)); terr == nil ||
				*h.Terminated != (ghcbmsr.Reason{Set: ghcbmsr.ReasonSetCocoon, Code: ghcbmsr.ReasonPageStateChange}) {
				t.Errorf("terminated with %v", h.Terminated)
			}
		})
	}
}

func TestPValidateFailure(t *testing.T) {
	h := snptest.New(memPages)
	b := mustBoot(t, h)
	v := &validator{h: h, fail: 0x205}
	err := psc.Change(b, v, psc.OpPrivate, 0x200, 20)
	if r := ghcbmsr.ReasonFor(err); r != (ghcbmsr.Reason{Set: ghcbmsr.ReasonSetCocoon, Code: ghcbmsr.ReasonPValidate}) {
		t.Errorf("Change with failing PVALIDATE = %v (reason %v)", err, r)
	}
}

func TestCPUIDLeafMissing(t *testing.T) {
	// The hypervisor proposed a CPUID page without leaf 0x8000_001F; the
	// guest must terminate rather than ask the hypervisor.
	page, err := (&cpuidpage.Table{Functions: []cpuidpage.Function{
		{EAXIn: 0, EAX: 0x10}, {EAXIn: 0x8000_0000, EAX: 0x8000_0021},
	}}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	tab, err := cpuidpage.Parse(page)
	if err != nil {
		t.Fatal(err)
	}
	h := snptest.New(memPages)
	mustBoot(t, h)
	_, err = tab.Lookup(0x8000_001F, 0)
	if err == nil {
		t.Fatal("Lookup of a missing leaf succeeded")
	}
	_ = ghcbmsr.Terminate(h, ghcbmsr.ReasonFor(err))
	if h.Terminated == nil || *h.Terminated != (ghcbmsr.Reason{Set: ghcbmsr.ReasonSetCocoon, Code: ghcbmsr.ReasonCPUID}) {
		t.Errorf("terminated with %v", h.Terminated)
	}
	if len(h.Exits) != 0 {
		t.Errorf("guest asked the hypervisor: %v", h.Exits)
	}
}
