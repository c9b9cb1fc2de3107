// Virtual memory layout shared by the boot and trap assembly.
// Keep in sync with kernel/cpu/layout.go.

// KERNBASE is where physical memory is mapped (PML4 slot 252). The kernel
// image is linked at KERNBASE + its physical load address, so the low 32
// bits of a kernel symbol's address equal its physical address.
#define KERNBASE 0x7e0000000000

// Segment selectors of the boot GDT (kernel/cpu/gdt.go).
#define KCODE 0x08
#define KDATA 0x10
#define UDATA 0x2b
#define UCODE 0x33

// MSRs (AMD APM vol. 2, appendix A).
#define MSR_EFER 0xC0000080
#define MSR_FS_BASE 0xC0000100

// Frame layout: kernel/cpu/frame.go. Offsets of the fields the stubs touch.
#define F_VECTOR 120
#define F_ERR 128
#define F_RIP 136
#define F_CS 144
#define F_RFLAGS 152
#define F_RSP 160
#define F_SS 168
#define FRAME_SIZE 176

// USER_END is where the application's addresses end (cpu.UserEnd,
// checked in kernel/uspace.go).
#define USER_END 0x7e0000000000

// RFLAGS bits the application may set (kernel/user.go userFlags).
#define USER_FLAGS 0x254dd5

#define PUSH_GPRS \
	PUSHQ AX; PUSHQ BX; PUSHQ CX; PUSHQ DX; PUSHQ SI; PUSHQ DI; PUSHQ BP; \
	PUSHQ R8; PUSHQ R9; PUSHQ R10; PUSHQ R11; PUSHQ R12; PUSHQ R13; PUSHQ R14; PUSHQ R15

#define POP_GPRS \
	POPQ R15; POPQ R14; POPQ R13; POPQ R12; POPQ R11; POPQ R10; POPQ R9; POPQ R8; \
	POPQ BP; POPQ DI; POPQ SI; POPQ DX; POPQ CX; POPQ BX; POPQ AX

// UserRegs offsets (kernel/uspace.go, checked there at compile time).
#define UR_FSBASE 176
#define UR_FPOFF 184
#define UR_XMM 216
#define UR_MXCSR 472
#define UR_FPMODE 480
#define UR_ENTERTSC 488
#define UR_EXITTSC 496
#define UR_SEL 504
