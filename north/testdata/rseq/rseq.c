// rseq: restartable sequences (rseq(2)): glibc's registration at thread
// start, the auxiliary vector entries, the system call's checks, the
// fields the kernel writes, a critical section aborted by a signal and
// by preemption, the SIGSEGV cases of a bad descriptor, and what fork,
// vfork, new threads and execve keep; run natively and in Cocoon, the
// output must match. CPU, node and concurrency IDs are printed only as
// valid or not (a host has several CPUs).
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef AT_RSEQ_FEATURE_SIZE
#define AT_RSEQ_FEATURE_SIZE 27
#define AT_RSEQ_ALIGN 28
#endif

// area is struct rseq as Linux 6.x lays it out (include/uapi/linux/rseq.h).
struct area {
	uint32_t cpu_id_start, cpu_id;
	uint64_t rseq_cs;
	uint32_t flags, node_id, mm_cid;
} __attribute__((aligned(32)));

struct desc {
	uint32_t version, flags;
	uint64_t start_ip, post_commit_offset, abort_ip;
} __attribute__((aligned(32)));

static long rs(void *a, uint32_t len, int flags, uint32_t sig) {
	long r = syscall(SYS_rseq, a, len, flags, sig);
	return r < 0 ? -errno : r;
}

static const char *en(long r) {
	switch (-r) {
	case 0: return "0";
	case EINVAL: return "EINVAL";
	case EPERM: return "EPERM";
	case EBUSY: return "EBUSY";
	case EFAULT: return "EFAULT";
	case ENOSYS: return "ENOSYS";
	}
	static char b[32];
	snprintf(b, sizeof b, "errno %ld", -r);
	return b;
}

static long ncpu;

static struct area *glibcArea(void) {
	return (struct area *)((char *)__builtin_thread_pointer() + __rseq_offset);
}

// ids tells whether the IDs in a are those of a CPU of this machine.
static const char *ids(struct area *a) {
	static char b[96];
	int32_t cpu = (int32_t)a->cpu_id;
	if (cpu < 0) {
		snprintf(b, sizeof b, "cpu_id %d cpu_id_start %u", cpu, a->cpu_id_start);
		return b;
	}
	snprintf(b, sizeof b, "cpu_id %s, cpu_id_start %s, node_id %s, mm_cid %s",
		cpu < ncpu ? "valid" : "invalid", a->cpu_id_start == (uint32_t)cpu ? "same" : "differs",
		a->node_id == 0 ? "0" : "other", a->mm_cid < (uint32_t)ncpu ? "valid" : "invalid");
	return b;
}

static volatile int handled;
static void onusr1(int s) { (void)s; handled++; }
static void onsegv(int s) { (void)s; static const char m[] = "SIGSEGV handler ran\n"; write(1, m, sizeof m - 1); }

// spin runs a critical section that never ends by itself: only an abort
// leaves it. Its descriptor is stored again and again inside the
// section, so a signal or preemption before the section starts (which
// clears rseq_cs) does not make it unabortable. It returns 1 once
// aborted.
static int spin(struct area *a) {
	int aborted = 0;
	__asm__ __volatile__(
		"leaq 3f(%%rip), %%rax\n\t"
		"2:\n\t"
		"movq %%rax, %[cs]\n\t"
		"jmp 2b\n\t"
		"4:\n\t"
		".long 0x53053053\n\t" // RSEQ_SIG before the abort handler
		"5:\n\t"
		"movl $1, %[ab]\n\t"
		".pushsection .data\n\t"
		".balign 32\n\t"
		"3:\n\t"
		".long 0, 0\n\t"
		".quad 2b, 4b - 2b, 5b\n\t"
		".popsection\n\t"
		: [cs] "=m"(a->rseq_cs), [ab] "=m"(aborted)
		:
		: "rax", "memory");
	return aborted;
}

static pthread_t mainThread;
static volatile int stop;

static void *signaller(void *arg) {
	(void)arg;
	while (!stop) {
		pthread_kill(mainThread, SIGUSR1);
		usleep(2000);
	}
	return 0;
}

static void *spinner(void *arg) {
	(void)arg;
	while (!stop)
		__asm__ __volatile__("" ::: "memory");
	return 0;
}

static void *threadStart(void *arg) {
	(void)arg;
	struct area *a = glibcArea();
	printf("new thread: %s\n", ids(a));
	printf("new thread registers again: %s\n", en(rs(a, 32, 0, RSEQ_SIG)));
	return 0;
}

// killedBy runs f in a child process and tells how it ended.
static void killedBy(const char *label, void (*f)(void)) {
	pid_t pid = fork();
	if (pid == 0) {
		f();
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	if (WIFSIGNALED(st))
		printf("%s: killed by %s\n", label, strsignal(WTERMSIG(st)));
	else
		printf("%s: exit %d\n", label, WEXITSTATUS(st));
}

static struct desc bad;

static void setBad(void) {
	glibcArea()->rseq_cs = (uint64_t)(uintptr_t)&bad;
}

static void badOnSignal(void) {
	setBad();
	raise(SIGUSR1);
}

static void badOnSegv(void) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = onsegv;
	sigaction(SIGSEGV, &sa, 0);
	setBad();
	raise(SIGSEGV);
}

static uint32_t areaFlags;

// registerReadOnly registers an area the kernel can read but not write:
// the registration succeeds, the return to user mode fails.
static void registerReadOnly(void) {
	void *ro = mmap(0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long r = rs(ro, 32, 0, RSEQ_SIG);
	printf("read-only area registered: %s\n", en(r));
}

static void badInSection(void) {
	glibcArea()->flags = areaFlags;
	stop = 0;
	mainThread = pthread_self();
	pthread_t th;
	pthread_create(&th, 0, signaller, 0);
	spin(glibcArea());
}

int main(int argc, char **argv) {
	setvbuf(stdout, 0, _IONBF, 0);
	ncpu = sysconf(_SC_NPROCESSORS_CONF);
	struct area *g = glibcArea();
	if (argc > 1 && strcmp(argv[1], "exec") == 0) {
		printf("after execve: size %u, %s\n", __rseq_size, ids(g));
		return 0;
	}
	printf("auxv: feature size %lu, align %lu\n", getauxval(AT_RSEQ_FEATURE_SIZE), getauxval(AT_RSEQ_ALIGN));
	printf("glibc: size %u, flags %u, %s, rseq_cs %#lx, flags %u\n", __rseq_size, __rseq_flags, ids(g), (unsigned long)g->rseq_cs, g->flags);
	int cpu = sched_getcpu();
	printf("sched_getcpu: %s\n", cpu >= 0 && cpu < ncpu ? "valid" : "invalid");

	// The checks of a second registration and of unregistration.
	uint32_t len = 32; // glibc registers its 32-byte area (__rseq_size tells the fields it uses)
	printf("register again: %s\n", en(rs(g, len, 0, RSEQ_SIG)));
	printf("register again, other sig: %s\n", en(rs(g, len, 0, 1)));
	printf("register again, other len: %s\n", en(rs(g, len + 32, 0, RSEQ_SIG)));
	static struct area mine[2];
	printf("register another: %s\n", en(rs(&mine[0], 32, 0, RSEQ_SIG)));
	printf("register, flags 2: %s\n", en(rs(g, len, 2, RSEQ_SIG)));
	printf("unregister, other sig: %s\n", en(rs(g, len, RSEQ_FLAG_UNREGISTER, 1)));
	printf("unregister, other area: %s\n", en(rs(&mine[0], len, RSEQ_FLAG_UNREGISTER, RSEQ_SIG)));
	printf("unregister, other len: %s\n", en(rs(g, 64, RSEQ_FLAG_UNREGISTER, RSEQ_SIG)));
	printf("unregister, flags 3: %s\n", en(rs(g, len, 3, RSEQ_SIG)));
	long r = rs(g, len, RSEQ_FLAG_UNREGISTER, RSEQ_SIG);
	printf("unregister: %s, %s\n", en(r), ids(g));
	printf("unregister twice: %s\n", en(rs(g, len, RSEQ_FLAG_UNREGISTER, RSEQ_SIG)));

	// First registrations: size and alignment, addresses.
	printf("register len 31: %s\n", en(rs(&mine[0], 31, 0, RSEQ_SIG)));
	printf("register len 32 misaligned: %s\n", en(rs((char *)&mine[0] + 16, 32, 0, RSEQ_SIG)));
	printf("register len 48 misaligned: %s\n", en(rs((char *)&mine[0] + 16, 48, 0, RSEQ_SIG)));
	printf("register kernel address: %s\n", en(rs((void *)0xffff800000000000ul, 32, 0, RSEQ_SIG)));
	printf("register near the top: %s\n", en(rs((void *)0x7ffffffff000ul, 32, 0, RSEQ_SIG)));
	void *unmapped = mmap(0, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf("register unmapped: %s\n", en(rs(unmapped, 32, 0, RSEQ_SIG)));
	killedBy("register a read-only area", registerReadOnly);
	mine[0].rseq_cs = 0x1234;
	mine[0].cpu_id = 77;
	r = rs(&mine[0], 64, 0, RSEQ_SIG);
	printf("register len 64: %s, rseq_cs %#lx, %s\n", en(r), (unsigned long)mine[0].rseq_cs, ids(&mine[0]));
	printf("unregister len 64: %s\n", en(rs(&mine[0], 64, RSEQ_FLAG_UNREGISTER, RSEQ_SIG)));

	// glibc's area again; the kernel rewrites the IDs and forgets a
	// descriptor the thread is not in when a signal is delivered.
	printf("register glibc's area: %s\n", en(rs(g, len, 0, RSEQ_SIG)));
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = onusr1;
	sigaction(SIGUSR1, &sa, 0);
	// A descriptor the thread is not in: a section at 0x1000, its
	// abort handler after a signature in data.
	static uint32_t sigword[2] = {RSEQ_SIG, 0};
	static struct desc good = {0, 0, 0x1000, 0x10, 0};
	good.abort_ip = (uint64_t)(uintptr_t)&sigword[1];
	g->cpu_id = 77;
	g->cpu_id_start = 78;
	g->rseq_cs = (uint64_t)(uintptr_t)&good;
	raise(SIGUSR1);
	printf("after a signal: %s, rseq_cs %#lx\n", ids(g), (unsigned long)g->rseq_cs);

	// A critical section aborted by a signal, then by preemption: on one
	// CPU with a busy thread beside it.
	stop = 0;
	mainThread = pthread_self();
	pthread_t th;
	pthread_create(&th, 0, signaller, 0);
	handled = 0;
	int ab = spin(g);
	stop = 1;
	pthread_join(th, 0);
	printf("aborted by a signal: %d, handler ran: %s, rseq_cs %#lx\n", ab, handled ? "yes" : "no", (unsigned long)g->rseq_cs);
	cpu_set_t set;
	sched_getaffinity(0, sizeof set, &set);
	int first = 0;
	while (!CPU_ISSET(first, &set))
		first++;
	CPU_ZERO(&set);
	CPU_SET(first, &set);
	sched_setaffinity(0, sizeof set, &set);
	stop = 0;
	handled = 0;
	pthread_create(&th, 0, spinner, 0);
	ab = spin(g);
	stop = 1;
	pthread_join(th, 0);
	printf("aborted by preemption: %d, signals: %d, %s\n", ab, handled, ids(g));

	// Bad descriptors: SIGSEGV when the kernel looks at them.
	struct { const char *name; struct desc d; } cases[] = {
		{"version 1", {1, 0, 0x1000, 0x10, 0x2000}},
		{"start past TASK_SIZE", {0, 0, 0x800000000000ul, 0x10, 0x2000}},
		{"section wraps", {0, 0, 0x1000, ~0ul - 0x100, 0x2000}},
		{"abort inside", {0, 0, 0x1000, 0x100, 0x1010}},
		{"abort unmapped", {0, 0, 0x1000, 0x10, 0x2000}},
		{"signature differs", {0, 0, 0x1000, 0x10, 0}},
	};
	for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		bad = cases[i].d;
		if (strcmp(cases[i].name, "signature differs") == 0)
			bad.abort_ip = (uint64_t)(uintptr_t)main + 16; // main's code is no signature
		char label[80];
		snprintf(label, sizeof label, "descriptor %s, signal", cases[i].name);
		killedBy(label, badOnSignal);
	}
	bad = (struct desc){0, 0, 0x1000, 0x10, 0x2000};
	bad.version = 1;
	killedBy("bad descriptor, SIGSEGV with a handler", badOnSegv);
	static uint32_t sigword2[2] = {RSEQ_SIG, 0};
	bad.version = 0;
	bad.abort_ip = (uint64_t)(uintptr_t)&sigword2[1];
	bad.flags = 1; // RSEQ_CS_FLAG_NO_RESTART_ON_PREEMPT, deprecated
	killedBy("deprecated flags, outside the section", badOnSignal);
	killedBy("fine descriptor, in the section", badInSection);
	areaFlags = 1;
	killedBy("area flags set, in the section", badInSection);

	// membarrier's rseq commands.
	printf("membarrier query rseq bits: %#lx\n", syscall(SYS_membarrier, 0, 0, 0) & (128 | 256));
	printf("membarrier rseq unregistered: %s\n", en(syscall(SYS_membarrier, 128, 0, 0) < 0 ? -errno : 0));
	printf("membarrier register rseq: %s\n", en(syscall(SYS_membarrier, 256, 0, 0) < 0 ? -errno : 0));
	printf("membarrier rseq: %s\n", en(syscall(SYS_membarrier, 128, 0, 0) < 0 ? -errno : 0));
	printf("membarrier rseq, cpu 0: %s\n", en(syscall(SYS_membarrier, 128, 1, 0) < 0 ? -errno : 0));
	printf("membarrier rseq, cpu 100000: %s\n", en(syscall(SYS_membarrier, 128, 1, 100000) < 0 ? -errno : 0));
	printf("membarrier registrations: %#lx\n", syscall(SYS_membarrier, 512, 0, 0));
	// The rseq registration shows the plain private one but does not
	// make its barrier (nor SYNC_CORE's) ready.
	printf("membarrier private, rseq registered: %s\n", en(syscall(SYS_membarrier, 8, 0, 0) < 0 ? -errno : 0));
	printf("membarrier sync core, rseq registered: %s\n", en(syscall(SYS_membarrier, 32, 0, 0) < 0 ? -errno : 0));

	// fork keeps the registration, vfork does not, execve makes a new one.
	pid_t pid = fork();
	if (pid == 0) {
		printf("fork child registers again: %s, %s\n", en(rs(g, len, 0, RSEQ_SIG)), ids(g));
		_exit(0);
	}
	waitpid(pid, 0, 0);
	static struct area forChild;
	pid = vfork();
	if (pid == 0)
		_exit(rs(&forChild, 32, 0, RSEQ_SIG) == 0 ? 0 : 1);
	int st;
	waitpid(pid, &st, 0);
	printf("vfork child registers another area: exit %d\n", WEXITSTATUS(st));
	pthread_create(&th, 0, threadStart, 0);
	pthread_join(th, 0);
	pid = fork();
	if (pid == 0) {
		execl("/proc/self/exe", "rseq", "exec", (char *)0);
		_exit(127);
	}
	waitpid(pid, 0, 0);
	printf("rseq: done\n");
	return 0;
}
