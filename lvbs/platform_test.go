package lvbs

import (
	"errors"
	"strings"
	"testing"

	"github.com/cocoon-vm/cocoon/lvbs/hv"
	"github.com/cocoon-vm/cocoon/lvbs/hvtest"
)

// Test memory layout: 64 MiB of guest memory; the tests' secure kernel is
// 32-48 MiB, and the platform's pages lie at its start.
const (
	testPages     = 64 << 20 / hv.PageSize
	hypercallGPA  = 32<<20 + 0x1000
	assistGPA     = 32<<20 + 0x2000
	simpGPA       = 32<<20 + 0x3000
	inGPA, outGPA = 32<<20 + 0x4000, 32<<20 + 0x5000
)

func testPlatformPages(h *hvtest.Hypervisor) Pages {
	return Pages{Hypercall: h.Page(hypercallGPA), Assist: h.Page(assistGPA), SIMP: h.Page(simpGPA), In: h.Page(inGPA), Out: h.Page(outGPA)}
}

func TestStartHonest(t *testing.T) {
	h := hvtest.New(testPages)
	p, err := Start(h, testPlatformPages(h))
	if err != nil {
		t.Fatal(err)
	}
	if h.MSRs[hv.MSRGuestOSID]>>63 != 1 || h.MSRs[hv.MSRGuestOSID]>>56&0x7F != hv.OSTypeLinux {
		t.Errorf("guest OS ID %#x is not open-source Linux-type", h.MSRs[hv.MSRGuestOSID])
	}
	if h.MSRs[hv.MSRHypercall] != hypercallGPA|1 || h.MSRs[hv.MSRVPAssistPage] != assistGPA|1 || h.MSRs[hv.MSRSIMP] != simpGPA|1 {
		t.Errorf("page MSRs %#x %#x %#x", h.MSRs[hv.MSRHypercall], h.MSRs[hv.MSRVPAssistPage], h.MSRs[hv.MSRSIMP])
	}
	if h.MSRs[hv.MSRSINT0] != InterceptVector || h.MSRs[hv.MSRSControl] != 1 {
		t.Errorf("SINT0 %#x SCONTROL %#x", h.MSRs[hv.MSRSINT0], h.MSRs[hv.MSRSControl])
	}
	if p.Offsets != hvtest.DefaultOff || p.ID.Major != 10 {
		t.Errorf("offsets %#x, version %d", uint64(p.Offsets), p.ID.Major)
	}
}

func TestStartHostile(t *testing.T) {
	for _, c := range []struct {
		name  string
		spoil func(h *hvtest.Hypervisor)
		want  string
	}{
		{"no hypervisor", func(h *hvtest.Hypervisor) { h.Leaves[hv.LeafVersionAndFeatures] = [4]uint32{} }, "no hypervisor"},
		{"max leaf too low", func(h *hvtest.Hypervisor) { h.Leaves[hv.LeafVendorAndMax] = [4]uint32{0x40000004} }, "maximum leaf"},
		{"max leaf garbage", func(h *hvtest.Hypervisor) { h.Leaves[hv.LeafVendorAndMax] = [4]uint32{0xFFFF_FFFF} }, "maximum leaf"},
		{"KVM interface", func(h *hvtest.Hypervisor) { h.Leaves[hv.LeafInterface] = [4]uint32{0x4D564B4B} }, "Hv#1"},
		{"no AccessVsm", func(h *hvtest.Hypervisor) {
			h.Leaves[hv.LeafFeatures] = [4]uint32{uint32(hv.Required & 0xFFFF_FFFF), uint32((hv.Required &^ hv.AccessVsm) >> 32)}
		}, "AccessVsm"},
		{"no AccessVpRegisters", func(h *hvtest.Hypervisor) {
			h.Leaves[hv.LeafFeatures] = [4]uint32{uint32(hv.Required & 0xFFFF_FFFF), uint32((hv.Required &^ hv.AccessVpRegisters) >> 32)}
		}, "AccessVpRegisters"},
		{"no SynIC", func(h *hvtest.Hypervisor) {
			h.Leaves[hv.LeafFeatures] = [4]uint32{uint32((hv.Required &^ hv.AccessSynicRegs) & 0xFFFF_FFFF), uint32(hv.Required >> 32)}
		}, "AccessSynicRegs"},
		{"hypercall page refused", func(h *hvtest.Hypervisor) { h.RefuseHypercallPage = true }, "hypercall page"},
		{"hypercall page locked elsewhere", func(h *hvtest.Hypervisor) { h.MSRs[hv.MSRHypercall] = 0x20_0003 }, "locked"},
		{"offsets reserved bits", func(h *hvtest.Hypervisor) {
			h.VTL1[hv.RegVsmCodePageOffsets] = hv.RegisterValue{Low: 1<<40 | 0x40020}
		}, "reserved"},
		{"offsets equal", func(h *hvtest.Hypervisor) { h.VTL1[hv.RegVsmCodePageOffsets] = hv.RegisterValue{Low: 0x20020} }, "one offset"},
		{"GetVpRegisters fails", func(h *hvtest.Hypervisor) { h.Fail[hv.CallGetVpRegisters] = hv.StatusAccessDenied }, "ACCESS_DENIED"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := hvtest.New(testPages)
			c.spoil(h)
			_, err := Start(h, testPlatformPages(h))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Start = %v, want an error mentioning %q", err, c.want)
			}
		})
	}
}

func TestClientRepContinuation(t *testing.T) {
	h := hvtest.New(testPages)
	c := &hv.Client{HC: h, In: h.Page(inGPA), Out: h.Page(outGPA)}
	// 1200 pages: three input pages' worth (510, 510, 180); the
	// hypervisor processes at most 100 reps per call, so the client
	// must resume from the reps completed.
	h.MaxReps = 100
	if err := c.ModifyVtlProtectionMask(0, hv.MapRead, 0x1000, 1200); err != nil {
		t.Fatal(err)
	}
	for p := uint64(0x1000); p < 0x1000+1200; p++ {
		if h.Prot[p] != hv.MapRead {
			t.Fatalf("page %#x: %v", p, h.Prot[p])
		}
	}
	if h.Prot[0x1000+1200] != 0 || len(h.Calls) != 6+6+2 {
		t.Errorf("%d calls (want 14 = ceil(510/100)*2 + ceil(180/100)), page past the range %v", len(h.Calls), h.Prot[0x1000+1200])
	}
	// Each resumed call starts where the last stopped.
	if h.Calls[1].RepStart() != 100 || h.Calls[1].RepCount() != 510 {
		t.Errorf("second call start %d count %d", h.Calls[1].RepStart(), h.Calls[1].RepCount())
	}
}

func TestClientHostileReps(t *testing.T) {
	for _, c := range []struct {
		name string
		lie  func(start, count, done int) int
	}{
		{"no progress", func(start, _, _ int) int { return start }},
		{"backwards", func(start, _, _ int) int { return start - 1 }},
		{"past the list", func(_, count, _ int) int { return count + 1 }},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := hvtest.New(testPages)
			h.MaxReps, h.LieReps = 5, c.lie
			cl := &hv.Client{HC: h, In: h.Page(inGPA), Out: h.Page(outGPA)}
			err := cl.ModifyVtlProtectionMask(0, hv.MapNone, 0x1000, 20)
			if err == nil || !strings.Contains(err.Error(), "reps completed") {
				t.Errorf("err = %v", err)
			}
			if len(h.Calls) > 2 {
				t.Errorf("%d calls: the client looped on a lying hypervisor", len(h.Calls))
			}
		})
	}
	h := hvtest.New(testPages)
	h.Fail[hv.CallSetVpRegisters] = hv.StatusInvalidVtlState
	cl := &hv.Client{HC: h, In: h.Page(inGPA), Out: h.Page(outGPA)}
	var he *hv.Error
	if err := cl.SetVpRegister(hv.CurrentVTL, hv.RegCrInterceptControl, 1); !errors.As(err, &he) || he.Status != hv.StatusInvalidVtlState {
		t.Errorf("err = %v", err)
	}
	// The fake checks the layout the TLFS gives: an invalid register
	// name fails the call, and the status comes back.
	if err := cl.ModifyVtlProtectionMask(0, hv.MapRead, testPages, 1); !errors.As(err, &he) || he.Status != hv.StatusInvalidParameter {
		t.Errorf("protecting a page beyond RAM: %v", err)
	}
}
