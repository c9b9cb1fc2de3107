// mincore: which pages of anonymous and file mappings are resident, and
// the errors (unaligned start, unmapped pages, ranges past user memory,
// a bad vector); every result printed, for comparison with Linux's. Run
// with a scratch directory on tmpfs as argument.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define R(x)                                                                               \
	do {                                                                               \
		errno = 0;                                                                 \
		long r_ = (long)(x);                                                       \
		printf("%-64s = %ld %s\n", #x, r_, r_ < 0 ? strerrorname_np(errno) : ""); \
		fflush(stdout);                                                            \
	} while (0)

static unsigned char v[64];

static void show(const char *what, int n) {
	printf("%s:", what);
	for (int i = 0; i < n; i++)
		printf(" %d", v[i] & 1);
	printf("\n");
	memset(v, 0xee, sizeof v);
}

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	long ps = 4096;
	char *a = mmap(NULL, 8 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	R(mincore(a, 8 * ps, v));
	show("untouched", 8);
	a[0] = 1;
	a[2 * ps + 5] = 1;
	a[7 * ps] = 1;
	R(mincore(a, 8 * ps, v));
	show("written 0, 2, 7", 8);
	R(mincore(a + ps, 2 * ps + 1, v));
	show("from 1, a length of 2 pages and a byte", 3);
	madvise(a, ps, MADV_DONTNEED);
	R(mincore(a, 3 * ps, v));
	show("0 dropped", 3);
	R(mincore(a, 0, v));
	R(mincore(a + 1, ps, v));
	R(mincore(a, ps, (void *)8));
	R(mincore(a, ps, (void *)0x7ffffffff000));
	R(mincore((void *)0x7fffffffe000, 3 * ps, v));
	R(mincore((void *)0xffffffffff600000, ps, v));
	R(mincore(a, -4096, v));
	// A hole: the pages before it are reported, then ENOMEM.
	munmap(a + 3 * ps, ps);
	R(mincore(a + 2 * ps, 3 * ps, v));
	show("before the hole", 1);
	R(mincore(a + 3 * ps, ps, v));
	munmap(a, 8 * ps);
	R(mincore(a, ps, v));

	char *b = mmap(NULL, 4 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	R(mincore(b, 4 * ps, v));
	show("populated", 4);
	char *n = mmap(NULL, 2 * ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	R(mincore(n, 2 * ps, v));
	show("PROT_NONE", 2);
	// Two mappings side by side: one call across both.
	char *pair = mmap(NULL, 4 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mprotect(pair + 2 * ps, 2 * ps, PROT_READ);
	pair[ps] = 1;
	R(mincore(pair, 4 * ps, v));
	show("across two mappings", 4);
	// Shared anonymous memory.
	char *sh = mmap(NULL, 3 * ps, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	sh[ps] = 1;
	R(mincore(sh, 3 * ps, v));
	show("shared anonymous, 1 written", 3);

	// A file of 3 pages mapped over 5: its data is in the page cache.
	char path[512];
	snprintf(path, sizeof path, "%s/mincore", argc > 1 ? argv[1] : "/tmp");
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	static char page[4096];
	memset(page, 'x', sizeof page);
	for (int i = 0; i < 3; i++)
		write(fd, page, sizeof page);
	char *f = mmap(NULL, 5 * ps, PROT_READ, MAP_SHARED, fd, 0);
	R(mincore(f, 5 * ps, v));
	show("file, shared", 5);
	char *fp = mmap(NULL, 3 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, ps);
	fp[0] = 'y';
	R(mincore(fp, 3 * ps, v));
	show("file from page 1, private, 0 written", 3);
	// The vector in a file's pages not yet touched: filling them while
	// copying the result out.
	unsigned char *fv = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	R(mincore(b, 4 * ps, fv));
	printf("into a private file page: %d %d %d %d\n", fv[0], fv[1], fv[2], fv[3]);
	unsigned char *sv = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 2 * ps);
	R(mincore(b, 2 * ps, sv));
	printf("into a shared file page: %d %d\n", sv[0], sv[1]);
	unlink(path);
	printf("mincore: done\n");
	return 0;
}
