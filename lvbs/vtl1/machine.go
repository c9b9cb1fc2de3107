package vtl1

// The boot VP as lvbs.Machine: CPUID, the synthetic MSRs and the
// hypercall page, on Hyper-V (cpuMachine) or, for the SIMULATED VSM under
// QEMU, through the simulator's mailbox for what QEMU's CPU does not have
// (simMachine, lvbs/simwire). Goroutine context: called by the services'
// goroutine, never in trap context.

import (
	"sync/atomic"

	"github.com/cocoon-vm/cocoon/kernel/cpu"
	"github.com/cocoon-vm/cocoon/lvbs/hv"
	"github.com/cocoon-vm/cocoon/lvbs/simwire"
)

// hypercallArea is 8 KiB of kernel text (INT3s) holding a page-aligned
// page that becomes the hypercall page: Hyper-V overlays it with its code
// (TLFS hypercall-interface.md, "Establishing the Hypercall Interface"),
// and the kernel's text is mapped executable, which the page must be.
func hypercallArea()

// hypercallAreaAddr returns hypercallArea's address.
func hypercallAreaAddr() uintptr

// hypercall calls the hypercall page at page with RCX = control, RDX =
// input GPA, R8 = output GPA (TLFS hypercall-interface.md, "Hypercall
// Inputs", x64 register calling convention) and returns RAX.
func hypercall(page uintptr, control, in, out uint64) uint64

// HypercallPage returns the address of the kernel's hypercall page.
func HypercallPage() uintptr { return (hypercallAreaAddr() + hv.PageSize - 1) &^ (hv.PageSize - 1) }

// cpuMachine is the boot VP on Hyper-V.
type cpuMachine struct{ page uintptr }

func (m *cpuMachine) CPUID(leaf, sub uint32) (uint32, uint32, uint32, uint32) {
	return cpu.Cpuid(leaf, sub)
}

func (m *cpuMachine) ReadMSR(msr uint32) uint64 { return cpu.Rdmsr(msr) }

func (m *cpuMachine) WriteMSR(msr uint32, v uint64) { cpu.Wrmsr(msr, v) }

func (m *cpuMachine) Hypercall(c hv.Control, in, out uint64) hv.Result {
	return hv.Result(hypercall(m.page, uint64(c), in, out))
}

// simMachine is the boot VP under the SIMULATED VSM: CPUID of the
// hypervisor leaves and the synthetic MSRs go to the simulator through
// the mailbox at mb (its kernel address); everything else, hypercalls
// and VTL returns included, goes through the hypercall page as on
// Hyper-V.
type simMachine struct {
	page uintptr
	mb   uintptr
}

func (m *simMachine) Hypercall(c hv.Control, in, out uint64) hv.Result {
	return hv.Result(hypercall(m.page, uint64(c), in, out))
}

// call posts one request and waits for its answer.
func (m *simMachine) call(op uint64, regs *[simwire.NRegs]uint64) {
	for i, v := range regs {
		*cpu.Ptr64(m.mb + simwire.OffRegs + uintptr(i)*8) = v
	}
	*cpu.Ptr64(m.mb + simwire.OffOp) = op
	seq := atomic.AddUint64(cpu.Ptr64(m.mb+simwire.OffSeq), 1)
	for atomic.LoadUint64(cpu.Ptr64(m.mb+simwire.OffDone)) != seq {
		cpu.Pause()
	}
	for i := range regs {
		regs[i] = *cpu.Ptr64(m.mb + simwire.OffRegs + uintptr(i)*8)
	}
}

func (m *simMachine) CPUID(leaf, sub uint32) (uint32, uint32, uint32, uint32) {
	if leaf != hv.LeafVersionAndFeatures && (leaf < hv.LeafVendorAndMax || leaf > hv.LeafVendorAndMax+0xff) {
		return cpu.Cpuid(leaf, sub)
	}
	var r [simwire.NRegs]uint64
	r[simwire.RAX], r[simwire.RCX] = uint64(leaf), uint64(sub)
	m.call(simwire.OpCPUID, &r)
	return uint32(r[simwire.RAX]), uint32(r[simwire.RBX]), uint32(r[simwire.RCX]), uint32(r[simwire.RDX])
}

func (m *simMachine) ReadMSR(msr uint32) uint64 {
	var r [simwire.NRegs]uint64
	r[simwire.RCX] = uint64(msr)
	m.call(simwire.OpRDMSR, &r)
	return r[simwire.RAX]
}

func (m *simMachine) WriteMSR(msr uint32, v uint64) {
	var r [simwire.NRegs]uint64
	r[simwire.RCX], r[simwire.RDX] = uint64(msr), v
	m.call(simwire.OpWRMSR, &r)
}
