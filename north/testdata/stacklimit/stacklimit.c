// stacklimit: an execed program's stack is as large as RLIMIT_STACK was
// at the execve (Linux's grows on faults up to the limit), and its
// arguments and environment may take a quarter of it, at least ARG_MAX
// (128 KiB) and at most 6 MiB (fs/exec.c bprm_stack_limits): E2BIG past
// that. Only the soft limit is moved.
// Usage: stacklimit [scratch-dir], or stacklimit - recurse MIB.
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static int rec(long n) {
	volatile char b[4096];
	b[0] = (char)n;
	if (n == 0)
		return b[0];
	return rec(n - 1) + b[0];
}

static void soft(long bytes) {
	struct rlimit rl;
	getrlimit(RLIMIT_STACK, &rl);
	rl.rlim_cur = bytes;
	if (setrlimit(RLIMIT_STACK, &rl) != 0)
		printf("setrlimit RLIMIT_STACK %ld: %s\n", bytes, strerror(errno));
}

// run execs this program to recurse mib MiB deep, with extra bytes of
// arguments, and tells how it ended.
static void run(const char *label, long mib, long extra) {
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		char n[32];
		snprintf(n, sizeof n, "%ld", mib);
		long k = extra > 0 ? extra / (100 << 10) : 0;
		char **argv = calloc(k + 5, sizeof *argv);
		argv[0] = "stacklimit", argv[1] = "-", argv[2] = n;
		if (extra < 0)
			argv[3] = "raise";
		for (long i = 0; i < k; i++) {
			argv[3 + i] = malloc(100 << 10);
			memset(argv[3 + i], 'a', (100 << 10) - 1);
			argv[3 + i][(100 << 10) - 1] = 0;
		}
		char *envp[] = {NULL};
		execve("/proc/self/exe", argv, envp);
		printf("%s: execve: %s\n", label, errno == E2BIG ? "E2BIG" : strerror(errno));
		fflush(stdout);
		_exit(0);
	}
	int st;
	waitpid(c, &st, 0);
	if (WIFSIGNALED(st))
		printf("%s: killed by %s\n", label, strsignal(WTERMSIG(st)));
	else if (WEXITSTATUS(st) != 0)
		printf("%s: exit %d\n", label, WEXITSTATUS(st));
}

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 2 && strcmp(argv[1], "-") == 0) {
		long mib = atol(argv[2]);
		if (argc > 3 && strcmp(argv[3], "raise") == 0)
			soft(32 << 20); // after the execve: the stack grows to it
		rec(mib * 256);
		printf("recursed %ld MiB with %d arguments\n", mib, argc);
		return 0;
	}
	soft(8 << 20);
	run("8 MiB limit, 7 MiB deep", 7, 0);
	run("8 MiB limit, 9 MiB deep", 9, 0);
	run("8 MiB limit raised to 32 MiB after the execve, 20 MiB deep", 20, -1);
	soft(32 << 20);
	run("32 MiB limit, 20 MiB deep", 20, 0);
	run("32 MiB limit, 40 MiB deep", 40, 0);
	run("32 MiB limit, 5 MiB of arguments", 0, 5 << 20);
	run("32 MiB limit, 7 MiB of arguments", 0, 7 << 20);
	soft(1 << 20);
	run("1 MiB limit, 2 MiB deep", 2, 0);
	run("1 MiB limit, 200 KiB of arguments", 0, 200 << 10);
	run("1 MiB limit, 300 KiB of arguments", 0, 300 << 10);
	soft(256 << 10);
	run("256 KiB limit, 100 KiB of arguments (ARG_MAX)", 0, 100 << 10);
	soft(8 << 20);
	printf("stacklimit: done\n");
	return 0;
}
