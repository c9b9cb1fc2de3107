package kernel

// Lazy extended state of application threads (the assembly is in
// trap_amd64.s: the SYSCALL fast path, enterUserAsm, spillFP). Trap
// context.

// Lazy extended state. XSAVE and XRSTOR are by far the dearest part of a
// system call under emulation, and the kernel's own Go code touches only
// XMM0-15 and MXCSR: the kernel's runtime runs with AVX disabled
// (RuntimeGodebug), and Go uses no x87. So the system-call fast path, and
// every interrupt or exception from user mode (trapSaveUserFP), saves
// just those (into UserRegs.XMM/MXCSR) and leaves the rest of the
// application's extended state (x87, AVX upper halves) live in the CPU,
// recording its owner here. Before anything else could clobber that state
// (another thread entering user mode, a kernel thread switch, the Linux
// personality reading or writing the state for a signal, the thread's end)
// spillFP saves it with a full XSAVE, patched with the saved XMM and
// MXCSR, into the owner's area.
//
// Invariant: if fpOwner != 0, the CPU holds fpOwner's extended state but
// for XMM0-15 and MXCSR, which are in its UserRegs; fpOwner.FPMode is 1.
var fpOwner uintptr

// selOwner is the *UserRegs whose DS, ES, FS and GS selectors are loaded
// (the last thread to enter user mode), or 0. Linux keeps them per thread
// (__switch_to saves and loads them); the kernel never loads them itself,
// so they stay the owner's until enterUserAsm switches threads, saving
// them to the owner's UserRegs.sel and loading the new thread's.
var selOwner uintptr

// selSync saves the loaded selectors into regs if they are its.
//
//go:nosplit
//go:noinline
func selSync(regs uintptr) {
	if selOwner != 0 && selOwner == regs {
		regsAt(regs).Sel = saveSel()
	}
}

// selRelease forgets regs, a thread that is gone, as selOwner.
//
//go:nosplit
//go:noinline
func selRelease(regs uintptr) {
	if selOwner != 0 && selOwner == regs {
		selOwner = 0
	}
}

// kernelMXCSR is the SIMD control word kernel code runs with, loaded on
// every entry once the interrupted context's is saved: MXCSR's reset
// value, every exception masked, round to nearest, no FTZ or DAZ (Intel
// SDM vol. 1, 10.2.3.1; Linux's kernel_fpu_begin loads MXCSR_DEFAULT the
// same way). An application's MXCSR would otherwise rule the kernel's
// floating-point code until it runs again: its rounding, FTZ and DAZ
// change the kernel's results (the garbage collector's pacing, netstack's
// congestion control compute in float64), and an unmasked exception is a
// #XM in the kernel, a kernel fault.
var kernelMXCSR uint32 = 0x1f80

// RuntimeGodebug is the GODEBUG the kernel gives its own runtime: no AVX,
// so kernel code never changes AVX state (see fpOwner); no FIPS 140-3
// mode, whose entropy source alone uses the bss buffer tools/kbuild trims
// from the image (kbuild.UntouchedBSS): its pages are other memory; and
// no memory profiling (runtime.MemProfileRate 0), which nothing in the
// kernel reads: its samples unwind the allocating goroutine's stack, and
// under TCG translating that unwinder and the profile buckets cost about
// 150 blocks (1.5 ms) of the runtime's start (docs/KERNEL.md, "Boot time
// under TCG").
const RuntimeGodebug = "GODEBUG=cpu.avx=off,cpu.avx2=off,cpu.avx512f=off,fips140=off,memprofilerate=0"

// spillFP saves fpOwner's state into its area and clears fpOwner
// (trap_amd64.s). Clobbers X0.
func spillFP()

// saveSel returns the loaded DS, ES, FS and GS as UserRegs.sel holds them
// (trap_amd64.s).
func saveSel() uint64
