package snptest_test

import (
	"fmt"
	"testing"

	"github.com/cocoon-vm/cocoon/snp"
	"github.com/cocoon-vm/cocoon/snp/cpuidpage"
	"github.com/cocoon-vm/cocoon/snp/ghcb"
	"github.com/cocoon-vm/cocoon/snp/ghcbmsr"
	"github.com/cocoon-vm/cocoon/snp/secrets"
	"github.com/cocoon-vm/cocoon/snp/snptest"
)

// Guest memory map of the tests.
const (
	memPages  = 256 // room for the shared window (snp.SharedPages) at ghcbGPA
	ghcbGPA   = 0x1000
	reqGPA    = 0x2000
	respGPA   = 0x3000
	certsGPA  = 0x4000
	certPages = 16
)

// boot brings the SNP platform up against h through its real entry point
// (snp.Platform.Init: protocol version, features, GHCB registration), as
// the kernel does; on failure it asks for termination with Init's reason,
// as the kernel must.
func boot(h *snptest.Hypervisor) (*snp.Platform, error) {
	cpuidPage, err := (&cpuidpage.Table{Functions: []cpuidpage.Function{
		{EAXIn: 0, EAX: 0xD}, {EAXIn: 0x8000_0000, EAX: 0x8000_001F},
	}}).Marshal()
	if err != nil {
		return nil, err
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
		return nil, fmt.Errorf("platform Init: %v", r)
	}
	return p, nil
}

func mustBoot(t *testing.T, h *snptest.Hypervisor) {
	t.Helper()
	if _, err := boot(h); err != nil {
		t.Fatalf("boot: %v", err)
	}
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
			if _, err := boot(h); err == nil {
				t.Fatal("boot succeeded")
			}
			if h.Terminated == nil || *h.Terminated != tc.reason {
				t.Errorf("terminated with %v, want %v", h.Terminated, tc.reason)
			}
		})
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
