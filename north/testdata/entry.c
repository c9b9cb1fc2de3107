// entry.c: one static program per class of hostile user-mode entry into
// the kernel. north/entry_vm_test.go runs the same binary natively on
// Linux and under Cocoon and compares what it prints and how it ends.
// Every line it prints starts with "entry: ". Usage: entry CLASS.
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

// RFLAGS bits (Intel SDM vol. 1, 3.4.3).
#define CF 0x1UL
#define PF 0x4UL
#define AF 0x10UL
#define ZF 0x40UL
#define SF 0x80UL
#define TF 0x100UL
#define DF 0x400UL
#define OF 0x800UL
#define IOPL 0x3000UL
#define NT 0x4000UL
#define AC 0x40000UL
#define ID 0x200000UL

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...) {
	char buf[256];
	int n = snprintf(buf, sizeof buf, "entry: ");
	va_list ap;
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof buf - n, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof buf - 2)
		n = sizeof buf - 2;
	buf[n++] = '\n';
	write(1, buf, n);
}

// flags_syscall sets RFLAGS to set (plus IF and the fixed bit 1) with popfq, makes
// the raw system call nr (getpid or write of msg), reads RFLAGS back and
// clears DF and AC again for the C code that follows.
static uint64_t flags_syscall(uint64_t set, long nr, const char *msg, long len, long *ret) {
	uint64_t after;
	long r;
	__asm__ volatile(
		"pushq %[set]\n\t"
		"popfq\n\t"
		"syscall\n\t"
		"pushfq\n\t"
		"popq %[after]\n\t"
		"cld\n\t"
		"pushfq\n\t"
		"andq $~0x44000, (%%rsp)\n\t"
		"popfq\n\t"
		: [after] "=&r"(after), "=a"(r)
		: [set] "r"(set | 0x202), "a"(nr), "D"(1L), "S"(msg), "d"(len)
		: "rcx", "r11", "memory", "cc");
	*ret = r;
	return after;
}

// Flags the application keeps (what the report compares): everything
// popfq may set at CPL3 but TF, which the tf class covers.
#define SHOWN (CF | PF | AF | ZF | SF | DF | OF | IOPL | NT | AC | ID)

static void class_flags(void) {
	static const struct {
		const char *name;
		uint64_t bit;
	} flags[] = {
		{"CF", CF}, {"PF", PF}, {"AF", AF}, {"ZF", ZF}, {"SF", SF}, {"DF", DF},
		{"OF", OF}, {"IOPL", IOPL}, {"NT", NT}, {"AC", AC}, {"ID", ID},
		{"all", CF | PF | AF | ZF | SF | DF | OF | IOPL | NT | AC | ID},
	};
	for (unsigned i = 0; i < sizeof flags / sizeof flags[0]; i++) {
		long r;
		static const char msg[] = "entry: write with flags set\n";
		uint64_t after = flags_syscall(flags[i].bit, SYS_write, msg, sizeof msg - 1, &r);
		say("%s then write: returned %ld, flags after %#lx", flags[i].name, r, after & SHOWN);
		after = flags_syscall(flags[i].bit, SYS_getpid, 0, 0, &r);
		say("%s then getpid: pid>0 %d, flags after %#lx", flags[i].name, r > 0, after & SHOWN);
	}
	// Page faults the kernel serves while DF and AC are set: the kernel
	// must clear the pages forwards, not backwards over its own memory.
	enum { pages = 64 };
	volatile unsigned char *p = mmap(0, pages * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		say("mmap failed");
		exit(1);
	}
	for (int i = 0; i < pages; i++) {
		volatile unsigned char *q = p + i * 4096 + 100;
		__asm__ volatile(
			"pushfq\n\t"
			"orq $0x40400, (%%rsp)\n\t"
			"popfq\n\t"
			"movb $1, (%0)\n\t"
			"cld\n\t"
			"pushfq\n\t"
			"andq $~0x40000, (%%rsp)\n\t"
			"popfq\n\t"
			:
			: "r"(q)
			: "memory", "cc");
	}
	int bad = 0;
	for (int i = 0; i < pages * 4096; i++)
		bad += p[i] != (i % 4096 == 100);
	say("page faults with DF and AC set: %d bytes wrong", bad);
}

static sigjmp_buf jb;
static volatile int trapped;

static void report(int sig, siginfo_t *si, void *ctx) {
	ucontext_t *uc = ctx;
	say("  signal %d code %#x addr-is-rip %d addr-zero %d trapno %lld err %#llx", sig, si->si_code,
	    si->si_addr == (void *)uc->uc_mcontext.gregs[REG_RIP], si->si_addr == 0,
	    (long long)uc->uc_mcontext.gregs[REG_TRAPNO], (long long)uc->uc_mcontext.gregs[REG_ERR]);
}

static void onfault(int sig, siginfo_t *si, void *ctx) {
	report(sig, si, ctx);
	siglongjmp(jb, 1);
}

static void handle(int sig, void (*fn)(int, siginfo_t *, void *)) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(sig, &sa, 0);
}

// int3 and int $3 resume after the instruction (a trap): the handler
// returns.
static void onint3(int sig, siginfo_t *si, void *ctx) {
	report(sig, si, ctx);
	trapped++;
}

static void class_int3(void) {
	handle(SIGTRAP, onint3);
	__asm__ volatile("int3");
	__asm__ volatile(".byte 0xcd, 0x03"); // int $3
	say("int3: %d traps, resumed", trapped);
}

// class_intn executes int $n for every n but 0x80 (a 32-bit system call
// on Linux with IA32 emulation, which Cocoon does not offer) from a code
// page of its own, and reports the signal each one raises.
static void class_intn(void) {
	unsigned char *code = mmap(0, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (code == MAP_FAILED) {
		say("mmap failed");
		exit(1);
	}
	int sigs[] = {SIGSEGV, SIGTRAP, SIGILL, SIGBUS, SIGFPE};
	for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		handle(sigs[i], onfault);
	for (int n = 0; n < 256; n++) {
		if (n == 0x80)
			continue;
		code[0] = 0xcd;
		code[1] = n;
		code[2] = 0xc3; // ret
		say("int $%d:", n);
		if (sigsetjmp(jb, 1) == 0) {
			((void (*)(void))code)();
			say("  returned");
		}
	}
}

// class_tf single-steps: TF set by popfq traps after each instruction
// until the handler clears it.
static volatile int steps;

static void onstep(int sig, siginfo_t *si, void *ctx) {
	ucontext_t *uc = ctx;
	if (steps++ == 0)
		report(sig, si, ctx);
	if (steps >= 3)
		uc->uc_mcontext.gregs[REG_EFL] &= ~TF;
}

static void class_tf(void) {
	handle(SIGTRAP, onstep);
	__asm__ volatile(
		"pushfq\n\t"
		"orq $0x100, (%%rsp)\n\t"
		"popfq\n\t"
		"nop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop\n\t"
		::: "memory", "cc");
	say("tf: %d single-step traps", steps);
	// TF and then a system call: the kernel must not trap on the way in
	// and the step resumes after the return.
	steps = 0;
	long r;
	__asm__ volatile(
		"pushfq\n\t"
		"orq $0x100, (%%rsp)\n\t"
		"popfq\n\t"
		"syscall\n\t"
		"nop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop\n\t"
		: "=a"(r)
		: "a"((long)SYS_getpid)
		: "rcx", "r11", "memory", "cc");
	say("tf then getpid: pid>0 %d, %d single-step traps", r > 0, steps);
}

// class_int3kill ends on an int3 with no handler: SIGTRAP's default
// action kills the process.
static void class_int3kill(void) {
	say("int3 without a handler");
	__asm__ volatile("int3");
	say("survived int3");
}

// class_blocked blocks forever: a write to a full pipe no reader drains.
static void class_blocked(void) {
	int fds[2];
	if (pipe(fds) != 0) {
		say("pipe failed");
		exit(1);
	}
	static char buf[4096];
	long total = 0;
	say("filling a pipe nobody reads");
	for (;;) {
		long n = write(fds[1], buf, sizeof buf);
		if (n < 0)
			break;
		total += n;
	}
	say("write failed after %ld bytes", total);
}

// class_mapfixed fills the address space's mapping table (alternating
// protections until mprotect fails, which on Linux it does not before
// the pages run out), then maps one page with MAP_FIXED in the middle of
// a written region. Either the mapping succeeds and the page reads zero,
// or it fails and the old contents are intact: never both lost.
static void class_mapfixed(void) {
	enum { pages = 4096, head = 16 };
	long ps = 4096;
	unsigned char *p = mmap(0, pages * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		say("mmap failed");
		exit(1);
	}
	for (int i = head; i < pages; i += 2)
		if (mprotect(p + i * ps, ps, PROT_READ) != 0)
			break;
	memset(p + 5 * ps, 0xab, ps);
	void *q = mmap(p + 5 * ps, ps, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	unsigned char want = q == MAP_FAILED ? 0xab : 0;
	int bad = 0;
	for (long i = 0; i < ps; i++)
		bad += p[5 * ps + i] != want;
	say("MAP_FIXED over a written page: %s", bad == 0 ? "consistent" : "old page lost");
	bad = 0;
	for (long i = 0; i < ps; i++)
		bad += p[4 * ps + i] != 0 || p[6 * ps + i] != 0;
	say("neighbours untouched: %s", bad == 0 ? "yes" : "no");
}

// class_mxcsr makes system calls that have the kernel allocate and
// format (reading /proc/self/status) with an MXCSR that unmasks every
// SIMD floating-point exception and rounds toward zero with FTZ and DAZ
// (Intel SDM vol. 1, 10.2.3). The kernel must neither run its own
// floating-point code under that control word (its garbage collector's
// pacing computes in float64: a #XM in the kernel) nor change it: MXCSR
// is read back after each call.
static void class_mxcsr(void) {
	const uint32_t hostile = 0x6000 | 0x8000 | 0x40; // RC toward zero, FTZ, DAZ, no mask
	uint32_t saved, set = hostile, now = hostile;
	char buf[4096];
	int i;
	__asm__ volatile("stmxcsr %0" : "=m"(saved));
	for (i = 0; i < 20000 && now == hostile; i++) {
		__asm__ volatile("ldmxcsr %0" : : "m"(set));
		int fd = open("/proc/self/status", O_RDONLY);
		if (fd >= 0) {
			while (read(fd, buf, sizeof buf) > 0)
				;
			close(fd);
		}
		__asm__ volatile("stmxcsr %0" : "=m"(now));
		__asm__ volatile("ldmxcsr %0" : : "m"(saved));
	}
	if (now == hostile)
		say("MXCSR %#x kept across %d rounds of open/read/close", hostile, i);
	else
		say("MXCSR %#x became %#x after round %d", hostile, now, i);
}

// class_blocked2 blocks two threads forever: one reads a pipe nobody
// writes, the main thread joins it.
static void *reader(void *arg) {
	char c;
	read(*(int *)arg, &c, 1);
	return 0;
}

static void class_blocked2(void) {
	static int fds[2];
	if (pipe(fds) != 0) {
		say("pipe failed");
		exit(1);
	}
	pthread_t th;
	pthread_create(&th, 0, reader, &fds[0]);
	say("joining a thread that reads a pipe nobody writes");
	pthread_join(th, 0);
	say("joined");
}

int main(int argc, char **argv) {
	if (argc < 2) {
		say("usage: entry flags|int3|intn|tf|int3kill|blocked|blocked2|mapfixed|mxcsr");
		return 2;
	}
	const char *c = argv[1];
	if (!strcmp(c, "flags"))
		class_flags();
	else if (!strcmp(c, "int3"))
		class_int3();
	else if (!strcmp(c, "intn"))
		class_intn();
	else if (!strcmp(c, "tf"))
		class_tf();
	else if (!strcmp(c, "int3kill"))
		class_int3kill();
	else if (!strcmp(c, "blocked"))
		class_blocked();
	else if (!strcmp(c, "blocked2"))
		class_blocked2();
	else if (!strcmp(c, "mapfixed"))
		class_mapfixed();
	else if (!strcmp(c, "mxcsr"))
		class_mxcsr();
	else {
		say("unknown class %s", c);
		return 2;
	}
	say("done");
	return 0;
}
