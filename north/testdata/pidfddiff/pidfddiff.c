// pidfddiff: process file descriptors — pidfd_open, pidfd_send_signal,
// clone's CLONE_PIDFD, waitid's P_PIDFD and poll on a pidfd — and prlimit64
// of another process, built with
// gcc -static and run natively and inside Cocoon (north/pidfd_vm_test.go):
// both runs must print the same lines. It prints outcomes (results, error
// names, statuses, poll events), never pids or descriptor numbers. Usage:
// pidfddiff [DIR] (DIR is unused).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

// include/uapi/linux/pidfd.h, include/uapi/linux/wait.h and
// include/uapi/linux/sched.h, for C libraries that lack them.
#ifndef PIDFD_NONBLOCK
#define PIDFD_NONBLOCK O_NONBLOCK
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#define PIDFD_SIGNAL_THREAD_GROUP 2
#define PIDFD_SIGNAL_PROCESS_GROUP 4

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
		E(EINVAL) E(ECHILD) E(ENOSYS) E(EMFILE)
#undef E
	}
	snprintf(buf, sizeof buf, "errno %d", errno);
	return buf;
}

// show prints what a call returned: its result or its error's name.
static void show(const char *what, long r) { printf("%s: %s\n", what, res(r)); }

// ok prints whether a call succeeded (for calls returning descriptors).
static void ok(const char *what, long r) { printf("%s: %s\n", what, r >= 0 ? "ok" : res(r)); }

static int pidfd_open(pid_t pid, unsigned flags) { return syscall(SYS_pidfd_open, pid, flags); }
static int pidfd_send_signal(int fd, int sig, siginfo_t *info, unsigned flags) {
	return syscall(SYS_pidfd_send_signal, fd, sig, info, flags);
}

// events polls fd without waiting and names the events it reports.
static void events(const char *what, int fd) {
	struct pollfd p = {fd, POLLIN | POLLOUT | POLLPRI, 0};
	int n = poll(&p, 1, 0);
	printf("%s: poll %d:%s%s%s%s\n", what, n, p.revents & POLLIN ? " IN" : "", p.revents & POLLOUT ? " OUT" : "",
	       p.revents & POLLHUP ? " HUP" : "", p.revents & POLLERR ? " ERR" : "");
}

// waited prints what waitid reported about child (si_pid compared, not
// printed; child 0: not compared).
static void waited(const char *what, long r, siginfo_t *si, pid_t child) {
	if (r < 0) {
		show(what, r);
		return;
	}
	const char *code = si->si_code == CLD_EXITED ? "exited" : si->si_code == CLD_KILLED ? "killed" : "other";
	printf("%s: %ld, signo %d, %s, status %d", what, r, si->si_signo, code, si->si_status);
	if (child != 0)
		printf(", pid is the child's %d", si->si_pid == child);
	printf("\n");
}

// sleeper forks a child that waits to be killed; it returns the pid.
static pid_t sleeper(void) {
	pid_t pid = fork();
	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

// exiter forks a child that exits with status at once.
static pid_t exiter(int status) {
	pid_t pid = fork();
	if (pid == 0)
		_exit(status);
	return pid;
}

static void opens(void) {
	show("pidfd_open pid 0", pidfd_open(0, 0));
	show("pidfd_open pid -1", pidfd_open(-1, 0));
	show("pidfd_open unknown flags", pidfd_open(getpid(), 0x4));
	show("pidfd_open a pid nobody has", pidfd_open(4000000, 0));
	int self = pidfd_open(getpid(), 0);
	ok("pidfd_open self", self);
	show("close-on-exec", fcntl(self, F_GETFD) & FD_CLOEXEC);
	show("access mode O_RDWR", (fcntl(self, F_GETFL) & O_ACCMODE) == O_RDWR);
	char b[8];
	show("read", read(self, b, sizeof b));
	show("write", write(self, b, sizeof b));
	events("self, running", self);
	siginfo_t si;
	show("waitid self", waitid(P_PIDFD, self, &si, WEXITED));
	show("signal 0 to self", pidfd_send_signal(self, 0, NULL, 0));
	close(self);
	int nb = pidfd_open(getpid(), PIDFD_NONBLOCK);
	show("PIDFD_NONBLOCK is O_NONBLOCK", (fcntl(nb, F_GETFL) & O_NONBLOCK) != 0);
	close(nb);
}

static void signals(void) {
	pid_t c = sleeper();
	int fd = pidfd_open(c, 0);
	ok("pidfd_open child", fd);
	show("signal 0", pidfd_send_signal(fd, 0, NULL, 0));
	show("bad signal", pidfd_send_signal(fd, 100, NULL, 0));
	show("bad flags", pidfd_send_signal(fd, SIGTERM, NULL, 0x8));
	show("two flags", pidfd_send_signal(fd, SIGTERM, NULL, PIDFD_SIGNAL_THREAD_GROUP | PIDFD_SIGNAL_PROCESS_GROUP));
	show("not a pidfd", pidfd_send_signal(1, SIGTERM, NULL, 0));
	show("closed descriptor", pidfd_send_signal(100, SIGTERM, NULL, 0));
	events("running child", fd);
	siginfo_t si;
	memset(&si, 0, sizeof si);
	show("waitid WNOHANG, running", waitid(P_PIDFD, fd, &si, WEXITED | WNOHANG));
	printf("  si_pid zeroed: %d\n", si.si_pid == 0);
	show("SIGTERM", pidfd_send_signal(fd, SIGTERM, NULL, PIDFD_SIGNAL_THREAD_GROUP));
	// The pidfd becomes readable when the child is a zombie.
	struct pollfd p = {fd, POLLIN, 0};
	show("poll until it ends", poll(&p, 1, 10000));
	events("zombie", fd);
	show("signal to a zombie", pidfd_send_signal(fd, SIGKILL, NULL, 0));
	memset(&si, 0, sizeof si);
	waited("waitid WNOWAIT", waitid(P_PIDFD, fd, &si, WEXITED | WNOWAIT), &si, c);
	memset(&si, 0, sizeof si);
	waited("waitid", waitid(P_PIDFD, fd, &si, WEXITED), &si, c);
	show("waitid again", waitid(P_PIDFD, fd, &si, WEXITED));
	show("signal after reaping", pidfd_send_signal(fd, SIGTERM, NULL, 0));
	events("reaped", fd);
	close(fd);
}

static void waits(void) {
	siginfo_t si;
	show("waitid P_PIDFD -1", waitid(P_PIDFD, -1, &si, WEXITED));
	show("waitid P_PIDFD not a pidfd", waitid(P_PIDFD, 1, &si, WEXITED));
	show("waitid P_PIDFD closed", waitid(P_PIDFD, 100, &si, WEXITED));

	// A nonblocking pidfd: EAGAIN while the child runs.
	pid_t c = sleeper();
	int fd = pidfd_open(c, PIDFD_NONBLOCK);
	show("nonblocking waitid, running", waitid(P_PIDFD, fd, &si, WEXITED));
	kill(c, SIGKILL);
	memset(&si, 0, sizeof si);
	int r;
	do {
		r = waitid(P_PIDFD, fd, &si, WEXITED);
	} while (r < 0 && errno == EAGAIN && usleep(1000) == 0);
	waited("nonblocking waitid, killed", r, &si, c);
	close(fd);

	// waitid blocks until the child exits; waitpid on the pid then finds
	// nothing.
	c = exiter(42);
	fd = pidfd_open(c, 0);
	memset(&si, 0, sizeof si);
	waited("blocking waitid", waitid(P_PIDFD, fd, &si, WEXITED), &si, c);
	show("waitpid after", waitpid(c, NULL, WNOHANG));
	close(fd);

	// The pidfd of a child reaped another way.
	c = exiter(3);
	fd = pidfd_open(c, 0);
	int st;
	show("waitpid reaps", waitpid(c, &st, 0) == c);
	printf("  status %d\n", WEXITSTATUS(st));
	show("waitid on its pidfd", waitid(P_PIDFD, fd, &si, WEXITED));
	show("pidfd_open after reaping", pidfd_open(c, 0));
	close(fd);

	// Another process's pidfd: not our child.
	int self = pidfd_open(getppid() > 0 ? getpid() : getpid(), 0);
	show("waitid for self", waitid(P_PIDFD, self, &si, WEXITED));
	close(self);
}

static void epolls(void) {
	pid_t c = sleeper();
	int fd = pidfd_open(c, 0);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 7};
	show("epoll_ctl add", epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
	struct epoll_event out[2];
	show("epoll_wait, running", epoll_wait(ep, out, 2, 0));
	kill(c, SIGTERM);
	int n = epoll_wait(ep, out, 2, 10000);
	printf("epoll_wait after SIGTERM: %d, data %llu, IN %d\n", n, n > 0 ? (unsigned long long)out[0].data.u64 : 0ULL,
	       n > 0 && (out[0].events & EPOLLIN) != 0);
	siginfo_t si;
	memset(&si, 0, sizeof si);
	waited("waitid", waitid(P_PIDFD, fd, &si, WEXITED), &si, c);
	close(ep);
	close(fd);
}

static void clones(void) {
	int pidfd = -1;
	// clone(CLONE_PIDFD | SIGCHLD): the pidfd comes back through the
	// parent_tid argument (clone(2)).
	long c = syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, 0, &pidfd, 0, 0);
	if (c == 0)
		_exit(9);
	show("clone CLONE_PIDFD", c > 0);
	show("pidfd returned", pidfd >= 0);
	show("close-on-exec", fcntl(pidfd, F_GETFD) & FD_CLOEXEC);
	siginfo_t si;
	memset(&si, 0, sizeof si);
	waited("waitid", waitid(P_PIDFD, pidfd, &si, WEXITED), &si, c);
	close(pidfd);

	// vfork-style, as Go's os/exec: CLONE_VM | CLONE_VFORK | CLONE_PIDFD,
	// no exit signal, reaped with __WCLONE.
	pidfd = -1;
	c = syscall(SYS_clone, CLONE_VM | CLONE_VFORK | CLONE_PIDFD, 0, &pidfd, 0, 0);
	if (c == 0)
		syscall(SYS_exit_group, 5);
	show("vfork CLONE_PIDFD", c > 0);
	memset(&si, 0, sizeof si);
	show("waitid without __WCLONE", waitid(P_PIDFD, pidfd, &si, WEXITED | WNOHANG));
	memset(&si, 0, sizeof si);
	// (The child's return value shared the stack: c is not the pid.)
	waited("waitid __WCLONE", waitid(P_PIDFD, pidfd, &si, WEXITED | __WCLONE), &si, 0);
	close(pidfd);

	// clone3 returns the pidfd through clone_args.pidfd
	// (include/uapi/linux/sched.h: flags, pidfd, child_tid, parent_tid,
	// exit_signal, stack, stack_size, tls).
	uint64_t args[8] = {CLONE_PIDFD, (uint64_t)(uintptr_t)&pidfd, 0, 0, SIGCHLD, 0, 0, 0};
	pidfd = -1;
	c = syscall(SYS_clone3, args, sizeof args);
	if (c == 0)
		_exit(11);
	show("clone3 CLONE_PIDFD", c > 0);
	memset(&si, 0, sizeof si);
	waited("clone3 waitid", waitid(P_PIDFD, pidfd, &si, WEXITED), &si, c);
	close(pidfd);
	int ptid = -1;
	args[0] = CLONE_PIDFD | CLONE_PARENT_SETTID;
	args[3] = args[1];
	show("clone3 pidfd and parent_tid the same int", syscall(SYS_clone3, args, sizeof args));
	args[3] = (uint64_t)(uintptr_t)&ptid;
	c = syscall(SYS_clone3, args, sizeof args);
	if (c == 0)
		_exit(12);
	show("clone3 pidfd and parent_tid apart", c > 0);
	show("parent_tid is the pid", ptid == c);
	memset(&si, 0, sizeof si);
	waited("clone3 waitid", waitid(P_PIDFD, pidfd, &si, WEXITED), &si, c);
	close(pidfd);

	show("CLONE_PIDFD with CLONE_PARENT_SETTID",
	     syscall(SYS_clone, CLONE_PIDFD | CLONE_PARENT_SETTID | SIGCHLD, 0, &pidfd, 0, 0));
	show("CLONE_PIDFD with CLONE_DETACHED", syscall(SYS_clone, CLONE_PIDFD | 0x00400000 | SIGCHLD, 0, &pidfd, 0, 0));
	show("CLONE_PIDFD to a bad address", syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, 0, (void *)8, 0, 0));
	show("no child made", waitpid(-1, NULL, WNOHANG));
}

// perms: pidfd_send_signal checks the sender's right to signal as kill(2)
// does (the parent runs as root, the child drops to user 1000).
static void perms(void) {
	int parent = pidfd_open(getpid(), 0);
	pid_t c = fork();
	if (c == 0) {
		if (setresuid(1000, 1000, 1000) != 0) {
			printf("FAIL: setresuid: %s (run as root)\n", res(-1));
			_exit(1);
		}
		show("unprivileged: SIGTERM to root", pidfd_send_signal(parent, SIGTERM, NULL, 0));
		show("unprivileged: signal 0 to root", pidfd_send_signal(parent, 0, NULL, 0));
		show("unprivileged: SIGCONT within the session", pidfd_send_signal(parent, SIGCONT, NULL, 0));
		struct rlimit r;
		show("unprivileged: prlimit of root", prlimit(getppid(), RLIMIT_NOFILE, NULL, &r));
		_exit(0);
	}
	int st;
	waitpid(c, &st, 0);
	show("unprivileged child's status", WEXITSTATUS(st));
	close(parent);
}

// prlimits: prlimit64 reads and sets another process's limits.
static void prlimits(void) {
	pid_t c = sleeper();
	struct rlimit r, set;
	show("prlimit of a child", prlimit(c, RLIMIT_NOFILE, NULL, &r));
	set.rlim_cur = 100;
	set.rlim_max = r.rlim_max;
	show("prlimit sets a child's", prlimit(c, RLIMIT_NOFILE, &set, NULL));
	show("prlimit reads it back", prlimit(c, RLIMIT_NOFILE, NULL, &r));
	printf("  soft %ld, hard unchanged %d\n", (long)r.rlim_cur, r.rlim_max == set.rlim_max);
	show("own limit unchanged", prlimit(0, RLIMIT_NOFILE, NULL, &r));
	printf("  soft is 100: %d\n", r.rlim_cur == 100);
	show("prlimit of a pid nobody has", prlimit(4000000, RLIMIT_NOFILE, NULL, &r));
	show("prlimit of own pid", prlimit(getpid(), RLIMIT_NOFILE, NULL, &r));
	kill(c, SIGKILL);
	waitpid(c, NULL, 0);
}

int main(int argc, char **argv) {
	(void)argc;
	(void)argv;
	setvbuf(stdout, NULL, _IONBF, 0);
	opens();
	signals();
	waits();
	epolls();
	clones();
	prlimits();
	perms();
	printf("pidfddiff: done\n");
	return 0;
}
