// Command escape tries to leave Cocoon's sandbox; each attempt must get
// the process killed by SIGSEGV (exit status 128+11) while the kernel
// keeps running and reports it. It first restores the default action for
// SIGSEGV, as a program without handlers has, so the Go runtime does not
// turn the fault into a panic. The argument picks the attempt:
//
//	read    read the kernel's memory (its ELF header at 0x7e0000200000)
//	write   write the kernel's memory
//	hlt     execute HLT
//	wrmsr   execute WRMSR (IA32_LSTAR: hijack system calls)
//	cr3     load CR3
package main

import (
	"fmt"
	"os"
	"syscall"
	"unsafe"
)

const kernelAddr = 0x7e0000200000

func hlt()
func wrmsr()
func loadCR3()

func main() {
	if len(os.Args) < 2 {
		fmt.Println("escape: usage: escape read|write|hlt|wrmsr|cr3")
		os.Exit(64)
	}
	// rt_sigaction(SIGSEGV, {SIG_DFL}, nil, 8)
	var act [4]uint64
	if _, _, e := syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(syscall.SIGSEGV), uintptr(unsafe.Pointer(&act)), 0, 8, 0, 0); e != 0 {
		fmt.Println("escape: rt_sigaction:", e)
		os.Exit(1)
	}
	fmt.Printf("escape: trying %s\n", os.Args[1])
	switch os.Args[1] {
	case "read":
		p := (*uint64)(unsafe.Add(unsafe.Pointer(nil), kernelAddr))
		fmt.Printf("escape: read %#x from the kernel!\n", *p)
	case "write":
		p := (*uint64)(unsafe.Add(unsafe.Pointer(nil), kernelAddr))
		*p = 0
		fmt.Println("escape: wrote the kernel's memory!")
	case "hlt":
		hlt()
		fmt.Println("escape: halted the CPU!")
	case "wrmsr":
		wrmsr()
		fmt.Println("escape: wrote an MSR!")
	case "cr3":
		loadCR3()
		fmt.Println("escape: loaded CR3!")
	default:
		fmt.Println("escape: unknown attempt", os.Args[1])
		os.Exit(64)
	}
	os.Exit(0)
}
