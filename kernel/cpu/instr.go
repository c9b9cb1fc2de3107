package cpu

// Privileged and special instructions, implemented in instr_amd64.s. All
// are safe to call from trap context: assembly, no stack growth.

// Inb reads a byte from an I/O port.
func Inb(port uint16) uint8

// Outb writes a byte to an I/O port.
func Outb(port uint16, v uint8)

// Inl reads a 32-bit word from an I/O port.
func Inl(port uint16) uint32

// Outl writes a 32-bit word to an I/O port.
func Outl(port uint16, v uint32)

// Rdmsr reads a model-specific register.
func Rdmsr(msr uint32) uint64

// Wrmsr writes a model-specific register.
func Wrmsr(msr uint32, v uint64)

// Cpuid executes CPUID with EAX=leaf, ECX=sub.
func Cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)

// Rdtsc reads the time-stamp counter.
func Rdtsc() uint64

// Rdrand returns a hardware random number; ok is false if the CPU had none
// ready (CF=0) after a few tries.
func Rdrand() (v uint64, ok bool)

// Rdseed is Rdrand for the entropy-source instruction RDSEED.
func Rdseed() (v uint64, ok bool)

// Rcr2 returns CR2, the faulting address of the last page fault.
func Rcr2() uintptr

// Rcr3 returns CR3.
func Rcr3() uintptr

// Lcr3 loads CR3, flushing non-global TLB entries.
func Lcr3(v uintptr)

// Invlpg flushes the TLB entry of one virtual address.
func Invlpg(va uintptr)

// Lidt loads the IDT register from a 10-byte pseudo-descriptor.
func Lidt(desc uintptr)

// Lgdt loads the GDT register from a 10-byte pseudo-descriptor.
func Lgdt(desc uintptr)

// Ltr loads the task register.
func Ltr(sel uint16)

// Fxsave stores the x87 and SSE state at p (512 bytes, 16-byte
// aligned).
//
//go:noescape
func Fxsave(p *byte)

// Lldt loads the LDT register; 0 makes every LDT selector invalid.
func Lldt(sel uint16)

// Halt stops the CPU (interrupts disabled) forever.
func Halt()

// Pause hints a spin-wait loop.
func Pause()

// Rcr0 returns CR0.
func Rcr0() uintptr

// Lcr0 loads CR0.
func Lcr0(v uintptr)

// Rcr4 returns CR4.
func Rcr4() uintptr

// Lcr4 loads CR4.
func Lcr4(v uintptr)

// Rdr6 returns DR6, the debug status (AMD APM vol. 2, 13.1.1.3).
func Rdr6() uint64

// Ldr6 loads DR6.
func Ldr6(v uint64)

// Vmgexit exits to the hypervisor (SEV-ES/SNP guests only).
func Vmgexit()

// Pvalidate validates (or rescinds) the 4 KiB or 2 MiB page at va in the
// RMP (SEV-SNP guests only) and returns RAX and CF.
func Pvalidate(va uintptr, huge, validate bool) (ret uint32, unchanged bool)

// Xgetbv0 returns XCR0. CR4.OSXSAVE must be set.
func Xgetbv0() uint64

// IntrOff disables maskable interrupts and returns RFLAGS as it was, for
// IntrRestore.
func IntrOff() (flags uint64)

// IntrRestore sets RFLAGS.IF (bit 9) back as flags had it.
func IntrRestore(flags uint64)

// FlushCache writes back and invalidates the cache lines of n bytes at va
// (CLFLUSH, 64-byte lines; AMD APM vol. 3, "CLFLUSH"), then fences.
func FlushCache(va, n uintptr)
