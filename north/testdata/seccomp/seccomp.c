// seccomp: system call filters (seccomp(2), prctl PR_SET_SECCOMP) run
// natively and inside Cocoon; the outputs are compared. Each case runs in
// a child of its own, whose end (exit status or signal) is printed.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

// say writes a line with write(2) alone: a child in strict mode may not
// call anything else, and nothing is left in a buffer at a kill.
static void say(const char *fmt, ...) {
	char b[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b, sizeof b, fmt, ap);
	va_end(ap);
	if (write(1, b, n) < 0)
		_exit(99);
}

static long sc(int op, unsigned flags, void *arg) { return syscall(SYS_seccomp, op, flags, arg); }

// res prints a call's result as Linux reports it: the value, or -1 and
// the errno's name.
static void res(const char *what, long r) {
	if (r == -1)
		say("%s = -1 %s\n", what, strerrorname_np(errno) ? strerrorname_np(errno) : "?");
	else
		say("%s = %ld\n", what, r);
}

#define LD_NR BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))

// only is a filter that returns ret for system call nr and allows the rest.
static int install(struct sock_filter *f, unsigned short n, unsigned flags) {
	struct sock_fprog p = {n, f};
	return sc(SECCOMP_SET_MODE_FILTER, flags, &p);
}

static int only(int nr, unsigned ret) {
	struct sock_filter f[] = {
		LD_NR,
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, ret),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	return install(f, 4, 0);
}

static void nnp(void) {
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		say("FAIL no_new_privs\n");
}

static void status_lines(const char *who) {
	char b[4096];
	int fd = open("/proc/self/status", O_RDONLY);
	int n = fd < 0 ? -1 : read(fd, b, sizeof b - 1);
	if (n < 0) {
		say("%s: FAIL /proc/self/status\n", who);
		return;
	}
	close(fd);
	b[n] = 0;
	for (char *l = strtok(b, "\n"); l; l = strtok(NULL, "\n"))
		if (!strncmp(l, "Seccomp", 7) || !strncmp(l, "NoNewPrivs", 10))
			say("%s: %s\n", who, l);
}

// run runs f in a child and prints how the child ended.
static void run(const char *name, void (*f)(void)) {
	say("-- %s\n", name);
	pid_t c = fork();
	if (c == 0) {
		f();
		_exit(0);
	}
	int st;
	if (waitpid(c, &st, 0) != c) {
		say("FAIL waitpid\n");
		return;
	}
	if (WIFEXITED(st))
		say("%s: exited %d\n", name, WEXITSTATUS(st));
	else
		say("%s: killed by signal %d core %d\n", name, WTERMSIG(st), WCOREDUMP(st) ? 1 : 0);
}

static void strict(void) {
	res("PR_GET_SECCOMP", prctl(PR_GET_SECCOMP));
	res("strict", prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT));
	say("write allowed\n");
	syscall(SYS_getpid);
	say("FAIL getpid allowed in strict mode\n");
}

static void strict_seccomp(void) {
	res("SECCOMP_SET_MODE_STRICT flags 1", sc(SECCOMP_SET_MODE_STRICT, 1, NULL));
	res("SECCOMP_SET_MODE_STRICT", sc(SECCOMP_SET_MODE_STRICT, 0, NULL));
	say("write allowed\n");
	syscall(SYS_exit, 3); // exit is allowed, exit_group is not
}

static void strict_exit_group(void) {
	res("strict", prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT));
	syscall(SYS_exit_group, 4);
}

static void errno_filter(void) {
	nnp();
	res("install ERRNO(EPERM) getpid", only(SYS_getpid, SECCOMP_RET_ERRNO | EPERM));
	res("getpid", syscall(SYS_getpid));
	res("install ERRNO(5000) getppid", only(SYS_getppid, SECCOMP_RET_ERRNO | 5000));
	long r = syscall(SYS_getppid);
	say("getppid = %ld errno %d\n", r, errno);
	res("install ERRNO(0) umask", only(SYS_umask, SECCOMP_RET_ERRNO | 0));
	res("umask(077)", syscall(SYS_umask, 077));
	res("umask(0) (077 was not set)", syscall(SYS_umask, 0));
	res("PR_GET_SECCOMP", prctl(PR_GET_SECCOMP));
	status_lines("errno");
}

static void sigsys(int sig, siginfo_t *si, void *uc) {
	ucontext_t *u = uc;
	// si_call_addr is where the call returns to, the frame's RIP; the
	// syscall instruction (0f 05) is just before it.
	unsigned char *ip = si->si_call_addr;
	say("SIGSYS %d si_code %d si_syscall %d si_arch %#x si_errno %d call_addr %s rax %lld\n", sig, si->si_code,
	    si->si_syscall, si->si_arch, si->si_errno,
	    (long long)ip == u->uc_mcontext.gregs[REG_RIP] && ip[-2] == 0x0f && ip[-1] == 0x05 ? "= rip, after syscall" : "FAIL",
	    (long long)u->uc_mcontext.gregs[REG_RAX]);
}

static void trap(void) {
	struct sigaction sa = {.sa_sigaction = sigsys, .sa_flags = SA_SIGINFO};
	sigaction(SIGSYS, &sa, NULL);
	nnp();
	res("install TRAP(42) getpid", only(SYS_getpid, SECCOMP_RET_TRAP | 42));
	res("getpid (after the handler)", syscall(SYS_getpid));
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGSYS);
	sigprocmask(SIG_BLOCK, &s, NULL);
	say("SIGSYS blocked\n");
	syscall(SYS_getpid);
	say("FAIL survived a blocked SIGSYS trap\n");
}

static void kill_process(void) {
	nnp();
	struct sigaction sa = {.sa_sigaction = sigsys, .sa_flags = SA_SIGINFO};
	sigaction(SIGSYS, &sa, NULL); // no use: the kill is forced
	only(SYS_getpid, SECCOMP_RET_KILL_PROCESS);
	syscall(SYS_getpid);
	say("FAIL survived KILL_PROCESS\n");
}

static void kill_thread(void) {
	nnp();
	only(SYS_getpid, SECCOMP_RET_KILL_THREAD);
	syscall(SYS_getpid);
	say("FAIL survived KILL_THREAD\n");
}

static void kill_unknown(void) {
	nnp();
	only(SYS_getpid, 0x00010000);
	syscall(SYS_getpid);
	say("FAIL survived an unknown action\n");
}

static void *call_getpid(void *arg) {
	syscall(SYS_getpid);
	say("thread: FAIL survived\n");
	return NULL;
}

static void kill_thread_mt(void) {
	nnp();
	only(SYS_getpid, SECCOMP_RET_KILL_THREAD);
	pthread_t th;
	pthread_create(&th, NULL, call_getpid, NULL);
	pthread_join(th, NULL);
	say("main thread: alive after its thread was killed\n");
	_exit(7);
}

static void kill_process_mt(void) {
	nnp();
	only(SYS_getpid, SECCOMP_RET_KILL_PROCESS);
	pthread_t th;
	pthread_create(&th, NULL, call_getpid, NULL);
	pthread_join(th, NULL);
	say("FAIL main thread survived KILL_PROCESS\n");
}

static int tsync_pipe[2];

static void *tsync_thread(void *arg) {
	char c;
	if (read(tsync_pipe[0], &c, 1) != 1)
		say("FAIL read\n");
	res("thread getpid (TSYNC)", syscall(SYS_getpid));
	res("thread PR_GET_NO_NEW_PRIVS (TSYNC)", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	return NULL;
}

static void tsync(void) {
	if (pipe(tsync_pipe))
		say("FAIL pipe\n");
	pthread_t th;
	pthread_create(&th, NULL, tsync_thread, NULL);
	nnp(); // this thread's only
	struct sock_filter f[] = {
		LD_NR,
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getpid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EXDEV),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	res("install TSYNC", install(f, 4, SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW));
	if (write(tsync_pipe[1], "x", 1) != 1)
		say("FAIL write\n");
	pthread_join(th, NULL);
}

static long own_tid;
static int own_pipe[2], own_done[2];

static void *own_filter_thread(void *arg) {
	own_tid = syscall(SYS_gettid);
	nnp();
	only(SYS_getppid, SECCOMP_RET_ERRNO | EXDEV);
	char c = 'x';
	if (write(own_pipe[1], &c, 1) != 1 || read(own_done[0], &c, 1) != 1)
		say("FAIL pipe\n");
	return NULL;
}

// tsync_fail: a thread with a filter not of the caller's chain stops
// TSYNC: the call returns its thread ID, or ESRCH with TSYNC_ESRCH.
static void tsync_fail(void) {
	if (pipe(own_pipe) || pipe(own_done))
		say("FAIL pipe\n");
	pthread_t th;
	pthread_create(&th, NULL, own_filter_thread, NULL);
	char c;
	if (read(own_pipe[0], &c, 1) != 1)
		say("FAIL read\n");
	nnp();
	struct sock_filter f[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
	long r = install(f, 1, SECCOMP_FILTER_FLAG_TSYNC);
	say("TSYNC with a thread of another filter: %s\n", r == own_tid ? "its thread ID" : "FAIL");
	res("TSYNC|TSYNC_ESRCH", install(f, 1, SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_TSYNC_ESRCH));
	res("getppid (not synced)", syscall(SYS_getppid) > 0 ? 0 : -1);
	if (write(own_done[1], "x", 1) != 1)
		say("FAIL write\n");
	pthread_join(th, NULL);
	status_lines("tsync fail");
}

static void args(void) {
	nnp();
	// close(fd): E2BIG when args[0] is 1000 exactly (both halves).
	struct sock_filter f[] = {
		LD_NR,
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_close, 0, 5),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1000, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]) + 4),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | E2BIG),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	res("install args filter", install(f, 8, 0));
	res("close(1000)", syscall(SYS_close, 1000L));
	res("close(1001)", syscall(SYS_close, 1001L));
	res("close(0x1000003e8)", syscall(SYS_close, 0x1000003e8L));
	// arch and the length of seccomp_data.
	struct sock_filter g[] = {
		LD_NR,
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getpid, 0, 5),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0),
		BPF_STMT(BPF_ALU | BPF_OR | BPF_K, SECCOMP_RET_ERRNO),
		BPF_STMT(BPF_RET | BPF_A, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	res("install arch/len filter", install(g, 8, 0));
	res("getpid (errno = sizeof seccomp_data)", syscall(SYS_getpid));
	// The instruction pointer's high word: user addresses are below 2^47.
	struct sock_filter h[] = {
		LD_NR,
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 4),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, instruction_pointer) + 4),
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x8000, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOTTY),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EBADF),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	res("install ip filter", install(h, 7, 0));
	res("getppid (ip below 2^47)", syscall(SYS_getppid));
}

static void stacking(void) {
	nnp();
	only(SYS_getpid, SECCOMP_RET_ERRNO | 1);
	only(SYS_getpid, SECCOMP_RET_ERRNO | 2);
	res("getpid, ERRNO(1) then ERRNO(2) (the newest of equals)", syscall(SYS_getpid));
	only(SYS_getppid, SECCOMP_RET_TRACE);
	res("getppid, TRACE without a tracer", syscall(SYS_getppid));
	only(SYS_getppid, SECCOMP_RET_ERRNO | 3);
	only(SYS_getppid, SECCOMP_RET_LOG);
	res("getppid, TRACE, ERRNO(3), LOG", syscall(SYS_getppid));
	only(SYS_gettid, SECCOMP_RET_LOG);
	only(SYS_gettid, SECCOMP_RET_ALLOW);
	say("gettid, LOG and ALLOW: %s\n", syscall(SYS_gettid) > 0 ? "allowed" : "FAIL");
	status_lines("stacking");
	struct sigaction sa = {.sa_sigaction = sigsys, .sa_flags = SA_SIGINFO};
	sigaction(SIGSYS, &sa, NULL);
	only(SYS_getpid, SECCOMP_RET_TRAP | 9);
	res("getpid, ERRNO(1), ERRNO(2), TRAP(9)", syscall(SYS_getpid));
	only(SYS_getpid, SECCOMP_RET_ERRNO | 4);
	res("getpid, then ERRNO(4) (TRAP still wins)", syscall(SYS_getpid));
	only(SYS_getpid, SECCOMP_RET_KILL_THREAD);
	only(SYS_getpid, SECCOMP_RET_ALLOW);
	syscall(SYS_getpid);
	say("FAIL survived KILL_THREAD under ALLOW\n");
}

static struct sock_filter allow1[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};

static void eacces(void) {
	struct sock_fprog p = {1, allow1};
	if (setuid(65534))
		say("FAIL setuid\n");
	res("unprivileged, no no_new_privs: seccomp", sc(SECCOMP_SET_MODE_FILTER, 0, &p));
	res("unprivileged, no no_new_privs: prctl", prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &p));
	res("strict needs neither", prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT));
	syscall(SYS_exit, 0);
}

static void root_admin(void) {
	struct sock_fprog p = {1, allow1};
	res("root (CAP_SYS_ADMIN), no no_new_privs", sc(SECCOMP_SET_MODE_FILTER, 0, &p));
	res("PR_GET_NO_NEW_PRIVS", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	res("PR_GET_SECCOMP", prctl(PR_GET_SECCOMP));
}

static void einval(void) {
	nnp();
	struct sock_filter unaligned[] = {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 2), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
	res("LD W ABS k=2", install(unaligned, 2, 0));
	struct sock_filter past[] = {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 64), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
	res("LD W ABS k=64", install(past, 2, 0));
	struct sock_filter half[] = {BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 0), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
	res("LD H ABS", install(half, 2, 0));
	struct sock_filter ind[] = {BPF_STMT(BPF_LD | BPF_W | BPF_IND, 0), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
	res("LD W IND", install(ind, 2, 0));
	struct sock_filter anc[] = {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_PROTOCOL), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
	res("ancillary load", install(anc, 2, 0));
	struct sock_filter mod[] = {BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, 3), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
	res("ALU MOD", install(mod, 2, 0));
	struct sock_filter jump[] = {BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 5, 0), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
	res("jump out of range", install(jump, 2, 0));
	struct sock_filter noret[] = {LD_NR};
	res("no return", install(noret, 1, 0));
	res("length 0", install(allow1, 0, 0));
	res("unknown flag", install(allow1, 1, 1 << 12));
	res("unknown operation", sc(7, 0, NULL));
	res("bad fprog address", sc(SECCOMP_SET_MODE_FILTER, 0, (void *)8));
	struct sock_fprog bad = {1, (void *)8};
	res("bad filter address", sc(SECCOMP_SET_MODE_FILTER, 0, &bad));
	res("prctl mode 3", prctl(PR_SET_SECCOMP, 3, 0));
	res("install a valid filter", install(allow1, 1, 0));
	res("strict after filter", prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT));
	static struct sock_filter big[BPF_MAXINSNS + 1];
	for (int i = 0; i < BPF_MAXINSNS; i++)
		big[i] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_IMM, 0);
	big[BPF_MAXINSNS - 1] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	big[BPF_MAXINSNS] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	res("BPF_MAXINSNS+1 instructions", install(big, BPF_MAXINSNS + 1, 0));
	status_lines("einval");
}

static void maxpath(void) {
	nnp();
	static struct sock_filter big[BPF_MAXINSNS];
	for (int i = 0; i < BPF_MAXINSNS; i++)
		big[i] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_IMM, 0);
	big[BPF_MAXINSNS - 1] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	int i = 0;
	while (install(big, BPF_MAXINSNS, 0) == 0)
		i++;
	say("%d filters of %d instructions, then %s\n", i, BPF_MAXINSNS, strerrorname_np(errno));
	// Linux counts the programs as converted to eBPF (3 instructions
	// more, 2 for a return): 32768 - 7 * (4100 + 4) = 4040 fit, a
	// program of 4036 here.
	res("a 4037-instruction filter", install(big + BPF_MAXINSNS - 4037, 4037, 0));
	res("a 4036-instruction filter", install(big + BPF_MAXINSNS - 4036, 4036, 0));
	res("then one of 1", install(allow1, 1, 0));
}

// maxpath2 fills the path with jumps whose conversion takes more: a
// comparison with a negative constant (2), a jump to two other places
// (2), a division by X (5), a return of A (1).
static void maxpath2(void) {
	nnp();
	static struct sock_filter big[BPF_MAXINSNS];
	for (int i = 0; i < BPF_MAXINSNS; i++)
		big[i] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_IMM, 0);
	big[BPF_MAXINSNS - 1] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	for (int i = 0; i < 7; i++)
		install(big, BPF_MAXINSNS, 0);
	static struct sock_filter f[BPF_MAXINSNS];
	int kinds[][3] = {{2019, 2020, 0}, {2019, 2020, 1}, {809, 810, 2}, {2019, 2020, 3}};
	for (int k = 0; k < 4; k++)
		for (int j = 1; j >= 0; j--) {
			int n = kinds[k][j];
			for (int i = 0; i < n; i++) {
				switch (kinds[k][2]) {
				case 0: f[i] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x80000000, 0, 0); break;
				case 1: f[i] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 5, 1, 1); break;
				case 2: f[i] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_DIV | BPF_X, 0); break;
				case 3: f[i] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW); break;
				}
			}
			if (kinds[k][2] == 2)
				f[0] = (struct sock_filter)BPF_STMT(BPF_LDX | BPF_IMM, 1); // no division by 0
			f[n - 2] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_IMM, SECCOMP_RET_ALLOW);
			f[n - 1] = (struct sock_filter)BPF_STMT(BPF_RET | (kinds[k][2] == 3 ? BPF_A : BPF_K), SECCOMP_RET_ALLOW);
			// Each that fits is taken off again in a child of its own.
			pid_t c = fork();
			if (c == 0) {
				int r = install(f, n, 0);
				say("kind %d, %d instructions: %s\n", kinds[k][2], n, r ? strerrorname_np(errno) : "fits");
				_exit(0);
			}
			waitpid(c, NULL, 0);
		}
}

static void inherit(void) {
	nnp();
	only(SYS_getpid, SECCOMP_RET_ERRNO | EPERM);
	pid_t c = fork();
	if (c == 0) {
		res("forked child getpid", syscall(SYS_getpid));
		_exit(0);
	}
	waitpid(c, NULL, 0);
	execl("/proc/self/exe", "seccomp", "/tmp", "exec", (char *)NULL);
	say("FAIL execl: %s\n", strerror(errno));
}

static void avail(void) {
	static const struct {
		const char *name;
		unsigned a;
	} as[] = {
	    {"KILL_PROCESS", SECCOMP_RET_KILL_PROCESS},
	    {"KILL_THREAD", SECCOMP_RET_KILL_THREAD},
	    {"TRAP", SECCOMP_RET_TRAP},
	    {"ERRNO", SECCOMP_RET_ERRNO},
	    {"TRACE", SECCOMP_RET_TRACE},
	    {"LOG", SECCOMP_RET_LOG},
	    {"ALLOW", SECCOMP_RET_ALLOW},
	    {"0x00010000", 0x00010000},
	    {"ERRNO|5", SECCOMP_RET_ERRNO | 5},
	};
	for (unsigned i = 0; i < sizeof as / sizeof as[0]; i++) {
		char what[64];
		snprintf(what, sizeof what, "GET_ACTION_AVAIL %s", as[i].name);
		res(what, sc(SECCOMP_GET_ACTION_AVAIL, 0, (void *)&as[i].a));
	}
	res("GET_ACTION_AVAIL flags 1", sc(SECCOMP_GET_ACTION_AVAIL, 1, (void *)&as[0].a));
	res("GET_ACTION_AVAIL bad address", sc(SECCOMP_GET_ACTION_AVAIL, 0, (void *)8));
}

int main(int argc, char **argv) {
	if (argc > 2 && !strcmp(argv[2], "exec")) {
		res("after execve getpid", syscall(SYS_getpid));
		status_lines("after execve");
		return 0;
	}
	// No core dumps: the host may pipe them to a handler whatever
	// RLIMIT_CORE says, which would set WCOREDUMP.
	prctl(PR_SET_DUMPABLE, 0);
	status_lines("start");
	run("strict", strict);
	run("strict via seccomp", strict_seccomp);
	run("strict exit_group", strict_exit_group);
	run("errno", errno_filter);
	run("trap", trap);
	run("kill process", kill_process);
	run("kill thread", kill_thread);
	run("unknown action", kill_unknown);
	run("kill thread of two", kill_thread_mt);
	run("kill process of two", kill_process_mt);
	run("tsync", tsync);
	run("tsync failure", tsync_fail);
	run("args", args);
	run("stacking", stacking);
	run("eacces", eacces);
	run("root", root_admin);
	run("einval", einval);
	run("max path", maxpath);
	run("max path, other conversions", maxpath2);
	run("inherit", inherit);
	run("action avail", avail);
	say("seccomp: done\n");
	return 0;
}
