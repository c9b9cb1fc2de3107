// Package kernel is Cocoon's kernel: it owns the CPU, traps and interrupts,
// physical and virtual memory, time and the kernel's own threads, and it
// serves the Linux system calls that the kernel's own Go runtime makes.
//
// Cocoon's kernel is a Go program built with the stock toolchain for
// linux/amd64. Its runtime believes it runs on Linux; this package is the
// "Linux" underneath it: the trap layer (trap.go), the runtime's system
// calls (sys_*.go), memory (mm.go), time (time.go).
//
// Trap context: everything reachable from trap (trap.go) runs on the trap
// stack with interrupts off. Such code is //go:nosplit, allocates nothing,
// stores no Go pointers into the heap (no write barriers), and touches
// kernel-heap memory only through the checked accessors in mm.go. Each
// file says whether it is trap context at its top.
package kernel

import (
	"github.com/cocoon-vm/cocoon/hal"
	"github.com/cocoon-vm/cocoon/kernel/cpu"
	"github.com/cocoon-vm/cocoon/kernel/pmem"
	"github.com/cocoon-vm/cocoon/kernel/sched"
	"github.com/cocoon-vm/cocoon/kernel/vmspace"
)

// Interrupt vectors the kernel uses.
const (
	vecDebug     = 1
	vecNMI       = 2
	vecPageFault = 14
	vecTimer     = 0x20
	vecNet       = 0x30 // the network device's receive interrupt (netdev.go)
	vecSpurious  = 0xff
)

// ExitKernelFault is the exit status when the kernel itself faults.
const ExitKernelFault = 126

// Machine state. Single vCPU: the per-CPU fields live in globals and are
// only touched with interrupts off.
var (
	platform hal.Platform
	phys     pmem.Allocator
	kspace   vmspace.Space // the kernel runtime's mmap window
	threads  sched.Table
)

// Read and written by trap_amd64.s.
var (
	fpArea       uintptr // extended-state area of the context being entered/left
	fpRestore    bool    // restore fpArea on the way out
	fpUser       bool    // restore the user thread's XMM0-15 and MXCSR on the way out (trapSaveUserFP)
	useXSAVE     bool    // XSAVE (else FXSAVE)
	fsWant       uint64  // FS base of the context being entered
	fsLoaded     uint64  // FS base currently in the MSR
	syscallRSP   uintptr // scratch for the SYSCALL stub
	trapStackTop uintptr // IST1 top, also the SYSCALL stub's stack
)

// Stacks and per-thread areas, all in the kernel image's bss.
var (
	trapStack  [32 << 10]byte
	faultStack [16 << 10]byte
	idleStack  [4 << 10]byte
	m0Stack    [256 << 10]byte
	// fpAreas holds one 4 KiB extended-state area per thread, 64-byte
	// aligned (XSAVE requirement, Intel SDM vol. 1, 13.4).
	fpAreas [sched.MaxThreads*fpAreaSize + 64]byte
)

const fpAreaSize = 4096

// areaOf returns the extended-state area of thread i.
//
//go:nosplit
func areaOf(i int) uintptr {
	base := (addrOf(&fpAreas[0]) + 63) &^ 63
	return base + uintptr(i)*fpAreaSize
}

// Assembly entry points (trap_amd64.s).
func enterRuntime(sp uintptr)
func stubAddr(i uintptr) uintptr
func funcAddr(which uintptr) uintptr

var _ = cpu.KernBase
