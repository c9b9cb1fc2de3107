// tee: tee(2) between pipes (the bytes stay in the first), vmsplice(2)
// into and out of a pipe, their blocking, SIGPIPE and errors; every
// result printed, for comparison with Linux's.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define R(x)                                                                               \
	do {                                                                               \
		errno = 0;                                                                 \
		long r_ = (long)(x);                                                       \
		printf("%-64s = %ld %s\n", #x, r_, r_ < 0 ? strerrorname_np(errno) : ""); \
		fflush(stdout);                                                            \
	} while (0)

static void drain(const char *what, int fd) {
	char b[256];
	int fl = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	long n = read(fd, b, sizeof b - 1);
	fcntl(fd, F_SETFL, fl);
	b[n > 0 ? n : 0] = 0;
	printf("%s: %ld '%s'\n", what, n, b);
	fflush(stdout);
}

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	int a[2], b[2], c[2];
	pipe(a);
	pipe(b);
	pipe(c);
	write(a[1], "hello", 5);
	write(a[1], " world", 6);
	R(tee(a[0], b[1], 100, 0));
	R(tee(a[0], c[1], 3, 0));
	drain("b", b[0]);
	drain("c", c[0]);
	drain("a keeps its bytes", a[0]);
	R(tee(a[0], b[1], 100, SPLICE_F_NONBLOCK));
	R(tee(a[0], b[1], 0, 0));
	R(tee(a[0], a[1], 10, 0));
	R(tee(a[1], b[1], 10, 0));
	R(tee(a[0], b[0], 10, 0));
	R(tee(-1, b[1], 10, 0));
	R(tee(a[0], 999, 10, 0));
	R(tee(a[0], b[1], 10, 0x100));
	int fd = open("/proc/self/exe", O_RDONLY);
	R(tee(fd, b[1], 10, 0));
	R(tee(a[0], fd, 10, 0));
	// A blocking tee waits for bytes.
	pid_t k = fork();
	if (k == 0) {
		struct timespec t = {0, 100000000};
		nanosleep(&t, NULL);
		write(a[1], "late", 4);
		_exit(0);
	}
	R(tee(a[0], b[1], 100, 0));
	waitpid(k, NULL, 0);
	drain("b", b[0]);
	drain("a", a[0]);
	// The writers gone: end of file.
	close(a[1]);
	R(tee(a[0], b[1], 100, 0));
	// The output's readers gone: EPIPE and SIGPIPE.
	pipe(a);
	write(a[1], "x", 1);
	close(c[0]);
	sigset_t set, pending;
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigprocmask(SIG_BLOCK, &set, NULL);
	R(tee(a[0], c[1], 10, 0));
	sigpending(&pending);
	printf("SIGPIPE pending: %d\n", sigismember(&pending, SIGPIPE));
	int sig;
	sigwait(&set, &sig);

	// vmsplice: user memory into a pipe, a pipe into user memory.
	char m1[] = "vm", m2[] = "splice";
	struct iovec iov[2] = {{m1, 2}, {m2, 6}};
	R(vmsplice(b[1], iov, 2, 0));
	char r1[4] = {0}, r2[8] = {0};
	struct iovec out[2] = {{r1, 3}, {r2, 7}};
	R(vmsplice(b[0], out, 2, 0));
	printf("read back '%s' '%s'\n", r1, r2);
	R(vmsplice(b[0], out, 2, SPLICE_F_NONBLOCK));
	R(vmsplice(b[1], iov, 0, 0));
	R(vmsplice(fd, iov, 2, 0));
	R(vmsplice(-1, iov, 2, 0));
	R(vmsplice(b[1], iov, 2, 0x100));
	R(vmsplice(b[1], (struct iovec *)8, 2, 0));
	R(vmsplice(b[1], iov, 1025, 0));
	int path = open("/proc/self/exe", O_PATH);
	R(vmsplice(path, iov, 2, 0));
	// A pipe made non-blocking does not make vmsplice so: a reader waits.
	fcntl(b[0], F_SETFL, O_NONBLOCK);
	k = fork();
	if (k == 0) {
		struct timespec t = {0, 100000000};
		nanosleep(&t, NULL);
		write(b[1], "later", 5);
		_exit(0);
	}
	R(vmsplice(b[0], out, 2, 0));
	printf("read back '%s' '%s'\n", r1, r2);
	waitpid(k, NULL, 0);
	// Into a full pipe: what fits, then EAGAIN with SPLICE_F_NONBLOCK.
	int full[2];
	pipe(full);
	static char big[70000];
	memset(big, 'z', sizeof big);
	struct iovec bi = {big, sizeof big};
	// Linux fills the pipe with references to the pages (the buffer's
	// first page partly): under 64 KiB by where big starts in its page.
	R(vmsplice(full[1], &bi, 1, SPLICE_F_NONBLOCK) > 60000);
	R(vmsplice(full[1], &bi, 1, SPLICE_F_NONBLOCK));
	close(full[0]);
	R(vmsplice(full[1], iov, 2, 0));
	sigpending(&pending);
	printf("SIGPIPE pending: %d\n", sigismember(&pending, SIGPIPE));
	(void)argc;
	(void)argv;
	printf("tee: done\n");
	return 0;
}
