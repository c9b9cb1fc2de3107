// Command usermode is a Cocoon kernel that checks user mode below the
// Linux personality: it maps a few pages of hand-assembled x86-64 code,
// runs them at CPL3 and checks what comes back: a system call with its
// arguments, user memory written by the application, and the faults a
// sandboxed program must get (reading kernel memory, HLT, WRMSR).
package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"time"

	_ "github.com/cocoon-vm/cocoon/boot"
	"github.com/cocoon-vm/cocoon/kernel"
)

const (
	codeAddr  = 0x400000
	dataAddr  = 0x600000
	stackAddr = 0x7fff0000
)

// program is machine code (x86-64) for:
//
//	mov rax, 1; mov rdi, 1; mov rsi, dataAddr; mov rdx, 6; syscall   ; write(1, data, 6)
//	mov qword [dataAddr+64], rax                                      ; store the result
//	mov rax, 39; syscall                                              ; getpid()
//	mov rax, [rsp]; push rax; pop rbx                                 ; touch the stack
//	mov rax, [0x7e0000200000]                                         ; read kernel memory: #PF
var program = []byte{
	0x48, 0xc7, 0xc0, 0x01, 0x00, 0x00, 0x00, // mov rax, 1
	0x48, 0xc7, 0xc7, 0x01, 0x00, 0x00, 0x00, // mov rdi, 1
	0x48, 0xc7, 0xc6, 0x00, 0x00, 0x60, 0x00, // mov rsi, 0x600000
	0x48, 0xc7, 0xc2, 0x06, 0x00, 0x00, 0x00, // mov rdx, 6
	0x0f, 0x05, // syscall
	0x48, 0x89, 0x04, 0x25, 0x40, 0x00, 0x60, 0x00, // mov [0x600040], rax
	0x48, 0xc7, 0xc0, 0x27, 0x00, 0x00, 0x00, // mov rax, 39
	0x0f, 0x05, // syscall
	0x48, 0x8b, 0x04, 0x24, // mov rax, [rsp]
	0x50,                                                       // push rax
	0x5b,                                                       // pop rbx
	0x48, 0xa1, 0x00, 0x00, 0x20, 0x00, 0x00, 0x7e, 0x00, 0x00, // mov rax, [0x7e0000200000]
}

var hlt = []byte{0xf4}                             // hlt
var wrmsr = []byte{0x0f, 0x30}                     // wrmsr
var spin = []byte{0xeb, 0xfe}                      // jmp . (an infinite loop)
var ud2 = []byte{0x0f, 0x0b}                       // ud2
var divzero = []byte{0x31, 0xc9, 0x48, 0xf7, 0xf1} // xor ecx, ecx; div rcx

func main() {
	if err := run(); err != nil {
		fmt.Println("usermode: FAIL:", err)
		os.Exit(1)
	}
	fmt.Println("usermode: PASS")
}

func run() error {
	s, err := kernel.NewSpace()
	if err != nil {
		return err
	}
	must := func(_ uint64, err error) {
		if err != nil {
			panic(err)
		}
	}
	must(s.Map(codeAddr, 4096, 5, true)) // r-x
	must(s.Map(dataAddr, 4096, 3, true)) // rw-
	must(s.Map(stackAddr-65536, 65536, 3, true))
	if err := s.Load(codeAddr, program); err != nil {
		return err
	}
	if err := s.CopyOut(dataAddr, []byte("hello\n")); err != nil {
		return err
	}
	if err := s.CopyOut(codeAddr, []byte{0}); err == nil {
		return fmt.Errorf("CopyOut into read-only code succeeded")
	}

	// run resumes the application until something other than an
	// interrupt (a timer tick can land anywhere) brings it back.
	run := func(r *kernel.UserRegs) kernel.ExitKind {
		for {
			if k := s.Run(r); k != kernel.ExitInterrupt {
				return k
			}
		}
	}
	r := kernel.NewUserRegs()
	r.Frame.RIP = codeAddr
	r.Frame.RSP = stackAddr - 64
	// 1: write(1, "hello\n", 6)
	if k := run(r); k != kernel.ExitSyscall || r.Frame.RAX != 1 || r.Frame.RDI != 1 || r.Frame.RSI != dataAddr || r.Frame.RDX != 6 {
		return fmt.Errorf("first exit %d rax=%d rdi=%d rsi=%#x rdx=%d; want write(1, %#x, 6)", k, r.Frame.RAX, r.Frame.RDI, r.Frame.RSI, r.Frame.RDX, dataAddr)
	}
	buf := make([]byte, r.Frame.RDX)
	if err := s.CopyIn(r.Frame.RSI, buf); err != nil {
		return err
	}
	fmt.Printf("usermode: application wrote %q\n", buf)
	r.Frame.RAX = 6
	// 2: getpid; the application stored write's result first.
	if k := run(r); k != kernel.ExitSyscall || r.Frame.RAX != 39 {
		return fmt.Errorf("second exit %d rax=%d; want getpid", k, r.Frame.RAX)
	}
	var b [8]byte
	s.CopyIn(dataAddr+64, b[:])
	if v := binary.LittleEndian.Uint64(b[:]); v != 6 {
		return fmt.Errorf("application stored %d, want 6 (the result of write)", v)
	}
	r.Frame.RAX = 1
	// 3: reading kernel memory faults; the stack page was faulted in on demand.
	if k := run(r); k != kernel.ExitFault || r.Vector != 14 || r.Addr != 0x7e0000200000 {
		return fmt.Errorf("kernel read: exit %d vector %d addr %#x; want #PF at 0x7e0000200000", k, r.Vector, r.Addr)
	}
	fmt.Printf("usermode: reading kernel memory: page fault at %#x (error code %#x)\n", r.Addr, r.ErrCode)

	for _, c := range []struct {
		name   string
		code   []byte
		vector uint64
	}{{"hlt", hlt, 13}, {"wrmsr", wrmsr, 13}, {"ud2", ud2, 6}, {"div by zero", divzero, 0}} {
		if err := s.Load(codeAddr+0x800, c.code); err != nil {
			return err
		}
		r.Frame.RIP = codeAddr + 0x800
		if k := run(r); k != kernel.ExitFault || r.Vector != c.vector {
			return fmt.Errorf("%s: exit %d vector %d, want fault %d", c.name, k, r.Vector, c.vector)
		}
		fmt.Printf("usermode: %s: fault vector %d\n", c.name, r.Vector)
	}

	// A spinning application is interrupted by the timer: the kernel keeps control.
	s.Load(codeAddr+0x800, spin)
	r.Frame.RIP = codeAddr + 0x800
	interrupts := 0
	for interrupts < 3 {
		if k := s.Run(r); k != kernel.ExitInterrupt {
			return fmt.Errorf("spin: exit %d, want an interrupt", k)
		}
		interrupts++
	}
	fmt.Printf("usermode: spinning application interrupted %d times\n", interrupts)

	// The bare cost of a system call that bounces through the kernel's
	// goroutine: the application loops on SYSCALL, the kernel returns at
	// once.
	s.Load(codeAddr+0x800, []byte{0x0f, 0x05, 0xeb, 0xfc}) // syscall; jmp -4
	r.Frame.RIP = codeAddr + 0x800
	const trips = 20000
	start := time.Now()
	for i := 0; i < trips; {
		if s.Run(r) == kernel.ExitSyscall {
			i++
		}
	}
	fmt.Printf("usermode: system call round trip through the kernel: %d ns\n", time.Since(start).Nanoseconds()/trips)

	// Unmapped memory is gone; the address space can be freed.
	if err := s.Unmap(dataAddr, 4096); err != nil {
		return err
	}
	if err := s.CopyIn(dataAddr, b[:]); err == nil {
		return fmt.Errorf("CopyIn from unmapped memory succeeded")
	}
	before := kernel.Stats().FreeRAM
	if err := s.Free(); err != nil {
		return err
	}
	fmt.Printf("usermode: freeing the address space returned %d KiB\n", (kernel.Stats().FreeRAM-before)>>10)
	return nil
}
