// procmodel: process-model corners — clone and clone3 flag rules and
// what each sharing flag shares, CLONE_PARENT, the TID-pointer flags,
// CLONE_VFORK, execve from a thread that is not the leader, the wait
// family's options and reports, SIGCHLD ignored or with SA_NOCLDWAIT and
// SA_NOCLDSTOP, orphans and the child subreaper, setsid/setpgid rules,
// job-control stops, kill of a group and kill's permission check,
// exit_group while threads sleep in system calls and the parent-death
// signal sent when the parent thread exits — built with gcc -static and
// run natively and inside Cocoon (north/procmodel_vm_test.go): both runs
// must print the same lines. It prints outcomes, never pids or times. It
// must run as root. The top process is a child subreaper, so orphans
// come to it natively as they come to pid 1 in Cocoon. Usage: procmodel
// [DIR] (DIR is unused).
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef CLONE_CLEAR_SIGHAND
#define CLONE_CLEAR_SIGHAND 0x100000000ULL
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

// struct clone_args of include/uapi/linux/sched.h (CLONE_ARGS_SIZE_VER2).
struct cargs {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size,
	    cgroup;
};

static const char *res(long r) {
	static char buf[64];
	if (r >= 0) {
		snprintf(buf, sizeof buf, "%ld", r);
		return buf;
	}
	switch (errno) {
#define E(x) \
	case x: \
		return #x;
		E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EBADF) E(EAGAIN) E(ENOMEM) E(EACCES) E(EFAULT)
		E(EINVAL) E(ECHILD) E(ENOSYS) E(EMFILE) E(E2BIG) E(EEXIST) E(EBUSY)
#undef E
	}
	snprintf(buf, sizeof buf, "errno %d", errno);
	return buf;
}

static void show(const char *what, long r) {
	printf("%s: %s\n", what, res(r));
	fflush(stdout);
}

// ok prints whether a call succeeded (for calls returning pids or fds).
static void ok(const char *what, long r) {
	printf("%s: %s\n", what, r >= 0 ? "ok" : res(r));
	fflush(stdout);
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...) {
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

// status names a wait status.
static const char *status(int s) {
	static char buf[64];
	if (WIFEXITED(s))
		snprintf(buf, sizeof buf, "exited %d", WEXITSTATUS(s));
	else if (WIFSIGNALED(s))
		snprintf(buf, sizeof buf, "killed %d%s", WTERMSIG(s), WCOREDUMP(s) ? " core" : "");
	else if (WIFSTOPPED(s))
		snprintf(buf, sizeof buf, "stopped %d", WSTOPSIG(s));
	else if (WIFCONTINUED(s))
		snprintf(buf, sizeof buf, "continued");
	else
		snprintf(buf, sizeof buf, "status %#x", s);
	return buf;
}

// reap waits for pid (any child if -1) with options and prints how it
// ended, comparing the pid reported with pid.
static void reap(const char *what, pid_t pid, int options) {
	int s = 0;
	pid_t r = waitpid(pid, &s, options);
	if (r < 0)
		show(what, r);
	else if (r == 0)
		say("%s: 0", what);
	else
		say("%s: %s%s", what, status(s), pid > 0 && r != pid ? " (other pid)" : "");
}

static const char *codeName(int c) {
	switch (c) {
	case CLD_EXITED:
		return "CLD_EXITED";
	case CLD_KILLED:
		return "CLD_KILLED";
	case CLD_DUMPED:
		return "CLD_DUMPED";
	case CLD_STOPPED:
		return "CLD_STOPPED";
	case CLD_CONTINUED:
		return "CLD_CONTINUED";
	case CLD_TRAPPED:
		return "CLD_TRAPPED";
	case 0:
		return "0";
	}
	return "?";
}

// waited makes waitid(idtype, id, options) and prints its report,
// comparing si_pid with child.
static void waited(const char *what, idtype_t idtype, id_t id, int options, pid_t child) {
	siginfo_t si;
	memset(&si, 0, sizeof si);
	long r = waitid(idtype, id, &si, options);
	if (r < 0) {
		show(what, r);
		return;
	}
	say("%s: %ld signo %d code %s status %d pid %s uid %d", what, r, si.si_signo, codeName(si.si_code), si.si_status,
	    si.si_pid == 0 ? "0" : si.si_pid == child ? "child" : "other", (int)si.si_uid);
}

static long rawClone(unsigned long flags, void *stack, int *ptid, int *ctid, unsigned long tls) {
	return syscall(SYS_clone, flags, stack, ptid, ctid, tls);
}

static long clone3(struct cargs *a, size_t size) { return syscall(SYS_clone3, a, size); }

// tryClone makes clone(flags) with no new stack: a child made by a
// clone that should have failed exits at once.
static void tryClone(const char *what, unsigned long flags) {
	long r = rawClone(flags, 0, 0, 0, 0);
	if (r == 0)
		syscall(SYS_exit, 0);
	ok(what, r);
	if (r > 0)
		waitpid(r, 0, __WALL);
}

static void tryClone3(const char *what, struct cargs *a, size_t size) {
	long r = clone3(a, size);
	if (r == 0)
		syscall(SYS_exit, 0);
	ok(what, r);
	if (r > 0)
		waitpid(r, 0, __WALL);
}

// cloneRules: the flag combinations clone and clone3 refuse
// (kernel/fork.c copy_process, clone3_args_valid, copy_clone_args_from_user).
static void cloneRules(void) {
	tryClone("clone SIGHAND without VM", CLONE_SIGHAND | SIGCHLD);
	tryClone("clone THREAD without SIGHAND", CLONE_THREAD | SIGCHLD);
	tryClone("clone THREAD|SIGHAND without VM", CLONE_THREAD | CLONE_SIGHAND);
	tryClone("clone NEWNS|FS", CLONE_NEWNS | CLONE_FS | SIGCHLD);
	tryClone("clone NEWUSER|FS", CLONE_NEWUSER | CLONE_FS | SIGCHLD);
	tryClone("clone NEWPID|THREAD", CLONE_NEWPID | CLONE_THREAD | CLONE_SIGHAND | CLONE_VM);
	int pidfd = -1;
	long r = rawClone(CLONE_PIDFD | CLONE_PARENT_SETTID | SIGCHLD, 0, &pidfd, 0, 0);
	if (r == 0)
		syscall(SYS_exit, 0);
	ok("clone PIDFD|PARENT_SETTID", r);
	r = rawClone(CLONE_PIDFD | CLONE_DETACHED | SIGCHLD, 0, &pidfd, 0, 0);
	if (r == 0)
		syscall(SYS_exit, 0);
	ok("clone PIDFD|DETACHED", r);
	// Legacy clone ignores an exit signal it does not know... no: it
	// fails with EINVAL (kernel/fork.c: exit_signal > _NSIG).
	tryClone("clone exit signal 65", 65);
	// clone with the signal of a thread: ignored for CLONE_THREAD.
	tryClone("clone exit signal 0", 0);

	struct cargs a;
	memset(&a, 0, sizeof a);
	a.exit_signal = SIGCHLD;
	tryClone3("clone3 size 0", &a, 0);
	tryClone3("clone3 size 63", &a, 63);
	tryClone3("clone3 size 64", &a, 64);
	tryClone3("clone3 size 88", &a, 88);
	char big[8192];
	memset(big, 0, sizeof big);
	memcpy(big, &a, sizeof a);
	tryClone3("clone3 size 4096 zero tail", (struct cargs *)big, 4096);
	tryClone3("clone3 size 4097", (struct cargs *)big, 4097);
	big[200] = 1;
	tryClone3("clone3 size 4096 nonzero tail", (struct cargs *)big, 4096);
	tryClone3("clone3 null", 0, 64);
	a.exit_signal = 65;
	tryClone3("clone3 exit signal 65", &a, sizeof a);
	a.exit_signal = SIGCHLD;
	a.flags = CLONE_THREAD | CLONE_SIGHAND | CLONE_VM;
	tryClone3("clone3 THREAD with exit signal", &a, sizeof a);
	a.flags = CLONE_DETACHED;
	tryClone3("clone3 DETACHED", &a, sizeof a);
	a.flags = CSIGNAL & SIGCHLD;
	tryClone3("clone3 CSIGNAL in flags", &a, sizeof a);
	a.flags = CLONE_CLEAR_SIGHAND | CLONE_SIGHAND | CLONE_VM;
	tryClone3("clone3 CLEAR_SIGHAND|SIGHAND", &a, sizeof a);
	a.flags = 0;
	pid_t tid[40] = {0};
	a.set_tid = (uintptr_t)tid;
	a.set_tid_size = 0;
	tryClone3("clone3 set_tid without size", &a, sizeof a);
	a.set_tid = 0;
	a.set_tid_size = 1;
	tryClone3("clone3 set_tid size without array", &a, sizeof a);
	a.set_tid = (uintptr_t)tid;
	a.set_tid_size = 33;
	tryClone3("clone3 set_tid size 33", &a, sizeof a);
	a.set_tid_size = 2;
	tid[0] = 0;
	tid[1] = 0;
	tryClone3("clone3 set_tid deeper than the namespaces", &a, sizeof a);
	a.set_tid_size = 1;
	tid[0] = getpid();
	tryClone3("clone3 set_tid in use", &a, sizeof a);
	tid[0] = -5;
	tryClone3("clone3 set_tid negative", &a, sizeof a);
	tid[0] = 0x400000;
	tryClone3("clone3 set_tid pid_max", &a, sizeof a);
	// A free PID: the child has it.
	for (int i = 0; i < 50; i++) {
		tid[0] = 30000 + 7 * i;
		long r = clone3(&a, sizeof a);
		if (r == 0)
			_exit(getpid() == 30000 + 7 * i ? 30 : 31);
		if (r < 0 && errno == EEXIST)
			continue;
		if (r < 0)
			show("clone3 set_tid free", r);
		else
			reap("clone3 set_tid free: pid is the one asked for", r, 0);
		break;
	}
	a.set_tid = 0;
	a.set_tid_size = 0;
	a.stack = 0;
	a.stack_size = 4096;
	tryClone3("clone3 stack size without stack", &a, sizeof a);
	a.stack_size = 0;
	a.stack = 4096;
	tryClone3("clone3 stack without size", &a, sizeof a);
	a.stack = 0;
	a.flags = CLONE_PIDFD;
	a.pidfd = 0;
	tryClone3("clone3 PIDFD null", &a, sizeof a);
}

static volatile int shared;
static int sharedFd = -1;

static int vmChild(void *arg) {
	(void)arg;
	shared = 42;
	return 3;
}

static int filesChild(void *arg) {
	(void)arg;
	close(sharedFd);
	return 0;
}

static int fsChild(void *arg) {
	(void)arg;
	if (chdir("/proc") < 0)
		return 1;
	umask(077);
	return 0;
}

static char *newStack(void) {
	char *s = mmap(0, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return s + (1 << 16);
}

// sharing: CLONE_VM without CLONE_THREAD (a process sharing memory),
// CLONE_FILES and CLONE_FS, seen by the parent after the child ran.
static void sharing(void) {
	char *stack = newStack();
	shared = 0;
	pid_t p = clone(vmChild, stack, CLONE_VM | SIGCHLD, 0);
	reap("clone VM process", p, 0);
	say("clone VM process: parent sees %d", shared);
	shared = 0;
	p = clone(vmChild, stack, SIGCHLD, 0);
	reap("clone no VM", p, 0);
	say("clone no VM: parent sees %d", shared);

	sharedFd = open("/proc/self/stat", O_RDONLY);
	p = clone(filesChild, stack, CLONE_FILES | SIGCHLD, 0);
	reap("clone FILES", p, 0);
	show("clone FILES: fd closed by child", fcntl(sharedFd, F_GETFD));
	sharedFd = open("/proc/self/stat", O_RDONLY);
	p = clone(filesChild, stack, SIGCHLD, 0);
	reap("clone no FILES", p, 0);
	show("clone no FILES: fd closed by child", fcntl(sharedFd, F_GETFD));
	close(sharedFd);

	char cwd[256], after[256];
	if (!getcwd(cwd, sizeof cwd))
		strcpy(cwd, "?");
	mode_t old = umask(022);
	p = clone(fsChild, stack, CLONE_FS | SIGCHLD, 0);
	reap("clone FS", p, 0);
	if (!getcwd(after, sizeof after))
		strcpy(after, "?");
	say("clone FS: cwd %s, umask %03o", after, umask(022));
	if (chdir(cwd) < 0)
		say("chdir back: %s", strerror(errno));
	p = clone(fsChild, stack, SIGCHLD, 0);
	reap("clone no FS", p, 0);
	if (!getcwd(after, sizeof after))
		strcpy(after, "?");
	say("clone no FS: cwd changed %d, umask %03o", strcmp(cwd, after) != 0, umask(old));
}

static int pipeFds[2];
static char exePath[4096]; // this program, for execs

// readAll reads n bytes unless the pipe ends first.
static long readAll(int fd, char *b, long n) {
	long got = 0, r;
	while (got < n && (r = read(fd, b + got, n - got)) > 0)
		got += r;
	return got;
}

// cloneParent: a child's CLONE_PARENT child is its sibling: the
// grandparent waits for it, and its parent cannot.
static void cloneParent(void) {
	if (pipe(pipeFds) < 0)
		return;
	pid_t me = getpid();
	pid_t mid = fork();
	if (mid == 0) {
		long r = rawClone(CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
		if (r == 0) {
			char c = getppid() == me ? 'g' : 'x';
			if (write(pipeFds[1], &c, 1) < 0)
				_exit(2);
			_exit(5);
		}
		pid_t w = waitpid(r, 0, 0);
		char c = w < 0 && errno == ECHILD ? 'E' : 'w';
		if (write(pipeFds[1], &c, 1) < 0)
			_exit(2);
		_exit(r > 0 ? 0 : 1);
	}
	reap("CLONE_PARENT: middle", mid, 0);
	char got[3] = {0};
	if (readAll(pipeFds[0], got, 2) != 2)
		strcpy(got, "??");
	if (got[0] == 'E') { // the two write in either order
		got[0] = got[1];
		got[1] = 'E';
	}
	say("CLONE_PARENT: child's parent is grandparent / middle's wait: %s", got);
	reap("CLONE_PARENT: grandparent reaps sibling", -1, 0);
	reap("CLONE_PARENT: no more", -1, WNOHANG);
	close(pipeFds[0]);
	close(pipeFds[1]);
	// CLONE_PARENT from init, or with CLONE_THREAD, is checked by Linux;
	// only the plain case here.
}

static int ctidWord, ptidWord;

static int tidThread(void *arg) {
	(void)arg;
	return 0;
}

// tidFlags: CLONE_PARENT_SETTID, CLONE_CHILD_SETTID and
// CLONE_CHILD_CLEARTID for a thread and for a forked process.
static void tidFlags(void) {
	char *stack = newStack();
	ctidWord = -1;
	ptidWord = -1;
	int t = clone(tidThread, stack,
		      CLONE_VM | CLONE_THREAD | CLONE_SIGHAND | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID |
			  CLONE_CHILD_SETTID,
		      0, &ptidWord, 0, &ctidWord);
	say("thread: parent_tid is tid %d", ptidWord == t);
	// Wait for CLONE_CHILD_CLEARTID's zero and wake.
	for (;;) {
		int v = __atomic_load_n(&ctidWord, __ATOMIC_SEQ_CST);
		if (v == 0)
			break;
		syscall(SYS_futex, &ctidWord, FUTEX_WAIT, v, 0, 0, 0);
	}
	say("thread: child_tid cleared at exit %d", ctidWord);

	ctidWord = -1;
	ptidWord = -1;
	if (pipe(pipeFds) < 0)
		return;
	long r = rawClone(CLONE_PARENT_SETTID | CLONE_CHILD_SETTID | SIGCHLD, 0, &ptidWord, &ctidWord, 0);
	if (r == 0) {
		char c[2] = {ctidWord == getpid() ? 'c' : 'x', ptidWord == -1 ? 'p' : ptidWord == getpid() ? 'P' : 'x'};
		if (write(pipeFds[1], c, 2) < 0)
			_exit(2);
		_exit(0);
	}
	reap("fork SETTID", r, 0);
	char got[3] = {0};
	if (readAll(pipeFds[0], got, 2) != 2)
		strcpy(got, "??");
	say("fork SETTID: child's child_tid/parent_tid %s; parent's parent_tid is pid %d, child_tid %d", got,
	    ptidWord == r, ctidWord);
	close(pipeFds[0]);
	close(pipeFds[1]);
}

// vforks: CLONE_VFORK suspends the parent until the child exits or
// execs; the vfork child shares memory.
static void vforks(void) {
	shared = 0;
	pid_t p = vfork();
	if (p == 0) {
		shared = 7;
		_exit(4);
	}
	say("vfork _exit: parent resumes after child wrote %d", shared);
	reap("vfork _exit", p, 0);

	if (pipe(pipeFds) < 0)
		return;
	p = vfork();
	if (p == 0) {
		char fd[16];
		snprintf(fd, sizeof fd, "%d", pipeFds[0]);
		execl(exePath, "procmodel", "vforkexec", fd, (char *)0);
		_exit(127);
	}
	// The exec'd child waits for this byte: the parent runs before it exits.
	if (write(pipeFds[1], "r", 1) < 0)
		say("write: %s", strerror(errno));
	reap("vfork exec: child got the parent's byte", p, 0);
	close(pipeFds[0]);
	close(pipeFds[1]);

	shared = 0;
	char *stack = newStack();
	p = clone(vmChild, stack, CLONE_VM | CLONE_VFORK | SIGCHLD, 0);
	say("clone VM|VFORK: parent resumes after child wrote %d", shared);
	reap("clone VM|VFORK", p, 0);
}

static pid_t leaderPid;
static char **savedArgv;

static void *execThread(void *arg) {
	(void)arg;
	char pid[16];
	snprintf(pid, sizeof pid, "%d", leaderPid);
	execl(exePath, "procmodel", "afterexec", pid, (char *)0);
	say("exec from thread: %s", strerror(errno));
	_exit(1);
}

// execLater execs once the leader has exited (its /proc/PID/task
// entry is a zombie: state Z).
static void *execLater(void *arg) {
	char path[64], st[256];
	snprintf(path, sizeof path, "/proc/self/task/%d/stat", leaderPid);
	for (int i = 0; i < 1000; i++) {
		FILE *f = fopen(path, "r");
		int n = 0;
		if (f) {
			n = fread(st, 1, sizeof st - 1, f);
			fclose(f);
		}
		st[n] = 0;
		char *e = strrchr(st, ')');
		if (!f || (e && e[2] == 'Z'))
			break;
		usleep(2000);
	}
	return execThread(arg);
}

static void *sleeper(void *arg) {
	(void)arg;
	for (;;)
		pause();
	return 0;
}

// threadExec: execve from a thread that is not the leader: the thread
// becomes the leader with the process's PID, the other threads are gone.
static void threadExec(void) {
	for (int leaderGone = 0; leaderGone < 2; leaderGone++) {
		pid_t p = fork();
		if (p == 0) {
			leaderPid = getpid();
			pthread_t t;
			pthread_create(&t, 0, sleeper, 0);
			if (leaderGone) {
				pthread_create(&t, 0, execLater, 0);
				pthread_exit(0);
			}
			pthread_create(&t, 0, execThread, 0);
			for (;;)
				pause();
		}
		reap(leaderGone ? "exec from a thread, leader exited" : "exec from a thread", p, 0);
	}
}

// countTasks counts the entries of /proc/self/task.
static int countTasks(void) {
	DIR *d = opendir("/proc/self/task");
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void afterExec(const char *pid) {
	say("after exec: pid kept %d, tid is pid %d, tasks %d", getpid() == atoi(pid), (pid_t)syscall(SYS_gettid) == getpid(),
	    countTasks());
	exit(9);
}

// waits: waitpid and waitid options and reports.
static void waits(void) {
	show("wait no children", wait(0));
	waited("waitid no children", P_ALL, 0, WEXITED, 0);
	waited("waitid no options", P_ALL, 0, 0, 0);
	waited("waitid bad idtype", 7, 0, WEXITED, 0);
	show("wait4 bad options", wait4(-1, 0, 0x1000000, 0));
	waited("waitid P_PIDFD bad fd", P_PIDFD, 1000, WEXITED, 0);

	int go[2];
	if (pipe(go) < 0)
		return;
	pid_t p = fork();
	if (p == 0) {
		char c;
		close(go[1]);
		if (read(go[0], &c, 1) < 0)
			_exit(1);
		_exit(6);
	}
	close(go[0]);
	reap("WNOHANG running", p, WNOHANG);
	waited("waitid WNOHANG running", P_PID, p, WEXITED | WNOHANG, p);
	kill(p, SIGSTOP);
	waited("waitid WSTOPPED|WNOWAIT", P_PID, p, WSTOPPED | WNOWAIT, p);
	waited("waitid WSTOPPED", P_PID, p, WSTOPPED, p);
	reap("WUNTRACED after consumed", p, WUNTRACED | WNOHANG);
	kill(p, SIGCONT);
	waited("waitid WCONTINUED", P_PID, p, WCONTINUED, p);
	reap("WCONTINUED after consumed", p, WCONTINUED | WNOHANG);
	kill(p, SIGSTOP);
	reap("waitpid WUNTRACED", p, WUNTRACED);
	kill(p, SIGCONT);
	reap("waitpid WCONTINUED", p, WCONTINUED);
	close(go[1]);
	waited("waitid WEXITED|WNOWAIT", P_PID, p, WEXITED | WNOWAIT, p);
	waited("waitid WEXITED|WNOWAIT again", P_PID, p, WEXITED | WNOWAIT, p);
	struct rusage ru;
	memset(&ru, 0, sizeof ru);
	int s;
	pid_t r = wait4(p, &s, 0, &ru);
	say("wait4 rusage: %s %s maxrss>0 %d", r == p ? "child" : res(r), status(s), ru.ru_maxrss > 0);
	reap("reaped", p, WNOHANG);

	// Killed by a signal.
	p = fork();
	if (p == 0) {
		for (;;)
			pause();
	}
	kill(p, SIGTERM);
	waited("waitid killed", P_PID, p, WEXITED, p);
	p = fork();
	if (p == 0) {
		for (;;)
			pause();
	}
	kill(p, SIGKILL);
	reap("waitpid killed", p, 0);

	// P_PGID and waitpid of a group.
	p = fork();
	if (p == 0) {
		setpgid(0, 0);
		_exit(11);
	}
	setpgid(p, p);
	waited("waitid P_PGID", P_PGID, p, WEXITED, p);
	p = fork();
	if (p == 0) {
		setpgid(0, 0);
		_exit(12);
	}
	setpgid(p, p);
	reap("waitpid -pgid", -p, 0);
	p = fork();
	if (p == 0)
		_exit(13);
	reap("waitpid 0 (own group)", 0, 0);
	p = fork();
	if (p == 0)
		_exit(14);
	waited("waitid P_PGID 0 (own group)", P_PGID, 0, WEXITED, p);

	// P_PIDFD.
	int pidfd = -1;
	long c = rawClone(CLONE_PIDFD | SIGCHLD, 0, &pidfd, 0, 0);
	if (c == 0)
		_exit(15);
	waited("waitid P_PIDFD", P_PIDFD, pidfd, WEXITED, c);
	waited("waitid P_PIDFD reaped", P_PIDFD, pidfd, WEXITED, c);
	close(pidfd);

	// A clone child (exit signal not SIGCHLD) is seen by __WCLONE and
	// __WALL only.
	c = rawClone(SIGUSR2, 0, 0, 0, 0);
	if (c == 0) {
		usleep(10000);
		_exit(16);
	}
	signal(SIGUSR2, SIG_IGN);
	reap("clone child: waitpid default", c, 0);
	reap("clone child: waitpid -1 default", -1, WNOHANG);
	reap("clone child: waitpid __WCLONE", c, __WCLONE);
	c = rawClone(0, 0, 0, 0, 0);
	if (c == 0)
		_exit(17);
	waited("no-signal child: waitid __WALL", P_PID, c, WEXITED | __WALL, c);
	p = fork();
	if (p == 0)
		_exit(18);
	reap("fork child: waitpid __WCLONE", p, __WCLONE);
	reap("fork child: waitpid __WALL", p, __WALL);
	signal(SIGUSR2, SIG_DFL);
}

static volatile int chldCount;
static void onChld(int sig) {
	(void)sig;
	chldCount++;
}

// sigchld: SIGCHLD ignored or with SA_NOCLDWAIT (children reaped at
// exit; wait fails with ECHILD once they are gone), SA_NOCLDSTOP.
static void sigchld(void) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGCHLD, &sa, 0);
	pid_t p = fork();
	if (p == 0)
		_exit(1);
	reap("SIG_IGN: blocking wait", -1, 0);
	show("SIG_IGN: kill 0 after exit", kill(p, 0));
	p = fork();
	if (p == 0) {
		for (;;)
			pause();
	}
	kill(p, SIGSTOP);
	reap("SIG_IGN: stopped child still reported", p, WUNTRACED);
	kill(p, SIGKILL);
	reap("SIG_IGN: killed child", p, 0);

	sa.sa_handler = onChld;
	sa.sa_flags = SA_NOCLDWAIT;
	sigaction(SIGCHLD, &sa, 0);
	chldCount = 0;
	p = fork();
	if (p == 0)
		_exit(2);
	reap("SA_NOCLDWAIT: blocking wait", -1, 0);
	say("SA_NOCLDWAIT: handler ran %d", chldCount);

	sa.sa_flags = SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, 0);
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &old);
	p = fork();
	if (p == 0) {
		for (;;)
			pause();
	}
	kill(p, SIGSTOP);
	reap("SA_NOCLDSTOP: stop", p, WUNTRACED);
	sigset_t pend;
	sigpending(&pend);
	say("SA_NOCLDSTOP: SIGCHLD pending after stop %d", sigismember(&pend, SIGCHLD));
	kill(p, SIGCONT);
	reap("SA_NOCLDSTOP: continue", p, WCONTINUED);
	sigpending(&pend);
	say("SA_NOCLDSTOP: SIGCHLD pending after continue %d", sigismember(&pend, SIGCHLD));
	kill(p, SIGKILL);
	reap("SA_NOCLDSTOP: killed", p, 0);
	sigpending(&pend);
	say("SA_NOCLDSTOP: SIGCHLD pending after exit %d", sigismember(&pend, SIGCHLD));
	sa.sa_flags = 0;
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, 0);
	sigprocmask(SIG_SETMASK, &old, 0);

	// SIGCHLD with the default action: a stop is reported by a SIGCHLD
	// with CLD_STOPPED.
	sigprocmask(SIG_BLOCK, &set, &old);
	p = fork();
	if (p == 0) {
		for (;;)
			pause();
	}
	kill(p, SIGSTOP);
	siginfo_t si;
	struct timespec ts = {5, 0};
	int sig = sigtimedwait(&set, &si, &ts);
	say("SIGCHLD at stop: %d code %s status %d pid %s", sig, codeName(si.si_code), si.si_status,
	    si.si_pid == p ? "child" : "other");
	reap("stop reported", p, WUNTRACED);
	kill(p, SIGKILL);
	sig = sigtimedwait(&set, &si, &ts);
	say("SIGCHLD at kill: %d code %s status %d pid %s", sig, codeName(si.si_code), si.si_status,
	    si.si_pid == p ? "child" : "other");
	reap("killed", p, 0);
	sigprocmask(SIG_SETMASK, &old, 0);
}

// forkOrphan forks a middle process that forks a grandchild and exits
// at once: the grandchild waits for a byte on rfd, then until its parent
// has changed, and exits ok if its new parent is want, else bad. It
// returns the middle's PID.
static pid_t forkOrphan(int rfd, pid_t want, int ok, int bad) {
	pid_t mid = fork();
	if (mid == 0) {
		pid_t g = fork();
		if (g == 0) {
			pid_t before = getppid();
			char c;
			if (read(rfd, &c, 1) < 0)
				_exit(1);
			for (int i = 0; i < 500 && getppid() == before; i++)
				usleep(2000);
			_exit(getppid() == want ? ok : bad);
		}
		_exit(0);
	}
	return mid;
}

// forkZombieMiddle forks a middle process that leaves its child a
// zombie (exit status 22, not reaped) and exits: the zombie is
// reparented. It returns the middle's PID.
static pid_t forkZombieMiddle(void) {
	pid_t mid = fork();
	if (mid == 0) {
		pid_t g = fork();
		if (g == 0)
			_exit(22);
		siginfo_t si;
		waitid(P_PID, g, &si, WEXITED | WNOWAIT);
		_exit(0);
	}
	return mid;
}

// orphans: a process whose parent exits goes to the nearest child
// subreaper ancestor.
static void orphans(void) {
	int fds[2];
	if (pipe(fds) < 0)
		return;
	pid_t reaper = fork();
	if (reaper == 0) {
		show("subreaper: set", prctl(PR_SET_CHILD_SUBREAPER, 1));
		int v = -1;
		prctl(PR_GET_CHILD_SUBREAPER, &v);
		say("subreaper: get %d", v);
		pid_t mid = forkOrphan(fds[0], getpid(), 20, 21);
		reap("subreaper: middle", mid, 0);
		if (write(fds[1], "g", 1) < 0)
			_exit(1);
		reap("subreaper: orphan reaped by subreaper", -1, 0);
		// A zombie whose parent exits comes to the subreaper as a
		// zombie, to be waited for.
		mid = forkZombieMiddle();
		reap("subreaper: middle of a zombie", mid, 0);
		reap("subreaper: zombie reparented", -1, WNOHANG);
		// Ignoring SIGCHLD, the subreaper has it reaped at once.
		signal(SIGCHLD, SIG_IGN);
		mid = forkZombieMiddle();
		reap("subreaper ignoring SIGCHLD: wait", -1, 0);
		reap("subreaper ignoring SIGCHLD: zombie reaped", -1, WNOHANG);
		_exit(0);
	}
	reap("subreaper", reaper, 0);
	// Without a subreaper between, an orphan comes to the top (init in
	// Cocoon, a subreaper natively): getppid changes.
	pid_t mid = forkOrphan(fds[0], getpid(), 25, 26);
	reap("orphan: middle", mid, 0);
	if (write(fds[1], "g", 1) < 0)
		return;
	reap("orphan: reaped by the top", -1, 0);
	close(fds[0]);
	close(fds[1]);
}

// sessions: setsid and setpgid rules, getsid and getpgid of others.
static void sessions(void) {
	pid_t p = fork();
	if (p == 0) {
		setpgid(0, 0);
		show("setsid as group leader", setsid());
		_exit(0);
	}
	reap("setsid as group leader", p, 0);
	int go[2];
	if (pipe(go) < 0)
		return;
	p = fork();
	if (p == 0) {
		char c;
		close(go[1]);
		show("child: setsid", setsid() == getpid() ? 0 : -1);
		show("child: getsid is pid", getsid(0) == getpid());
		show("child: getpgid is pid", getpgid(0) == getpid());
		show("child: setpgid as session leader", setpgid(0, 0));
		show("child: setsid again", setsid());
		if (read(go[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	// Parent: the child in its own session.
	usleep(50000);
	show("getsid of child is child", getsid(p) == p);
	show("getpgid of child is child", getpgid(p) == p);
	show("setpgid of child in another session", setpgid(p, p));
	show("setpgid of child into own group", setpgid(p, getpgrp()));
	show("getsid of pid 0x3fffffff", getsid(0x3fffffff));
	show("getpgid of pid 0x3fffffff", getpgid(0x3fffffff));
	close(go[1]);
	reap("session child", p, 0);
	close(go[0]);

	show("setpgid negative", setpgid(0, -1));
	show("setpgid of non-child", setpgid(0x3fffffff, 0));
	show("setpgid to a group not in the session", setpgid(0, 0x3ffffff0));

	int ready[2];
	if (pipe(go) < 0 || pipe(ready) < 0)
		return;
	p = fork();
	if (p == 0) {
		char c, fd[16];
		close(go[1]);
		close(ready[0]);
		if (read(go[0], &c, 1) < 0)
			_exit(1);
		snprintf(fd, sizeof fd, "%d", ready[1]);
		execl(exePath, "procmodel", "sleep", fd, (char *)0);
		_exit(127);
	}
	close(go[0]);
	close(ready[1]);
	show("setpgid child before exec", setpgid(p, p));
	if (write(go[1], "x", 1) < 0)
		return;
	close(go[1]);
	// The exec'd mode writes a byte once it runs.
	char c;
	if (read(ready[0], &c, 1) != 1)
		say("exec'd child did not start");
	close(ready[0]);
	show("setpgid child after exec", setpgid(p, 0));
	kill(p, SIGKILL);
	reap("exec'd child", p, 0);
}

// jobs: stops and continues reported; SIGTSTP stops; a group signalled
// with kill(-pgid); kill's permission check for signal 0.
static void jobs(void) {
	pid_t a = fork();
	if (a == 0) {
		setpgid(0, 0);
		for (;;)
			pause();
	}
	setpgid(a, a);
	pid_t b = fork();
	if (b == 0) {
		setpgid(0, a);
		for (;;)
			pause();
	}
	setpgid(b, a);
	show("kill -pgid SIGTSTP", kill(-a, SIGTSTP));
	reap("first stopped", a, WUNTRACED);
	reap("second stopped", b, WUNTRACED);
	show("kill -pgid SIGCONT", kill(-a, SIGCONT));
	reap("first continued", a, WCONTINUED);
	reap("second continued", b, WCONTINUED);
	show("kill -pgid 0", kill(-a, 0));
	show("kill -pgid SIGTERM", kill(-a, SIGTERM));
	reap("first", a, 0);
	reap("second", b, 0);
	show("kill -pgid gone", kill(-a, 0));
	show("kill bad signal", kill(getpid(), 65));
	show("kill -pid bad signal", kill(-getpgrp(), 65));
	show("kill INT_MIN", kill(-2147483647 - 1, 0));

	// A zombie still takes signal 0.
	a = fork();
	if (a == 0)
		_exit(0);
	waited("zombie", P_PID, a, WEXITED | WNOWAIT, a);
	show("kill 0 zombie", kill(a, 0));
	reap("zombie", a, 0);
	show("kill 0 reaped", kill(a, 0));

	// Signal 0's permission check: an unprivileged process may not
	// signal root's.
	int fds[2];
	if (pipe(fds) < 0)
		return;
	pid_t me = getpid();
	a = fork();
	if (a == 0) {
		if (setresuid(1000, 1000, 1000) < 0)
			_exit(1);
		char r[4] = {kill(me, 0) < 0 && errno == EPERM ? 'P' : 'x', kill(me, SIGCONT) == 0 ? 'C' : 'x',
			     kill(getpid(), 0) == 0 ? 'S' : 'x'};
		if (write(fds[1], r, 3) < 0)
			_exit(1);
		_exit(0);
	}
	reap("unprivileged", a, 0);
	char got[4] = {0};
	if (readAll(fds[0], got, 3) != 3)
		strcpy(got, "???");
	say("unprivileged: kill root 0 / SIGCONT in session / self: %s", got);
	close(fds[0]);
	close(fds[1]);

	// SIGSTOP of a stopped process, SIGCONT of a running one.
	a = fork();
	if (a == 0) {
		for (;;)
			pause();
	}
	kill(a, SIGSTOP);
	reap("stopped", a, WUNTRACED);
	kill(a, SIGSTOP);
	reap("stopped twice", a, WUNTRACED | WNOHANG);
	kill(a, SIGCONT);
	reap("continued", a, WCONTINUED);
	kill(a, SIGCONT);
	reap("continued twice", a, WCONTINUED | WNOHANG);
	kill(a, SIGKILL);
	reap("killed", a, 0);
	// SIGKILL of a stopped process.
	a = fork();
	if (a == 0) {
		for (;;)
			pause();
	}
	kill(a, SIGSTOP);
	reap("stopped", a, WUNTRACED);
	kill(a, SIGKILL);
	reap("killed while stopped", a, 0);
}

// orphanedGroups: job-control stop signals to an orphaned process group
// are discarded (kernel/signal.c: is_current_pgrp_orphaned for a stop
// signal's default action), and a group orphaned with a stopped member
// gets SIGHUP and SIGCONT (kernel/exit.c kill_orphaned_pgrp).
static void orphanedGroups(void) {
	int fds[2];
	if (pipe(fds) < 0)
		return;
	pid_t g = fork();
	if (g == 0) {
		close(fds[0]);
		setsid(); // its parent is in another session: orphaned
		if (write(fds[1], "s", 1) < 0)
			_exit(1);
		for (;;)
			pause();
	}
	close(fds[1]);
	char c;
	if (read(fds[0], &c, 1) != 1)
		say("orphaned: no start");
	close(fds[0]);
	show("orphaned group: SIGTSTP", kill(g, SIGTSTP));
	show("orphaned group: SIGTTIN", kill(g, SIGTTIN));
	usleep(20000);
	reap("orphaned group: not stopped", g, WUNTRACED | WNOHANG);
	kill(g, SIGSTOP);
	reap("orphaned group: SIGSTOP stops", g, WUNTRACED);
	kill(g, SIGKILL);
	reap("orphaned group", g, 0);

	if (pipe(fds) < 0)
		return;
	pid_t m = fork();
	if (m == 0) {
		setsid();
		pid_t s = fork();
		if (s == 0) {
			setpgid(0, 0);
			for (;;)
				pause();
		}
		setpgid(s, s);
		kill(s, SIGSTOP);
		int st;
		waitpid(s, &st, WUNTRACED);
		char r[4];
		snprintf(r, sizeof r, "%c", WIFSTOPPED(st) ? 'S' : 'x');
		if (write(fds[1], r, 1) < 0)
			_exit(1);
		_exit(0); // its stopped group is orphaned now
	}
	close(fds[1]);
	char got[2] = {0};
	if (read(fds[0], got, 1) != 1)
		got[0] = '?';
	close(fds[0]);
	say("newly orphaned: middle saw the stop %s", got);
	reap("newly orphaned: middle", m, 0);
	reap("newly orphaned: stopped member gets SIGHUP", -1, 0);
}

static volatile int contCount;
static void onChldCont(int sig, siginfo_t *si, void *uc) {
	(void)sig;
	(void)uc;
	if (si->si_code == CLD_CONTINUED)
		contCount++;
}

// waitsMore: more wait and PR_SET_PDEATHSIG corners.
static void waitsMore(void) {
	waited("waitid P_PID 0", P_PID, 0, WEXITED, 0);
	show("wait4 INT_MIN", wait4(-2147483647 - 1, 0, 0, 0));
	pid_t p = fork();
	if (p == 0) {
		pid_t g = fork();
		if (g == 0)
			_exit(0);
		_exit(waitpid(g, 0, 0) == g ? 0 : 1);
	}
	reap("child", p, 0);
	reap("grandchild is not ours", -1, WNOHANG);
	p = fork();
	if (p == 0)
		_exit(3);
	siginfo_t si;
	memset(&si, 0, sizeof si);
	show("waitid with no siginfo", waitid(P_PID, p, 0, WEXITED));
	show("prctl PDEATHSIG bad signal", prctl(PR_SET_PDEATHSIG, 65));
	prctl(PR_SET_PDEATHSIG, SIGUSR2);
	p = fork();
	if (p == 0) {
		int v = -1;
		prctl(PR_GET_PDEATHSIG, &v);
		_exit(v);
	}
	reap("pdeathsig not inherited by fork: child's", p, 0);
	int v = -1;
	prctl(PR_GET_PDEATHSIG, &v);
	say("pdeathsig kept: %d", v);
	prctl(PR_SET_PDEATHSIG, 0);
	// SIGCHLD with CLD_CONTINUED when a child is continued.
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = onChldCont;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigaction(SIGCHLD, &sa, 0);
	contCount = 0;
	p = fork();
	if (p == 0) {
		for (;;)
			pause();
	}
	kill(p, SIGSTOP);
	reap("cont: stopped", p, WUNTRACED);
	kill(p, SIGCONT);
	reap("cont: continued", p, WCONTINUED);
	for (int i = 0; i < 500 && !contCount; i++)
		usleep(2000);
	say("cont: CLD_CONTINUED signals %d", contCount);
	kill(p, SIGKILL);
	reap("cont: killed", p, 0);
	signal(SIGCHLD, SIG_DFL);
	// getppid in a vfork child; vfork child's getpid differs.
	pid_t me = getpid();
	p = vfork();
	if (p == 0)
		_exit(getppid() == me && getpid() != me ? 40 : 41);
	reap("vfork child: getppid is parent", p, 0);
}

static void *exitFive(void *arg) {
	(void)arg;
	usleep(20000);
	syscall(SYS_exit, 5);
	return 0;
}

static pid_t forkedByThread;
static int holdFds[2], threadHold[2], threadGo[2];
static void *forkChild(void *arg) {
	forkedByThread = fork();
	if (forkedByThread == 0) {
		char c;
		close(holdFds[1]);
		_exit(read(holdFds[0], &c, 1) == 0 ? 7 : 1);
	}
	if (arg) { // stay until told
		char c;
		if (write(threadHold[1], "f", 1) < 0 || read(threadGo[0], &c, 1) < 0)
			return 0;
	}
	return 0;
}

// threadsAndGroups: a process's status when its threads exit one by one
// (the leader's code, not the last thread's: kernel/exit.c
// wait_task_zombie), children of a thread and __WNOTHREAD, wait on a
// thread's ID, a multi-threaded process stopped, continued and killed,
// zombies' sessions, groups and signals.
static void threadsAndGroups(void) {
	pid_t p = fork();
	if (p == 0) {
		pthread_t t;
		pthread_create(&t, 0, exitFive, 0);
		syscall(SYS_exit, 3); // the leader alone
	}
	reap("leader exit 3, last thread exit 5", p, 0);

	pthread_t t;
	if (pipe(holdFds) < 0 || pipe(threadHold) < 0 || pipe(threadGo) < 0)
		return;
	pthread_create(&t, 0, forkChild, (void *)1);
	char f;
	if (read(threadHold[0], &f, 1) != 1)
		say("thread: no fork");
	reap("child of a live thread: __WNOTHREAD", forkedByThread, __WNOTHREAD | WNOHANG);
	reap("child of a live thread: WNOHANG", forkedByThread, WNOHANG);
	if (write(threadGo[1], "g", 1) < 0)
		return;
	pthread_join(t, 0);
	reap("child of a joined thread: __WNOTHREAD", forkedByThread, __WNOTHREAD | WNOHANG);
	close(holdFds[1]);
	reap("child of a joined thread: waitpid", forkedByThread, 0);
	close(holdFds[0]);
	close(threadHold[0]);
	close(threadHold[1]);
	close(threadGo[0]);
	close(threadGo[1]);

	int fds[2];
	if (pipe(fds) < 0)
		return;
	p = fork();
	if (p == 0) {
		pthread_t t2;
		pthread_create(&t2, 0, sleeper, 0);
		pthread_create(&t2, 0, sleeper, 0);
		pid_t tid = syscall(SYS_gettid);
		(void)tid;
		char c = 'r';
		if (write(fds[1], &c, 1) < 0)
			_exit(1);
		for (;;)
			pause();
	}
	char c;
	if (read(fds[0], &c, 1) != 1)
		say("threads: no start");
	close(fds[0]);
	close(fds[1]);
	// Another thread's ID: not a child.
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/task", p);
	DIR *d = opendir(path);
	pid_t other = 0;
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.' && atoi(e->d_name) != p)
			other = atoi(e->d_name);
	if (d)
		closedir(d);
	reap("waitpid of a thread's ID", other, WNOHANG);
	reap("waitpid of a thread's ID, __WALL", other, WNOHANG | __WALL);
	show("kill of a thread's ID", kill(other, 0));
	show("getpgid of a thread's ID is the process's", getpgid(other) == getpgid(p));
	show("getsid of a thread's ID is the process's", getsid(other) == getsid(p));
	show("tgkill with the wrong group", syscall(SYS_tgkill, getpid(), other, 0));
	show("tgkill", syscall(SYS_tgkill, p, other, 0));
	kill(p, SIGSTOP);
	reap("threads: stopped", p, WUNTRACED);
	reap("threads: stop reported once", p, WUNTRACED | WNOHANG);
	kill(p, SIGCONT);
	reap("threads: continued", p, WCONTINUED);
	kill(p, SIGTERM);
	reap("threads: killed", p, 0);

	// Zombies keep their session and group, and take a group's signal.
	p = fork();
	if (p == 0) {
		setpgid(0, 0);
		_exit(0);
	}
	setpgid(p, p);
	waited("zombie", P_PID, p, WEXITED | WNOWAIT, p);
	show("getpgid of a zombie is its", getpgid(p) == p);
	show("getsid of a zombie is ours", getsid(p) == getsid(0));
	show("kill of a zombie's group", kill(-p, SIGTERM));
	reap("zombie", p, 0);
	show("getpgid reaped", getpgid(p));

	// setpgid into a sibling's group, then of a child in another group.
	pid_t a = fork();
	if (a == 0) {
		for (;;)
			pause();
	}
	setpgid(a, a);
	pid_t b = fork();
	if (b == 0) {
		for (;;)
			pause();
	}
	show("setpgid into a sibling's group", setpgid(b, a));
	show("child's group is the sibling's", getpgid(b) == a);
	show("setpgid back to ours", setpgid(b, getpgrp()));
	kill(a, SIGKILL);
	kill(b, SIGKILL);
	reap("sibling", a, 0);
	reap("sibling", b, 0);

	// A subreaper that exits passes orphans up to the next one.
	if (pipe(fds) < 0)
		return;
	pid_t top = getpid();
	p = fork();
	if (p == 0) {
		prctl(PR_SET_CHILD_SUBREAPER, 1);
		pid_t m = fork();
		if (m == 0) {
			pid_t g = fork();
			if (g == 0) {
				char c;
				if (read(fds[0], &c, 1) < 0)
					_exit(1);
				for (int i = 0; i < 500 && getppid() != top; i++)
					usleep(2000);
				_exit(getppid() == top ? 27 : 28);
			}
			_exit(0);
		}
		waitpid(m, 0, 0);
		_exit(0); // the orphan, its now, goes on to the top
	}
	reap("subreaper gone: it", p, 0);
	if (write(fds[1], "g", 1) < 0)
		return;
	reap("subreaper gone: orphan comes to the top", -1, 0);
	close(fds[0]);
	close(fds[1]);
}

// The ways a thread can sleep in a system call, for execve and
// exit_group to end: each blocker starts one.
static int bpipe[2], fullPipe[2], bsock[2], blisten = -1, bepoll = -1;
static void *bFutex(void *a) {
	(void)a;
	int w = 0;
	struct timespec ts = {1000, 0};
	syscall(SYS_futex, &w, FUTEX_WAIT, 0, &ts, 0, 0);
	return 0;
}
static void *bRead(void *a) {
	(void)a;
	char c;
	return (void *)read(bpipe[0], &c, 1);
}
static void *bWrite(void *a) {
	(void)a;
	char b[4096] = {0};
	for (;;)
		if (write(fullPipe[1], b, sizeof b) < 0)
			return 0;
}
static void *bPoll(void *a) {
	(void)a;
	struct pollfd pf = {bpipe[0], POLLIN, 0};
	return (void *)(long)poll(&pf, 1, -1);
}
static void *bSelect(void *a) {
	(void)a;
	fd_set r;
	FD_ZERO(&r);
	FD_SET(bpipe[0], &r);
	return (void *)(long)select(bpipe[0] + 1, &r, 0, 0, 0);
}
static void *bEpoll(void *a) {
	(void)a;
	struct epoll_event e;
	return (void *)(long)epoll_wait(bepoll, &e, 1, -1);
}
static void *bSigwait(void *a) {
	(void)a;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	siginfo_t si;
	return (void *)(long)sigwaitinfo(&set, &si);
}
static void *bWait(void *a) {
	(void)a;
	return (void *)(long)wait(0);
}
static void *bSleep(void *a) {
	(void)a;
	struct timespec ts = {1000, 0};
	return (void *)(long)nanosleep(&ts, 0);
}
static void *bAccept(void *a) {
	(void)a;
	return (void *)(long)accept(blisten, 0, 0);
}
static void *bRecv(void *a) {
	(void)a;
	char c;
	return (void *)recv(bsock[0], &c, 1, 0);
}
static void *bPause(void *a) {
	(void)a;
	return (void *)(long)pause();
}

// startBlockers starts a thread sleeping in each of the calls above
// (and a child for wait), and returns once they all have had time to
// block (they are checked asleep in /proc).
static void startBlockers(int viaPipe) {
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, 0);
	if (pipe(bpipe) < 0 || pipe(fullPipe) < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, bsock) < 0)
		_exit(90);
	blisten = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path + 1, sizeof sa.sun_path - 1, "procmodel-%d", getpid());
	if (bind(blisten, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(blisten, 1) < 0)
		_exit(91);
	bepoll = epoll_create1(0);
	struct epoll_event e = {.events = EPOLLIN};
	epoll_ctl(bepoll, EPOLL_CTL_ADD, bpipe[0], &e);
	// A child for wait to sleep on: killed by its parent-death signal
	// when its parent ends, or (viaPipe) ending when the pipe's write
	// end, held by its parent only, closes.
	int life[2];
	if (pipe(life) < 0)
		_exit(92);
	if (fork() == 0) {
		close(life[1]);
		if (!viaPipe)
			prctl(PR_SET_PDEATHSIG, SIGKILL);
		char c;
		if (viaPipe && read(life[0], &c, 1) <= 0)
			_exit(0);
		for (;;)
			pause();
	}
	close(life[0]);
	if (!viaPipe)
		close(life[1]);
	void *(*fns[])(void *) = {bFutex, bRead, bWrite, bPoll, bSelect, bEpoll, bSigwait, bWait, bSleep, bAccept, bRecv, bPause};
	int n = sizeof fns / sizeof fns[0];
	for (int i = 0; i < n; i++) {
		pthread_t t;
		pthread_create(&t, 0, fns[i], 0);
	}
	// Wait until n threads besides this one sleep (state S).
	for (int tries = 0; tries < 2000; tries++) {
		DIR *d = opendir("/proc/self/task");
		int asleep = 0;
		struct dirent *de;
		while (d && (de = readdir(d))) {
			if (de->d_name[0] == '.' || atoi(de->d_name) == (int)syscall(SYS_gettid))
				continue;
			char path[300], st[512];
			snprintf(path, sizeof path, "/proc/self/task/%s/stat", de->d_name);
			FILE *f = fopen(path, "r");
			if (!f)
				continue;
			int k = fread(st, 1, sizeof st - 1, f);
			fclose(f);
			st[k] = 0;
			char *q = strrchr(st, ')');
			if (q && q[2] == 'S')
				asleep++;
		}
		if (d)
			closedir(d);
		if (asleep >= n)
			return;
		usleep(2000);
	}
	say("blockers: not all asleep");
}

static void *execBlocked(void *arg) {
	(void)arg;
	startBlockers(0);
	return execThread(0);
}

// blockedEnds: execve from a thread, and exit_group, while other threads
// sleep in futex, read, write, poll, select, epoll_wait, sigwaitinfo,
// wait, nanosleep, accept, recv and pause.
static void blockedEnds(void) {
	pid_t p = fork();
	if (p == 0) {
		leaderPid = getpid();
		pthread_t t;
		pthread_create(&t, 0, execBlocked, 0);
		for (;;)
			pause();
	}
	reap("exec with threads asleep in system calls", p, 0);
	// Its child's parent is the thread that exec'd (now the leader):
	// its PR_SET_PDEATHSIG comes at that process's exit.
	reap("exec: child of the exec'ing thread gets its parent-death signal", -1, 0);
	p = fork();
	if (p == 0) {
		startBlockers(1);
		exit(33);
	}
	reap("exit_group with threads asleep in system calls", p, 0);
	waitpid(-1, 0, 0); // its child, ended: here or reaped there
	p = fork();
	if (p == 0) {
		startBlockers(1);
		raise(SIGTERM);
		_exit(1);
	}
	reap("SIGTERM with threads asleep in system calls", p, 0);
	waitpid(-1, 0, 0); // its child, ended: here or reaped there
}

static int vmChildKill(void *arg) {
	(void)arg;
	shared = 9;
	kill(getpid(), SIGKILL);
	return 0;
}

static int vforkNoVM(void *arg) {
	(void)arg;
	usleep(20000);
	shared = 5; // its own copy
	return 6;
}

// vforksMore: vfork's parent resumes when the child is killed, after a
// failed exec only at the exit; CLONE_VFORK without CLONE_VM; an exit
// signal other than SIGCHLD; a stopped process's fatal signal waits for
// SIGCONT; setsid refused while a group has the caller's ID.
static void vforksMore(void) {
	char *stack = newStack();
	shared = 0;
	pid_t p = clone(vmChildKill, stack, CLONE_VM | CLONE_VFORK | SIGCHLD, 0);
	say("vfork child killed: parent resumes, child wrote %d", shared);
	reap("vfork child killed", p, 0);
	shared = 0;
	p = vfork();
	if (p == 0) {
		execl("/nonexistent/program", "x", (char *)0);
		shared = errno == ENOENT ? 2 : 3;
		_exit(7);
	}
	say("vfork failed exec: parent resumes after child wrote %d", shared);
	reap("vfork failed exec", p, 0);
	shared = 0;
	p = clone(vforkNoVM, stack, CLONE_VFORK | SIGCHLD, 0);
	say("CLONE_VFORK without VM: parent sees %d", shared);
	reap("CLONE_VFORK without VM", p, 0);

	// Exit signal SIGUSR1.
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &old);
	long c = rawClone(SIGUSR1, 0, 0, 0, 0);
	if (c == 0)
		_exit(19);
	siginfo_t si;
	struct timespec ts = {5, 0};
	int sig = sigtimedwait(&set, &si, &ts);
	say("exit signal SIGUSR1: got %d code %s status %d pid %s", sig, codeName(si.si_code), si.si_status,
	    si.si_pid == c ? "child" : "other");
	reap("exit signal SIGUSR1: __WCLONE", c, __WCLONE);
	sigprocmask(SIG_SETMASK, &old, 0);

	// A fatal signal to a stopped process acts after SIGCONT.
	p = fork();
	if (p == 0) {
		for (;;)
			pause();
	}
	kill(p, SIGSTOP);
	reap("stopped", p, WUNTRACED);
	kill(p, SIGTERM);
	usleep(20000);
	reap("stopped, SIGTERM pending", p, WNOHANG);
	char path[64], st[256] = "";
	snprintf(path, sizeof path, "/proc/%d/stat", p);
	FILE *f = fopen(path, "r");
	if (f) {
		int n = fread(st, 1, sizeof st - 1, f);
		st[n] = 0;
		fclose(f);
	}
	char *e = strrchr(st, ')');
	say("stopped with SIGTERM pending: state %c", e ? e[2] : '?');
	kill(p, SIGCONT);
	reap("SIGCONT: the SIGTERM acts", p, 0);

	// setsid while a group has the caller's ID.
	int fds[2];
	if (pipe(fds) < 0)
		return;
	p = fork();
	if (p == 0) {
		setpgid(0, 0);
		pid_t g = fork();
		if (g == 0) {
			char c;
			close(fds[1]);
			if (read(fds[0], &c, 1) < 0)
				_exit(1);
			_exit(0);
		}
		show("left own group", setpgid(0, getppid() > 0 ? getpgid(getppid()) : 0));
		show("setsid while a group has its ID", setsid());
		close(fds[1]);
		waitpid(g, 0, 0);
		show("setsid once the group is gone", setsid() > 0 ? 0 : -1);
		_exit(0);
	}
	close(fds[0]);
	close(fds[1]);
	reap("setsid child", p, 0);

	// kill(0, sig) signals the caller's whole group, itself included.
	p = fork();
	if (p == 0) {
		setpgid(0, 0);
		pid_t g = fork();
		if (g == 0) {
			for (;;)
				pause();
		}
		signal(SIGUSR1, SIG_IGN);
		usleep(10000);
		show("kill 0 SIGUSR1", kill(0, SIGUSR1));
		int s;
		waitpid(g, &s, 0);
		say("kill 0: group member %s", status(s));
		_exit(0);
	}
	reap("kill 0 child", p, 0);
}

static int pfd[2];

static void *blockFutex(void *arg) {
	(void)arg;
	int w = 0;
	syscall(SYS_futex, &w, FUTEX_WAIT, 0, 0, 0, 0);
	return 0;
}

static void *blockRead(void *arg) {
	(void)arg;
	char c;
	if (read(pfd[0], &c, 1) < 0)
		return 0;
	return 0;
}

static void *blockSleep(void *arg) {
	(void)arg;
	struct timespec ts = {1000, 0};
	nanosleep(&ts, 0);
	return 0;
}

static void *exitFromThread(void *arg) {
	(void)arg;
	usleep(20000);
	exit(24);
}

// exitGroup: exit_group while threads sleep in futex, read and
// nanosleep, from the leader and from another thread.
static void exitGroup(void) {
	for (int from = 0; from < 2; from++) {
		pid_t p = fork();
		if (p == 0) {
			if (pipe(pfd) < 0)
				_exit(1);
			pthread_t t;
			pthread_create(&t, 0, blockFutex, 0);
			pthread_create(&t, 0, blockRead, 0);
			pthread_create(&t, 0, blockSleep, 0);
			usleep(20000);
			if (from) {
				pthread_create(&t, 0, exitFromThread, 0);
				pthread_exit(0);
			}
			exit(23);
		}
		reap(from ? "exit_group from a thread, leader gone" : "exit_group from leader", p, 0);
	}
}

static void *forkAndExit(void *arg) {
	int *fds = arg;
	pid_t p = fork();
	if (p == 0) {
		prctl(PR_SET_PDEATHSIG, SIGUSR1);
		int v = -1;
		prctl(PR_GET_PDEATHSIG, &v);
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		char c = 'r';
		if (write(fds[1], &c, 1) < 0)
			_exit(1);
		struct timespec ts = {10, 0};
		siginfo_t si;
		int s = sigtimedwait(&set, &si, &ts);
		char r[2] = {v == SIGUSR1 ? 'g' : 'x', s == SIGUSR1 ? 'D' : 'x'};
		if (write(fds[1], r, 2) < 0)
			_exit(1);
		_exit(0);
	}
	char c;
	if (read(fds[0], &c, 1) < 0)
		return 0;
	return 0;
}

// pdeathsig: the parent-death signal is sent when the thread that made
// the child exits, though its process lives on.
static void pdeathsig(void) {
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, &old);
	int fds[2];
	if (pipe(fds) < 0)
		return;
	pthread_t t;
	pthread_create(&t, 0, forkAndExit, fds);
	pthread_join(t, 0);
	char got[3] = {0};
	if (readAll(fds[0], got, 2) != 2)
		strcpy(got, "??");
	say("pdeathsig: get / delivered at the thread's exit: %s", got);
	reap("pdeathsig child", -1, 0);
	close(fds[0]);
	close(fds[1]);
	sigprocmask(SIG_SETMASK, &old, 0);
}

int main(int argc, char **argv) {
	savedArgv = argv;
	if (argc > 2 && strcmp(argv[1], "vforkexec") == 0) {
		char c;
		alarm(10);
		_exit(read(atoi(argv[2]), &c, 1) == 1 && c == 'r' ? 8 : 1);
	}
	if (argc > 2 && strcmp(argv[1], "afterexec") == 0)
		afterExec(argv[2]);
	if (argc > 2 && strcmp(argv[1], "sleep") == 0) {
		if (write(atoi(argv[2]), "s", 1) < 0)
			_exit(1);
		for (;;)
			pause();
	}
	setvbuf(stdout, 0, _IOLBF, 0);
	// Start from the dispositions and mask a process gets from init, as
	// inside Cocoon: a runner under nohup ignores SIGHUP (a newly
	// orphaned stopped group would then live on after its SIGHUP, and
	// the wait for it never end), a shell's background job SIGINT and
	// SIGQUIT.
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, 0);
	if (readlink("/proc/self/exe", exePath, sizeof exePath - 1) < 0)
		strcpy(exePath, "/proc/self/exe");
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	cloneRules();
	sharing();
	cloneParent();
	tidFlags();
	vforks();
	threadExec();
	waits();
	sigchld();
	orphans();
	sessions();
	jobs();
	orphanedGroups();
	waitsMore();
	vforksMore();
	threadsAndGroups();
	exitGroup();
	blockedEnds();
	pdeathsig();
	say("procmodel: done");
	return 0;
}
