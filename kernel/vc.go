package kernel

// The #VC exception (AMD APM vol. 2, 15.35.5): raised in SEV-ES and
// SEV-SNP guests by instructions the hypervisor would otherwise intercept
// (CPUID, port and MSR access, MMIO). It has its own entry (vc_amd64.s)
// and stack (IST3), bypasses trap and the scheduler, and returns to the
// very instruction stream it interrupted: the platform emulates the
// instruction and the frame resumes past it. Trap context.
//
// It can strike anywhere: inside trap handlers (an EOI is MMIO), on
// goroutines, in the application (CPUID). It never nests: the platform's
// handler executes none of the instructions that raise it.

import (
	"github.com/cocoon-vm/cocoon/hal"
	"github.com/cocoon-vm/cocoon/kernel/cpu"
)

const vecVC = 29

var (
	vcHandler hal.VCHandler // the platform, when it handles #VC
	vcDepth   int
	vcStack   [16 << 10]byte
	// vcFXArea holds the interrupted context's x87/SSE state while the
	// Go handler runs (FXSAVE64 area: 512 bytes, 16-byte aligned).
	vcFXArea [512 + 16]byte
	vcFX     uintptr // 16-byte aligned address in vcFXArea
	// vcUserFS is the FS base found on entry while #VC runs with the
	// kernel thread's (vcSwitchedFS set).
	vcUserFS     uint64
	vcSwitchedFS bool
)

// vcTrap serves one #VC from vcEntry. A #VC the platform does not serve
// (or any #VC on a platform that has no encrypted state) is fatal: the
// platform has already asked the hypervisor to terminate the guest, and
// printing would itself raise #VC.
//
//go:nosplit
func vcTrap(f *cpu.Frame) {
	vcDepth++
	if vcDepth == 1 && vcHandler != nil && vcHandler.ServeVC(f) {
		vcDepth--
		return
	}
	if vcHandler == nil {
		kernelFault(f) // not an encrypted guest: an ordinary fault report
	}
	cpu.Halt()
}

// Assembly (vc_amd64.s).
func vcEntry()
func vcEntryAddr() uintptr

// InstallVC loads the kernel's descriptor tables, whose vector 29 is the
// #VC gate, with h serving #VC and p for fault reports, before Boot: an
// encrypted-state guest must have them before its first CPUID or port
// access (the UEFI entry calls it once the platform is initialized).
// Boot loads the same tables again. Boot context.
//
//go:nosplit
func InstallVC(p hal.Platform, h hal.VCHandler) {
	platform, vcHandler = p, h
	setupDescriptors()
}

// Exclusive runs fn with maskable interrupts off, so that nothing else on
// this vCPU uses what fn uses (snp.Config.Exclusive: the GHCB, which
// interrupt handlers reach through #VC). Goroutine context; fn must not
// block or panic.
//
//go:nosplit
func Exclusive(fn func()) {
	flags := cpu.IntrOff()
	fn()
	cpu.IntrRestore(flags)
}

// Platform returns the South platform the kernel runs on.
func Platform() hal.Platform { return platform }
