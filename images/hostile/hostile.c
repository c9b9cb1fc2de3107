// hostile: an adversarial fuzzer that runs inside the guest at CPL3 and
// tries to crash the kernel under it. It is a static, freestanding
// x86-64 Linux program (no C library: gcc -static -nostdlib), built by
// north/hostile_vm_test.go:
//
//	gcc -O1 -static -nostdlib -ffreestanding -fno-stack-protector
//	    -fno-pie -no-pie -fno-asynchronous-unwind-tables -o hostile hostile.c
//
// Usage: hostile SEED OPS [v[FIRST]]
//
// From SEED it generates OPS operations, each run by a trampoline
// (run_op) with every general register, RSP and RFLAGS chosen by the
// fuzzer:
//
//   - system calls: random and semi-valid numbers (including x32 and
//     the kernel's private numbers) with arguments that point into its
//     own memory, at unmapped memory, at the kernel's range and at
//     non-canonical addresses, random flags and descriptors;
//   - `int n` for every n (the first 256 operations sweep them in order);
//   - privileged, faulting and flag-manipulating instructions (HLT,
//     CLI, port I/O, MSRs, control and debug registers, descriptor-table
//     loads and stores, SWAPGS, SYSENTER, XSETBV, XRSTOR/FXRSTOR/LDMXCSR
//     of random state, POPF of random flags including TF, AC, DF, NT),
//     far jumps, far returns and IRETQ with forged frames, segment loads;
//   - random instruction bytes (less the few encodings known to crash
//     QEMU 7.2's TCG instead of raising #UD: avoid_emulator_crashes);
//   - rt_sigreturn with forged signal frames (random selectors, flags,
//     extended-state pointers, signal masks and alternate stacks).
//
// Faults come back as signals (SIGSEGV, SIGILL, SIGTRAP, SIGBUS, SIGFPE
// and any other), whose handler, on an alternate stack, sends execution
// back to the trampoline's exit so the run goes on. A watchdog thread
// interrupts an operation that blocks (a read from the console, a futex
// nobody wakes) or loops, with SIGUSR1 (then other signals, should the
// operation block SIGUSR1 while it waits), once it has run over two of
// the watchdog's 2 ms ticks. Operations that would end the
// process or the guest by design are left out: exit, exit_group, execve,
// fork and clone, reboot, SIGKILL and SIGSTOP to itself, process_vm_writev,
// seccomp, RLIMIT_CPU. Memory-management calls only ever touch a
// playground region, so the fuzzer keeps its own code and data; a racer
// thread maps, unmaps and protects the playground all the time, so that
// system calls with pointers into it race with those changes (the only
// part of a run that is not the same for the same seed).
//
// It prints "hostile: seed S op N" every 10000 operations (every
// operation, with what it is, with "v"; from operation FIRST on with
// "vFIRST"), so a kernel failure can be replayed: the same SEED gives the
// same operations.
// It ends with "hostile: done seed=S ops=N faults=F racer=R ms=T" (T the
// guest's time for the operations) and exit status 0.

typedef unsigned long u64;
typedef unsigned int u32;
typedef unsigned char u8;
typedef long i64;

// x86-64 Linux system call numbers (arch/x86/entry/syscalls/syscall_64.tbl).
enum {
	SYS_read = 0, SYS_write = 1, SYS_open = 2, SYS_close = 3, SYS_mmap = 9,
	SYS_mprotect = 10, SYS_munmap = 11, SYS_brk = 12, SYS_rt_sigaction = 13,
	SYS_rt_sigprocmask = 14, SYS_rt_sigreturn = 15, SYS_pwrite64 = 18,
	SYS_writev = 20, SYS_pipe = 22, SYS_mremap = 25, SYS_msync = 26,
	SYS_madvise = 28, SYS_shmat = 30, SYS_dup2 = 33, SYS_pause = 34,
	SYS_nanosleep = 35, SYS_getpid = 39, SYS_sendfile = 40, SYS_clone = 56,
	SYS_fork = 57, SYS_vfork = 58, SYS_execve = 59, SYS_exit = 60,
	SYS_kill = 62, SYS_shmdt = 67, SYS_fcntl = 72, SYS_rt_sigqueueinfo = 129,
	SYS_sigaltstack = 131, SYS_mlock = 149, SYS_munlock = 150,
	SYS_prctl = 157, SYS_setrlimit = 160, SYS_reboot = 169, SYS_gettid = 186,
	SYS_clock_gettime = 228,
	SYS_tkill = 200, SYS_remap_file_pages = 216, SYS_exit_group = 231,
	SYS_tgkill = 234, SYS_mbind = 237, SYS_openat = 257, SYS_splice = 275,
	SYS_tee = 276, SYS_eventfd2 = 290, SYS_dup3 = 292, SYS_pwritev = 296,
	SYS_rt_tgsigqueueinfo = 297, SYS_prlimit64 = 302,
	SYS_process_vm_readv = 310, SYS_process_vm_writev = 311,
	SYS_seccomp = 317, SYS_execveat = 322, SYS_copy_file_range = 326,
	SYS_pwritev2 = 328, SYS_pkey_mprotect = 329, SYS_pidfd_send_signal = 424,
	SYS_clone3 = 435, SYS_close_range = 436,
};

enum {
	SIGILL = 4, SIGTRAP = 5, SIGBUS = 7, SIGFPE = 8, SIGKILL = 9,
	SIGUSR1 = 10, SIGSEGV = 11, SIGSTOP = 19, NSIG = 64,
	// include/uapi/asm-generic/signal-defs.h, arch/x86/include/uapi/asm/signal.h
	SA_SIGINFO = 4, SA_ONSTACK = 0x08000000, SA_RESTORER = 0x04000000,
};

// Where the fuzzer keeps what it may trash, far from its own image.
#define ARENA ((u8 *)0x100000000000UL)	// 1 MiB: argument buffers, junk stack, forged frames
#define ARENA_SIZE (1UL << 20)
#define CODE ((u8 *)0x100000200000UL)	// one page: the operation's instructions
#define PLAY 0x100010000000UL		// 64 MiB the memory calls may map, unmap, protect
#define PLAY_SIZE (64UL << 20)
#define LOGFD 200			// a copy of stdout the fuzzer keeps for itself

static inline i64 sys6(u64 nr, u64 a, u64 b, u64 c, u64 d, u64 e, u64 f)
{
	register u64 r10 __asm__("r10") = d, r8 __asm__("r8") = e, r9 __asm__("r9") = f;
	i64 ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9) : "rcx", "r11", "memory");
	return ret;
}
#define sys(nr, a, b, c) sys6(nr, (u64)(a), (u64)(b), (u64)(c), 0, 0, 0)

// ---- output ----

static u64 verbose_from = ~0UL; // the first operation logged

static u64 slen(const char *s)
{
	u64 n = 0;
	while (s[n])
		n++;
	return n;
}

static void out(const char *s) { sys(SYS_write, LOGFD, s, slen(s)); }

static void outnum(u64 v, int base)
{
	char b[24];
	int i = sizeof b;
	do {
		b[--i] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v && i > 0);
	sys(SYS_write, LOGFD, b + i, sizeof b - i);
}

// put and putnum append to a line being built; callers size it.
static char *put(char *l, const char *s)
{
	while (*s)
		*l++ = *s++;
	return l;
}

static char *putnum(char *l, u64 v, int base)
{
	char b[24];
	int i = sizeof b;
	do {
		b[--i] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v && i > 0);
	while (i < (int)sizeof b)
		*l++ = b[i++];
	return l;
}

static void die(const char *why)
{
	out("hostile: FAIL: ");
	out(why);
	out("\n");
	sys(SYS_exit_group, 3, 0, 0);
}

// ---- random numbers: xorshift64* (Vigna), seeded from argv ----

static u64 rng;

static u64 rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717UL;
}

static u64 below(u64 n) { return rnd() % n; }

// now_ms is CLOCK_MONOTONIC in milliseconds.
static u64 now_ms(void)
{
	u64 ts[2] = {0, 0};
	sys(SYS_clock_gettime, 1 /* CLOCK_MONOTONIC */, ts, 0);
	return ts[0] * 1000 + ts[1] / 1000000;
}

// ---- the trampoline ----

// The registers an operation starts with (order of run_op's loads).
struct regs {
	u64 rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp, r8, r9, r10, r11, r12, r13, r14, r15;
};

struct regs g_regs;
u64 g_code;		// where run_op jumps: CODE
u64 g_saved_rsp;	// the fuzzer's own stack pointer during an operation
u64 g_ret;		// RAX when the operation came back
volatile u32 g_in_op;	// 1 while an operation runs
volatile int g_fault;	// the signal that ended the operation, 0 if none
volatile int g_kick = 10; // the signal the watchdog last sent (SIGUSR1 first)
volatile u64 g_ops;	// operations done (the watchdog watches it)
u64 g_cs, g_ss;		// the application's own selectors

void run_op(void);
void op_return(void);
void restorer(void);

__asm__(
	".text\n"
	".globl run_op\n"
	"run_op:\n"
	"	push %rbp; push %rbx; push %r12; push %r13; push %r14; push %r15\n"
	"	mov %rsp, g_saved_rsp(%rip)\n"
	"	movl $1, g_in_op(%rip)\n"
	"	mov g_regs+8(%rip), %rbx\n"
	"	mov g_regs+16(%rip), %rcx\n"
	"	mov g_regs+24(%rip), %rdx\n"
	"	mov g_regs+32(%rip), %rsi\n"
	"	mov g_regs+40(%rip), %rdi\n"
	"	mov g_regs+48(%rip), %rbp\n"
	"	mov g_regs+64(%rip), %r8\n"
	"	mov g_regs+72(%rip), %r9\n"
	"	mov g_regs+80(%rip), %r10\n"
	"	mov g_regs+88(%rip), %r11\n"
	"	mov g_regs+96(%rip), %r12\n"
	"	mov g_regs+104(%rip), %r13\n"
	"	mov g_regs+112(%rip), %r14\n"
	"	mov g_regs+120(%rip), %r15\n"
	"	mov g_regs+0(%rip), %rax\n"
	"	mov g_regs+56(%rip), %rsp\n"
	"	jmp *g_code(%rip)\n"
	".globl op_return\n"
	"op_return:\n"
	"	mov %rax, g_ret(%rip)\n"
	"	mov g_saved_rsp(%rip), %rsp\n"
	"	cld\n"
	"	pushq $0x202\n"
	"	popfq\n"
	"	movl $0, g_in_op(%rip)\n"
	"	pop %r15; pop %r14; pop %r13; pop %r12; pop %rbx; pop %rbp\n"
	"	ret\n"
	".globl restorer\n"
	"restorer:\n"
	"	mov $15, %eax\n"
	"	syscall\n"
	"	hlt\n"
	".globl _start\n"
	"_start:\n"
	"	mov %rsp, %rdi\n"
	"	and $-16, %rsp\n"
	"	call cmain\n"
	"	hlt\n");

// ---- signals ----

// struct sigaction as the x86-64 kernel takes it.
struct ksigaction {
	void *handler;
	u64 flags;
	void *restorer;
	u64 mask;
};

// ucontext_t: uc_mcontext.gregs at 40 (REG_R8 = 0 ... REG_RSP = 15,
// REG_RIP = 16, REG_EFL = 17, REG_CSGSFS = 18), fpregs at 224, uc_sigmask
// at 296 (arch/x86/include/uapi/asm/sigcontext.h, struct ucontext).
enum { UC_GREGS = 40, G_RSP = 15, G_RIP = 16, G_EFL = 17, G_CSGSFS = 18, UC_FPREGS = 224, UC_SIGMASK = 296 };

static u64 faults[NSIG + 1];
static u64 main_tid, pid;
static u8 altstack[64 << 10] __attribute__((aligned(16)));

static int synchronous(int sig)
{
	return sig == SIGSEGV || sig == SIGILL || sig == SIGTRAP || sig == SIGBUS || sig == SIGFPE;
}

static void handler(int sig, void *info, void *ucv)
{
	u8 *uc = ucv;
	u64 *g = (u64 *)(uc + UC_GREGS);
	int code = *(int *)((u8 *)info + 8);
	u64 rip = g[G_RIP];
	int inbuf = rip >= (u64)CODE && rip < (u64)CODE + 4096;
	if (sig > 0 && sig <= NSIG)
		faults[sig]++;
	if (synchronous(sig) && code > 0 && !g_in_op) {
		out("hostile: fault outside an operation, signal ");
		outnum(sig, 10);
		out(" code ");
		outnum(code, 10);
		out(" addr 0x");
		outnum(*(u64 *)((u8 *)info + 16), 16);
		out(" at rip 0x");
		outnum(rip, 16);
		out(" rsp 0x");
		outnum(g[G_RSP], 16);
		out(" tid ");
		outnum(sys(SYS_gettid, 0, 0, 0), 10);
		out(" after op ");
		outnum(g_ops, 10);
		out("\n");
		die("the fuzzer itself faulted");
	}
	if (g_in_op && (inbuf || (synchronous(sig) && code > 0) || sig == SIGUSR1 || sig == g_kick) && sys(SYS_gettid, 0, 0, 0) == main_tid) {
		// Back to the trampoline's exit with sane flags and selectors,
		// every signal unblocked.
		g_fault = sig;
		g[G_RIP] = (u64)op_return;
		g[G_RSP] = g_saved_rsp;
		g[G_EFL] = 0x202;
		g[G_CSGSFS] = g_cs | g_ss << 48;
		*(u64 *)(uc + UC_SIGMASK) = 0;
	}
}

// install_handlers sets the alternate stack and an empty signal mask, and
// with handlers set the handler of every signal. Only rt_sigaction (and
// execve, never made) changes handlers; rt_sigreturn, rt_sigprocmask,
// rt_sigsuspend and sigaltstack change the mask and the alternate stack,
// so after those the two calls restore all an operation could change
// (64 rt_sigactions after each cost some 5% of a run).
static void install_handlers(int handlers)
{
	struct ksigaction sa = {handler, SA_SIGINFO | SA_ONSTACK | SA_RESTORER, restorer, 0};
	u64 ss[3] = {(u64)altstack, 0, sizeof altstack};
	sys(SYS_sigaltstack, ss, 0, 0);
	for (int s = 1; handlers && s <= NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			sys6(SYS_rt_sigaction, s, (u64)&sa, 0, 8, 0, 0);
	u64 none = 0;
	sys6(SYS_rt_sigprocmask, 2 /* SIG_SETMASK */, (u64)&none, 0, 8, 0, 0);
}

// ---- the watchdog thread ----

static u8 wdstack[64 << 10] __attribute__((aligned(16)));

// block_signals blocks every signal a helper thread could be chosen for,
// so that they all go to the fuzzing thread.
static void block_signals(void)
{
	u64 all = ~0UL;
	sys6(SYS_rt_sigprocmask, 2 /* SIG_SETMASK */, (u64)&all, 0, 8, 0, 0);
}

// The signals the watchdog interrupts a blocked operation with, in turn:
// SIGUSR1 first, then others, since an operation may block SIGUSR1 for
// the time it waits (rt_sigsuspend, ppoll, pselect6 and epoll_pwait
// with a random mask), which on Linux too would wait for ever.
static const int kicks[] = {SIGUSR1, 12 /* SIGUSR2 */, 14 /* SIGALRM */, 15 /* SIGTERM */, 23 /* SIGURG */, 28 /* SIGWINCH */, 34, 45, 56, 64};
#define NKICKS (int)(sizeof kicks / sizeof kicks[0])

static const char *kind;	// what the operation is, for the logs
static u64 sysnr;		// the system call number, for syscall operations

static void watchdog(void)
{
	u64 last = ~0UL;
	int still = 0, kicked = 0;
	block_signals();
	for (;;) {
		// A short tick: while the fuzzing thread blocks, the guest
		// idles (or the racer spins) and no operation runs; at 20 ms
		// the blocking operations took half of a run's time.
		u64 ts[2] = {0, 2 * 1000 * 1000};
		sys(SYS_nanosleep, ts, 0, 0);
		u64 now = g_ops;
		if (now == last && g_in_op) {
			if (++still >= 2) {
				if (kicked == NKICKS) {
					// Every signal tried: say which operation, once;
					// a kernel that never ends it fails the run as hung.
					out("hostile: op ");
					outnum(now, 10);
					out(" (");
					out(kind);
					out(" ");
					outnum(sysnr, 10);
					out(") still running after signals 10 12 14 15 23 28 34 45 56 64\n");
				}
				g_kick = kicks[kicked++ % NKICKS];
				sys(SYS_tgkill, pid, main_tid, g_kick);
				still = 0;
			}
		} else {
			still = 0;
			kicked = 0;
			g_kick = SIGUSR1;
		}
		last = now;
	}
}

// racer changes the playground's mappings all the time, so that the
// system calls the fuzzing thread makes with pointers into it race with
// unmapping and protection changes (the kernel copying from or to user
// memory that another thread just took away).
static u8 racestack[64 << 10] __attribute__((aligned(16)));
static u64 race_rng;
static volatile u64 race_ops;

static u64 race_rnd(void)
{
	race_rng ^= race_rng >> 12;
	race_rng ^= race_rng << 25;
	race_rng ^= race_rng >> 27;
	return race_rng * 2685821657736338717UL;
}

static void racer(void)
{
	block_signals();
	for (;;) {
		u64 r = race_rnd();
		u64 addr = PLAY + (r >> 8) % (PLAY_SIZE / 4096) * 4096, len = ((r >> 40) % 64 + 1) * 4096;
		switch (r % 5) {
		case 0:
			sys6(SYS_mmap, addr, len, r >> 3 & 7, 0x32 /* MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED */, -1, 0);
			break;
		case 1:
			sys(SYS_munmap, addr, len, 0);
			break;
		case 2:
			sys(SYS_mprotect, addr, len, r >> 3 & 7);
			break;
		case 3:
			sys(SYS_madvise, addr, len, 4 /* MADV_DONTNEED */);
			break;
		default:
			sys6(SYS_mremap, addr, len, len, 3 /* MREMAP_MAYMOVE|MREMAP_FIXED */, PLAY + (r >> 20) % (PLAY_SIZE / 4096) * 4096, 0);
		}
		race_ops++;
		sys(24 /* sched_yield */, 0, 0, 0);
	}
}

static void start_thread(void (*fn)(void), u8 *stack, u64 size)
{
	// CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM
	u64 flags = 0x100 | 0x200 | 0x400 | 0x800 | 0x10000 | 0x40000;
	u64 *sp = (u64 *)(stack + size);
	*--sp = (u64)fn;
	i64 r;
	register u64 r10 __asm__("r10") = 0, r8 __asm__("r8") = 0;
	// The child starts on sp with the entry point on top: pop it and go.
	__asm__ volatile("syscall\n"
			 "test %%rax, %%rax\n"
			 "jnz 1f\n"
			 "pop %%rax\n"
			 "call *%%rax\n"
			 "hlt\n"
			 "1:\n"
			 : "=a"(r)
			 : "a"(SYS_clone), "D"(flags), "S"(sp), "d"(0), "r"(r10), "r"(r8)
			 : "rcx", "r11", "memory");
	if (r < 0)
		die("clone of a helper thread failed");
}

// ---- operands ----

static u64 vdso; // AT_SYSINFO_EHDR: the vDSO the kernel maps, 0 if none

static const u64 kernel_addrs[] = {
	0xffffffffff600000UL, // where Linux has its vsyscall page
	0x7e0000000000UL, 0x7e0000200000UL, 0x7e0000001000UL, 0x7e0002000000UL,
	0x7e00000ff000UL, 0x7f0000000000UL, 0x7fffffffe000UL, 0x7dfffffff000UL,
	0xffff800000000000UL, 0xffffffff80000000UL, 0xfffffffffffff000UL,
};

static u64 arena_ptr(void)
{
	switch (below(4)) {
	case 0:
		return (u64)ARENA + ARENA_SIZE - below(64); // runs off the end
	default:
		return (u64)ARENA + below(ARENA_SIZE);
	}
}

static u64 play_addr(void) { return PLAY + below(PLAY_SIZE / 4096) * 4096 + (below(8) == 0 ? below(4096) : 0); }

static u64 pointer(void)
{
	switch (below(9)) {
	case 0:
	case 1:
	case 2:
		return arena_ptr();
	case 3:
		return kernel_addrs[below(sizeof kernel_addrs / 8)] + below(4) * 8;
	case 4:
		return 0x8000000000000000UL + rnd() % (1UL << 47); // non-canonical
	case 5:
		return below(0x10000); // the null page and just above
	case 6:
		return (u64)run_op + below(64); // read-only code
	case 7:
		return below(2) || !vdso ? play_addr() : vdso + below(8192); // the vDSO: its code and data pages
	default:
		return rnd();
	}
}

static u64 value(void)
{
	switch (below(12)) {
	case 0:
		return 0;
	case 1:
		return below(16);
	case 2:
		return -below(16);
	case 3:
		return 1UL << below(64);
	case 4:
		return pointer();
	case 5:
		return rnd() & 0xffffffff;
	case 6:
		return below(4096);
	case 7:
		return 3 + below(8); // a descriptor it opened
	default:
		return rnd();
	}
}

// outside_image moves an address in the fuzzer's own image (its code,
// data and stack-control words, linked at 0x400000) into the arena:
// instructions may store to it, jump to it or use it as a stack, and the
// fuzzer must keep running. The kernel sees such addresses as system
// call arguments only.
static u64 outside_image(u64 v)
{
	if (v >= 0x400000 && v < 0x10000000)
		v = (u64)ARENA + (v & (ARENA_SIZE - 1));
	return v;
}

// A value for a register that instructions may dereference or jump to.
static u64 reg_value(void) { return outside_image(value()); }

// An address for instructions and forged frames.
static u64 wild(void) { return outside_image(pointer()); }

static u64 selector(void)
{
	static const u64 sels[] = {0, 1, 2, 3, 0x08, 0x10, 0x13, 0x18, 0x1b, 0x20, 0x23, 0x28, 0x2b, 0x30, 0x33, 0x38, 0x3b, 0x43, 0x4b, 0x53, 0x7b, 0x7, 0xf, 0xfffc, 0xffff};
	switch (below(4)) {
	case 0:
		return g_cs;
	case 1:
		return g_ss;
	case 2:
		return rnd() & 0xffff;
	default:
		return sels[below(sizeof sels / 8)];
	}
}

static u64 rflags(void)
{
	// CF PF AF ZF SF TF IF DF OF IOPL NT RF VM AC VIF VIP ID (AMD APM vol. 2, 3.1.6)
	static const u64 bits[] = {1 << 0, 1 << 2, 1 << 4, 1 << 6, 1 << 7, 1 << 8, 1 << 9, 1 << 10, 1 << 11, 3 << 12, 1 << 14, 1 << 16, 1 << 17, 1 << 18, 1 << 19, 1 << 20, 1 << 21};
	u64 f = 0x202;
	for (int i = below(4); i >= 0; i--)
		f |= bits[below(sizeof bits / 8)];
	if (below(8) == 0)
		f = rnd() & 0xffffffff;
	return f;
}

// ---- building an operation ----

static u8 *pc;		// where the next instruction byte goes in CODE
static int needs_reinstall;	// what the operation may have changed: REINSTALL_*
enum { REINSTALL_MASK = 1, REINSTALL_HANDLERS = 2 }; // mask and altstack; and handlers too
static u64 mapped_len;		// mmap/mremap length, to unmap what lands outside PLAY

static void emit(const u8 *b, int n)
{
	for (int i = 0; i < n; i++)
		*pc++ = b[i];
}
#define EMIT(...)                                   \
	do {                                        \
		static const u8 b_[] = {__VA_ARGS__}; \
		emit(b_, sizeof b_);                \
	} while (0)

static u64 junk_stack(void) { return (u64)ARENA + ARENA_SIZE / 2 - below(64) * 8; }

static void random_regs(void)
{
	u64 *r = (u64 *)&g_regs;
	for (int i = 0; i < 16; i++)
		r[i] = reg_value();
	g_regs.rsp = junk_stack();
}

// flags emits PUSH imm32; POPFQ: the operation's instruction then runs with
// the chosen RFLAGS (TF set traps right after it).
static void flags(void)
{
	u32 f = rflags();
	*pc++ = 0x68;
	for (int i = 0; i < 4; i++)
		*pc++ = f >> (8 * i);
	*pc++ = 0x9d;
}

static int is_mm(u64 b)
{
	switch (b) {
	case SYS_mprotect: case SYS_munmap: case SYS_msync: case SYS_madvise:
	case SYS_mlock: case SYS_munlock: case SYS_remap_file_pages:
	case SYS_pkey_mprotect: case SYS_mbind: case 325 /* mlock2 */:
	case SYS_shmdt:
		return 1;
	}
	return 0;
}

// clamp keeps a length from reaching past the playground into the
// fuzzer's own memory, unless it is absurd anyway.
static u64 clamp(u64 len) { return len < (1UL << 47) ? len % (PLAY_SIZE + 8192) : len; }

// sanitize leaves out what would end the process or the guest by design
// and points memory calls at the playground. b is the call number the
// kernel sees (Linux takes the low 32 bits, the x32 bit aside).
static u64 sanitize(u64 nr, u64 *a)
{
	u64 b = (u32)nr & ~0x40000000U;
	switch (b) {
	case SYS_exit: case SYS_exit_group: case SYS_execve: case SYS_execveat:
	case SYS_clone: case SYS_fork: case SYS_vfork: case SYS_clone3:
	case SYS_reboot: case SYS_process_vm_readv: case SYS_process_vm_writev:
	case SYS_seccomp: case SYS_close_range:
		return SYS_getpid;
	case 334: // rseq: an area registered in the playground, which the
		// fuzzer then scribbles on, is SIGSEGV by design (kernel/rseq.c)
		if ((u32)a[2] == 0)
			return SYS_getpid;
		break;
	case SYS_prctl:
		if ((u32)a[0] == 22) // PR_SET_SECCOMP
			return SYS_getpid;
		break;
	case SYS_kill: case SYS_tkill: case SYS_rt_sigqueueinfo: case SYS_pidfd_send_signal:
		if ((u32)a[1] == SIGKILL || (u32)a[1] == SIGSTOP)
			a[1] = SIGUSR1;
		break;
	case SYS_tgkill: case SYS_rt_tgsigqueueinfo:
		if ((u32)a[2] == SIGKILL || (u32)a[2] == SIGSTOP)
			a[2] = SIGUSR1;
		break;
	case SYS_setrlimit:
		if ((u32)a[0] == 0 || (u32)a[0] == 15) // RLIMIT_CPU, RLIMIT_RTTIME: SIGKILL at the hard limit
			return SYS_getpid;
		break;
	case SYS_prlimit64:
		if ((u32)a[1] == 0 || (u32)a[1] == 15)
			return SYS_getpid;
		break;
	case SYS_mmap:
		if (a[3] & (0x10 | 0x100000)) // MAP_FIXED, MAP_FIXED_NOREPLACE
			a[0] = play_addr();
		a[1] = clamp(a[1]);
		mapped_len = a[1];
		break;
	case SYS_mremap:
		a[0] = play_addr();
		a[1] = clamp(a[1]);
		a[2] = clamp(a[2]);
		mapped_len = a[2];
		if (a[3] & 2) // MREMAP_FIXED
			a[4] = play_addr();
		break;
	case SYS_shmat:
		if (a[1])
			a[1] = play_addr();
		break;
	case SYS_write: case SYS_pwrite64: case SYS_writev: case SYS_pwritev: case SYS_pwritev2: case SYS_sendfile:
		// Keep the console readable: garbage goes to the other descriptors.
		if ((u32)a[0] <= 2 || (u32)a[0] == LOGFD)
			a[0] = 3 + below(8);
		break;
	case SYS_splice: case SYS_copy_file_range:
		if ((u32)a[2] <= 2 || (u32)a[2] == LOGFD)
			a[2] = 3 + below(8);
		break;
	case SYS_tee:
		if ((u32)a[1] <= 2 || (u32)a[1] == LOGFD)
			a[1] = 3 + below(8);
		break;
	case SYS_close:
		if ((u32)a[0] == LOGFD)
			a[0] = LOGFD + 1;
		break;
	case SYS_dup2: case SYS_dup3:
		if ((u32)a[1] == LOGFD)
			a[1] = LOGFD + 1;
		break;
	case SYS_rt_sigaction:
		needs_reinstall = REINSTALL_HANDLERS;
		break;
	case SYS_rt_sigprocmask: case SYS_rt_sigreturn: case SYS_sigaltstack:
	case 130 /* rt_sigsuspend */:
		needs_reinstall = REINSTALL_MASK;
		break;
	}
	if (is_mm(b)) {
		a[0] = play_addr();
		a[1] = clamp(a[1]);
	}
	return nr;
}

static void op_sigreturn(u64 back);

static void op_syscall(void)
{
	u64 nr, a[6];
	switch (below(16)) {
	case 0:
		nr = 1000 + below(40); // the kernel's private calls: not for CPL3
		break;
	case 1:
		nr = 0x40000000 | below(548); // x32
		break;
	case 2:
		nr = rnd();
		break;
	default:
		nr = below(460);
	}
	for (int i = 0; i < 6; i++)
		a[i] = value();
	if (((u32)nr & ~0x40000000U) == SYS_rt_sigreturn) {
		// On the junk stack's random words it would install a random
		// alternate stack and make the next fault fatal: forge a frame.
		op_sigreturn((u64)CODE + 256);
		return;
	}
	nr = sanitize(nr, a);
	random_regs();
	g_regs.rax = sysnr = nr;
	g_regs.rdi = a[0], g_regs.rsi = a[1], g_regs.rdx = a[2];
	g_regs.r10 = a[3], g_regs.r8 = a[4], g_regs.r9 = a[5];
	kind = "syscall";
	if (below(8) == 0)
		flags();
	if (below(32) == 0) {
		g_regs.rsp = wild(); // the kernel must never use the user's stack
		kind = "syscall with a wild stack";
	}
	EMIT(0x0f, 0x05);
}

static void op_int(u64 n)
{
	random_regs();
	g_regs.rax = 20; // getpid in the i386 table, should int 0x80 serve it
	if (below(4) == 0)
		flags();
	*pc++ = 0xcd;
	*pc++ = n;
	kind = "int n";
	sysnr = n;
}

// An IRETQ or far-return frame on the junk stack, returning to the
// instruction after it (the jump back) or somewhere else.
static void forge_far_frame(u64 back, int iret)
{
	u64 *sp = (u64 *)g_regs.rsp;
	sp[0] = below(4) ? back : wild();
	sp[1] = below(3) ? g_cs : selector();
	if (iret) {
		sp[2] = rflags();
		sp[3] = below(3) ? junk_stack() : wild();
		sp[4] = below(3) ? g_ss : selector();
	}
}

// Encodings that crash the emulator, not the kernel. QEMU 7.2's TCG
// (Debian 12's, what the tests run under) dies on these where the CPU
// raises #UD, which Cocoon, like Linux, delivers as SIGILL; a Linux guest's
// user code crashes the same QEMU the same way. The random-bytes operation
// leaves them out, so that a run measures the kernel; any other QEMU
// crash is still reported as an EMULATOR FAILURE by the harness.
//
//   - 0F 38 0C: VPERMILPS exists only VEX-encoded; QEMU 7.2's decoder lets
//     the legacy form through to a NULL helper and QEMU dies of SIGSEGV
//     (QEMU issue 3199, fixed upstream by ebd9ea2947d8 "target/i386: Mark
//     VPERMILPS as not valid with prefix 0"). Found by seed 1244.
//   - LOCK BT, BTS, BTR, BTC with a register operand (0F A3/AB/B3/BB, 0F BA
//     with ModRM.mod = 3): LOCK on anything but a memory destination is #UD
//     (Intel SDM vol. 2, LOCK); QEMU 7.2 translates the locked form with an
//     address temporary it never set, and TCG aborts ("tcg/tcg.c: tcg fatal
//     error"). Found by seed 1294 (F0 2E 0F BB EA).
//
// Every offset is checked, since the bytes decode from wherever a jump
// lands; a match's 0F becomes a NOP (0x90, neither a prefix nor an opcode
// byte of either), which draws no random number: every other operation of
// a seed stays the same.
static int prefix_byte(u8 b)
{
	// Legacy prefixes (Intel SDM vol. 2, 2.1.1) and REX (2.2.1).
	return b == 0xf0 || b == 0xf2 || b == 0xf3 || b == 0x2e || b == 0x36 || b == 0x3e ||
	       b == 0x26 || b == 0x64 || b == 0x65 || b == 0x66 || b == 0x67 || (b & 0xf0) == 0x40;
}

static void avoid_emulator_crashes(u8 *b, u8 *end)
{
	for (u8 *p = b; p < end; p++) {
		if (p + 2 < end && p[0] == 0x0f && p[1] == 0x38 && p[2] == 0x0c)
			p[0] = 0x90;
		if (p[0] != 0xf0)
			continue;
		u8 *q = p + 1;
		while (q < end && prefix_byte(*q))
			q++;
		if (q + 2 < end && q[0] == 0x0f && q[2] >= 0xc0 &&
		    (q[1] == 0xa3 || q[1] == 0xab || q[1] == 0xb3 || q[1] == 0xbb || q[1] == 0xba))
			q[0] = 0x90;
	}
}

static void op_instruction(void)
{
	random_regs();
	kind = "instruction";
	if (below(4) == 0)
		flags();
	u8 r = below(8);
	switch (below(64)) {
	case 0: EMIT(0xf4); break;			// HLT
	case 1: EMIT(0xfa); break;			// CLI
	case 2: EMIT(0xfb); break;			// STI
	case 3: EMIT(0xcc); break;			// INT3
	case 4: EMIT(0xf1); break;			// INT1 (ICEBP)
	case 5: EMIT(0xce); break;			// INTO: #UD in 64-bit mode
	case 6: EMIT(0x0f, 0x0b); break;		// UD2
	case 7: *pc++ = below(2) ? 0xe4 : 0xe6; *pc++ = rnd(); break; // IN/OUT imm8
	case 8: *pc++ = 0xec + below(4); break;		// IN/OUT DX
	case 9: *pc++ = 0xf3; *pc++ = 0x6c + below(4); g_regs.rcx = below(4); break; // REP INS/OUTS
	case 10: EMIT(0x0f, 0x32); break;		// RDMSR
	case 11: EMIT(0x0f, 0x30); break;		// WRMSR
	case 12: EMIT(0x0f, 0x33); break;		// RDPMC
	case 13: EMIT(0x0f, 0x01, 0xf9); break;		// RDTSCP
	case 14: EMIT(0x0f, 0xa2); break;		// CPUID
	case 15: *pc++ = 0x0f; *pc++ = 0x20 + below(4); *pc++ = 0xc0 | below(64); break; // MOV CRn/DRn
	case 16: EMIT(0x0f, 0x01); *pc++ = (below(2) ? 0x10 : 0x18); break; // LGDT/LIDT [rax]
	case 17: EMIT(0x0f, 0x00); *pc++ = (below(2) ? 0xd0 : 0xd8) | r; break; // LLDT/LTR r
	case 18: EMIT(0x0f, 0x01); *pc++ = 0xf0 | r; break; // LMSW
	case 19: EMIT(0x0f, 0x01, 0x38); break;		// INVLPG [rax]
	case 20: EMIT(0x0f, 0x01); *pc++ = below(2) ? 0x00 : 0x08; g_regs.rax = arena_ptr(); break; // SGDT/SIDT [rax]
	case 21: EMIT(0x0f, 0x00); *pc++ = (below(2) ? 0xc0 : 0xc8) | r; break; // SLDT/STR
	case 22: EMIT(0x0f, 0x01, 0xe0); break;		// SMSW
	case 23: *pc++ = 0x0f; *pc++ = (u8[]){0x06, 0x08, 0x09}[below(3)]; break; // CLTS INVD WBINVD
	case 24: EMIT(0x0f, 0x01, 0xf8); break;		// SWAPGS
	case 25: if (below(2)) *pc++ = 0x48; EMIT(0x0f, 0x07); break; // SYSRET
	case 26: *pc++ = 0x0f; *pc++ = 0x34 + below(2); break; // SYSENTER/SYSEXIT
	case 27: forge_far_frame((u64)pc + 2, 1); EMIT(0x48, 0xcf); kind = "iretq"; break;
	case 28: forge_far_frame((u64)pc + 2, 0); EMIT(0x48, 0xcb); kind = "lretq"; break;
	case 29: case 30: {				// far JMP/CALL m16:64
		u64 *m = (u64 *)((u64)ARENA + 4096 * below(16));
		m[0] = below(3) ? (u64)pc + 3 : wild();
		m[1] = selector();
		g_regs.rax = (u64)m;
		EMIT(0x48, 0xff);
		*pc++ = below(2) ? 0x28 : 0x18;
		kind = "far jump";
		break;
	}
	case 31: case 32: {				// MOV Sreg, AX
		g_regs.rax = selector();
		*pc++ = 0x8e;
		*pc++ = (u8[]){0xc0, 0xd0, 0xd8, 0xe0, 0xe8}[below(5)];
		kind = "segment load";
		break;
	}
	case 33: {					// LSS/LFS/LGS rax, [rbx]
		u64 *m = (u64 *)((u64)ARENA + 4096 * below(16));
		m[0] = wild();
		m[1] = selector();
		g_regs.rbx = (u64)m;
		EMIT(0x48, 0x0f);
		*pc++ = (u8[]){0xb2, 0xb4, 0xb5}[below(3)];
		*pc++ = 0x03;
		kind = "segment load";
		break;
	}
	case 34: g_regs.rax = g_regs.rcx = selector(); EMIT(0x0f); if (below(2)) { *pc++ = 0x00; *pc++ = 0xe0 + 8 * below(2); } else { *pc++ = 0x02 + below(2); *pc++ = 0xc1; } break; // VERR VERW LAR LSL
	case 35: EMIT(0x0f, 0x01); *pc++ = 0xd0 + below(2); g_regs.rcx = below(4); break; // XGETBV/XSETBV
	case 36: case 37: {				// FXRSTOR/XRSTOR/LDMXCSR/FLDCW/FLDENV/FRSTOR of random state
		u64 *m = (u64 *)((u64)ARENA + 4096 * below(16));
		for (int i = 0; i < 128; i++)
			m[i] = below(4) ? 0 : rnd();
		g_regs.rax = (u64)m + (below(8) ? 0 : below(64));
		g_regs.rdx = rnd(), g_regs.rcx = 0;
		switch (below(6)) {
		case 0: EMIT(0x0f, 0xae, 0x08); break;
		case 1: EMIT(0x0f, 0xae, 0x28); break;
		case 2: EMIT(0x0f, 0xae, 0x10); break;
		case 3: EMIT(0xd9, 0x28); break;
		case 4: EMIT(0xd9, 0x20); break;
		default: EMIT(0xdd, 0x20); break;
		}
		EMIT(0xf2, 0x0f, 0x5e, 0xc1, 0xd8, 0xf1, 0x9b); // DIVSD, FDIV, FWAIT: raise what is unmasked
		kind = "extended state";
		break;
	}
	case 38: *pc++ = 0x0f; *pc++ = 0x01; *pc++ = (u8[]){0xc1, 0xd9, 0xc8, 0xc9, 0xcb, 0xca, 0xcf, 0xd7, 0xc5}[below(9)]; break; // VMCALL VMMCALL MONITOR MWAIT STAC CLAC ENCLS ENCLU PCONFIG
	case 39: EMIT(0xf3, 0x0f, 0x01, 0xd9); break;	// VMGEXIT
	case 40: EMIT(0x66, 0x0f, 0x01, 0xcc); break;	// TDCALL
	case 41: g_regs.rcx = below(2) ? 0 : -1UL; g_regs.rax = 0x8000000000000000UL; g_regs.rdx = below(2) ? 0 : -1UL; EMIT(0x48, 0xf7); *pc++ = below(2) ? 0xf1 : 0xf9; break; // DIV/IDIV: #DE
	case 42: EMIT(0x9d); break;			// POPFQ of whatever is on the stack
	case 43: EMIT(0xf3, 0x48, 0x0f, 0xae); *pc++ = 0xc0 | 8 * below(4); break; // RD/WRFSBASE, RD/WRGSBASE
	case 44: EMIT(0x0f, 0xc7); *pc++ = below(2) ? 0x28 : 0x18; break; // XSAVES/XRSTORS [rax]
	case 45: g_regs.rcx = below(64); g_regs.rsi = arena_ptr(); g_regs.rdi = wild(); EMIT(0xfd, 0xf3, 0x48, 0xa5); break; // STD; REP MOVSQ
	case 46: EMIT(0xf0, 0x90); break;		// LOCK NOP: #UD
	case 47: g_regs.rax = wild(); *pc++ = 0x48; *pc++ = 0x8b; *pc++ = 0x00; break; // load from anywhere
	case 48: g_regs.rax = wild(); *pc++ = 0x48; *pc++ = 0x89; *pc++ = 0x00; break; // store to anywhere
	case 49: g_regs.rax = wild(); EMIT(0xff, 0xe0); break; // jump anywhere
	case 50: g_regs.rsp = wild(); *pc++ = below(2) ? 0x50 : 0x58; kind = "push/pop on a wild stack"; break;
	case 51: g_regs.rsp = wild(); EMIT(0xcd); *pc++ = rnd(); kind = "int n on a wild stack"; break;
	case 52: g_regs.rax = arena_ptr() | 1; EMIT(0x9c, 0x48, 0x81, 0x0c, 0x24, 0x00, 0x00, 0x04, 0x00, 0x9d, 0x48, 0x8b, 0x00); kind = "misaligned load with AC"; break;
	case 53: EMIT(0x0f, 0xc7); *pc++ = 0xf0 | 8 * below(2); break; // RDRAND/RDSEED
	case 54: EMIT(0xf3, 0x0f, 0xc7, 0xf8); break;	// RDPID
	case 55: EMIT(0x0f, 0x01, 0xee); break;		// RDPKRU
	case 56: g_regs.rcx = 0; g_regs.rdx = 0; EMIT(0x0f, 0x01, 0xef); break; // WRPKRU
	case 57: EMIT(0x0f, 0x01, 0xfa); break;		// MONITORX
	default: {					// random bytes
		int n = 1 + below(15);
		for (int i = 0; i < n; i++) {
			*pc = rnd();
			// No VEX prefixes: QEMU's TCG (7.2, Debian 12) aborts on
			// some invalid ones the CPU answers with #UD
			// (gen_pinsr: "vec_len == 16", C5 58 C4 E7 87).
			if (*pc == 0xc4 || *pc == 0xc5)
				*pc = 0x90;
			pc++;
		}
		avoid_emulator_crashes(CODE, pc);
		kind = "random bytes";
	}
	}
}

// op_sigreturn forges a signal frame and calls rt_sigreturn on it.
static void op_sigreturn(u64 back)
{
	random_regs();
	u8 *f = (u8 *)(((u64)ARENA + 4096 * (32 + below(16)) + 64) & ~15UL);
	u64 *w = (u64 *)f;
	for (int i = 0; i < 48; i++)
		w[i] = below(2) ? 0 : reg_value();
	w[0] = below(4) ? below(8) : rnd(); // uc_flags: UC_FP_XSTATE, UC_SIGCONTEXT_SS, UC_STRICT_RESTORE_SS
	w[1] = 0;
	// uc_stack: rt_sigreturn installs it as the alternate stack, and a
	// broken one would make the next fault fatal, as on Linux.
	w[2] = (u64)altstack, w[3] = 0, w[4] = sizeof altstack;
	u64 *g = (u64 *)(f + UC_GREGS);
	g[G_RSP] = below(4) ? junk_stack() : wild();
	g[G_RIP] = below(3) ? back : wild();
	g[G_EFL] = rflags();
	g[G_CSGSFS] = (below(3) ? g_cs : selector()) | (below(2) ? 0 : selector()) << 16 | (below(2) ? 0 : selector()) << 32 | (below(3) ? g_ss : selector()) << 48;
	u8 *fp = 0;
	switch (below(4)) {
	case 0:
		break;
	case 1:
		fp = (u8 *)pointer();
		break;
	default: { // an FXSAVE image of the current state, mutated
		fp = (u8 *)(((u64)ARENA + 4096 * (48 + below(16))) & ~63UL) + (below(8) ? 0 : below(64));
		__asm__ volatile("fxsave64 (%0)" ::"r"((u64)fp & ~15UL) : "memory");
		int k = below(8);
		while (k-- > 0)
			fp[below(512 + 64)] = rnd();
		if (below(2)) {
			*(u32 *)(fp + 464) = 0x46505853; // FP_XSTATE_MAGIC1 in sw_reserved (sigcontext.h)
			*(u32 *)(fp + 468) = below(2) ? 2696 : rnd(); // extended_size
			*(u64 *)(fp + 472) = below(2) ? 7 : rnd(); // xfeatures
			*(u32 *)(fp + 480) = below(2) ? 2688 : rnd(); // xstate_size
		}
	}
	}
	*(u64 *)(f + UC_FPREGS) = (u64)fp;
	// A blocked SIGSEGV, SIGILL, SIGTRAP, SIGBUS, SIGFPE or SIGUSR1 would
	// make the next fault fatal, as on Linux: leave those unblocked.
	*(u64 *)(f + UC_SIGMASK) = (below(2) ? 0 : rnd()) & ~(1UL << (SIGSEGV - 1) | 1UL << (SIGILL - 1) | 1UL << (SIGTRAP - 1) | 1UL << (SIGBUS - 1) | 1UL << (SIGFPE - 1) | 1UL << (SIGUSR1 - 1));
	g_regs.rsp = (u64)f;
	g_regs.rax = SYS_rt_sigreturn;
	if (below(8) == 0)
		flags();
	EMIT(0x0f, 0x05);
	kind = "forged rt_sigreturn";
	needs_reinstall = REINSTALL_MASK;
}

// ---- the run ----

static u64 parse(const char *s)
{
	u64 v = 0;
	if (!s)
		return 0;
	while (*s >= '0' && *s <= '9')
		v = v * 10 + (*s++ - '0');
	return v;
}

static int writable_code = 1;

static void one(u64 i)
{
	pc = CODE;
	kind = "";
	sysnr = 0;
	needs_reinstall = 0;
	mapped_len = 0;
	if (!writable_code)
		sys(SYS_mprotect, CODE, 4096, 3);
	u64 choice = below(100);
	// The jump back sits at a fixed place so that forged frames can
	// return to it: CODE+256, which the operation's bytes never reach.
	u8 *back = CODE + 256;
	if (i < 256)
		op_int(i);
	else if (choice < 45)
		op_syscall();
	else if (choice < 50)
		op_int(below(256));
	else if (choice < 55)
		op_sigreturn((u64)back);
	else
		op_instruction();
	// Pad to the jump back with NOPs, then JMP [RIP+0] to op_return.
	while (pc < back)
		*pc++ = 0x90;
	EMIT(0xff, 0x25, 0, 0, 0, 0);
	*(u64 *)pc = (u64)op_return;
	if (!writable_code)
		sys(SYS_mprotect, CODE, 4096, 5);
	if (i >= verbose_from) {
		// One write a line: the console is slow, and a replay logs
		// thousands of operations.
		char line[320], *l = line;
		l = put(l, "hostile: op ");
		l = putnum(l, i, 10);
		l = put(l, " ");
		l = put(l, kind);
		l = put(l, " ");
		l = putnum(l, sysnr, 10);
		if ((CODE[0] == 0x0f && CODE[1] == 0x05) || (CODE[6] == 0x0f && CODE[7] == 0x05)) {
			// A system call (after PUSH imm32; POPFQ, or not): its
			// arguments as the kernel sees them, in hex.
			u64 args[6] = {g_regs.rdi, g_regs.rsi, g_regs.rdx, g_regs.r10, g_regs.r8, g_regs.r9};
			l = put(l, " args");
			for (int k = 0; k < 6; k++) {
				l = put(l, " ");
				l = putnum(l, args[k], 16);
			}
		}
		l = put(l, " bytes");
		for (u8 *b = CODE; b < CODE + 16 && b < back; b++) {
			l = put(l, " ");
			l = putnum(l, *b, 16);
		}
		l = put(l, "\n");
		sys(SYS_write, LOGFD, line, l - line);
	}
	g_fault = 0;
	run_op();
	if (needs_reinstall)
		install_handlers(needs_reinstall == REINSTALL_HANDLERS);
	if (mapped_len && g_ret < 0x7e0000000000UL && g_ret > 0xfff && (g_ret < PLAY || g_ret >= PLAY + PLAY_SIZE) && !g_fault && (sysnr == SYS_mmap || sysnr == SYS_mremap))
		sys(SYS_munmap, g_ret, mapped_len, 0);
}

// check_watchdog makes one operation the first kick cannot end: an
// rt_sigsuspend with SIGUSR1 blocked. The watchdog's second signal,
// SIGUSR2, must end it, or the run stops here.
static void check_watchdog(void)
{
	u64 *mask = (u64 *)((u64)ARENA + 4096 * 63), was = *mask;
	*mask = 1UL << (SIGUSR1 - 1);
	if (!writable_code)
		sys(SYS_mprotect, CODE, 4096, 3);
	pc = CODE;
	EMIT(0x0f, 0x05);
	while (pc < CODE + 256)
		*pc++ = 0x90;
	EMIT(0xff, 0x25, 0, 0, 0, 0);
	*(u64 *)pc = (u64)op_return;
	if (!writable_code)
		sys(SYS_mprotect, CODE, 4096, 5);
	// A fixed stack: junk_stack would draw a random number and shift
	// every seed's operations from those of earlier versions.
	g_regs = (struct regs){.rax = 130 /* rt_sigsuspend */, .rdi = (u64)mask, .rsi = 8, .rsp = (u64)ARENA + ARENA_SIZE / 2};
	kind = "watchdog check";
	u64 usr2 = faults[12];
	g_fault = 0;
	run_op();
	install_handlers(0);
	*mask = was; // the arena as earlier versions left it
	// (SIGUSR1, pending, follows once rt_sigsuspend restores the mask.)
	if (!g_fault || faults[12] == usr2)
		die("the watchdog did not end an rt_sigsuspend blocking SIGUSR1 with SIGUSR2");
}

static void open_some_files(void)
{
	int p[2];
	sys(SYS_openat, -100, "/init", 0);
	sys(SYS_pipe, p, 0, 0);
	sys(SYS_eventfd2, 0, 0, 0);
	sys(SYS_openat, -100, "/dev/null", 2);
	sys6(SYS_openat, -100, (u64)"/tmp/hostile", 0102 /* O_RDWR|O_CREAT */, 0600, 0, 0);
}

void cmain(u64 *sp)
{
	u64 argc = sp[0];
	char **argv = (char **)(sp + 1);
	if (sys(SYS_fcntl, 1, 0 /* F_DUPFD */, LOGFD) != LOGFD) {
		sys(SYS_write, 1, "hostile: cannot keep a copy of stdout\n", 38);
		sys(SYS_exit_group, 3, 0, 0);
	}
	if (argc < 3)
		die("usage: hostile SEED OPS [v]");
	u64 seed = parse(argv[1]), ops = parse(argv[2]);
	u64 *aux = sp + 1 + argc + 1;
	while (*aux)
		aux++; // past the environment
	for (aux++; aux[0]; aux += 2)
		if (aux[0] == 33) // AT_SYSINFO_EHDR
			vdso = aux[1];
	if (argc > 3 && argv[3][0] == 'v')
		verbose_from = parse(argv[3] + 1);
	rng = seed * 0x9e3779b97f4a7c15UL + 1;
	__asm__ volatile("mov %%cs, %0" : "=r"(g_cs));
	__asm__ volatile("mov %%ss, %0" : "=r"(g_ss));
	g_code = (u64)CODE;
	if (sys6(SYS_mmap, (u64)ARENA, ARENA_SIZE, 3, 0x32 /* MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED */, -1, 0) != (i64)ARENA)
		die("mmap of the arena failed");
	if (sys6(SYS_mmap, (u64)CODE, 4096, 7, 0x32, -1, 0) != (i64)CODE) {
		writable_code = 0;
		if (sys6(SYS_mmap, (u64)CODE, 4096, 3, 0x32, -1, 0) != (i64)CODE)
			die("mmap of the code page failed");
	}
	for (u64 *w = (u64 *)ARENA; w < (u64 *)(ARENA + ARENA_SIZE); w += 1 + below(64))
		*w = value();
	pid = sys(SYS_getpid, 0, 0, 0);
	main_tid = sys(SYS_gettid, 0, 0, 0);
	install_handlers(1);
	open_some_files();
	start_thread(watchdog, wdstack, sizeof wdstack);
	race_rng = seed * 0xd1b54a32d192ed03UL + 7;
	start_thread(racer, racestack, sizeof racestack);
	check_watchdog();
	out("hostile: seed ");
	outnum(seed, 10);
	out(", ");
	outnum(ops, 10);
	out(" operations\n");
	u64 start = now_ms();
	for (u64 i = 0; i < ops; i++) {
		if (i % 10000 == 0 && i) {
			out("hostile: seed ");
			outnum(seed, 10);
			out(" op ");
			outnum(i, 10);
			out("\n");
		}
		one(i);
		g_ops = i + 1;
		if (i % 1024 == 1023) {
			// Descriptors and playground mappings the operations made.
			for (int fd = 11; fd < 64; fd++)
				sys(SYS_close, fd, 0, 0);
			sys(SYS_munmap, PLAY, PLAY_SIZE, 0);
		}
	}
	u64 nf = 0;
	for (int s = 1; s <= NSIG; s++)
		nf += faults[s];
	out("hostile: signals");
	for (int s = 1; s <= NSIG; s++)
		if (faults[s]) {
			out(" ");
			outnum(s, 10);
			out(":");
			outnum(faults[s], 10);
		}
	out("\nhostile: done seed=");
	outnum(seed, 10);
	out(" ops=");
	outnum(ops, 10);
	out(" faults=");
	outnum(nf, 10);
	out(" racer=");
	outnum(race_ops, 10);
	out(" ms=");
	outnum(now_ms() - start, 10);
	out("\n");
	sys(SYS_exit_group, 0, 0, 0);
}
