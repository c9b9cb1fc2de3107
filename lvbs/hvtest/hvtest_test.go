package hvtest

import (
	"testing"

	"github.com/cocoon-vm/cocoon/lvbs/hv"
)

// The fake refuses what the TLFS says Hyper-V refuses, so tests against it
// can fail.
func TestFakeChecksInputs(t *testing.T) {
	h := New(1024)
	if s := h.Hypercall(hv.Control(hv.CallGetVpRegisters)|1<<27, 0x1000, 0x2000).Status(); s != hv.StatusInvalidHypercallInput {
		t.Errorf("reserved bit: %v", s)
	}
	c, _ := hv.Rep(hv.CallGetVpRegisters, 1, 0)
	if s := h.Hypercall(c, 0x1004, 0x2000).Status(); s != hv.StatusInvalidAlignment {
		t.Errorf("misaligned input: %v", s)
	}
	if s := h.Hypercall(hv.Simple(hv.CallGetVpRegisters), 0x1000, 0x2000).Status(); s != hv.StatusInvalidHypercallInput {
		t.Errorf("rep call without reps: %v", s)
	}
	if s := h.Hypercall(hv.Simple(0x7777), 0x1000, 0x2000).Status(); s != hv.StatusInvalidHypercallCode {
		t.Errorf("unknown code: %v", s)
	}
	hv.EncodeProtection(h.Mem(0x1000, hv.PageSize), hv.ProtectionHeader{Partition: hv.PartitionSelf, VTL: hv.TargetVTL(1)}, []uint64{5})
	c, _ = hv.Rep(hv.CallModifyVtlProtectionMask, 1, 0)
	if s := h.Hypercall(c, 0x1000, 0x2000).Status(); s != hv.StatusInvalidParameter || len(h.Prot) != 0 {
		t.Errorf("protecting VTL1 from VTL1: %v", s)
	}
	h.WriteMSR(hv.MSRHypercall, 0x5001)
	if hv.PageMSR(h.ReadMSR(hv.MSRHypercall)).Enabled() {
		t.Error("hypercall page enabled before a guest OS ID")
	}
}
