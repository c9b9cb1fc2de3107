package snp

// The #VC handler (AMD APM vol. 2, 15.35.5 "#VC Exception"; GHCB spec
// section 4 "Non-Automatic Exit Events"). Trap context: //go:nosplit, no
// allocation. The kernel calls HandleVC from its #VC entry, on its own
// IST stack, for exceptions from either ring; the handler never raises a
// #VC itself (no CPUID, port, MSR or MMIO instruction on its path).

import (
	"encoding/binary"

	"github.com/cocoon-vm/cocoon/kernel/cpu"
	"github.com/cocoon-vm/cocoon/snp/ghcb"
	"github.com/cocoon-vm/cocoon/snp/ghcbmsr"
	"github.com/cocoon-vm/cocoon/snp/vc"
)

// Exit codes a #VC reports in its error code that HandleVC serves
// besides those in package ghcb (AMD APM vol. 2, appendix C "SVM Intercept
// Exit Codes").
const (
	exitRDTSC  = 0x6E
	exitRDTSCP = 0x87
	exitNPF    = 0x400 // nested page fault: MMIO to a shared page
)

// Instruction encodings (AMD APM vol. 3): the #VC error code names the
// event, the bytes at RIP must be the instruction that raises it.
var (
	opCPUID  = [2]byte{0x0F, 0xA2}
	opRDMSR  = [2]byte{0x0F, 0x32}
	opWRMSR  = [2]byte{0x0F, 0x30}
	opRDTSC  = [2]byte{0x0F, 0x31}
	opRDTSCP = [3]byte{0x0F, 0x01, 0xF9}
)

// HandleVC serves the #VC in f and advances f.RIP past the instruction.
// It returns false, and the reason to terminate with, for an event it
// does not serve or an answer from the hypervisor it cannot accept.
//
//go:nosplit
func (p *Platform) HandleVC(f *cpu.Frame) (ghcbmsr.Reason, bool) {
	// p.insn, not a local: a buffer handed to an interface method
	// escapes, and trap context must not allocate.
	n := p.m.Fetch(f.RIP, p.insn[:])
	insn := p.insn[:n]
	switch f.ErrCode {
	case uint64(ghcb.ExitCPUID):
		return p.vcCPUID(f, insn)
	case uint64(ghcb.ExitMSR):
		return p.vcMSR(f, insn)
	case exitRDTSC, exitRDTSCP:
		return p.vcRDTSC(f, insn)
	case uint64(ghcb.ExitIOIO):
		return p.vcIOIO(f, insn)
	case exitNPF:
		return p.vcMMIO(f, insn)
	}
	return reason(ghcbmsr.ReasonVC), false
}

//go:nosplit
func is(insn []byte, op []byte) bool {
	if len(insn) < len(op) {
		return false
	}
	for i := range op {
		if insn[i] != op[i] {
			return false
		}
	}
	return true
}

// vcCPUID answers from the CPUID page (no exit).
//
//go:nosplit
func (p *Platform) vcCPUID(f *cpu.Frame, insn []byte) (ghcbmsr.Reason, bool) {
	if !is(insn, opCPUID[:]) {
		return reason(ghcbmsr.ReasonVC), false
	}
	a, b, c, d, ok := p.CPUID(uint32(f.RAX), uint32(f.RCX))
	if !ok {
		return reason(ghcbmsr.ReasonCPUID), false
	}
	p.Exits.CPUIDServed++
	// A 32-bit result zero-extends into the 64-bit register.
	f.RAX, f.RBX, f.RCX, f.RDX = uint64(a), uint64(b), uint64(c), uint64(d)
	f.RIP += uint64(len(opCPUID))
	return ghcbmsr.Reason{}, true
}

// vcMSR forwards RDMSR/WRMSR (GHCB spec section 4.1, MSR_PROT: RCX the
// MSR, SW_EXITINFO1 0 read / 1 write, RAX:RDX the value).
//
//go:nosplit
func (p *Platform) vcMSR(f *cpu.Frame, insn []byte) (ghcbmsr.Reason, bool) {
	write := is(insn, opWRMSR[:])
	if !write && !is(insn, opRDMSR[:]) {
		return reason(ghcbmsr.ReasonVC), false
	}
	if uint32(f.RCX) == ghcbmsr.MSR {
		// The GHCB MSR is never intercepted; a #VC for it is a lie.
		return reason(ghcbmsr.ReasonVC), false
	}
	if p.refuseTimeExit(f.ErrCode, uint32(f.RCX)) {
		return reason(ghcbmsr.ReasonSecureTSC), false
	}
	g := p.ghcb
	g.Clear()
	g.Put(ghcb.FieldRCX, uint64(uint32(f.RCX)))
	var info1 uint64
	if write {
		info1 = 1
		g.Put(ghcb.FieldRAX, uint64(uint32(f.RAX)))
		g.Put(ghcb.FieldRDX, uint64(uint32(f.RDX)))
	}
	p.Exits.MSR++
	if !p.exit(ghcb.ExitMSR, info1, 0) {
		return reason(ghcbmsr.ReasonGHCBProtocol), false
	}
	if !write {
		a, aok := g.Take(ghcb.FieldRAX)
		d, dok := g.Take(ghcb.FieldRDX)
		if !aok || !dok {
			return reason(ghcbmsr.ReasonGHCBProtocol), false
		}
		f.RAX, f.RDX = uint64(uint32(a)), uint64(uint32(d))
	}
	f.RIP += uint64(len(opRDMSR))
	return ghcbmsr.Reason{}, true
}

// vcRDTSC forwards RDTSC/RDTSCP, which a hypervisor may intercept (GHCB
// spec section 4.1: RAX, RDX, and RCX for RDTSCP, returned), unless the
// guest runs with Secure TSC, where it cannot (tsc.go).
//
//go:nosplit
func (p *Platform) vcRDTSC(f *cpu.Frame, insn []byte) (ghcbmsr.Reason, bool) {
	if p.refuseTimeExit(f.ErrCode, 0) {
		return reason(ghcbmsr.ReasonSecureTSC), false
	}
	exit, n := ghcb.ExitCode(exitRDTSC), len(opRDTSC)
	if f.ErrCode == exitRDTSCP {
		exit, n = exitRDTSCP, len(opRDTSCP)
		if !is(insn, opRDTSCP[:]) {
			return reason(ghcbmsr.ReasonVC), false
		}
	} else if !is(insn, opRDTSC[:]) {
		return reason(ghcbmsr.ReasonVC), false
	}
	g := p.ghcb
	g.Clear()
	p.Exits.RDTSC++
	if !p.exit(exit, 0, 0) {
		return reason(ghcbmsr.ReasonGHCBProtocol), false
	}
	a, aok := g.Take(ghcb.FieldRAX)
	d, dok := g.Take(ghcb.FieldRDX)
	c, cok := g.Take(ghcb.FieldRCX)
	if !aok || !dok || exit == exitRDTSCP && !cok {
		return reason(ghcbmsr.ReasonGHCBProtocol), false
	}
	f.RAX, f.RDX = uint64(uint32(a)), uint64(uint32(d))
	if exit == exitRDTSCP {
		f.RCX = uint64(uint32(c))
	}
	f.RIP += uint64(n)
	return ghcbmsr.Reason{}, true
}

// gpr returns the register with ModRM number i (0 RAX ... 15 R15) in f.
//
//go:nosplit
func gpr(f *cpu.Frame, i uint8) *uint64 {
	switch i & 15 {
	case 0:
		return &f.RAX
	case 1:
		return &f.RCX
	case 2:
		return &f.RDX
	case 3:
		return &f.RBX
	case 4:
		return &f.RSP
	case 5:
		return &f.RBP
	case 6:
		return &f.RSI
	case 7:
		return &f.RDI
	case 8:
		return &f.R8
	case 9:
		return &f.R9
	case 10:
		return &f.R10
	case 11:
		return &f.R11
	case 12:
		return &f.R12
	case 13:
		return &f.R13
	case 14:
		return &f.R14
	}
	return &f.R15
}

// regsOf copies f's general registers in ModRM order.
//
//go:nosplit
func regsOf(f *cpu.Frame, r *[16]uint64) {
	for i := uint8(0); i < 16; i++ {
		r[i] = *gpr(f, i)
	}
}

// vcIOIO performs IN or OUT through the GHCB (GHCB spec section 4.1,
// IOIO_PROT: SW_EXITINFO1 in the IOIO intercept format, RAX the data).
// String I/O is refused: Cocoon's devices use none, and the application
// cannot reach ports at all (CPL3 with IOPL 0 and no I/O bitmap: #GP).
//
//go:nosplit
func (p *Platform) vcIOIO(f *cpu.Frame, insn []byte) (ghcbmsr.Reason, bool) {
	if f.FromUser() {
		return reason(ghcbmsr.ReasonVC), false
	}
	io, st := vc.DecodeIO(insn, f.RDX)
	if st != vc.OK || io.String {
		return reason(ghcbmsr.ReasonVC), false
	}
	mask := uint64(1)<<(8*uint64(io.Size)) - 1
	g := p.ghcb
	g.Clear()
	if io.Dir == vc.Write {
		g.Put(ghcb.FieldRAX, f.RAX&mask)
	}
	p.Exits.IOIO++
	if !p.exit(ghcb.ExitIOIO, io.ExitInfo1(), 0) {
		return reason(ghcbmsr.ReasonGHCBProtocol), false
	}
	if io.Dir == vc.Read {
		v, ok := g.Take(ghcb.FieldRAX)
		if !ok {
			return reason(ghcbmsr.ReasonGHCBProtocol), false
		}
		if io.Size == 4 {
			f.RAX = v & mask // a 32-bit destination zero-extends
		} else {
			f.RAX = f.RAX&^mask | v&mask
		}
	}
	f.RIP += uint64(io.Len)
	return ghcbmsr.Reason{}, true
}

// vcMMIO performs a move to or from an emulated device through the GHCB
// (GHCB spec section 4.1, MMIO read and write NAE events: SW_EXITINFO1
// the guest-physical address, SW_EXITINFO2 the size, SW_SCRATCH the
// shared buffer holding the data). The target must be mapped shared:
// MMIO to a private page would hand the host a private address to act on
// (or, for a read, let it plant data the guest takes as its own). The
// application has no devices; FS and GS overrides are refused as Cocoon's
// device code never uses them.
//
//go:nosplit
func (p *Platform) vcMMIO(f *cpu.Frame, insn []byte) (ghcbmsr.Reason, bool) {
	if f.FromUser() {
		return reason(ghcbmsr.ReasonMMIO), false
	}
	acc, st := vc.DecodeMMIO(insn)
	if st != vc.OK || acc.Mem.Segment == vc.FS || acc.Mem.Segment == vc.GS {
		return reason(ghcbmsr.ReasonMMIO), false
	}
	regs := &p.regs
	regsOf(f, regs)
	va := acc.Address(regs, f.RIP, 0, 0)
	size := uint64(acc.Size)
	if va%ghcb.PageSize+size > ghcb.PageSize {
		return reason(ghcbmsr.ReasonMMIO), false // one access, one page
	}
	pa, private, ok := p.m.Translate(va)
	if !ok || private {
		return reason(ghcbmsr.ReasonMMIO), false
	}
	g := p.ghcb
	buf := g[ghcb.SharedBufferOffset : ghcb.SharedBufferOffset+8]
	g.Clear()
	g.Put(ghcb.FieldSwScratch, p.ghcbGPA+ghcb.SharedBufferOffset)
	exit := ghcb.ExitMMIORead
	if acc.Dir == vc.Write {
		exit = ghcb.ExitMMIOWrite
		binary.LittleEndian.PutUint64(buf, acc.Value(regs))
	}
	p.Exits.MMIO++
	if !p.exit(exit, pa, size) {
		return reason(ghcbmsr.ReasonGHCBProtocol), false
	}
	if acc.Dir == vc.Read {
		acc.Complete(regs, binary.LittleEndian.Uint64(buf)) // read once; Complete masks to Size
		*gpr(f, acc.Reg.Index) = regs[acc.Reg.Index&15]
	}
	f.RIP += uint64(acc.Len)
	return ghcbmsr.Reason{}, true
}

// ServeVC implements hal.VCHandler: HandleVC, and the termination request
// when it fails.
//
//go:nosplit
func (p *Platform) ServeVC(f *cpu.Frame) bool {
	r, ok := p.HandleVC(f)
	if !ok {
		p.Terminate(r)
	}
	return ok
}
