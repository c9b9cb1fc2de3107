// getfd: pidfd_getfd(2): a duplicate of another process's (or one's own)
// descriptor, close-on-exec, sharing the open file; its errors (flags,
// no pidfd, a descriptor not open there, a process gone, another user's
// EPERM); every result printed, for comparison with Linux's.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define R(x)                                                                               \
	do {                                                                               \
		errno = 0;                                                                 \
		long r_ = (long)(x);                                                       \
		printf("%-64s = %ld %s\n", #x, r_, r_ < 0 ? strerrorname_np(errno) : ""); \
		fflush(stdout);                                                            \
	} while (0)

static long getfd(int pidfd, int fd, unsigned flags) { return syscall(SYS_pidfd_getfd, pidfd, fd, flags); }
static int pidfd_open(pid_t p) { return syscall(SYS_pidfd_open, p, 0); }

int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	int self = pidfd_open(getpid());
	int p[2];
	pipe(p);
	R(getfd(self, p[1], 1));
	R(getfd(-1, p[1], 0));
	R(getfd(p[0], p[1], 0));
	R(getfd(self, 999, 0));
	R(getfd(self, -1, 0));
	long d = getfd(self, p[1], 0);
	printf("got: %d, close-on-exec %d, status flags equal %d\n", d > 2, fcntl(d, F_GETFD) == FD_CLOEXEC,
	       fcntl(d, F_GETFL) == fcntl(p[1], F_GETFL));
	write(d, "via dup", 7);
	char b[16] = {0};
	read(p[0], b, sizeof b - 1);
	printf("read back: %s\n", b);
	// The same open file: the offset is shared.
	int f = open("/proc/self/exe", O_RDONLY);
	long e = getfd(self, f, 0);
	lseek(f, 100, SEEK_SET);
	R(lseek(e, 0, SEEK_CUR));
	// A child's descriptor.
	int q[2];
	pipe(q);
	pid_t c = fork();
	if (c == 0) {
		int secret = open("/proc/self/exe", O_RDONLY);
		lseek(secret, 42, SEEK_SET);
		dup2(secret, 77);
		write(q[1], "r", 1);
		pause();
		_exit(0);
	}
	char x;
	read(q[0], &x, 1);
	int child = pidfd_open(c);
	long cf = getfd(child, 77, 0);
	printf("child's 77: %d\n", cf >= 0);
	R(lseek(cf, 0, SEEK_CUR));
	R(getfd(child, 78, 0));
	kill(c, SIGKILL);
	siginfo_t si;
	waitid(P_PID, c, &si, WEXITED | WNOWAIT);
	R(getfd(child, 77, 0));
	waitpid(c, NULL, 0);
	R(getfd(child, 77, 0));
	// Another user may not take them.
	c = fork();
	if (c == 0) {
		int parent = pidfd_open(getppid());
		setresuid(1000, 1000, 1000);
		R(getfd(parent, 0, 0));
		R(getfd(parent, 999, 0));
		_exit(0);
	}
	waitpid(c, NULL, 0);
	// PIDFD_SELF_THREAD and PIDFD_SELF_THREAD_GROUP (Linux 6.18): the
	// calling thread and its process, without a pidfd.
	sigset_t set, pend;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	R(syscall(SYS_pidfd_send_signal, -10000, 0, NULL, 0));
	R(syscall(SYS_pidfd_send_signal, -10000, SIGUSR1, NULL, 0));
	R(syscall(SYS_pidfd_send_signal, -10001, SIGUSR2, NULL, 0));
	R(syscall(SYS_pidfd_send_signal, -10000, 99, NULL, 0));
	R(syscall(SYS_pidfd_send_signal, -10000, 0, NULL, 8));
	R(syscall(SYS_pidfd_send_signal, -20000, 0, NULL, 0));
	R(getfd(-10000, 1, 0));
	R(getfd(-10001, 1, 0));
	sigpending(&pend);
	printf("pending: USR1 %d USR2 %d\n", sigismember(&pend, SIGUSR1), sigismember(&pend, SIGUSR2));
	for (int i = 0; i < 2; i++) {
		siginfo_t si;
		int s = sigwaitinfo(&set, &si);
		printf("took %s, code %s, from me %d\n", s == SIGUSR1 ? "USR1" : "USR2",
		       si.si_code == SI_TKILL ? "SI_TKILL" : si.si_code == SI_USER ? "SI_USER" : "other", si.si_pid == getpid());
	}
	printf("getfd: done\n");
	return 0;
}
