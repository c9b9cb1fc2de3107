// pmadvise: process_madvise(2) on the caller's memory (any advice) and a
// child's (hints only), PIDFD_SELF, the iovec array and its errors;
// process_mrelease(2) of a live, a dead and a reaped process; every
// result printed, for comparison with Linux's.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define R(x)                                                                               \
	do {                                                                               \
		errno = 0;                                                                 \
		long r_ = (long)(x);                                                       \
		printf("%-64s = %ld %s\n", #x, r_, r_ < 0 ? strerrorname_np(errno) : ""); \
		fflush(stdout);                                                            \
	} while (0)

static long pm(int fd, struct iovec *v, size_t n, int advice, unsigned flags) {
	return syscall(SYS_process_madvise, fd, v, n, advice, flags);
}

int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	int self = syscall(SYS_pidfd_open, getpid(), 0);
	char *a = mmap(0, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(a + 3 * 4096, 4096);
	a[0] = 1;
	struct iovec iov = {a, 8192}, two[2] = {{a, 4096}, {a + 8192, 4096}}, bad = {a + 1, 4096},
		     un = {a + 3 * 4096, 4096}, part[2] = {{a, 4096}, {a + 3 * 4096, 4096}};
	R(pm(self, &iov, 1, MADV_COLD, 0));
	R(pm(self, &iov, 1, MADV_PAGEOUT, 0));
	R(pm(self, &iov, 1, MADV_WILLNEED, 0));
	R(pm(self, two, 2, MADV_NORMAL, 0));
	R(pm(self, &iov, 1, MADV_DONTNEED, 0));
	R(a[0]);
	R(pm(self, &iov, 1, 999, 0));
	R(pm(self, &iov, 1, MADV_COLD, 1));
	R(pm(-1, &iov, 1, MADV_COLD, 0));
	R(pm(0, &iov, 1, MADV_COLD, 0));
	R(pm(self, &bad, 1, MADV_COLD, 0));
	R(pm(self, &un, 1, MADV_COLD, 0));
	R(pm(self, part, 2, MADV_COLD, 0));
	R(pm(self, (void *)8, 1, MADV_COLD, 0));
	R(pm(self, &iov, 1025, MADV_COLD, 0));
	R(pm(self, &iov, 0, MADV_COLD, 0));
	R(pm(self, &iov, 0, 999, 0));
	R(pm(-10000, &iov, 1, MADV_COLD, 0));
	R(pm(-10001, &iov, 1, MADV_WILLNEED, 0));
	R(pm(-20000, &iov, 1, MADV_WILLNEED, 0));
	R(syscall(SYS_process_mrelease, -10000, 0));
	R(syscall(SYS_process_mrelease, -10001, 0));
	R(syscall(SYS_process_mrelease, self, 0));
	R(syscall(SYS_process_mrelease, self, 1));
	R(syscall(SYS_process_mrelease, -1, 0));
	R(syscall(SYS_process_mrelease, 0, 0));

	pid_t c = fork();
	if (c == 0) {
		pause();
		_exit(0);
	}
	int cp = syscall(SYS_pidfd_open, c, 0);
	R(pm(cp, &iov, 1, MADV_COLD, 0));
	R(pm(cp, &iov, 1, MADV_PAGEOUT, 0));
	R(pm(cp, &iov, 1, MADV_WILLNEED, 0));
	R(pm(cp, &iov, 1, MADV_DONTNEED, 0));
	R(pm(cp, &iov, 1, 999, 0));
	R(pm(cp, &un, 1, MADV_COLD, 0));
	R(pm(cp, part, 2, MADV_COLD, 0));
	R(syscall(SYS_process_mrelease, cp, 0));
	pid_t d = fork();
	if (d == 0) {
		setresuid(1000, 1000, 1000);
		R(pm(cp, &iov, 1, MADV_COLD, 0));
		_exit(0);
	}
	waitpid(d, NULL, 0);
	kill(c, SIGKILL);
	siginfo_t si;
	waitid(P_PID, c, &si, WEXITED | WNOWAIT);
	R(syscall(SYS_process_mrelease, cp, 0));
	R(pm(cp, &iov, 1, MADV_COLD, 0));
	waitpid(c, NULL, 0);
	R(syscall(SYS_process_mrelease, cp, 0));
	R(pm(cp, &iov, 1, MADV_COLD, 0));
	printf("pmadvise: done\n");
	return 0;
}
