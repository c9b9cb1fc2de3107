// Where mmap puts a mapping without MAP_FIXED: x86-64 Linux's top-down
// layout (arch/x86/mm/mmap.c, vm_unmapped_area): below the stack and its
// gap, each new mapping below the last, a hole reused from the top, a free
// hint taken, MAP_32BIT in the second gigabyte; a new program's layout
// with RLIMIT_STACK unlimited and with ADDR_COMPAT_LAYOUT (bottom-up). Prints
// relations, not addresses, which ASLR moves.
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define K 1024UL

static char *map(void *hint, size_t len, int prot, int flags) {
	char *p = mmap(hint, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);
	if (p == MAP_FAILED) {
		printf("FAIL mmap: %s\n", strerror(errno));
		exit(1);
	}
	return p;
}

static const char *yes(int b) { return b ? "yes" : "no"; }

// stackRange returns the [stack] line's range of /proc/self/maps.
static void stackRange(uintptr_t *lo, uintptr_t *hi) {
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");
	while (fgets(line, sizeof line, f))
		if (strstr(line, "[stack]"))
			sscanf(line, "%lx-%lx", lo, hi);
	fclose(f);
}

static uintptr_t stackStart(void) {
	uintptr_t lo = 0, hi = 0;
	stackRange(&lo, &hi);
	return lo;
}

static uintptr_t stackEnd(void) {
	uintptr_t lo = 0, hi = 0;
	stackRange(&lo, &hi);
	return hi;
}

int main(int argc, char **argv) {
	if (argc > 2) {
		// Exec'd again: with RLIMIT_STACK unlimited, still top-down
		// (x86's mmap_is_legacy looks at the personality only), from
		// far below the stack; with ADDR_COMPAT_LAYOUT, the legacy
		// layout, bottom-up from a third of the address space.
		char *a = map(NULL, 64 * K, PROT_READ, 0);
		char *b = map(NULL, 64 * K, PROT_READ | PROT_WRITE, 0);
		printf("%s: second above first: %s\n", argv[2], yes(b > a));
		printf("%s: adjacent: %s\n", argv[2], yes(a + 64 * K == b || b + 64 * K == a));
		printf("%s: more than 1 GiB below the stack: %s\n", argv[2], yes((uintptr_t)b + (1UL << 30) < stackStart()));
		return 0;
	}
	int local;
	char *brk = sbrk(0);
	char *a = map(NULL, 64 * K, PROT_READ, 0);
	char *b = map(NULL, 64 * K, PROT_READ | PROT_WRITE, 0);
	char *c = map(NULL, 1024 * K, PROT_READ, 0);
	printf("second below first: %s\n", yes(b < a));
	printf("adjacent below: %s %s\n", yes(b + 64 * K == a), yes(c + 1024 * K == b));
	printf("above the heap: %s\n", yes(c > brk));
	printf("below the stack: %s\n", yes((uintptr_t)a < stackStart() && a < (char *)&local));
	// RLIMIT_STACK (8 MiB) at least between them and the stack's top
	// (mmap_base's gap).
	printf("the stack's gap kept: %s\n", yes((uintptr_t)a + 64 * K + (8UL << 20) <= stackEnd()));
	// A hole is taken again: the highest free range that fits.
	munmap(b, 64 * K);
	char *d = map(NULL, 64 * K, PROT_READ | PROT_WRITE, 0);
	printf("hole reused: %s\n", yes(d == b));
	char *e = map(NULL, 128 * K, PROT_READ | PROT_WRITE, 0);
	printf("too small a hole skipped: %s\n", yes(e + 128 * K == c));
	// A hint is taken where it is free, not where it is taken.
	char *want = (char *)(64UL << 30);
	char *f = map(want, 64 * K, PROT_READ, 0);
	printf("free hint taken: %s\n", yes(f == want));
	char *g = map(a, 64 * K, PROT_READ | PROT_WRITE, 0);
	printf("busy hint moved below the others: %s\n", yes(g + 64 * K == e));
	// MAP_32BIT: the second gigabyte, bottom-up.
	char *h = map(NULL, 64 * K, PROT_READ | PROT_WRITE, MAP_32BIT);
	printf("MAP_32BIT in the second gigabyte: %s\n", yes((uintptr_t)h >= 1UL << 30 && (uintptr_t)h < 2UL << 30));
	char *j = map((void *)(3UL << 30), 64 * K, PROT_READ, MAP_32BIT);
	printf("MAP_32BIT hint above 2 GiB ignored: %s\n", yes((uintptr_t)j < 2UL << 30));
	// The layout of a program exec'd with RLIMIT_STACK unlimited, and
	// with ADDR_COMPAT_LAYOUT.
	for (int k = 0; k < 2; k++) {
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0) {
			if (k == 0) {
				struct rlimit rl = {RLIM_INFINITY, RLIM_INFINITY};
				setrlimit(RLIMIT_STACK, &rl);
			} else if (personality(ADDR_COMPAT_LAYOUT) == -1) {
				printf("FAIL personality: %s\n", strerror(errno));
				_exit(1);
			}
			execl("/proc/self/exe", argv[0], argc > 1 ? argv[1] : "/tmp", k == 0 ? "unlimited" : "compat", (char *)NULL);
			printf("FAIL exec: %s\n", strerror(errno));
			_exit(1);
		}
		int st;
		waitpid(pid, &st, 0);
		printf("child: %s\n", WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "exited 0" : "FAIL");
	}
	printf("mmaporder: done\n");
	return 0;
}
