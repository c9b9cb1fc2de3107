// The main stack as Linux maps it: small at exec (setup_arg_pages maps
// 128 KiB below the arguments), grown on a fault below it, by the program
// or by a system call writing there (a fault in copy_to_user expands it
// too), up to RLIMIT_STACK, and not within stack_guard_gap of another
// accessible mapping; mmap keeps its hints out of that gap. Prints
// relations, not addresses.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define K 1024UL
#define M (1024 * K)

static void stackRange(uintptr_t *lo, uintptr_t *hi) {
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");
	while (fgets(line, sizeof line, f))
		if (strstr(line, "[stack]"))
			sscanf(line, "%lx-%lx", lo, hi);
	fclose(f);
}

static long vmstk(void) {
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmStk: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static const char *yes(int b) { return b ? "yes" : "no"; }

// inChild runs fn in a child and reports how it ended.
static const char *inChild(void (*fn)(uintptr_t), uintptr_t arg) {
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		fn(arg);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	if (WIFSIGNALED(st))
		return WTERMSIG(st) == SIGSEGV ? "SIGSEGV" : "another signal";
	return WEXITSTATUS(st) == 0 ? "exited 0" : "exited non-zero";
}

static void touch(uintptr_t a) { *(volatile char *)a = 1; }

static void readInto(uintptr_t a) {
	int fd = open("/dev/zero", O_RDONLY);
	ssize_t n = read(fd, (void *)a, 4096);
	printf("read below the stack, beyond RLIMIT_STACK: %s\n", n < 0 ? strerror(errno) : "read");
	fflush(stdout);
}

int main(void) {
	uintptr_t lo, hi;
	stackRange(&lo, &hi);
	printf("VmStk at start under 1 MiB: %s\n", yes(vmstk() < 1024));
	printf("[stack] at start under 1 MiB: %s\n", yes(hi - lo < M));
	printf("[stack] is VmStk: %s\n", yes((long)((hi - lo) / K) == vmstk()));
	// A touch 2 MiB below grows it there.
	uintptr_t a = (hi - 2 * M) & ~4095UL;
	touch(a);
	uintptr_t lo2, hi2;
	stackRange(&lo2, &hi2);
	printf("a touch 2 MiB below the top grows it: %s\n", yes(lo2 == a && hi2 == hi));
	printf("VmStk follows: %s\n", yes(vmstk() == (long)((hi - a) / K)));
	// A system call writing below it grows it too.
	int fd = open("/dev/zero", O_RDONLY);
	uintptr_t b = a - 64 * K;
	ssize_t n = read(fd, (void *)b, 4096);
	printf("read(2) into the page 64 KiB below: %s\n", n == 4096 ? "4096" : strerror(errno));
	stackRange(&lo2, &hi2);
	printf("the read grew it: %s\n", yes(lo2 == b));
	close(fd);
	// Past RLIMIT_STACK (8 MiB): no growth.
	printf("a touch past RLIMIT_STACK: %s\n", inChild(touch, hi - 9 * M));
	inChild(readInto, hi - 9 * M);
	// A hint in the guard gap below it is not taken; MAP_FIXED is.
	uintptr_t h = lo2 - 512 * K;
	char *p = mmap((void *)h, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf("hint in the guard gap moved: %s\n", yes(p != MAP_FAILED && (uintptr_t)p != h));
	// A PROT_NONE mapping in the gap does not stop a growth (its
	// guard is inaccessible anyway); an accessible one does.
	p = mmap((void *)h, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	printf("growth near a PROT_NONE mapping: %s\n", inChild(touch, lo2 - 256 * K));
	mprotect(p, 4096, PROT_READ);
	printf("growth near an accessible mapping: %s\n", inChild(touch, lo2 - 256 * K));
	munmap(p, 4096);
	printf("growth once it is gone: %s\n", inChild(touch, lo2 - 256 * K));
	printf("stackgrow: done\n");
	return 0;
}
