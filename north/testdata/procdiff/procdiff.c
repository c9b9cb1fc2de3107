// procdiff: processes as Linux runs them: job control on the controlling
// terminal (stops, SIGTTIN, SIGTTOU, tcsetpgrp), stop and continue
// reports, isolation between processes, thread and process names,
// PR_SET_PDEATHSIG, /proc/PID, System V shared memory and futexes across
// fork, execve from a threaded process. Its output must be the same
// natively (as a session leader with a terminal on fd 0) and inside
// Cocoon, where it is pid 1 and fd 0 is the console
// (north/procs_vm_test.go). Usage: procdiff DIR, or procdiff execd.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static void check(const char *what, long got, long want) {
	printf("%s: %s\n", what, got == want ? "ok" : "FAIL");
	if (got != want)
		printf("  got %ld want %ld (errno %d %s)\n", got, want, errno, strerror(errno));
}

// waitfor waits for pid with options, retrying on EINTR.
static int waitfor(pid_t pid, int options) {
	int st = -1;
	pid_t r;
	while ((r = waitpid(pid, &st, options)) < 0 && errno == EINTR)
		;
	if (r != pid)
		return -1;
	return st;
}

static void readfile(const char *path, char *buf, size_t n) {
	buf[0] = 0;
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return;
	ssize_t r = read(fd, buf, n - 1);
	buf[r > 0 ? r : 0] = 0;
	close(fd);
}

// statfield returns field n (1-based, as proc(5) numbers them) of
// /proc/PID/stat.
static long statfield(pid_t pid, int n, char *state) {
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	readfile(path, buf, sizeof buf);
	char *p = strrchr(buf, ')');
	if (!p)
		return -1;
	p += 2; // field 3, the state
	if (state)
		*state = *p;
	for (int f = 3; f < n; f++) {
		p = strchr(p, ' ');
		if (!p)
			return -1;
		p++;
	}
	return strtol(p, NULL, 10);
}

static void terminal(void) {
	check("session leader", getsid(0) == getpid() && getpgrp() == getpid(), 1);
	check("isatty 0", isatty(0), 1);
	check("tcgetpgrp is our group", tcgetpgrp(0), getpgrp());
	pid_t sid = -1;
	check("TIOCGSID", ioctl(0, TIOCGSID, &sid) == 0 && sid == getsid(0), 1);
	check("TIOCSCTTY already ours", ioctl(0, TIOCSCTTY, 0), 0);
	errno = 0;
	check("tcsetpgrp no such group", tcsetpgrp(0, 0x3ffffff0) < 0 ? errno : 0, ESRCH);
	int p[2];
	pipe(p);
	check("tcgetpgrp on a pipe", tcgetpgrp(p[0]) < 0 ? errno : 0, ENOTTY);
	close(p[0]);
	close(p[1]);
}

// jobs: a child in a background group is stopped by SIGTTOU when it sets
// the foreground group and by SIGTTIN when it reads the terminal; with
// SIGTTIN ignored its read fails with EIO; the parent moves the child to
// the foreground, continues it, and gets the terminal back.
static void jobs(void) {
	int sync[2];
	pipe(sync);
	pid_t c = fork();
	if (c == 0) {
		setpgid(0, 0);
		close(sync[1]);
		if (tcsetpgrp(0, getpgrp()) != 0) // SIGTTOU stops us; restarted once continued
			_exit(10);
		char b;
		read(sync[0], &b, 1); // the parent has seen us continue
		if (tcgetpgrp(0) != getpgrp())
			_exit(11);
		signal(SIGTTOU, SIG_IGN); // give the terminal back
		if (tcsetpgrp(0, getppid()) != 0)
			_exit(12);
		_exit(0);
	}
	setpgid(c, c);
	int st = waitfor(c, WUNTRACED);
	check("tcsetpgrp from the background: stopped", WIFSTOPPED(st), 1);
	check("  by SIGTTOU", WSTOPSIG(st), SIGTTOU);
	char state = 0;
	statfield(c, 3, &state);
	check("  /proc stat state T", state, 'T');
	check("foreground to the child", tcsetpgrp(0, c), 0);
	kill(-c, SIGCONT);
	st = waitfor(c, WCONTINUED);
	check("continued", WIFCONTINUED(st), 1);
	close(sync[0]);
	write(sync[1], "x", 1);
	close(sync[1]);
	st = waitfor(c, 0);
	check("child took and gave back the terminal", WIFEXITED(st) ? WEXITSTATUS(st) : 100 + st, 0);
	check("terminal is ours again", tcgetpgrp(0), getpgrp());

	c = fork();
	if (c == 0) {
		setpgid(0, 0);
		char b;
		read(0, &b, 1);
		_exit(20);
	}
	setpgid(c, c);
	st = waitfor(c, WUNTRACED);
	check("read from the background: stopped by SIGTTIN", WIFSTOPPED(st) && WSTOPSIG(st) == SIGTTIN, 1);
	kill(c, SIGKILL);
	st = waitfor(c, 0);
	check("  then SIGKILL", WIFSIGNALED(st) ? WTERMSIG(st) : -1, SIGKILL);

	c = fork();
	if (c == 0) {
		setpgid(0, 0);
		signal(SIGTTIN, SIG_IGN);
		char b;
		_exit(read(0, &b, 1) < 0 && errno == EIO ? 0 : 1);
	}
	setpgid(c, c);
	st = waitfor(c, 0);
	check("background read with SIGTTIN ignored: EIO", st, 0);
}

// The last SIGCHLD's siginfo, and how many arrived.
static volatile int chldCount, chldCode, chldStatus, chldPid;
static void onchld(int s, siginfo_t *si, void *uc) {
	(void)s;
	(void)uc;
	chldCode = si->si_code;
	chldStatus = si->si_status;
	chldPid = si->si_pid;
	chldCount++;
}

// nextchld waits (SIGCHLD blocked) for the next SIGCHLD to be handled.
static int nextchld(int seen, sigset_t *unblocked) {
	while (chldCount == seen)
		sigsuspend(unblocked);
	return chldCount;
}

// stops: SIGSTOP and SIGCONT, reported to waitpid, waitid and SIGCHLD; a
// read interrupted by the stop goes on after it.
static void stops(void) {
	sigset_t chld, old;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &old);
	struct sigaction sa = {0};
	sa.sa_sigaction = onchld;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGCHLD, &sa, NULL);
	int seen = chldCount;
	int p[2];
	pipe(p);
	pid_t c = fork();
	if (c == 0) {
		char b = 0;
		close(p[1]);
		ssize_t n = read(p[0], &b, 1); // blocks across the stop
		_exit(n == 1 ? b : 99);
	}
	close(p[0]);
	kill(c, SIGSTOP);
	int st = waitfor(c, WUNTRACED);
	check("SIGSTOP: stopped", WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP, 1);
	siginfo_t si;
	seen = nextchld(seen, &old);
	check("SIGCHLD for the stop: CLD_STOPPED, status SIGSTOP", chldCode == CLD_STOPPED && chldStatus == SIGSTOP && chldPid == c, 1);
	memset(&si, 0, sizeof si);
	check("waitid WSTOPPED|WNOHANG after the report", waitid(P_PID, c, &si, WSTOPPED | WNOHANG), 0);
	check("  nothing more", si.si_pid, 0);
	kill(c, SIGCONT);
	seen = nextchld(seen, &old);
	check("SIGCHLD for the continue: CLD_CONTINUED", chldCode == CLD_CONTINUED && chldStatus == SIGCONT, 1);
	memset(&si, 0, sizeof si);
	check("waitid WCONTINUED", waitid(P_PID, c, &si, WCONTINUED | WNOWAIT), 0);
	check("  CLD_CONTINUED", si.si_code == CLD_CONTINUED && si.si_pid == c, 1);
	st = waitfor(c, WCONTINUED);
	check("waitpid WCONTINUED", WIFCONTINUED(st), 1);
	write(p[1], "*", 1);
	st = waitfor(c, 0);
	check("read restarted after the stop", WIFEXITED(st) ? WEXITSTATUS(st) : -1, '*');
	close(p[1]);
	nextchld(seen, &old);
	check("SIGCHLD for the exit: CLD_EXITED", chldCode, CLD_EXITED);
	sigprocmask(SIG_SETMASK, &old, NULL);

	// SA_NOCLDSTOP: no SIGCHLD for stops, still for exits.
	sa.sa_handler = SIG_DFL;
	sa.sa_flags = SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
	sigprocmask(SIG_BLOCK, &chld, &old);
	c = fork();
	if (c == 0) {
		raise(SIGSTOP);
		_exit(3);
	}
	st = waitfor(c, WUNTRACED);
	check("raise(SIGSTOP)", WIFSTOPPED(st), 1);
	sigset_t pend;
	sigpending(&pend);
	check("SA_NOCLDSTOP: no SIGCHLD", sigismember(&pend, SIGCHLD), 0);
	kill(c, SIGCONT);
	st = waitfor(c, 0);
	check("  exits after SIGCONT", WIFEXITED(st) ? WEXITSTATUS(st) : -1, 3);
	sigprocmask(SIG_SETMASK, &old, NULL);
	sa.sa_flags = 0;
	sigaction(SIGCHLD, &sa, NULL);

	// SIGTSTP stops a process whose group has a parent outside it in the
	// session; a stopped process dies of SIGKILL.
	c = fork();
	if (c == 0) {
		setpgid(0, 0);
		for (;;)
			pause();
	}
	setpgid(c, c);
	kill(c, SIGTSTP);
	st = waitfor(c, WUNTRACED);
	check("SIGTSTP stops", WIFSTOPPED(st) && WSTOPSIG(st) == SIGTSTP, 1);
	kill(c, SIGKILL);
	st = waitfor(c, 0);
	check("  SIGKILL ends it", WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, 1);

	// Our own group is orphaned (our parent is in another session, or
	// there is none): SIGTSTP does nothing to it, and the SIGXCPU after
	// it ends the child.
	c = fork();
	if (c == 0) {
		for (;;)
			pause();
	}
	kill(c, SIGTSTP);
	kill(c, SIGXCPU);
	st = waitfor(c, WUNTRACED);
	check("SIGTSTP in an orphaned group: ignored", WIFSIGNALED(st) ? WTERMSIG(st) : -1, SIGXCPU);
}

static int global = 1;

// isolation: memory, descriptors and signals of one process are its own.
static void isolation(void) {
	char *heap = malloc(1 << 20);
	memset(heap, 'p', 1 << 20);
	int p[2];
	pipe(p);
	char path[] = "/tmp/procdiff.XXXXXX";
	int f = mkstemp(path);
	unlink(path);
	write(f, "0123456789", 10);
	lseek(f, 0, SEEK_SET);
	pid_t c = fork();
	if (c == 0) {
		int bad = 0;
		global = 2;
		memset(heap, 'c', 1 << 20);
		char b;
		read(p[0], &b, 1); // the parent wrote after fork
		bad |= global != 2 || heap[4096] != 'c';
		close(0); // closed here only
		close(p[1]);
		lseek(f, 5, SEEK_SET); // one open file description: the parent sees it
		_exit(bad);
	}
	global = 3;
	heap[4096] = 'P';
	write(p[1], "x", 1);
	int st = waitfor(c, 0);
	check("child saw its own memory", st, 0);
	check("parent's memory unchanged by the child", global == 3 && heap[4096] == 'P' && heap[0] == 'p', 1);
	check("fd closed in the child is open here", fcntl(0, F_GETFD) >= 0 && fcntl(p[1], F_GETFD) >= 0, 1);
	check("file offset shared with the child", lseek(f, 0, SEEK_CUR), 5);
	close(f);
	close(p[0]);
	close(p[1]);
	free(heap);

	// A crash is the child's alone.
	c = fork();
	if (c == 0) {
		*(volatile int *)8 = 1;
		_exit(0);
	}
	st = waitfor(c, 0);
	check("crashing child: SIGSEGV", WIFSIGNALED(st) ? WTERMSIG(st) : -1, SIGSEGV);

	// Signals to another process group reach it alone.
	pid_t a = fork();
	if (a == 0) {
		setpgid(0, 0);
		for (;;)
			pause();
	}
	setpgid(a, a);
	pid_t b = fork();
	if (b == 0) {
		setpgid(0, 0);
		for (;;)
			pause();
	}
	setpgid(b, b);
	check("kill(-group)", kill(-a, SIGTERM), 0);
	st = waitfor(a, 0);
	check("  ends the group", WIFSIGNALED(st) ? WTERMSIG(st) : -1, SIGTERM);
	check("  not the other group", waitpid(b, &st, WNOHANG), 0);
	check("  nor us", kill(getpid(), 0), 0);
	kill(-b, SIGKILL);
	waitfor(b, 0);
	errno = 0;
	check("kill a gone group: ESRCH", kill(-a, SIGTERM) < 0 ? errno : 0, ESRCH);
}

static pid_t deathchild;
static int deathpipe[2];

static void *forker(void *arg) {
	(void)arg;
	prctl(PR_SET_NAME, "forker");
	deathchild = fork();
	if (deathchild == 0) {
		prctl(PR_SET_PDEATHSIG, SIGUSR1);
		write(deathpipe[1], "r", 1);
		for (;;)
			pause();
	}
	char b;
	read(deathpipe[0], &b, 1); // the child has set its signal
	return NULL;               // this thread, its parent, exits
}

static void *namer(void *arg) {
	prctl(PR_SET_NAME, "worker-thread-with-a-long-name");
	char path[64], buf[64];
	snprintf(path, sizeof path, "/proc/self/task/%ld/comm", (long)syscall(SYS_gettid));
	readfile(path, buf, sizeof buf);
	strcpy(arg, buf);
	return NULL;
}

static void names(void) {
	char name[16] = {0}, buf[256];
	prctl(PR_SET_NAME, "procmain");
	prctl(PR_GET_NAME, name);
	check("PR_GET_NAME", strcmp(name, "procmain"), 0);
	readfile("/proc/self/comm", buf, sizeof buf);
	check("/proc/self/comm", strcmp(buf, "procmain\n"), 0);
	char tbuf[64] = {0};
	pthread_t th;
	pthread_create(&th, NULL, namer, tbuf);
	pthread_join(th, NULL);
	check("thread's comm, cut to 15 bytes", strcmp(tbuf, "worker-thread-w\n"), 0);
	readfile("/proc/self/comm", buf, sizeof buf);
	check("process comm unchanged", strcmp(buf, "procmain\n"), 0);

	// PR_SET_PDEATHSIG: the signal comes when the thread that forked
	// the child exits.
	pipe(deathpipe);
	pthread_create(&th, NULL, forker, NULL);
	pthread_join(th, NULL);
	int st = waitfor(deathchild, 0);
	check("PR_SET_PDEATHSIG on the parent thread's exit", WIFSIGNALED(st) ? WTERMSIG(st) : -1, SIGUSR1);
	int sig = -1;
	prctl(PR_SET_PDEATHSIG, SIGHUP);
	prctl(PR_GET_PDEATHSIG, &sig);
	check("PR_GET_PDEATHSIG", sig, SIGHUP);
	prctl(PR_SET_PDEATHSIG, 0);
	check("PR_SET_PDEATHSIG bad signal", prctl(PR_SET_PDEATHSIG, 99) < 0 ? errno : 0, EINVAL);
	pid_t c = fork();
	if (c == 0) {
		int s = -1;
		prctl(PR_GET_PDEATHSIG, &s);
		_exit(s);
	}
	st = waitfor(c, 0);
	check("fork clears the parent-death signal", WEXITSTATUS(st), 0);
}

// procfs: /proc/PID of another process, and /proc/self.
static void procfs(void) {
	char buf[4096], path[128];
	ssize_t n = readlink("/proc/self", buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = 0;
	check("/proc/self is our pid", atoi(buf), getpid());
	int p[2];
	pipe(p);
	pid_t c = fork();
	if (c == 0) {
		prctl(PR_SET_NAME, "kid");
		close(p[1]);
		char b;
		read(p[0], &b, 1);
		char *argv[] = {"/proc/self/exe", "execd", "one two", "three", NULL};
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	close(p[0]);
	// Wait until the child has named itself and sleeps in read.
	char state = 0;
	for (int i = 0; i < 30000; i++) {
		snprintf(path, sizeof path, "/proc/%d/comm", c);
		readfile(path, buf, sizeof buf);
		statfield(c, 3, &state);
		if (strcmp(buf, "kid\n") == 0 && state == 'S')
			break;
		usleep(1000);
	}
	check("/proc/PID/comm", strcmp(buf, "kid\n"), 0);
	check("/proc/PID/stat state S", state, 'S');
	check("/proc/PID/stat ppid", statfield(c, 4, NULL), getpid());
	check("/proc/PID/stat pgrp", statfield(c, 5, NULL), getpgrp());
	check("/proc/PID/stat session", statfield(c, 6, NULL), getsid(0));
	check("/proc/PID/stat tpgid", statfield(c, 8, NULL), tcgetpgrp(0));
	check("/proc/PID/stat num_threads", statfield(c, 20, NULL), 1);
	snprintf(path, sizeof path, "/proc/%d/status", c);
	readfile(path, buf, sizeof buf);
	char want[64];
	snprintf(want, sizeof want, "\nPPid:\t%d\n", getpid());
	check("/proc/PID/status PPid", strstr(buf, want) != NULL, 1);
	check("/proc/PID/status Name", strncmp(buf, "Name:\tkid\n", 10), 0);
	char exe1[256], exe2[256];
	snprintf(path, sizeof path, "/proc/%d/exe", c);
	n = readlink(path, exe1, sizeof exe1 - 1);
	exe1[n > 0 ? n : 0] = 0;
	n = readlink("/proc/self/exe", exe2, sizeof exe2 - 1);
	exe2[n > 0 ? n : 0] = 0;
	check("/proc/PID/exe", n > 0 && strcmp(exe1, exe2) == 0, 1);
	snprintf(path, sizeof path, "/proc/%d/cwd", c);
	n = readlink(path, buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = 0;
	char cwd[256];
	getcwd(cwd, sizeof cwd);
	check("/proc/PID/cwd", strcmp(buf, cwd), 0);
	snprintf(path, sizeof path, "/proc/%d/fd/%d", c, p[0]);
	n = readlink(path, buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = 0;
	check("/proc/PID/fd/N is a pipe", strncmp(buf, "pipe:[", 6), 0);
	snprintf(path, sizeof path, "/proc/%d/fd/%d", c, p[1]);
	check("/proc/PID/fd/N closed in the child", access(path, F_OK) < 0 ? errno : 0, ENOENT);
	snprintf(path, sizeof path, "/proc/%d/task/%d/comm", c, c);
	readfile(path, buf, sizeof buf);
	check("/proc/PID/task/TID/comm", strcmp(buf, "kid\n"), 0);
	int seen = 0;
	DIR *d = opendir("/proc");
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		seen |= (atoi(e->d_name) == c) | (atoi(e->d_name) == getpid()) << 1;
	closedir(d);
	check("readdir /proc lists both pids", seen, 3);

	write(p[1], "x", 1); // the child execs
	close(p[1]);
	for (int i = 0; i < 30000; i++) {
		statfield(c, 3, &state);
		if (state == 'Z')
			break;
		usleep(1000);
	}
	check("/proc/PID/stat of a zombie: Z", state, 'Z');
	int st = waitfor(c, 0);
	check("the exec'd child's status", WIFEXITED(st) ? WEXITSTATUS(st) : -1, 42);
	snprintf(path, sizeof path, "/proc/%d", c);
	check("/proc/PID gone after wait", access(path, F_OK) < 0 ? errno : 0, ENOENT);
}

// execd is the program the procfs child runs: it checks its own /proc.
static int execd(int argc, char **argv) {
	char buf[256];
	readfile("/proc/self/cmdline", buf, sizeof buf);
	int ok = argc == 4 && memcmp(buf, "/proc/self/exe\0execd\0one two\0three\0", 35) == 0;
	readfile("/proc/self/comm", buf, sizeof buf);
	ok = ok && strcmp(buf, "exe\n") == 0;
	return ok ? 42 : 1;
}

// sysv: an attached System V segment stays attached in the child, shared.
static void sysv(void) {
	int id = shmget(IPC_PRIVATE, 8192, IPC_CREAT | 0600);
	char *m = shmat(id, NULL, 0);
	strcpy(m, "parent");
	struct shmid_ds ds;
	pid_t c = fork();
	if (c == 0) {
		int ok = strcmp(m, "parent") == 0;
		shmctl(id, IPC_STAT, &ds);
		ok = ok && ds.shm_nattch == 2;
		strcpy(m, "child");
		shmdt(m);
		_exit(ok ? 0 : 1);
	}
	int st = waitfor(c, 0);
	check("System V segment attached in the child", st, 0);
	check("  the child's write seen here", strcmp(m, "child"), 0);
	shmctl(id, IPC_STAT, &ds);
	check("  attachments after the child", ds.shm_nattch, 1);
	shmdt(m);
	shmctl(id, IPC_RMID, NULL);
}

static long futex(int *uaddr, int op, int val) {
	return syscall(SYS_futex, uaddr, op, val, NULL, NULL, 0);
}

// futexes: a shared futex word wakes a waiter in another process. The
// word stays 0, so the child's FUTEX_WAIT returns 0 only when woken; the
// parent wakes until one wake finds it waiting.
static void futexes(void) {
	int *w = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	*w = 0;
	pid_t c = fork();
	if (c == 0)
		_exit(futex(w, FUTEX_WAIT, 0) == 0 ? 7 : 1);
	long woke = 0;
	for (int i = 0; i < 30000 && woke == 0; i++) {
		woke = futex(w, FUTEX_WAKE, 1);
		if (woke == 0)
			usleep(1000);
	}
	check("FUTEX_WAKE across processes", woke, 1);
	int st = waitfor(c, 0);
	check("  woke the waiter", WIFEXITED(st) ? WEXITSTATUS(st) : -1, 7);
	munmap(w, 4096);
}

// vforkmap: a file the vfork child maps is mapped in the parent, which
// shares its address space (vfork(2)); so is one it unmaps.
static char *vmapped;
static void vforkmap(void) {
	char path[] = "/tmp/procdiff.vm.XXXXXX";
	int f = mkstemp(path);
	unlink(path);
	ftruncate(f, 8192);
	pwrite(f, "from the file", 13, 4096);
	char *gone = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, f, 0);
	pid_t c = vfork();
	if (c == 0) {
		vmapped = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
		munmap(gone, 4096);
		_exit(0);
	}
	waitfor(c, 0);
	check("vfork child's file mapping seen by the parent", vmapped != MAP_FAILED && memcmp(vmapped + 4096, "from the file", 13) == 0, 1);
	vmapped[0] = 'w';
	char b = 0;
	pread(f, &b, 1, 0);
	check("  and shared with the file", b, 'w');
	check("vfork child's munmap seen by the parent", msync(gone, 4096, MS_ASYNC) < 0 ? errno : 0, ENOMEM);
	munmap(vmapped, 8192);
	close(f);
}

static void *sleeper(void *arg) {
	(void)arg;
	char b;
	read(deathpipe[0], &b, 1); // never written: execve must end this thread
	return NULL;
}

// execthreads: execve from a process with another thread blocked.
static void execthreads(void) {
	pid_t c = fork();
	if (c == 0) {
		pipe(deathpipe);
		pthread_t th;
		pthread_create(&th, NULL, sleeper, NULL);
		usleep(10000);
		char *argv[] = {"/proc/self/exe", "execd2", NULL};
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	int st = waitfor(c, 0);
	check("execve ends the other threads", WIFEXITED(st) ? WEXITSTATUS(st) : -1, 43);
}

int main(int argc, char **argv) {
	if (argc > 1 && strcmp(argv[1], "execd") == 0)
		return execd(argc, argv);
	if (argc > 1 && strcmp(argv[1], "execd2") == 0) {
		char buf[64];
		readfile("/proc/self/stat", buf, sizeof buf);
		return statfield(getpid(), 20, NULL) == 1 ? 43 : 1;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc > 1)
		chdir(argv[1]);
	terminal();
	jobs();
	stops();
	isolation();
	names();
	procfs();
	sysv();
	futexes();
	execthreads();
	vforkmap();
	printf("procdiff: done\n");
	return 0;
}
