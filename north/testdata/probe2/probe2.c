// probe2: CPU-level hostile probes from CPL3. Each case runs in a forked
// child; the parent (pid 1 inside Cocoon) reports how it ended: the exit
// status, or the signal that killed it. Cases that want to see a signal
// install a handler that prints its siginfo (signal, si_code, si_addr,
// trapno, error code) and exits. north/probe2_vm_test.go runs the same
// binary natively on Linux and inside Cocoon and compares the reports
// case by case. Usage: probe2 [CASE...] (no case: every case).
//
// Addresses the program prints are fixed (mappings at fixed addresses, a
// static non-PIE executable); stack addresses print as "stack".
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

// Fixed mappings (below the default mmap area, above the executable).
#define CODE 0x50000000UL // RWX page for instruction snippets
#define DATA 0x51000000UL // RW scratch (4 pages)
#define TOP 0x7fffffffe000UL // the highest user page (TASK_SIZE_MAX - 4096)

// RFLAGS bits (AMD APM vol. 2, 3.1.6).
#define TF 0x100UL
#define IF 0x200UL
#define DF 0x400UL
#define IOPL 0x3000UL
#define NT 0x4000UL
#define RF 0x10000UL
#define VM 0x20000UL
#define AC 0x40000UL
#define VIF 0x80000UL
#define VIP 0x100000UL
#define ID 0x200000UL

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...) {
	char b[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b, sizeof b - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof b - 2)
		n = sizeof b - 2;
	b[n++] = '\n';
	write(1, b, n);
}

static const char *en(long r) {
	static char b[32];
	if (r >= 0) {
		snprintf(b, sizeof b, "%ld", r);
		return b;
	}
	const char *s = strerrorname_np(-r);
	return s ? s : "?";
}

static long raw(long nr, long a, long b, long c) {
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return ret;
}

static uintptr_t stackref;
static char **initial_env; // main's envp: the auxiliary vector follows it

// addr prints an address the same way natively and in Cocoon (into one
// of a few buffers: a line may print several).
static const char *addr(uint64_t a) {
	static char b[4][32];
	static int n;
	if (a - (stackref - (8 << 20)) < (16 << 20))
		return "stack";
	char *p = b[n++ % 4];
	snprintf(p, sizeof b[0], "%#lx", (unsigned long)a);
	return p;
}

static const char *signame(int s) {
	const char *n = sigabbrev_np(s);
	return n ? n : "?";
}

static void report(int sig, siginfo_t *si, void *ctx) {
	ucontext_t *uc = ctx;
	uint64_t rip = uc->uc_mcontext.gregs[REG_RIP];
	// (A signal a process sent has no address: that word is its pid.)
	const char *a = si->si_code <= 0 ? "-" : si->si_addr == (void *)rip && rip ? "rip" : addr((uint64_t)si->si_addr);
	// cr2 is the thread's last page-fault address, whatever the signal
	// (Linux's thread.cr2, like trapno and err: the last trap's).
	uint64_t cr2 = uc->uc_mcontext.gregs[REG_CR2];
	out("  SIG%s code %#x addr %s trapno %lld err %#llx cr2 %s", signame(sig), si->si_code, a,
	    (long long)uc->uc_mcontext.gregs[REG_TRAPNO], (long long)uc->uc_mcontext.gregs[REG_ERR],
	    cr2 == rip && rip ? "rip" : addr(cr2));
	_exit(sig);
}

static void handle(int sig, void (*fn)(int, siginfo_t *, void *), int flags) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO | flags;
	sigaction(sig, &sa, 0);
}

static const int faultsigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP};

static void reportall(int flags) {
	for (unsigned i = 0; i < sizeof faultsigs / sizeof faultsigs[0]; i++)
		handle(faultsigs[i], report, flags | SA_RESETHAND);
}

static void *mapat(uint64_t a, size_t n, int prot) {
	void *p = mmap((void *)a, n, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p != (void *)a) {
		out("  mmap %#lx: %s", (unsigned long)a, strerrorname_np(errno));
		_exit(90);
	}
	return p;
}

// run copies code (plus RET) to the code page and calls it with RAX, RCX,
// RDX and RDI set; it returns RAX and stores RCX and RDX.
static uint64_t rcx_out, rdx_out;
static uint64_t run(const char *code, int n, uint64_t rax, uint64_t rcx, uint64_t rdx, uint64_t rdi) {
	unsigned char *c = (unsigned char *)CODE;
	memcpy(c, code, n);
	c[n] = 0xc3;
	register uint64_t a __asm__("rax") = rax;
	register uint64_t cx __asm__("rcx") = rcx;
	register uint64_t d __asm__("rdx") = rdx;
	register uint64_t di __asm__("rdi") = rdi;
	__asm__ volatile("call *%[f]"
			 : "+r"(a), "+r"(cx), "+r"(d), "+r"(di)
			 : [f] "r"(CODE)
			 : "rbx", "rsi", "r8", "r9", "r10", "r11", "memory", "cc");
	rcx_out = cx;
	rdx_out = d;
	return a;
}

// topmap makes [a, a+n) at the top of user memory usable: mapped
// there, or (inside Cocoon, whose initial stack ends at TASK_SIZE_MAX)
// the stack already there, given prot.
static void topmap(uint64_t a, size_t n, int prot) {
	void *p = mmap((void *)a, n, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p == (void *)a)
		return;
	if (errno != EEXIST || mprotect((void *)a, n, prot) < 0) {
		out("  mmap %#lx: %s", (unsigned long)a, strerrorname_np(errno));
		_exit(90);
	}
}

// ---- Instructions ----

struct insn {
	const char *name;
	const char *code;
	int len;
	uint64_t rax, rcx, rdx;
	int show; // print RAX after (deterministic results only)
};

#define I(name, code, ...) {name, code, sizeof code - 1, __VA_ARGS__}

static const struct insn insns[] = {
	I("ud2", "\x0f\x0b", 0, 0, 0, 0),
	I("into", "\xce", 0, 0, 0, 0),
	I("hlt", "\xf4", 0, 0, 0, 0),
	I("cli", "\xfa", 0, 0, 0, 0),
	I("sti", "\xfb", 0, 0, 0, 0),
	I("in-al-dx", "\xec", 0, 0, 0x80, 0),
	I("out-dx-al", "\xee", 0, 0, 0x80, 0),
	I("in-al-imm", "\xe4\x60", 0, 0, 0, 0),
	I("insb", "\x6c", 0, 0, 0x80, 0),
	I("outsb", "\x6e", 0, 0, 0x80, 0),
	I("rdmsr", "\x0f\x32", 0, 0x10, 0, 0),
	I("wrmsr", "\x0f\x30", 0, 0xc0000100, 0, 0),
	I("lgdt", "\x0f\x01\x17", 0, 0, 0, 0),
	I("lidt", "\x0f\x01\x1f", 0, 0, 0, 0),
	I("lldt", "\x0f\x00\xd0", 0, 0, 0, 0),
	I("ltr", "\x0f\x00\xd8", 0x28, 0, 0, 0),
	I("lmsw", "\x0f\x01\xf0", 0, 0, 0, 0),
	I("sgdt", "\x0f\x01\x07", 0, 0, 0, 0),
	I("sidt", "\x0f\x01\x0f", 0, 0, 0, 0),
	I("sldt", "\x0f\x00\xc0", 0, 0, 0, 0),
	I("str", "\x0f\x00\xc8", 0, 0, 0, 0),
	I("smsw", "\x0f\x01\xe0", 0, 0, 0, 0),
	I("clts", "\x0f\x06", 0, 0, 0, 0),
	I("invd", "\x0f\x08", 0, 0, 0, 0),
	I("wbinvd", "\x0f\x09", 0, 0, 0, 0),
	I("invlpg", "\x0f\x01\x3f", 0, 0, 0, 0),
	I("mov-cr0", "\x0f\x22\xc0", 0, 0, 0, 0),
	I("read-cr3", "\x0f\x20\xd8", 0, 0, 0, 0),
	I("read-dr7", "\x0f\x21\xf8", 0, 0, 0, 0),
	I("swapgs", "\x0f\x01\xf8", 0, 0, 0, 0),
	I("sysret", "\x48\x0f\x07", 0, 0, 0, 0),
	I("sysenter", "\x0f\x34", 0, 0, 0, 0),
	I("sysexit", "\x48\x0f\x35", 0, 0, 0, 0),
	I("rdpmc", "\x0f\x33", 0, 0, 0, 0),
	I("xsetbv", "\x0f\x01\xd1", 3, 0, 0, 0),
	I("xgetbv-2", "\x0f\x01\xd0", 0, 2, 0, 0),
	I("xgetbv-big", "\x0f\x01\xd0", 0, 0x80000000, 0, 0),
	I("xgetbv-0", "\x0f\x01\xd0\x83\xe0\x03", 0, 0, 0, 1),
	I("cpuid-high", "\x0f\xa2\x31\xc0", 0xffffffff, 0, 0, 1),
	I("cpuid-ext-high", "\x0f\xa2\x31\xc0", 0x8fffffff, 0, 0, 1),
	I("cpuid-hv", "\x0f\xa2\x31\xc0", 0x4fffffff, 0, 0, 1),
	I("rdtsc", "\x0f\x31\x31\xc0", 0, 0, 0, 1),
	I("div0", "\x31\xd2\x31\xc9\xf7\xf1", 1, 0, 0, 0),
	I("idiv-min", "\x48\x99\x48\xf7\xf9", 0x8000000000000000, -1, 0, 0),
	I("idiv8-min", "\xb0\x80\x66\x98\xb1\xff\xf6\xf9", 0, 0, 0, 0),
	I("int-3", "\xcd\x03", 0, 0, 0, 0),
	I("int-4", "\xcd\x04", 0, 0, 0, 0),
	I("int-0x20", "\xcd\x20", 0, 0, 0, 0),
	I("int-0xff", "\xcd\xff", 0, 0, 0, 0),
	// Floating-point exceptions: MXCSR or the x87 control word with the
	// exception unmasked (rdi points at scratch memory; the SSE cases
	// put 1.0 or FLT_MAX, 0, 0x1p-126 and 3.0 at DATA, DATA+4, +8, +12).
	// #XM, #MF: SIGFPE with the si_code of the unmasked exception.
	I("sse-div0", "\x0f\xae\x57\x40\xf3\x0f\x10\x07\xf3\x0f\x5e\x47\x04\x0f\xae\x57\x48", 0, 0, 0, 0),
	I("sse-invalid", "\x0f\xae\x57\x44\xf3\x0f\x10\x47\x04\xf3\x0f\x5e\x47\x04\x0f\xae\x57\x48", 0, 0, 0, 0),
	I("sse-inexact", "\x0f\xae\x57\x4c\xf3\x0f\x10\x07\xf3\x0f\x5e\x47\x0c\x0f\xae\x57\x48", 0, 0, 0, 0),
	I("sse-masked", "\x0f\xae\x57\x48\xf3\x0f\x10\x07\xf3\x0f\x5e\x47\x04", 0, 0, 0, 0),
	I("x87-div0", "\xdb\xe3\xd9\x6f\x50\xd9\x07\xd8\x77\x04\x9b\xdb\xe3", 0, 0, 0, 0),
	I("x87-invalid", "\xdb\xe3\xd9\x6f\x52\xd9\x47\x04\xd8\x77\x04\x9b\xdb\xe3", 0, 0, 0, 0),
	I("x87-stack", "\xdb\xe3\xd9\x6f\x52\xd8\xc1\x9b\xdb\xe3", 0, 0, 0, 0),
	I("int80-getpid", "\xcd\x80", 20, 0, 0, 0),
	I("int80-bad", "\xcd\x80", 100000, 0, 0, 1),
	I("int3-prefixed", "\x66\xcc", 0, 0, 0, 0),
	I("icebp", "\xf1", 0, 0, 0, 0),
	I("int1", "\xcd\x01", 0, 0, 0, 0),
	I("lock-nop", "\xf0\x90", 0, 0, 0, 0),
	I("too-long", "\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x90", 0, 0, 0, 0),
	I("aaa", "\x37", 0, 0, 0, 0),
	I("push-cs", "\x0e", 0, 0, 0, 0),
	I("pop-ss", "\x17", 0, 0, 0, 0),
	I("far-jmp-kernel", "\x48\xb8\x00\x00\x00\x50\x00\x00\x00\x00\x6a\x10\x50\x48\xcb", 0, 0, 0, 0),
	I("far-ret-null", "\x6a\x00\x6a\x00\x48\xcb", 0, 0, 0, 0),
	I("far-ret-rpl0", "\x8c\xc8\x24\xfc\x50\x6a\x00\x48\xcb", 0, 0, 0, 0),
	I("far-ret-data", "\x8c\xd0\x50\x6a\x00\x48\xcb", 0, 0, 0, 0),
	I("mov-ss-null", "\x31\xc0\x8e\xd0", 0, 0, 0, 0),
	I("mov-ss-cs", "\x8c\xc8\x8e\xd0", 0, 0, 0, 0),
	I("mov-ds-garbage", "\x66\xb8\xf3\xff\x8e\xd8", 0, 0, 0, 0),
	I("mov-ds-ldt", "\x66\xb8\x07\x00\x8e\xd8", 0, 0, 0, 0),
	I("mov-es-kernel", "\x66\xb8\x10\x00\x8e\xc0", 0, 0, 0, 0),
	I("mov-gs-garbage", "\x66\xb8\xf3\xff\x8e\xe8", 0, 0, 0, 0),
	I("mov-fs-cs", "\x8c\xc8\x8e\xe0", 0, 0, 0, 0),
	I("mov-ds-null", "\x31\xc0\x8e\xd8\x8c\xd8", 0, 0, 0, 1),
	I("vsyscall-read", "\x48\xb8\x00\x00\x60\xff\xff\xff\xff\xff\x48\x8b\x00", 0, 0, 0, 0),
	I("vsyscall-write", "\x48\xb8\x00\x00\x60\xff\xff\xff\xff\xff\xc6\x00\x01", 0, 0, 0, 0),
	I("vsyscall-misaligned", "\x48\xb8\x10\x00\x60\xff\xff\xff\xff\xff\xff\xd0", 0, 0, 0, 0),
	I("vsyscall-page2", "\x48\xb8\x00\x10\x60\xff\xff\xff\xff\xff\xff\xd0", 0, 0, 0, 0),
	I("vsyscall-time", "\x31\xff\x48\xb8\x00\x04\x60\xff\xff\xff\xff\xff\xff\xd0\x48\x85\xc0\x0f\x9f\xc0\x0f\xb6\xc0", 0, 0, 0, 1),
	I("vsyscall-gettimeofday", "\x48\xb8\x00\x00\x60\xff\xff\xff\xff\xff\x31\xf6\xff\xd0", 0, 0, 0, 1),
	I("vsyscall-getcpu", "\x48\x8d\x77\x08\x48\xb8\x00\x08\x60\xff\xff\xff\xff\xff\xff\xd0", 0, 0, 0, 1),
	I("vsyscall-time-kptr", "\x48\xbf\x00\x00\x00\x00\x00\x88\xff\xff\x48\xb8\x00\x04\x60\xff\xff\xff\xff\xff\xff\xd0", 0, 0, 0, 0),
	I("vsyscall-time-unmapped", "\x48\xbf\x00\x00\x10\x51\x00\x00\x00\x00\x48\xb8\x00\x04\x60\xff\xff\xff\xff\xff\xff\xd0", 0, 0, 0, 0),
	I("vsyscall-badstack", "\x48\xb8\x00\x04\x60\xff\xff\xff\xff\xff\x48\x31\xe4\xff\xe0", 0, 0, 0, 0),
	I("kernel-read", "\x48\xb8\x00\x00\x00\x81\xff\xff\xff\xff\x48\x8b\x00", 0, 0, 0, 0),
	I("kernel-exec", "\x48\xb8\x00\x00\x00\x81\xff\xff\xff\xff\xff\xd0", 0, 0, 0, 0),
	I("noncanon-read", "\x48\xb8\x00\x00\x00\x00\x00\x80\x00\x00\x48\x8b\x00", 0, 0, 0, 0),
	I("noncanon-jmp", "\x48\xb8\x00\x00\x00\x00\x00\x80\x00\x00\xff\xe0", 0, 0, 0, 0),
	I("null-read", "\x31\xc0\x48\x8b\x00", 0, 0, 0, 0),
	I("top-read", "\x48\xb8\x00\xf0\xff\xff\xff\x7f\x00\x00\x48\x8b\x00", 0, 0, 0, 0),
	I("gap-read", "\x48\xb8\x00\x10\x00\x00\x00\x7e\x00\x00\x48\x8b\x00", 0, 0, 0, 0),
	I("gap-exec", "\x48\xb8\x00\x10\x00\x00\x00\x7e\x00\x00\xff\xd0", 0, 0, 0, 0),
	I("text-write", "\x48\xc7\xc0\x00\x10\x40\x00\xc6\x00\x01", 0, 0, 0, 0),
	I("data-exec", "\xff\xd7", 0, 0, 0, 0), // call *%rdi: DATA is not executable
};

static void insn_case(const struct insn *in) {
	reportall(0);
	// Operands for the floating-point cases: floats at DATA (1.0, 0.0,
	// 2^-126, 3.0), MXCSR values at DATA+0x40 (divide-by-zero unmasked),
	// +0x44 (invalid unmasked), +0x48 (all masked), +0x4c (precision
	// unmasked) and x87 control words at +0x50 (ZE unmasked), +0x52 (IE
	// unmasked).
	float *f = (float *)DATA;
	f[0] = 1.0f, f[1] = 0.0f, f[2] = 0x1p-126f, f[3] = 3.0f;
	uint32_t *m = (uint32_t *)(DATA + 0x40);
	m[0] = 0x1f80 & ~0x200, m[1] = 0x1f80 & ~0x80, m[2] = 0x1f80, m[3] = 0x1f80 & ~0x1000;
	uint16_t *cw = (uint16_t *)(DATA + 0x50);
	cw[0] = 0x37f & ~0x4, cw[1] = 0x37f & ~0x1;
	uint64_t r = run(in->code, in->len, in->rax, in->rcx, in->rdx, DATA);
	if (in->show)
		out("  returned %#lx", (unsigned long)r);
	else
		out("  returned");
}

// ---- Segment selectors kept across system calls and preemption ----

static void case_gs_selector(void) {
	uint16_t ds, gs;
	__asm__ volatile("mov %%ss, %0" : "=r"(ds));
	__asm__ volatile("mov %0, %%gs" : : "r"(ds));
	for (int i = 0; i < 3; i++)
		sched_yield();
	usleep(20000);
	__asm__ volatile("mov %%gs, %0" : "=r"(gs));
	out("  gs after yield and sleep is ss: %d", gs == ds);
	__asm__ volatile("mov %0, %%gs" : : "r"(0));
}

// ---- iretq from CPL3 with forged frames ----

static void iretq_to(uint64_t rip, uint64_t cs, uint64_t flags, uint64_t rsp, uint64_t ss) {
	__asm__ volatile(
		"pushq %[ss]\n\t"
		"pushq %[rsp]\n\t"
		"pushq %[fl]\n\t"
		"pushq %[cs]\n\t"
		"pushq %[rip]\n\t"
		"iretq\n\t" ::[ss] "r"(ss),
		[rsp] "r"(rsp), [fl] "r"(flags), [cs] "r"(cs), [rip] "r"(rip)
		: "memory");
}

static uint64_t cur_cs(void) {
	uint16_t v;
	__asm__ volatile("mov %%cs, %0" : "=r"(v));
	return v;
}

static uint64_t cur_ss(void) {
	uint16_t v;
	__asm__ volatile("mov %%ss, %0" : "=r"(v));
	return v;
}


// landed is where forged returns resume: on a fresh stack (landing).
static char landstack[65536] __attribute__((aligned(16)));

// landing saves RFLAGS and MXCSR as they came, clears DF and AC for
// the C code, aligns the stack and calls landed.
uint64_t landflags;
uint32_t landmxcsr;

void landed(void) {
	uint64_t f = landflags;
	out("  resumed, flags IOPL %lu NT %d AC %d RF %d ID %d DF %d TF %d, MXCSR %#x", (f & IOPL) >> 12, !!(f & NT),
	    !!(f & AC), !!(f & RF), !!(f & ID), !!(f & DF), !!(f & TF), landmxcsr);
	_exit(0);
}

__asm__(".text\n"
	"landing:\n\t"
	"pushfq\n\t"
	"popq landflags(%rip)\n\t"
	"stmxcsr landmxcsr(%rip)\n\t"
	"cld\n\t"
	"pushq $0x202\n\t"
	"popfq\n\t"
	"andq $-16, %rsp\n\t"
	"call landed\n\t"
	"ud2\n");
extern char landing[];

#define LANDSP ((uint64_t)(landstack + sizeof landstack - 64))

static const char *where(uint64_t a) {
	if (a == (uint64_t)landing)
		return "landing";
	if (a == LANDSP)
		return "landsp";
	return addr(a);
}

static void case_iret_self(void) {
	reportall(0);
	iretq_to((uint64_t)landing, cur_cs(), 0x202, LANDSP, cur_ss());
}
static void case_iret_kcs(void) {
	reportall(0);
	iretq_to((uint64_t)landing, 0x10, 0x202, LANDSP, cur_ss());
}
static void case_iret_noncanon(void) {
	reportall(0);
	iretq_to(0x8000000000000000UL, cur_cs(), 0x202, LANDSP, cur_ss());
}
static void case_iret_nt(void) {
	reportall(0);
	__asm__ volatile("pushfq; orq $0x4000, (%%rsp); popfq" ::: "cc");
	iretq_to((uint64_t)landing, cur_cs(), 0x202, LANDSP, cur_ss());
}
static void case_iret_flags(void) {
	reportall(0);
	iretq_to((uint64_t)landing, cur_cs(), 0x202 | IOPL | NT | AC | RF | VM | VIF | VIP | ID | DF, LANDSP, cur_ss());
}
static void case_iret_ss_null(void) {
	reportall(0);
	iretq_to((uint64_t)landing, cur_cs(), 0x202, LANDSP, 0);
}
static void case_iret_ss_cs(void) {
	reportall(0);
	iretq_to((uint64_t)landing, cur_cs(), 0x202, LANDSP, cur_cs());
}
static void case_iret_tf(void) {
	reportall(0);
	iretq_to((uint64_t)landing, cur_cs(), 0x202 | TF, LANDSP, cur_ss());
}

// ---- rt_sigreturn with a forged frame (the handler edits its ucontext) ----

// The sigcontext as the kernel lays it out (arch/x86/include/uapi/asm/sigcontext.h).
struct sc64 {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2, fpstate, reserved1[8];
};

struct uc64 {
	uint64_t flags, link;
	stack_t stack;
	struct sc64 sc;
	uint64_t sigmask;
};

static void (*edit)(struct uc64 *);

// The fpstate: the FXSAVE image, then (if the sw bytes say so) the XSAVE
// header and components (arch/x86/include/uapi/asm/sigcontext.h).
#define FP(u) ((unsigned char *)(u)->sc.fpstate)
#define MXCSR(u) (*(uint32_t *)(FP(u) + 24))
#define SWB(u) ((uint32_t *)(FP(u) + 464)) // magic1, extended_size, xfeatures (2 words), xstate_size
#define XHDR(u) ((uint64_t *)(FP(u) + 512))

// The handler leaves MXCSR at a value of its own (rounding toward zero):
// a frame that restores no FP state shows whether the kernel reset it.
#define HANDLER_MXCSR 0x7f80

static void onusr1(int sig, siginfo_t *si, void *ctx) {
	edit(ctx);
	uint32_t mx = HANDLER_MXCSR;
	__asm__ volatile("ldmxcsr %0" : : "m"(mx));
}

// The marker e_land leaves in R12 of a forged frame, to see whether a
// kernel installed the frame's registers.
#define MARK 0x5eed

static const char *where(uint64_t a);

// report_frame prints, besides what report does, the context the fault
// signal's frame saved: where the thread was, with which selectors, mask
// and registers, and whether the frame asks for a strict SS.
static void report_frame(int sig, siginfo_t *si, void *ctx) {
	struct uc64 *u = ctx;
	uint32_t mx = u->sc.fpstate ? MXCSR(u) : 0;
	out("  frame rip %s rsp %s cs %#x ss %#x strict-ss %d mask %#lx r12 %#lx rax %#lx mxcsr %#x", where(u->sc.rip),
	    where(u->sc.rsp), u->sc.cs, u->sc.ss, !!(u->flags & 4), (unsigned long)u->sigmask, (unsigned long)u->sc.r12,
	    (unsigned long)u->sc.rax, mx);
	report(sig, si, ctx);
}

// forge raises SIGUSR1, whose handler applies e to the frame it returns
// through.
static int forge_flags; // more flags for the fault handlers
static void forge(void (*e)(struct uc64 *)) {
	edit = e;
	for (unsigned i = 0; i < sizeof faultsigs / sizeof faultsigs[0]; i++)
		handle(faultsigs[i], report_frame, SA_RESETHAND | forge_flags);
	handle(SIGUSR1, onusr1, 0);
	raw(SYS_tgkill, getpid(), raw(SYS_gettid, 0, 0, 0), SIGUSR1);
	out("  returned");
}

static void e_rip_noncanon(struct uc64 *u) { u->sc.rip = 0x8000000000000000UL; }
static void e_rip_47(struct uc64 *u) { u->sc.rip = 1UL << 47; }
static void e_rip_kernel(struct uc64 *u) { u->sc.rip = 0xffffffff81000000UL; }
static void e_rip_top(struct uc64 *u) { u->sc.rip = TOP + 4096; }
static void e_rip_gap(struct uc64 *u) { u->sc.rip = 0x7e0000001000UL; }
static void e_rsp_noncanon(struct uc64 *u) {
	u->sc.rip = (uint64_t)landing;
	u->sc.rsp = 0x8000000000000000UL;
}
static void e_rsp_kernel(struct uc64 *u) {
	u->sc.rip = (uint64_t)landing;
	u->sc.rsp = 0xffff880000001000UL;
}
static void e_land(struct uc64 *u) {
	u->sc.rip = (uint64_t)landing;
	u->sc.rsp = LANDSP;
	u->sc.r12 = MARK;
}
static void e_cs_kernel(struct uc64 *u) {
	e_land(u);
	u->sc.cs = 0x10;
}
static void e_cs_null(struct uc64 *u) {
	e_land(u);
	u->sc.cs = 0;
}
static void e_cs_garbage(struct uc64 *u) {
	e_land(u);
	u->sc.cs = 0xfff3;
}
static void e_cs_ss(struct uc64 *u) {
	e_land(u);
	u->sc.cs = u->sc.ss;
}
static void e_ss_garbage(struct uc64 *u) {
	e_land(u);
	u->sc.ss = 0xfff3;
}
static void e_ss_strict(struct uc64 *u) {
	e_land(u);
	u->sc.ss = 0xfff3;
	u->flags |= 0x4 | 0x2; // UC_STRICT_RESTORE_SS | UC_SIGCONTEXT_SS
}
static void e_ss_null(struct uc64 *u) {
	e_land(u);
	u->sc.ss = 0;
}
static void e_ss_cs(struct uc64 *u) {
	e_land(u);
	u->sc.ss = u->sc.cs;
}
static void e_ss_ldt(struct uc64 *u) {
	e_land(u);
	u->sc.ss = 0x2f; // index 5 of the LDT
}
// Without UC_STRICT_RESTORE_SS, a bad SS becomes __USER_DS, under the
// 64-bit user CS only (force_valid_ss).
static void e_ss_lax(struct uc64 *u) {
	e_land(u);
	u->sc.ss = 0xfff3;
	u->flags &= ~4UL;
}
static void e_ss_lax_kernel(struct uc64 *u) {
	e_land(u);
	u->sc.ss = 0x10;
	u->flags &= ~4UL;
}
static void e_ss_lax_cs_bad(struct uc64 *u) {
	e_land(u);
	u->sc.ss = 0xfff3;
	u->sc.cs = 0x10;
	u->flags &= ~4UL;
}
// Selectors with RPL 0: the kernel forces RPL 3.
static void e_sel_rpl0(struct uc64 *u) {
	e_land(u);
	u->sc.cs &= ~3;
	u->sc.ss &= ~3;
}
// IRETQ checks CS before SS, and both before RIP.
static void e_cs_ss_rip(struct uc64 *u) {
	e_land(u);
	u->sc.cs = 0x10;
	u->sc.ss = 0xfff3;
	u->sc.rip = 0x8000000000000000UL;
}
static void e_ss_rip(struct uc64 *u) {
	e_land(u);
	u->sc.ss = 0;
	u->sc.rip = 0x8000000000000000UL;
}
// An SS in the LDT takes Linux's espfix64 path: its IRETQ fault is a #GP(0).
static void e_ss_ldt_cs_bad(struct uc64 *u) {
	e_land(u);
	u->sc.cs = 0x10;
	u->sc.ss = 0x7;
}
static void e_cs_ldt(struct uc64 *u) {
	e_land(u);
	u->sc.cs = 0x37; // index 6 of the LDT
}
// Linux's 32-bit user code segment (__USER32_CS): IRETQ enters
// compatibility mode at a UD2.
static void e_cs_user32(struct uc64 *u) {
	e_land(u);
	memcpy((void *)CODE, "\x0f\x0b", 2);
	u->sc.rip = CODE;
	u->sc.cs = 0x23;
}
// A bad fpstate after bad selectors: the frame's registers are in place
// for the SIGSEGV.
static void e_cs_fp_bad(struct uc64 *u) {
	e_land(u);
	u->sc.cs = 0x10;
	MXCSR(u) |= 1 << 16;
}
// A bad fpstate: Linux has installed the frame's mask and registers (and
// rt_sigreturn returns 0 in RAX) and reset the FPU when it finds it.
static void e_fp_bad_regs(struct uc64 *u) {
	e_land(u);
	u->sigmask = 1UL << (SIGUSR2 - 1);
	u->sc.rax = 0x1234;
	MXCSR(u) |= 1 << 16;
}
// ... so a mask in the frame that blocks SIGSEGV makes it fatal.
static void e_fp_bad_segv_blocked(struct uc64 *u) {
	e_land(u);
	u->sigmask = 1UL << (SIGSEGV - 1);
	MXCSR(u) |= 1 << 16;
}
// ... and the SIGSEGV goes onto the frame's stack.
static void e_fp_bad_rsp_bad(struct uc64 *u) {
	e_land(u);
	u->sc.rsp = 0x8000000000000000UL;
	MXCSR(u) |= 1 << 16;
}
// A bad CS with a mask that blocks SIGSEGV: the #GP of the return is
// fatal too.
static void e_cs_segv_blocked(struct uc64 *u) {
	e_land(u);
	u->sc.cs = 0x10;
	u->sigmask = 1UL << (SIGSEGV - 1);
}
// A RIP in the vsyscall page: Linux emulates the call on the fetch
// fault and returns to the address on the stack (landing).
static void e_rip_vsyscall(struct uc64 *u) {
	e_land(u);
	*(uint64_t *)LANDSP = (uint64_t)landing;
	u->sc.rip = 0xffffffffff600400UL; // time(NULL)
	u->sc.rdi = 0;
}
// RSP values the return takes, on which landing's first push faults:
// reported on the alternate stack.
static void e_rsp_noncanon_land(struct uc64 *u) {
	e_land(u);
	u->sc.rsp = 0x8000000000000000UL;
}
static void e_rsp_kernel_land(struct uc64 *u) {
	e_land(u);
	u->sc.rsp = 0xffff880000001000UL;
}
static void e_rsp_null_land(struct uc64 *u) {
	e_land(u);
	u->sc.rsp = 0;
}
// A pending SIGHUP the frame's mask unblocks, with a bad fpstate: Linux
// takes the synchronous SIGSEGV first, so SIGHUP's frame goes on top of
// it and its handler runs first.
static void e_fp_bad_hup(struct uc64 *u) {
	e_land(u);
	sigset_t hup;
	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	sigprocmask(SIG_BLOCK, &hup, 0);
	raise(SIGHUP);
	MXCSR(u) |= 1 << 16;
}
static void e_uc_flags(struct uc64 *u) {
	e_land(u);
	u->flags = ~0UL;
}
static void e_flags_all(struct uc64 *u) {
	e_land(u);
	u->sc.eflags = ~0UL & ~TF;
}
static void e_flags_tf(struct uc64 *u) {
	e_land(u);
	u->sc.eflags |= TF;
}
static void e_mask_all(struct uc64 *u) {
	e_land(u);
	u->sigmask = ~0UL;
}

static void e_fp_null(struct uc64 *u) {
	e_land(u);
	u->sc.fpstate = 0;
}
static void e_fp_unmapped(struct uc64 *u) {
	e_land(u);
	u->sc.fpstate = DATA + 0x100000;
}
static void e_fp_kernel(struct uc64 *u) {
	e_land(u);
	u->sc.fpstate = 0xffff880000000000UL;
}
static void e_fp_noncanon(struct uc64 *u) {
	e_land(u);
	u->sc.fpstate = 0x8000000000000000UL;
}
// e_fp_moved copies the fpstate (through its magic2) to DATA+off.
static void fp_moved(struct uc64 *u, int off) {
	uint32_t size = SWB(u)[0] == 0x46505853 ? SWB(u)[4] + 4 : 512;
	if (size > 4 * 4096 - off)
		size = 4 * 4096 - off;
	memcpy((void *)(DATA + off), FP(u), size);
	u->sc.fpstate = DATA + off;
	e_land(u);
}
static void e_fp_aligned(struct uc64 *u) { fp_moved(u, 64); }
static void e_fp_mis8(struct uc64 *u) { fp_moved(u, 8); }
static void e_fp_mis16(struct uc64 *u) { fp_moved(u, 16); }
static void e_fp_mis1(struct uc64 *u) { fp_moved(u, 1); }
static void e_fp_straddle(struct uc64 *u) { fp_moved(u, 4 * 4096 - 256); }
static void e_mxcsr_reserved(struct uc64 *u) {
	e_land(u);
	MXCSR(u) |= 1 << 16;
}
static void e_mxcsr_daz(struct uc64 *u) {
	e_land(u);
	MXCSR(u) |= 1 << 6;
}
static void e_xstate_bv_reserved(struct uc64 *u) {
	e_land(u);
	XHDR(u)[0] |= 1UL << 62;
}
static void e_xcomp_bv(struct uc64 *u) {
	e_land(u);
	XHDR(u)[1] = 1UL << 63 | XHDR(u)[0];
}
static void e_xhdr_reserved(struct uc64 *u) {
	e_land(u);
	XHDR(u)[2] = 1;
}
static void e_magic1_bad(struct uc64 *u) {
	e_land(u);
	SWB(u)[0] ^= 1;
	MXCSR(u) |= 1 << 16;
}
static void e_xstate_size_huge(struct uc64 *u) {
	e_land(u);
	SWB(u)[4] = 0x100000;
}
static void e_xfeatures_extra(struct uc64 *u) {
	e_land(u);
	SWB(u)[2] = ~0U;
	SWB(u)[3] = ~0U;
	XHDR(u)[0] |= 1UL << 62;
}
static void e_magic2_bad(struct uc64 *u) {
	e_land(u);
	*(uint32_t *)(FP(u) + SWB(u)[4]) ^= 1;
	XHDR(u)[0] |= 1UL << 62;
}

// sigreturn_at makes rt_sigreturn with RSP at sp.
static void sigreturn_at(uint64_t sp) {
	reportall(0);
	__asm__ volatile("mov %0, %%rsp\n\tmov $15, %%eax\n\tsyscall\n\tud2" : : "r"(sp) : "memory");
}

static void case_sr_rsp_null(void) { sigreturn_at(0); }
static void case_sr_rsp_kernel(void) { sigreturn_at(0xffff880000000000UL); }
static void case_sr_rsp_noncanon(void) { sigreturn_at(0x8000000000000000UL); }
static void case_sr_rsp_top(void) {
	topmap(TOP - 4 * 4096, 5 * 4096, PROT_READ | PROT_WRITE);
	sigreturn_at(TOP + 4096 - 64);
}
// A zeroed frame: RIP 0, CS 0 and no fpstate.
static void case_sr_zero(void) {
	memset((void *)DATA, 0, 4096);
	sigreturn_at(DATA);
}

// ---- The top of the user address space ----

static void case_top_map(void) {
	void *p = mmap((void *)(TOP + 4096), 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	out("  mmap of the page below 1<<47: %s", p == MAP_FAILED ? strerrorname_np(errno) : "mapped");
	p = mmap((void *)(TOP + 4096), 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	out("  hint there: %s", p == MAP_FAILED ? strerrorname_np(errno) : p == (void *)(TOP + 4096) ? "at the hint" : "elsewhere");
}

// A SYSCALL as the last instruction of the highest user page: it returns
// to the first address past it, which nothing can map.
static void case_top_syscall(void) {
	reportall(0);
	unsigned char *p = (unsigned char *)TOP;
	topmap(TOP, 4096, PROT_READ | PROT_WRITE | PROT_EXEC);
	p[4094] = 0x0f;
	p[4095] = 0x05;
	__asm__ volatile("mov $39, %%eax\n\tjmp *%0" : : "r"(TOP + 4094) : "rax", "rcx", "r11", "memory");
}

// The same below the end of Cocoon's user memory (0x7e0000000000), an
// ordinary user page on Linux: the return lands on an unmapped page.
static void case_gap_syscall(void) {
	reportall(0);
	uint64_t a = 0x7e0000000000UL - 4096;
	unsigned char *p = mapat(a, 4096, PROT_READ | PROT_WRITE | PROT_EXEC);
	p[4094] = 0x0f;
	p[4095] = 0x05;
	__asm__ volatile("mov $39, %%eax\n\tjmp *%0" : : "r"(a + 4094) : "rax", "rcx", "r11", "memory");
}

// ---- Signal delivery onto bad stacks ----

static void setrsp_ud2(uint64_t sp) { __asm__ volatile("mov %0, %%rsp\n\tud2" : : "r"(sp)); }

static void case_deliver_rsp_noncanon(void) {
	reportall(0);
	setrsp_ud2(0x8000000000000000UL);
}
static void case_deliver_rsp_kernel(void) {
	reportall(0);
	setrsp_ud2(0xffff880000010000UL);
}
static void case_deliver_rsp_unmapped(void) {
	reportall(0);
	setrsp_ud2(DATA + 0x200000);
}
static void case_deliver_rsp_readonly(void) {
	reportall(0);
	mapat(DATA + 0x200000, 4 * 4096, PROT_READ);
	setrsp_ud2(DATA + 0x200000 + 4 * 4096);
}
// An odd RSP: the frame is aligned below it.
static void case_deliver_rsp_odd(void) {
	reportall(0);
	setrsp_ud2(LANDSP + 3);
}
// RFLAGS in the handler: DF, TF and RF cleared, the rest (AC, OF, ...)
// as the interrupted code had them (handle_signal).
static void flags_handler(int sig, siginfo_t *si, void *ctx) {
	uint64_t f;
	__asm__ volatile("pushfq\n\tpopq %0\n\tpushq $0x202\n\tpopfq" : "=r"(f) : : "memory", "cc");
	struct uc64 *u = ctx;
	uint64_t g = u->sc.eflags;
	out("  handler flags AC %d DF %d OF %d TF %d; frame AC %d DF %d OF %d", !!(f & AC), !!(f & DF), !!(f & 0x800),
	    !!(f & TF), !!(g & AC), !!(g & DF), !!(g & 0x800));
	_exit(0);
}
static void case_deliver_flags(void) {
	handle(SIGILL, flags_handler, 0);
	__asm__ volatile("pushq $0x40e03\n\tpopfq\n\tud2" : : : "memory", "cc"); // CF, IF, DF, OF, AC
}
static void case_deliver_rsp_top(void) {
	reportall(0);
	topmap(TOP - 4 * 4096, 5 * 4096, PROT_READ | PROT_WRITE);
	setrsp_ud2(TOP + 4096);
}

static void altstack(uint64_t sp, uint64_t size, int flags) {
	stack_t ss = {.ss_sp = (void *)sp, .ss_size = size, .ss_flags = flags};
	int r = sigaltstack(&ss, 0);
	out("  sigaltstack: %s", r < 0 ? strerrorname_np(errno) : "0");
}

static void case_alt_small(void) {
	altstack(DATA, 1024, 0);
	altstack(DATA, MINSIGSTKSZ - 1, 0);
	altstack(DATA, MINSIGSTKSZ, 0);
	altstack(DATA, 4096, SS_ONSTACK | SS_DISABLE);
	altstack(DATA, 4096, 0x7);
	altstack(DATA, 4096, 1U << 31);
}
static void alt_bad(uint64_t sp, uint64_t size) {
	reportall(SA_ONSTACK);
	altstack(sp, size, 0);
	setrsp_ud2(LANDSP);
}
static void case_alt_kernel(void) { alt_bad(0xffff880000000000UL, 65536); }
static void case_alt_noncanon(void) { alt_bad(0x7fffffff0000UL, 0x800000010000UL); }
static void case_alt_wrap(void) { alt_bad(0xffffffffffff0000UL, 0x10000 + DATA + 4 * 4096); }
static void case_alt_readonly(void) {
	mapat(DATA + 0x200000, 4 * 4096, PROT_READ);
	alt_bad(DATA + 0x200000, 4 * 4096);
}
// A 2 KiB alternate stack (MINSIGSTKSZ) in the middle of a mapping: the
// frame (with the extended state) does not fit, and Linux refuses to
// write past its bottom.
static void case_alt_overflow(void) { alt_bad(DATA + 8192, MINSIGSTKSZ); }
static void case_alt_ok(void) { alt_bad(DATA, 4 * 4096); }
// A stack that covers most of the address space: the frame goes at its
// top, past user memory.
static void case_alt_huge(void) { alt_bad(0x10000, 1UL << 47); }
// A fault on a non-canonical or kernel RSP, reported on the alternate
// stack with the RSP it had.
static void case_alt_rsp_noncanon(void) {
	altstack(DATA, 4 * 4096, 0);
	for (unsigned i = 0; i < sizeof faultsigs / sizeof faultsigs[0]; i++)
		handle(faultsigs[i], report_frame, SA_RESETHAND | SA_ONSTACK);
	setrsp_ud2(0x8000000000000000UL);
}
static void case_alt_rsp_kernel(void) {
	altstack(DATA, 4 * 4096, 0);
	for (unsigned i = 0; i < sizeof faultsigs / sizeof faultsigs[0]; i++)
		handle(faultsigs[i], report_frame, SA_RESETHAND | SA_ONSTACK);
	setrsp_ud2(0xffff880000010000UL);
}
// Unbounded recursion: the stack grows to RLIMIT_STACK, then the fault
// is reported on the alternate stack.
static int recurse(volatile char *p) {
	volatile char buf[4000];
	buf[0] = *p;
	if (buf[0] == 1) // never: the caller passes 0 down
		return 0;
	return recurse(buf) + buf[1];
}
// depth reports how far below the stack pointer main started with a
// stack overflow faulted, in MiB.
static void depth(int sig, siginfo_t *si, void *ctx) {
	out("  SIG%s code %#x at %lu MiB", signame(sig), si->si_code, (unsigned long)((stackref - (uint64_t)si->si_addr + (1 << 19)) >> 20));
	_exit(sig);
}
static void overflow(uint64_t limit) {
	altstack(DATA, 4 * 4096, 0);
	struct rlimit rl = {limit, limit};
	setrlimit(RLIMIT_STACK, &rl);
	reportall(SA_ONSTACK);
	handle(SIGSEGV, depth, SA_ONSTACK);
	char c = 0;
	recurse(&c);
}
static void case_stack_overflow(void) { overflow(8 << 20); }
static void case_stack_overflow_2m(void) { overflow(2 << 20); }

// ---- arch_prctl, modify_ldt, iopl, ioperm ----

struct apcall {
	const char *name;
	long code;
	uint64_t arg;
};

static void apcalls(const struct apcall *c, int n) {
	for (int i = 0; i < n; i++)
		out("  %s: %s", c[i].name, en(raw(SYS_arch_prctl, c[i].code, c[i].arg, 0)));
}

static void case_arch_prctl(void) {
	static const struct apcall calls[] = {
		{"SET_FS noncanonical", 0x1002, 0x8000000000000000UL},
		{"SET_FS kernel", 0x1002, 0xffff880000000000UL},
		{"SET_FS 1<<47", 0x1002, 1UL << 47},
		{"SET_FS TASK_SIZE_MAX", 0x1002, TOP + 4096},
		{"GET_FS null", 0x1003, 0},
		{"GET_FS kernel", 0x1003, 0xffff880000000000UL},
		{"GET_CPUID", 0x1011, 0},
		{"bad code", 0x1fff, 0},
	};
	apcalls(calls, sizeof calls / sizeof calls[0]);
}

static void case_arch_prctl_cpuid(void) {
	static const struct apcall calls[] = {
		{"SET_CPUID 2", 0x1012, 2},
		{"SET_CPUID 0", 0x1012, 0},
	};
	apcalls(calls, sizeof calls / sizeof calls[0]);
}

static void case_arch_prctl_gs(void) {
	static const struct apcall calls[] = {
		{"SET_GS kernel", 0x1001, 0xffffffff81000000UL},
		{"SET_GS 1<<47", 0x1001, 1UL << 47},
		{"SET_GS TASK_SIZE_MAX", 0x1001, TOP + 4096},
		{"SET_GS top", 0x1001, TOP + 4095},
		{"GET_GS kernel", 0x1004, 0xffff880000000000UL},
	};
	apcalls(calls, sizeof calls / sizeof calls[0]);
	uint64_t gs = 0;
	raw(SYS_arch_prctl, 0x1004, (long)&gs, 0);
	sched_yield();
	out("  GET_GS after SET_GS top: %s", gs == TOP + 4095 ? "same" : "differs");
}

static void case_ldt(void) {
	char buf[64];
	out("  modify_ldt read: %s", en(raw(SYS_modify_ldt, 0, (long)buf, sizeof buf)));
	out("  modify_ldt bad func: %s", en(raw(SYS_modify_ldt, 5, (long)buf, sizeof buf)));
	out("  modify_ldt write null ptr: %s", en(raw(SYS_modify_ldt, 1, 0, 16)));
}

static void case_iopl(void) {
	out("  iopl 0: %s", en(raw(SYS_iopl, 0, 0, 0)));
	out("  iopl 4: %s", en(raw(SYS_iopl, 4, 0, 0)));
	out("  ioperm beyond: %s", en(raw(SYS_ioperm, 0x10000, 1, 1)));
}

static void case_maps_vsyscall(void) {
	char buf[65536];
	int fd = open("/proc/self/maps", O_RDONLY);
	int n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = 0;
	char *l = strstr(buf, "ffffffffff600000-");
	char *e = l ? strchr(l, '\n') : 0;
	if (e)
		*e = 0;
	out("  %s", l ? l : "no vsyscall line");
}

// ---- The last trap's trapno, err and cr2 ----

// Linux saves the thread's last trap number, error code and page-fault
// address (thread.trap_nr, error_code, cr2) in every signal frame,
// whatever the signal; only a trap that sends a signal sets them.
static sigjmp_buf jb;
static void jump(int sig, siginfo_t *si, void *ctx) { siglongjmp(jb, 1); }

// trapped runs code, which must trap, under handlers that jump back.
static void trapped(const char *code, int n) {
	for (unsigned i = 0; i < sizeof faultsigs / sizeof faultsigs[0]; i++)
		handle(faultsigs[i], jump, SA_NODEFER);
	if (!sigsetjmp(jb, 1))
		run(code, n, 1, 0, 0, DATA);
}

#define PF_CODE "\x48\xc7\xc0\x45\x23\x01\x00\xc6\x00\x01" // write to 0x12345
#define GP_CODE "\x66\xb8\x10\x00\x8e\xd8"                 // mov $0x10, %ds
#define DE_CODE "\x31\xd2\x31\xc9\xf7\xf1"                 // divide by zero
#define UD_CODE "\x0f\x0b"
#define BP_CODE "\xcc"

static void usr1_report(void) {
	reportall(0);
	handle(SIGUSR1, report, 0);
	raw(SYS_tgkill, getpid(), raw(SYS_gettid, 0, 0, 0), SIGUSR1);
	out("  returned");
}
static void case_last_none(void) { usr1_report(); }
static void case_last_pf(void) {
	trapped(PF_CODE, sizeof PF_CODE - 1);
	usr1_report();
}
static void case_last_gp(void) {
	trapped(PF_CODE, sizeof PF_CODE - 1);
	trapped(GP_CODE, sizeof GP_CODE - 1);
	usr1_report();
}
static void case_last_de(void) {
	trapped(GP_CODE, sizeof GP_CODE - 1);
	trapped(PF_CODE, sizeof PF_CODE - 1);
	trapped(DE_CODE, sizeof DE_CODE - 1);
	usr1_report();
}
static void case_last_ud(void) {
	trapped(PF_CODE, sizeof PF_CODE - 1);
	trapped(UD_CODE, sizeof UD_CODE - 1);
	usr1_report();
}
static void case_last_bp(void) {
	trapped(PF_CODE, sizeof PF_CODE - 1);
	trapped(BP_CODE, sizeof BP_CODE - 1);
	usr1_report();
}
// A child of fork has its parent's.
static void case_last_fork(void) {
	trapped(GP_CODE, sizeof GP_CODE - 1);
	pid_t pid = fork();
	if (pid == 0) {
		usr1_report();
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 100);
}
// Neither a bad frame's SIGSEGV nor the #GP of a bad return to user mode
// is... the latter is a trap, the former not.
static void case_last_badframe(void) {
	trapped(PF_CODE, sizeof PF_CODE - 1);
	forge(e_mxcsr_reserved);
}
static void case_last_badcs(void) {
	trapped(PF_CODE, sizeof PF_CODE - 1);
	forge(e_cs_kernel);
}

// ---- The order of delivery ----

static void say(int sig, siginfo_t *si, void *ctx) { out("  handler SIG%s", signame(sig)); }

static void sigs(int how, int a, int b) {
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, a);
	sigaddset(&set, b);
	sigprocmask(how, &set, 0);
}

// A thread-directed signal is taken before a process-directed one (the
// one taken last runs first: its frame is on top).
static void case_order_thread(void) {
	handle(SIGINT, say, 0);
	handle(SIGUSR2, say, 0);
	sigs(SIG_BLOCK, SIGINT, SIGUSR2);
	kill(getpid(), SIGINT);
	raw(SYS_tgkill, getpid(), raw(SYS_gettid, 0, 0, 0), SIGUSR2);
	sigs(SIG_UNBLOCK, SIGINT, SIGUSR2);
	out("  returned");
}
// The synchronous signals (SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE,
// SIGSYS) are taken first, even sent by kill.
static void case_order_sync(void) {
	handle(SIGHUP, say, 0);
	handle(SIGSEGV, say, 0);
	sigs(SIG_BLOCK, SIGHUP, SIGSEGV);
	kill(getpid(), SIGHUP);
	kill(getpid(), SIGSEGV);
	sigs(SIG_UNBLOCK, SIGHUP, SIGSEGV);
	out("  returned");
}
static void case_order_badframe(void) {
	handle(SIGHUP, say, 0);
	forge(e_fp_bad_hup);
}

// ---- Forged returns to RSP values landing's first push faults on ----

static void forge_alt(void (*e)(struct uc64 *)) {
	altstack(DATA, 4 * 4096, 0);
	forge_flags = SA_ONSTACK;
	forge(e);
}
static void case_sr_rsp_noncanon_alt(void) { forge_alt(e_rsp_noncanon_land); }
static void case_sr_rsp_kernel_alt(void) { forge_alt(e_rsp_kernel_land); }
static void case_sr_rsp_null_alt(void) { forge_alt(e_rsp_null_land); }

// ---- Single-step (TF) ----

// step reports each SIGTRAP's RIP (relative to the code page) and lets
// the code go on, until it reaches the code's final RET or 12 steps.
static int steps, steps_end;
static void step(int sig, siginfo_t *si, void *ctx) {
	struct uc64 *u = ctx;
	uint64_t rip = u->sc.rip;
	char b[32];
	if (rip - CODE < 4096)
		snprintf(b, sizeof b, "code+%lu", (unsigned long)(rip - CODE));
	else if (rip >> 12 == 0xffffffffff600UL)
		snprintf(b, sizeof b, "vsyscall+%#lx", (unsigned long)(rip & 0xfff));
	else
		snprintf(b, sizeof b, "elsewhere");
	out("  SIG%s code %#x at %s trapno %lu err %#lx", signame(sig), si->si_code, b, (unsigned long)u->sc.trapno,
	    (unsigned long)u->sc.err);
	if (++steps >= 12 || rip - CODE == (uint64_t)steps_end)
		u->sc.eflags &= ~TF;
}

// TF_ON sets TF with POPF: the trap comes after the next instruction.
#define TF_ON "\x9c\x48\x81\x0c\x24\x00\x01\x00\x00\x9d" // 10 bytes

static void stepcode(const char *code, int n) {
	reportall(0);
	handle(SIGTRAP, step, SA_NODEFER);
	steps_end = n; // the RET run appends
	run(code, n, 0, 0, 0, DATA + 4096);
	out("  returned");
}
#define STEP(name, code)                                  \
	static void case_##name(void) {                   \
		static const char c[] = TF_ON code;        \
		stepcode(c, sizeof c - 1);                  \
	}
STEP(tf_syscall, "\xb8\x27\x00\x00\x00\x0f\x05\x90\x90")              // mov $39, %eax; syscall; nop; nop
STEP(tf_pagefault, "\x48\x8b\x07\x90\x48\x89\x47\x08\x90")          // load and store on untouched pages
STEP(tf_int3, "\x90\xcc\x90\x90")
STEP(tf_ud2, "\x90\x0f\x0b")
STEP(tf_int80, "\x90\xcd\x80\x90")
STEP(tf_vsyscall, "\x31\xff\x48\xb8\x00\x04\x60\xff\xff\xff\xff\xff\xff\xd0\x90\x90") // time(NULL) through the vsyscall page
STEP(tf_sigreturn_bad, "\x48\x31\xe4\xb8\x0f\x00\x00\x00\x0f\x05")   // rt_sigreturn on RSP 0
// MOV SS holds the single-step trap (and other debug exceptions) back
// until the next instruction is done: a SYSCALL, INT3, INT1 or INT $0x80
// there enters the kernel with it pending (CVE-2018-8897).
STEP(tf_movss_syscall, "\xb8\x27\x00\x00\x00\x8c\xd2\x8e\xd2\x0f\x05\x90\x90")
STEP(tf_movss_int3, "\x8c\xd2\x8e\xd2\xcc\x90\x90")
STEP(tf_movss_int1, "\x8c\xd2\x8e\xd2\xf1\x90\x90")
STEP(tf_movss_int80, "\x8c\xd2\x8e\xd2\xcd\x80\x90\x90")
STEP(tf_movss_ud2, "\x8c\xd2\x8e\xd2\x0f\x0b")
STEP(tf_popf_clear, "\x90\x6a\x02\x9d\x90\x90")                       // POPF clears TF

// ---- Signal delivery growing the stack ----

static void below_stack(uint64_t below) {
	reportall(0);
	char here;
	setrsp_ud2(((uint64_t)&here - below) & ~15UL);
}
static void case_deliver_below_stack(void) { below_stack(1 << 20); }
static void case_deliver_beyond_rlimit(void) { below_stack(16 << 20); }

// ---- Every XSTATE_BV bit in a frame ----

static int xbit, xmode;
static void e_xbit(struct uc64 *u) {
	e_land(u);
	uint64_t bv = XHDR(u)[0];
	switch (xmode) {
	case 0: // the bit in XSTATE_BV, standard form
		XHDR(u)[0] |= 1UL << xbit;
		break;
	case 1: // the bit in XCOMP_BV, compacted form
		XHDR(u)[1] = 1UL << 63 | bv | 1UL << xbit;
		break;
	case 2: // compacted, the bit in XSTATE_BV but not in XCOMP_BV
		XHDR(u)[0] |= 1UL << xbit;
		XHDR(u)[1] = 1UL << 63 | (bv & ~(1UL << xbit));
		break;
	}
}

// xbits forges a frame for each of the 64 bits and reports the bits
// whose outcome is not what XRSTOR gives for a bit in or beyond XCR0
// (want_in, want_out: whether the return is taken).
static void xbits(int mode, int want_in, int want_out) {
	uint32_t lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	uint64_t xcr0 = (uint64_t)hi << 32 | lo;
	int odd = 0;
	xmode = mode;
	for (xbit = 0; xbit < 63; xbit++) {
		pid_t pid = fork();
		if (pid == 0) {
			int fd = open("/dev/null", O_WRONLY);
			dup2(fd, 1); // the grandchild's report
			forge(e_xbit);
			_exit(0);
		}
		int st;
		waitpid(pid, &st, 0);
		int resumed = WIFEXITED(st) && WEXITSTATUS(st) == 0;
		int segv = WIFEXITED(st) && WEXITSTATUS(st) == SIGSEGV;
		int want = xcr0 >> xbit & 1 ? want_in : want_out;
		if (want ? !resumed : !segv) {
			out("  bit %d (%s XCR0): %s", xbit, xcr0 >> xbit & 1 ? "in" : "not in", resumed ? "resumed" : segv ? "SIGSEGV" : "other");
			odd++;
		}
	}
	out("  bits not as XRSTOR has them: %d", odd);
}
// XRSTOR from the frame refuses an XSTATE_BV bit beyond XCR0 (#GP: a bad
// frame); within XCR0 the state component loads.
static void case_xstate_bits(void) { xbits(0, 1, 0); }
// The compacted form: XCOMP_BV bits beyond XCR0 are refused, and so is
// any XSTATE_BV bit XCOMP_BV lacks.
static void case_xcomp_bits(void) {
	xbits(1, 1, 0);
	xbits(2, 0, 0);
}

// ---- The descriptor table as LAR, LSL, VERR and VERW see it ----

static void selinfo(uint64_t sel) {
	uint64_t lar = 0, lsl = 0;
	uint8_t zl, zs, r, w;
	__asm__ volatile("lar %2, %0; setz %1" : "+r"(lar), "=r"(zl) : "r"(sel) : "cc");
	__asm__ volatile("lsl %2, %0; setz %1" : "+r"(lsl), "=r"(zs) : "r"(sel) : "cc");
	__asm__ volatile("verr %w1; setz %0" : "=r"(r) : "r"(sel) : "cc");
	__asm__ volatile("verw %w1; setz %0" : "=r"(w) : "r"(sel) : "cc");
	char l[32];
	snprintf(l, sizeof l, "%#lx", (unsigned long)(zs ? lsl : 0));
	if (sel == 0x7b && zs) { // node<<12 | cpu: this thread's
		unsigned cpu = 0, node = 0;
		raw(SYS_getcpu, (long)&cpu, (long)&node, 0);
		snprintf(l, sizeof l, "%s", lsl == (node << 12 | cpu) ? "getcpu's" : "not getcpu's");
	}
	// (LAR's bits 19:16, the limit's, are the processor's to fill:
	// AMD's copy them, QEMU's clear them.)
	out("  %#lx: lar %d %#lx lsl %d %s verr %d verw %d", (unsigned long)sel, zl, (unsigned long)(zl ? lar & 0xf0ff00 : 0), zs, l,
	    r, w);
}
// Linux's GDT (arch/x86/include/asm/segment.h): the user code and data
// segments, the per-CPU segment (LSL gives node<<12 | cpu), and nothing
// else CPL3 can see. (0x23, the 32-bit user code segment, is sel-user32.)
static void case_sel_table(void) {
	static const uint64_t sels[] = {0, 3, 0x8, 0xb, 0x10, 0x13, 0x18, 0x1b, 0x2b, 0x33, 0x3b, 0x43, 0x4b,
					0x53, 0x5b, 0x63, 0x6b, 0x73, 0x7b, 0x83, 0xfffb, 0x7, 0xf, 0xffff};
	for (unsigned i = 0; i < sizeof sels / sizeof sels[0]; i++)
		selinfo(sels[i]);
}
static void case_sel_user32(void) { selinfo(0x23); }
// The per-CPU segment loads into DS as any readable DPL3 segment.
static void case_sel_cpunode_ds(void) {
	uint16_t ds;
	__asm__ volatile("mov %1, %%ds\n\tmov %%ds, %0\n\tmov %2, %%ds" : "=r"(ds) : "r"(0x7b), "r"(0) : "memory");
	out("  ds %#x", ds);
}

// The data segment registers as the process starts and across a signal
// handler, a system call and a fault (the kernel leaves them alone).
static void segs(const char *when) {
	uint16_t ds, es, fs, gs;
	__asm__ volatile("mov %%ds, %0\n\tmov %%es, %1\n\tmov %%fs, %2\n\tmov %%gs, %3" : "=r"(ds), "=r"(es), "=r"(fs), "=r"(gs));
	out("  %s: ds %#x es %#x fs %#x gs %#x cs %#lx ss %#lx", when, ds, es, fs, gs, (unsigned long)cur_cs(), (unsigned long)cur_ss());
}
static void segs_handler(int sig, siginfo_t *si, void *ctx) {
	segs("in a handler");
	if (sig == SIGILL)
		((struct uc64 *)ctx)->sc.rip += 2;
}
static void case_sel_segments(void) {
	segs("at the start");
	__asm__ volatile("mov %0, %%ds\n\tmov %0, %%es\n\tmov %0, %%gs" : : "r"(0x2b));
	segs("loaded");
	handle(SIGUSR1, segs_handler, 0);
	handle(SIGILL, segs_handler, 0);
	raw(SYS_tgkill, getpid(), raw(SYS_gettid, 0, 0, 0), SIGUSR1);
	segs("after the handler");
	__asm__ volatile("ud2");
	segs("after a fault");
	sched_yield();
	segs("after sched_yield");
	__asm__ volatile("mov %0, %%ds\n\tmov %0, %%es\n\tmov %0, %%gs" : : "r"(0));
}

// The selectors are each thread's: a new thread and a fork child start
// with their creator's, and what one thread loads stays its own.
static uint16_t getgs(void) {
	uint16_t gs;
	__asm__ volatile("mov %%gs, %0" : "=r"(gs));
	return gs;
}
static void *gs_thread(void *arg) {
	out("  thread starts with gs %#x", getgs());
	__asm__ volatile("mov %0, %%gs" : : "r"(0));
	for (int i = 0; i < 3; i++)
		sched_yield();
	out("  thread after yields: gs %#x", getgs());
	return 0;
}
static void case_sel_threads(void) {
	__asm__ volatile("mov %0, %%gs" : : "r"(0x2b));
	pthread_t th;
	pthread_create(&th, 0, gs_thread, 0);
	for (int i = 0; i < 3; i++)
		sched_yield();
	pthread_join(th, 0);
	out("  creator after the thread: gs %#x", getgs());
	pid_t pid = fork();
	if (pid == 0) {
		out("  fork child: gs %#x", getgs());
		_exit(0);
	}
	waitpid(pid, 0, 0);
	__asm__ volatile("mov %0, %%gs" : : "r"(0));
}

// ---- The signal frame as a handler finds it ----

// Machine-independent facts of the frame: where it sits, the
// _fpx_sw_bytes, the XSAVE header (save_xstate_epilog, get_sigframe).
static void frame_facts(int sig, siginfo_t *si, void *ctx) {
	struct uc64 *u = ctx;
	uint64_t frame = (uint64_t)ctx - 8, top = DATA + 4 * 4096;
	uint32_t lo, hi, a, b, c, d;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	uint64_t xcr0 = (uint64_t)hi << 32 | lo;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0xd), "c"(0));
	uint32_t *sw = SWB(u);
	uint64_t *xh = XHDR(u);
	out("  frame (rsp+8) %% 16 == 0: %d; fpstate 64-byte aligned: %d, below the frame: %d; within MINSIGSTKSZ: %d",
	    (frame + 8) % 16 == 0, u->sc.fpstate % 64 == 0, u->sc.fpstate > frame, top - frame <= getauxval(AT_MINSIGSTKSZ));
	out("  uc_flags %#lx; magic1 %d, xstate_size is XSAVE's (CPUID 0xd): %d, extended_size %d more, xfeatures is XCR0: %d, magic2 %d",
	    (unsigned long)u->flags, sw[0] == 0x46505853, sw[4] == b, sw[1] - sw[4], ((uint64_t)sw[3] << 32 | sw[2]) == xcr0,
	    *(uint32_t *)(FP(u) + sw[4]) == 0x46505845);
	out("  XSTATE_BV has x87 and SSE: %d, nothing beyond XCR0: %d; XCOMP_BV %#lx, reserved zero: %d; trapno %lu err %lu oldmask %#lx",
	    (xh[0] & 3) == 3, !(xh[0] & ~xcr0), (unsigned long)xh[1], !(xh[2] | xh[3] | xh[4] | xh[5] | xh[6] | xh[7]),
	    (unsigned long)u->sc.trapno, (unsigned long)u->sc.err, (unsigned long)u->sc.oldmask);
	out("  siginfo: signo %d errno %d code %d, pid is the sender's %d, uid is getuid %d; handler mask %#lx", si->si_signo,
	    si->si_errno, si->si_code, si->si_pid == getpid(), si->si_uid == getuid(), (unsigned long)u->sigmask);
	_exit(0);
}
static void case_frame_layout(void) {
	altstack(DATA, 4 * 4096, 0);
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGHUP);
	sigprocmask(SIG_BLOCK, &m, 0);
	handle(SIGUSR1, frame_facts, SA_ONSTACK);
	raw(SYS_tgkill, getpid(), raw(SYS_gettid, 0, 0, 0), SIGUSR1);
}

// ---- What the auxiliary vector says of the CPU ----

static sigjmp_buf ud;
static void on_ud(int sig, siginfo_t *si, void *ctx) { siglongjmp(ud, 1); }
static void case_auxv_cpu(void) {
	// (glibc's getauxval(AT_HWCAP) is its own word on x86: the kernel's
	// is read from the initial stack, after the environment.)
	uint64_t hw = 0;
	char **e = initial_env;
	while (*e)
		e++;
	for (uint64_t *av = (uint64_t *)(e + 1); av[0] != AT_NULL; av += 2)
		if (av[0] == AT_HWCAP)
			hw = av[1];
	uint32_t a, b, c, d;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
	// Linux's ELF_HWCAP is CPUID 1 EDX as the kernel keeps it: FPU, TSC,
	// CX8, CMOV, FXSR, SSE and SSE2 at least.
	uint64_t base = 1 << 0 | 1 << 4 | 1 << 8 | 1 << 15 | 1 << 24 | 1 << 25 | 1 << 26;
	out("  AT_HWCAP has the x86-64 baseline: %d, nothing CPUID lacks: %d; AT_MINSIGSTKSZ given: %d", (hw & base) == base,
	    !(hw & ~(uint64_t)d), getauxval(AT_MINSIGSTKSZ) != 0);
	// HWCAP2_FSGSBASE says RDFSBASE and friends work at CPL3.
	handle(SIGILL, on_ud, 0);
	int works = 0;
	if (!sigsetjmp(ud, 1)) {
		uint64_t fs;
		__asm__ volatile("rdfsbase %0" : "=r"(fs));
		works = 1;
	}
	out("  AT_HWCAP2's FSGSBASE agrees with RDFSBASE: %d", !!(getauxval(AT_HWCAP2) & 2) == works);
}

// ---- A trap's signal ignored or blocked ----

// force_sig: a fault's signal the program ignores or blocks kills it; the
// same signal sent by kill is ignored or stays pending.
static void case_fault_ignored(void) {
	signal(SIGSEGV, SIG_IGN);
	raw(SYS_kill, getpid(), SIGSEGV, 0);
	out("  kill(SIGSEGV) ignored");
	*(volatile char *)8 = 1;
	out("  returned");
}
static void case_fault_blocked(void) {
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGTRAP);
	sigprocmask(SIG_BLOCK, &m, 0);
	reportall(0);
	raw(SYS_kill, getpid(), SIGTRAP, 0);
	sigpending(&m);
	out("  kill(SIGTRAP) pending: %d", sigismember(&m, SIGTRAP));
	__asm__ volatile("int3");
	out("  returned");
}

// ---- Storms: the kernel keeps time and delivers signals ----

// A frame rt_sigreturn resumes at a SYSCALL that makes rt_sigreturn with
// the same frame: the thread loops in the kernel's signal return until
// SIGALRM's default action ends it.
static void case_storm_sigreturn(void) {
	static const char code[] = "\x48\x89\xfc\xb8\x0f\x00\x00\x00\x0f\x05"; // mov %rdi, %rsp; mov $15, %eax; syscall
	struct uc64 *u = (struct uc64 *)(DATA + 64);
	memset(u, 0, sizeof *u);
	u->flags = 6; // UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS
	u->sc.rip = CODE;
	u->sc.rdi = (uint64_t)u;
	u->sc.rsp = LANDSP;
	u->sc.cs = cur_cs();
	u->sc.ss = cur_ss();
	u->sc.eflags = 0x202;
	memcpy((void *)CODE, code, sizeof code - 1);
	alarm(1);
	__asm__ volatile("mov %0, %%rdi\n\tjmp *%1" : : "r"(u), "r"(CODE) : "memory");
}
// A SIGSEGV handler that returns to the faulting instruction: it faults
// again at once, until SIGALRM.
static void retry(int sig, siginfo_t *si, void *ctx) {}
static void case_storm_fault(void) {
	handle(SIGSEGV, retry, 0);
	alarm(1);
	*(volatile char *)8 = 1;
}
// A handler that raises its own signal again, SA_NODEFER: 2000 frames
// nested, then all return.
static int nest;
static void nested(int sig, siginfo_t *si, void *ctx) {
	if (++nest < 2000)
		raw(SYS_tgkill, getpid(), raw(SYS_gettid, 0, 0, 0), SIGUSR2);
}
static void case_nested_signals(void) {
	handle(SIGUSR2, nested, SA_NODEFER);
	raw(SYS_tgkill, getpid(), raw(SYS_gettid, 0, 0, 0), SIGUSR2);
	out("  nested %d", nest);
}
// The 128 bytes below RSP (the red zone) survive a signal frame.
static void redzone_check(int sig, siginfo_t *si, void *ctx) {
	struct uc64 *u = ctx;
	int ok = 1;
	for (int i = 1; i <= 16; i++)
		ok &= ((uint64_t *)u->sc.rsp)[-i] == 0x5a5a000000000000UL + i;
	out("  red zone intact: %d", ok);
	u->sc.rip += 2; // past the UD2
}
static void case_redzone(void) {
	reportall(0);
	handle(SIGILL, redzone_check, 0);
	// The pattern below RSP, written by C: [rsp-8*i] = 0x5a5a<<48 | i.
	__asm__ volatile("mov $16, %%ecx\n"
			 "1:\n\t"
			 "movabs $0x5a5a000000000000, %%rax\n\t"
			 "or %%rcx, %%rax\n\t"
			 "mov %%rcx, %%rdx\n\t"
			 "neg %%rdx\n\t"
			 "mov %%rax, (%%rsp,%%rdx,8)\n\t"
			 "loop 1b\n\t"
			 "ud2"
			 :
			 :
			 : "rax", "rcx", "rdx", "memory");
	out("  returned");
}

// ---- Alignment check ----

static void case_ac_misaligned(void) {
	reportall(0);
	volatile uint64_t *p = (uint64_t *)(DATA + 3);
	__asm__ volatile("pushfq; orq $0x40000, (%%rsp); popfq\n\t"
			 "movq (%0), %%rax\n\t"
			 "pushfq; andq $~0x40000, (%%rsp); popfq" ::"r"(p)
			 : "rax", "memory", "cc");
	out("  returned");
}

// ---- Cases ----

struct pcase {
	const char *name;
	void (*fn)(void);
	void (*e)(struct uc64 *);
};

static const struct pcase cases[] = {
	{"gs-selector", case_gs_selector},
	{"iret-self", case_iret_self},
	{"iret-kcs", case_iret_kcs},
	{"iret-noncanon", case_iret_noncanon},
	{"iret-nt", case_iret_nt},
	{"iret-flags", case_iret_flags},
	{"iret-ss-null", case_iret_ss_null},
	{"iret-ss-cs", case_iret_ss_cs},
	{"iret-tf", case_iret_tf},
	{"sr-rip-noncanon", 0, e_rip_noncanon},
	{"sr-rip-47", 0, e_rip_47},
	{"sr-rip-kernel", 0, e_rip_kernel},
	{"sr-rip-top", 0, e_rip_top},
	{"sr-rip-gap", 0, e_rip_gap},
	{"sr-rsp-noncanon", 0, e_rsp_noncanon},
	{"sr-rsp-kernel", 0, e_rsp_kernel},
	{"sr-land", 0, e_land},
	{"sr-cs-kernel", 0, e_cs_kernel},
	{"sr-cs-null", 0, e_cs_null},
	{"sr-cs-garbage", 0, e_cs_garbage},
	{"sr-cs-ss", 0, e_cs_ss},
	{"sr-ss-garbage", 0, e_ss_garbage},
	{"sr-ss-strict", 0, e_ss_strict},
	{"sr-ss-null", 0, e_ss_null},
	{"sr-ss-cs", 0, e_ss_cs},
	{"sr-ss-ldt", 0, e_ss_ldt},
	{"sr-ss-lax", 0, e_ss_lax},
	{"sr-ss-lax-kernel", 0, e_ss_lax_kernel},
	{"sr-ss-lax-cs-bad", 0, e_ss_lax_cs_bad},
	{"sr-sel-rpl0", 0, e_sel_rpl0},
	{"sr-cs-ss-rip", 0, e_cs_ss_rip},
	{"sr-ss-rip", 0, e_ss_rip},
	{"sr-cs-ldt", 0, e_cs_ldt},
	{"sr-ss-ldt-cs-bad", 0, e_ss_ldt_cs_bad},
	{"sr-cs-user32", 0, e_cs_user32},
	{"sr-cs-fp-bad", 0, e_cs_fp_bad},
	{"sr-fp-bad-regs", 0, e_fp_bad_regs},
	{"sr-fp-bad-segv-blocked", 0, e_fp_bad_segv_blocked},
	{"sr-fp-bad-rsp-bad", 0, e_fp_bad_rsp_bad},
	{"sr-cs-segv-blocked", 0, e_cs_segv_blocked},
	{"sr-rip-vsyscall", 0, e_rip_vsyscall},
	{"sr-rsp-noncanon-alt", case_sr_rsp_noncanon_alt},
	{"sr-rsp-kernel-alt", case_sr_rsp_kernel_alt},
	{"sr-rsp-null-alt", case_sr_rsp_null_alt},
	{"sr-uc-flags", 0, e_uc_flags},
	{"sr-flags-all", 0, e_flags_all},
	{"sr-flags-tf", 0, e_flags_tf},
	{"sr-mask-all", 0, e_mask_all},
	{"sr-fp-null", 0, e_fp_null},
	{"sr-fp-unmapped", 0, e_fp_unmapped},
	{"sr-fp-kernel", 0, e_fp_kernel},
	{"sr-fp-noncanon", 0, e_fp_noncanon},
	{"sr-fp-aligned", 0, e_fp_aligned},
	{"sr-fp-mis8", 0, e_fp_mis8},
	{"sr-fp-mis16", 0, e_fp_mis16},
	{"sr-fp-mis1", 0, e_fp_mis1},
	{"sr-fp-straddle", 0, e_fp_straddle},
	{"sr-mxcsr-reserved", 0, e_mxcsr_reserved},
	{"sr-mxcsr-daz", 0, e_mxcsr_daz},
	{"sr-xstate-bv", 0, e_xstate_bv_reserved},
	{"sr-xcomp-bv", 0, e_xcomp_bv},
	{"sr-xhdr-reserved", 0, e_xhdr_reserved},
	{"sr-magic1-bad", 0, e_magic1_bad},
	{"sr-xstate-size", 0, e_xstate_size_huge},
	{"sr-xfeatures", 0, e_xfeatures_extra},
	{"sr-magic2-bad", 0, e_magic2_bad},
	{"sr-rsp-null", case_sr_rsp_null},
	{"sr-rsp-kaddr", case_sr_rsp_kernel},
	{"sr-rsp-noncanon-direct", case_sr_rsp_noncanon},
	{"sr-rsp-top", case_sr_rsp_top},
	{"sr-zero", case_sr_zero},
	{"top-map", case_top_map},
	{"top-syscall", case_top_syscall},
	{"gap-syscall", case_gap_syscall},
	{"deliver-rsp-noncanon", case_deliver_rsp_noncanon},
	{"deliver-rsp-kernel", case_deliver_rsp_kernel},
	{"deliver-rsp-unmapped", case_deliver_rsp_unmapped},
	{"deliver-rsp-readonly", case_deliver_rsp_readonly},
	{"deliver-rsp-top", case_deliver_rsp_top},
	{"deliver-rsp-odd", case_deliver_rsp_odd},
	{"deliver-flags", case_deliver_flags},
	{"alt-small", case_alt_small},
	{"alt-kernel", case_alt_kernel},
	{"alt-noncanon", case_alt_noncanon},
	{"alt-wrap", case_alt_wrap},
	{"alt-readonly", case_alt_readonly},
	{"alt-overflow", case_alt_overflow},
	{"alt-ok", case_alt_ok},
	{"alt-huge", case_alt_huge},
	{"alt-rsp-noncanon", case_alt_rsp_noncanon},
	{"alt-rsp-kernel", case_alt_rsp_kernel},
	{"stack-overflow", case_stack_overflow},
	{"stack-overflow-2m", case_stack_overflow_2m},
	{"arch-prctl", case_arch_prctl},
	{"arch-prctl-gs", case_arch_prctl_gs},
	{"arch-prctl-cpuid", case_arch_prctl_cpuid},
	{"ldt", case_ldt},
	{"maps-vsyscall", case_maps_vsyscall},
	{"iopl", case_iopl},
	{"last-none", case_last_none},
	{"last-pf", case_last_pf},
	{"last-gp", case_last_gp},
	{"last-de", case_last_de},
	{"last-ud", case_last_ud},
	{"last-bp", case_last_bp},
	{"last-fork", case_last_fork},
	{"last-badframe", case_last_badframe},
	{"last-badcs", case_last_badcs},
	{"order-thread", case_order_thread},
	{"order-sync", case_order_sync},
	{"order-badframe", case_order_badframe},
	{"tf-syscall", case_tf_syscall},
	{"tf-pagefault", case_tf_pagefault},
	{"tf-int3", case_tf_int3},
	{"tf-ud2", case_tf_ud2},
	{"tf-int80", case_tf_int80},
	{"tf-vsyscall", case_tf_vsyscall},
	{"tf-sigreturn-bad", case_tf_sigreturn_bad},
	{"tf-movss-syscall", case_tf_movss_syscall},
	{"tf-movss-int3", case_tf_movss_int3},
	{"tf-movss-int1", case_tf_movss_int1},
	{"tf-movss-int80", case_tf_movss_int80},
	{"tf-movss-ud2", case_tf_movss_ud2},
	{"tf-popf-clear", case_tf_popf_clear},
	{"deliver-below-stack", case_deliver_below_stack},
	{"deliver-beyond-rlimit", case_deliver_beyond_rlimit},
	{"xstate-bits", case_xstate_bits},
	{"xcomp-bits", case_xcomp_bits},
	{"fault-ignored", case_fault_ignored},
	{"fault-blocked", case_fault_blocked},
	{"frame-layout", case_frame_layout},
	{"auxv-cpu", case_auxv_cpu},
	{"sel-table", case_sel_table},
	{"sel-segments", case_sel_segments},
	{"sel-threads", case_sel_threads},
	{"sel-user32", case_sel_user32},
	{"sel-cpunode-ds", case_sel_cpunode_ds},
	{"storm-sigreturn", case_storm_sigreturn},
	{"storm-fault", case_storm_fault},
	{"nested-signals", case_nested_signals},
	{"redzone", case_redzone},
	{"ac-misaligned", case_ac_misaligned},
};

static void child(const char *name) {
	mapat(CODE, 4096, PROT_READ | PROT_WRITE | PROT_EXEC);
	mapat(DATA, 4 * 4096, PROT_READ | PROT_WRITE);
	for (unsigned i = 0; i < sizeof insns / sizeof insns[0]; i++)
		if (!strcmp(name, insns[i].name)) {
			insn_case(&insns[i]);
			_exit(0);
		}
	for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (!strcmp(name, cases[i].name)) {
			if (cases[i].e)
				forge(cases[i].e);
			else
				cases[i].fn();
			_exit(0);
		}
	out("  unknown case");
	_exit(99);
}

static void runcase(const char *name) {
	out("case %s:", name);
	pid_t pid = fork();
	if (pid < 0) {
		out("  fork: %s", strerrorname_np(errno));
		exit(1);
	}
	if (pid == 0)
		child(name);
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			out("  waitpid: %s", strerrorname_np(errno));
			exit(1);
		}
	if (WIFSIGNALED(st))
		out("  => killed by SIG%s", signame(WTERMSIG(st)));
	else
		out("  => exit %d", WEXITSTATUS(st));
}

int main(int argc, char **argv, char **envp) {
	int here;
	stackref = (uintptr_t)&here;
	initial_env = envp;
	struct rlimit nocore = {0, 0};
	setrlimit(RLIMIT_CORE, &nocore);
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			runcase(argv[i]);
	} else {
		for (unsigned i = 0; i < sizeof insns / sizeof insns[0]; i++)
			runcase(insns[i].name);
		for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++)
			runcase(cases[i].name);
	}
	int p[2];
	char c = 0;
	pid_t pid;
	if (pipe(p) == 0 && (pid = fork()) >= 0) {
		if (pid == 0)
			_exit(write(p[1], "k", 1) != 1);
		int st;
		waitpid(pid, &st, 0);
		if (read(p[0], &c, 1) == 1 && c == 'k' && WIFEXITED(st) && WEXITSTATUS(st) == 0)
			out("probe2: kernel alive");
	}
	return 0;
}
