// cow: fork of a process holding a 200 MiB heap copies no page of it;
// parent and child then each write their own copy, and page counters
// show neither sees the other's writes. With "strict" it also checks,
// from the kernel's free-memory count (sysinfo), that fork did not copy
// the heap (north/procs_vm_test.go runs it so inside a guest whose RAM
// could not hold two copies). Usage: cow [strict]
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <unistd.h>

#define MiB (1L << 20)
#define HEAP (200 * MiB)
#define PG 4096L
#define PAGES (HEAP / PG)
#define PART (16 * MiB / PG) // pages each side writes after fork

static void check(const char *what, long got, long want) {
	printf("%s: %s\n", what, got == want ? "ok" : "FAIL");
	if (got != want)
		printf("  got %ld want %ld (errno %d %s)\n", got, want, errno, strerror(errno));
}

static long freeram(void) {
	struct sysinfo si;
	sysinfo(&si);
	return (long)si.freeram * si.mem_unit;
}

// counters returns how many pages in [from, to) hold i + add.
static long counters(long *h, long from, long to, long add) {
	long n = 0;
	for (long i = from; i < to; i++)
		n += h[i * PG / sizeof(long)] == i + add;
	return n;
}

static void bump(long *h, long from, long to, long add) {
	for (long i = from; i < to; i++)
		h[i * PG / sizeof(long)] += add;
}

int main(int argc, char **argv) {
	int strict = argc > 1 && strcmp(argv[1], "strict") == 0;
	setvbuf(stdout, NULL, _IONBF, 0);
	long *h = mmap(NULL, HEAP, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (h == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	for (long i = 0; i < PAGES; i++) {
		memset((char *)h + i * PG, 0x5a, PG);
		h[i * PG / sizeof(long)] = i;
	}
	check("heap written", counters(h, 0, PAGES, 0), PAGES);
	int toParent[2], toChild[2];
	pipe(toParent);
	pipe(toChild);
	long before = freeram();
	pid_t c = fork();
	if (c == 0) {
		char b;
		long after = freeram();
		if (strict)
			check("fork copied less than 8 MiB", before - after < 8 * MiB, 1);
		check("child sees the heap", counters(h, 0, PAGES, 0), PAGES);
		bump(h, 0, PART, 1000000); // the child's copy of the first part
		check("child's writes in its copy", counters(h, 0, PART, 1000000), PART);
		write(toParent[1], "c", 1);
		read(toChild[0], &b, 1); // the parent has written its part
		check("parent's writes unseen by the child", counters(h, PART, 2 * PART, 0), PART);
		check("rest unchanged in the child", counters(h, 2 * PART, PAGES, 0), PAGES - 2 * PART);
		_exit(0);
	}
	char b;
	read(toParent[0], &b, 1);
	check("child's writes unseen by the parent", counters(h, 0, PART, 0), PART);
	bump(h, PART, 2 * PART, 2000000); // the parent's own second part
	write(toChild[1], "p", 1);
	int st;
	while (waitpid(c, &st, 0) < 0 && errno == EINTR)
		;
	check("child exited", st, 0);
	check("parent's writes in its copy", counters(h, PART, 2 * PART, 2000000), PART);
	check("rest unchanged in the parent", counters(h, 2 * PART, PAGES, 0), PAGES - 2 * PART);
	printf("cow: done\n");
	return 0;
}
