// Package vsmsim is the SIMULATED VSM: a host-side process that plays
// Hyper-V and the LVBS VTL0 kernel for Cocoon's LVBS image running under
// QEMU, which has no VTLs. It shares guest memory with QEMU (a
// memory-backend-file with share=on), lays the image out as
// drivers/hv/hv_vsm_boot.c does (lvbs/vtl0load, against the fake
// hypervisor lvbs/hvtest, which checks every hypercall as the TLFS says),
// starts the vCPU at the initial VP context through a PVH trampoline
// (Trampoline), and overlays the hypercall page VTL1 enables with code
// that posts each hypercall and VTL return to a mailbox page
// (lvbs/simwire) the simulator serves. VTL0 is the test's script: VTL
// calls with the registers the LVBS kernels use, and VTL0 accesses that
// the protections VTL1 set turn into intercept messages.
//
// What it proves: the kernel boots from the loader's context and layout,
// speaks the hypercall and VTL call ABIs through a hypercall page, and
// serves VTL0 with its application. What it does not: anything about
// Hyper-V itself (the fake's behaviour is the TLFS as read; interrupts
// are not delivered, an intercept arrives as an entry with reason
// "interrupt"), and the CPU's own Hyper-V interface (CPUID leaves and
// synthetic MSRs go through the mailbox). Everything it prints says
// SIMULATED. Host-side: never linked into a kernel.
package vsmsim

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/cocoon-vm/cocoon/lvbs/hv"
	"github.com/cocoon-vm/cocoon/lvbs/hvtest"
	"github.com/cocoon-vm/cocoon/lvbs/simwire"
	"github.com/cocoon-vm/cocoon/lvbs/skimage"
	"github.com/cocoon-vm/cocoon/lvbs/vtl0load"
	"github.com/cocoon-vm/cocoon/lvbs/vtlcall"
)

// Guest physical layout of a simulation (VTL0 memory is everything
// outside the reservation).
const (
	// Start is where the reservation starts: the only place Cocoon's
	// image runs (skimage.Base).
	Start = skimage.Base
	// MailboxGPA is the mailbox page, in VTL0 memory.
	MailboxGPA = 0x140_0000
	// vtl0In and vtl0Out are VTL0's hypercall pages.
	vtl0In, vtl0Out = 0x150_0000, 0x150_1000
	// TrampolineGPA is where the trampoline runs: in the reservation's
	// stage-0 area, which the loader's tables map and nothing else uses.
	TrampolineGPA = Start + 0x10_0000
)

// Sim is one simulation over guest memory mem (GPA 0 up).
type Sim struct {
	HV   *hvtest.Hypervisor
	mem  []byte
	Boot vtlcall.BootArgs
	// VTL0 holds VTL0's shared registers: what it passes and gets back.
	VTL0 vtlcall.Regs
	// VTL0Debug holds VTL0's CR2, DR0-DR3 and DR6, also shared.
	VTL0Debug [simwire.NDebug]uint64
	// Counts of the guest's requests, by op.
	Requests map[uint64]int
	hcPage   uint64
}

// New returns a simulation over mem, RAM from GPA 0 shared with QEMU.
func New(mem []byte) *Sim {
	h := hvtest.NewOn(mem)
	h.VTL1[hv.RegVsmCodePageOffsets] = hv.RegisterValue{Low: uint64(CodePageOffsets)}
	return &Sim{HV: h, mem: mem, Requests: map[uint64]int{}}
}

// Load does VTL0's part up to the boot call: the loader's layout of img
// in the reservation [Start, end) with the mailbox's GPA written into
// skloader.bin's header, and returns the trampoline that enters VTL1 for
// the boot call (VTL0 reports cpus CPUs and all of mem as its RAM).
func (s *Sim) Load(img vtl0load.Image, end, cpus uint64) ([]byte, error) {
	loader := append([]byte(nil), img.Loader...)
	if _, err := skimage.Parse(loader); err != nil {
		return nil, err
	}
	binary.LittleEndian.PutUint64(loader[skimage.OffMailbox:], MailboxGPA)
	c := &hv.Client{HC: s.HV, In: s.HV.Page(vtl0In), Out: s.HV.Page(vtl0Out)}
	_, boot, err := vtl0load.Load(c, s.HV, Start, end, vtl0load.Image{Loader: loader, Kernel: img.Kernel}, cpus, uint64(len(s.mem)))
	if err != nil {
		return nil, err
	}
	if s.HV.VPVTL1 == nil {
		return nil, fmt.Errorf("vsmsim: the loader enabled no VTL1 context")
	}
	s.Boot = boot
	boot.Args().ToRegs(&s.VTL0)
	clear(s.mem[MailboxGPA : MailboxGPA+hv.PageSize])
	return Trampoline(TrampolineGPA, s.HV.VPVTL1, &s.VTL0), nil
}

func (s *Sim) word(off int) *uint64 {
	// unsafe: an aligned word of the mailbox in the shared mapping, read
	// and written atomically because the guest's vCPU uses it too.
	return (*uint64)(unsafe.Pointer(&s.mem[MailboxGPA+off]))
}

func (s *Sim) reg(i int) uint64 {
	return binary.LittleEndian.Uint64(s.mem[MailboxGPA+simwire.OffRegs+8*i:])
}
func (s *Sim) setReg(i int, v uint64) {
	binary.LittleEndian.PutUint64(s.mem[MailboxGPA+simwire.OffRegs+8*i:], v)
}

func (s *Sim) answer() {
	atomic.StoreUint64(s.word(simwire.OffDone), atomic.LoadUint64(s.word(simwire.OffSeq)))
}

// assist is the VP assist page VTL1 enabled.
func (s *Sim) assist() ([]byte, error) {
	m := hv.PageMSR(s.HV.MSRs[hv.MSRVPAssistPage])
	if !m.Enabled() {
		return nil, fmt.Errorf("vsmsim: VTL1 returned to VTL0 without a VP assist page")
	}
	return s.HV.Mem(m.GPA(), hv.PageSize), nil
}

// WaitReturn serves VTL1's hypercalls, CPUID and MSR accesses until it
// returns to VTL0, and returns VTL0's shared registers then (RAX and RCX
// from the VP assist page: a non-fast return). done ends the wait.
func (s *Sim) WaitReturn(ctx context.Context) (vtlcall.Regs, error) {
	idle := 0
	for {
		if atomic.LoadUint64(s.word(simwire.OffSeq)) == atomic.LoadUint64(s.word(simwire.OffDone)) {
			if ctx.Err() != nil {
				return vtlcall.Regs{}, fmt.Errorf("vsmsim: no VTL return: %w", ctx.Err())
			}
			idle++
			if idle > 100 {
				time.Sleep(100 * time.Microsecond)
			}
			continue
		}
		idle = 0
		op := atomic.LoadUint64(s.word(simwire.OffOp))
		s.Requests[op]++
		switch op {
		case simwire.OpCPUID:
			a, b, c, d := s.HV.CPUID(uint32(s.reg(simwire.RAX)), uint32(s.reg(simwire.RCX)))
			s.setReg(simwire.RAX, uint64(a))
			s.setReg(simwire.RBX, uint64(b))
			s.setReg(simwire.RCX, uint64(c))
			s.setReg(simwire.RDX, uint64(d))
		case simwire.OpRDMSR:
			s.setReg(simwire.RAX, s.HV.ReadMSR(uint32(s.reg(simwire.RCX))))
		case simwire.OpWRMSR:
			msr := uint32(s.reg(simwire.RCX))
			s.HV.WriteMSR(msr, s.reg(simwire.RDX))
			if m := hv.PageMSR(s.HV.MSRs[hv.MSRHypercall]); msr == hv.MSRHypercall && m.Enabled() {
				// The overlay: Hyper-V's code appears at that GPA.
				s.hcPage = m.GPA()
				copy(s.HV.Mem(m.GPA(), hv.PageSize), HypercallPage(kernelVA(MailboxGPA)))
			}
		case simwire.OpHypercall:
			r := s.HV.Hypercall(hv.Control(s.reg(simwire.RCX)), s.reg(simwire.RDX), s.reg(simwire.R8))
			s.setReg(simwire.RAX, uint64(r))
		case simwire.OpVTLReturn:
			page, err := s.assist()
			if err != nil {
				return vtlcall.Regs{}, err
			}
			var r vtlcall.Regs
			r.Rbx, r.Rdx, r.Rsi, r.Rdi, r.Rbp = s.reg(simwire.RBX), s.reg(simwire.RDX), s.reg(simwire.RSI), s.reg(simwire.RDI), s.reg(simwire.RBP)
			r.R8, r.R9, r.R10, r.R11 = s.reg(simwire.R8), s.reg(simwire.R9), s.reg(simwire.R10), s.reg(simwire.R11)
			r.R12, r.R13, r.R14, r.R15 = s.reg(simwire.R12), s.reg(simwire.R13), s.reg(simwire.R14), s.reg(simwire.R15)
			r.Rax = binary.LittleEndian.Uint64(page[16:]) // VtlReturnX64Rax
			r.Rcx = binary.LittleEndian.Uint64(page[24:]) // VtlReturnX64Rcx
			s.VTL0 = r
			for i := range s.VTL0Debug {
				s.VTL0Debug[i] = binary.LittleEndian.Uint64(s.mem[MailboxGPA+simwire.OffDebug+8*i:])
			}
			return r, nil // answered by the next Enter
		default:
			return vtlcall.Regs{}, fmt.Errorf("vsmsim: unknown mailbox op %d", op)
		}
		s.answer()
	}
}

// Enter resumes VTL1 from its VTL return: the entry reason goes into the
// VP assist page and VTL0's shared registers r into VTL1's.
func (s *Sim) Enter(reason hv.EntryReason, r vtlcall.Regs) error {
	page, err := s.assist()
	if err != nil {
		return err
	}
	hv.SetEntryReason(page, reason)
	vals := [simwire.NRegs]uint64{r.Rax, r.Rbx, r.Rcx, r.Rdx, r.Rsi, r.Rdi, r.Rbp, r.R8, r.R9, r.R10, r.R11, r.R12, r.R13, r.R14, r.R15}
	for i, v := range vals {
		s.setReg(i, v)
	}
	for i, v := range s.VTL0Debug {
		binary.LittleEndian.PutUint64(s.mem[MailboxGPA+simwire.OffDebug+8*i:], v)
	}
	s.VTL0 = r
	s.answer()
	return nil
}

// Call makes a VTL call from VTL0 with arguments a (every other shared
// register as VTL0 last had it) and returns its results.
func (s *Sim) Call(ctx context.Context, a vtlcall.Args) (vtlcall.Args, vtlcall.Regs, error) {
	r := s.VTL0
	a.ToRegs(&r)
	if err := s.Enter(hv.EntryVtlCall, r); err != nil {
		return vtlcall.Args{}, r, err
	}
	back, err := s.WaitReturn(ctx)
	return vtlcall.FromRegs(&back), back, err
}

// Interrupt enters VTL1 for an interrupt (an intercept message VTL0's
// access left in the SIMP) and waits for its return.
func (s *Sim) Interrupt(ctx context.Context) (vtlcall.Regs, error) {
	if err := s.Enter(hv.EntryInterrupt, s.VTL0); err != nil {
		return vtlcall.Regs{}, err
	}
	return s.WaitReturn(ctx)
}
