// mmflags: memory calls whose answer depends on a mapping's flags, as
// Linux's mm/: madvise's DONTNEED, FREE, COLD, PAGEOUT and REMOVE refuse
// locked memory (EINVAL; MADV_DONTNEED_LOCKED is for it); a locked
// mapping stays locked through mremap (grown, shrunk, moved; growth past
// RLIMIT_MEMLOCK is EAGAIN); MAP_SHARED_VALIDATE's checks (anonymous
// EINVAL, a bad descriptor before an unknown flag, the flags it knows);
// MAP_DROPPABLE (private anonymous only, never locked, zero in a forked
// child, KEEPONFORK EINVAL); mprotect's PROT_GROWSDOWN and PROT_GROWSUP;
// remap_file_pages, emulated as a new shared mapping of other pages of
// the file (mm/mmap.c).
// Usage: mmflags [scratch-dir]
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG 4096L
#ifndef MAP_DROPPABLE
#define MAP_DROPPABLE 0x08
#endif
#ifndef MADV_DONTNEED_LOCKED
#define MADV_DONTNEED_LOCKED 24
#endif

static const char *en(long r) {
	static char b[8][32];
	static int i;
	char *s = b[i++ % 8];
	if (r != -1)
		snprintf(s, 32, "%ld", r);
	else
		snprintf(s, 32, "%s", strerrorname_np(errno));
	return s;
}

static const char *mp(void *p) { return p == MAP_FAILED ? en(-1) : "ok"; }

static long vmlck(void) {
	FILE *f = fopen("/proc/self/status", "r");
	char l[256];
	long v = -1;
	while (f && fgets(l, sizeof l, f))
		if (sscanf(l, "VmLck: %ld", &v) == 1)
			break;
	if (f)
		fclose(f);
	return v;
}

static char *anon(long n) {
	return mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

static void locked(void) {
	char *a = anon(4 * PG);
	a[0] = 'x';
	long r = mlock(a, 4 * PG);
	printf("mlock 4 pages: %s, VmLck %ld kB\n", en(r), vmlck());
	const char *cold = en(madvise(a, PG, MADV_COLD)), *out = en(madvise(a, PG, MADV_PAGEOUT));
	const char *dn = en(madvise(a, PG, MADV_DONTNEED)), *fr = en(madvise(a, PG, MADV_FREE));
	printf("locked: MADV_COLD %s, PAGEOUT %s, DONTNEED %s, FREE %s\n", cold, out, dn, fr);
	printf("locked: page kept %c; ", a[0]);
	printf("MADV_DONTNEED_LOCKED %s, ", en(madvise(a, PG, MADV_DONTNEED_LOCKED)));
	printf("then %d, VmLck %ld kB\n", a[0], vmlck());
	char *b = mremap(a, 4 * PG, 8 * PG, MREMAP_MAYMOVE);
	printf("mremap grown to 8 pages: %s, VmLck %ld kB\n", mp(b), vmlck());
	char *c = mremap(b, 8 * PG, 2 * PG, 0);
	printf("shrunk to 2: %s, VmLck %ld kB\n", mp(c), vmlck());
	char *d = mmap(NULL, 8 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *e = mremap(c, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, d + 4 * PG);
	printf("moved: %s, VmLck %ld kB\n", mp(e), vmlck());
	munmap(e, 2 * PG);
	printf("unmapped: VmLck %ld kB\n", vmlck());
	munmap(d, 8 * PG);
}

// memlock: an unprivileged process with RLIMIT_MEMLOCK of 4 pages.
static void memlock(void) {
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		struct rlimit rl = {4 * PG, 4 * PG};
		if (setrlimit(RLIMIT_MEMLOCK, &rl) != 0 || setgroups(0, NULL) != 0 || setresgid(12345, 12345, 12345) != 0 ||
			setresuid(12345, 12345, 12345) != 0) {
			printf("dropping root: %s\n", strerror(errno));
			_exit(1);
		}
		char *a = anon(8 * PG);
		long r = mlock(a, 4 * PG);
		printf("unprivileged, RLIMIT_MEMLOCK 4 pages: mlock 4 %s, VmLck %ld kB\n", en(r), vmlck());
		char *b = mremap(a, 4 * PG, 6 * PG, 0);
		printf("  mremap growing it in place: %s; ", mp(b));
		b = mremap(a, 4 * PG, 6 * PG, MREMAP_MAYMOVE);
		printf("moving: %s; ", mp(b));
		b = mremap(a, 4 * PG, 2 * PG, 0);
		printf("shrinking: %s, VmLck %ld kB\n", mp(b), vmlck());
		fflush(stdout);
		_exit(0);
	}
	waitpid(c, NULL, 0);
}

static void validate(const char *dir) {
	char path[256];
	snprintf(path, sizeof path, "%s/mmflags-file", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ftruncate(fd, PG);
	unlink(path);
	const char *a = mp(mmap(NULL, PG, PROT_READ, MAP_SHARED_VALIDATE | MAP_ANONYMOUS, -1, 0));
	const char *b = mp(mmap(NULL, PG, PROT_READ, MAP_SHARED_VALIDATE | 0x800000, -1, 0));
	const char *c = mp(mmap(NULL, PG, PROT_READ, MAP_SHARED_VALIDATE | 0x800000, fd, 0));
	const char *d = mp(mmap(NULL, PG, PROT_READ, MAP_SHARED_VALIDATE | (21 << 26) | MAP_32BIT | 0x80, fd, 0));
	const char *e = mp(mmap(NULL, PG, PROT_READ, MAP_SHARED_VALIDATE | MAP_SYNC, fd, 0));
	printf("MAP_SHARED_VALIDATE: anonymous %s, bad descriptor and unknown flag %s, unknown flag %s, "
	       "huge-page size bits, MAP_32BIT, MAP_ABOVE4G %s, MAP_SYNC %s\n", a, b, c, d, e);
	a = mp(mmap(NULL, PG, PROT_READ, MAP_SHARED | MAP_ANONYMOUS | MAP_GROWSDOWN, -1, 0));
	b = mp(mmap(NULL, PG, PROT_READ, 0x04 | MAP_ANONYMOUS, -1, 0));
	c = mp(mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | (21 << 26), -1, 0));
	printf("shared anonymous MAP_GROWSDOWN %s, mapping type 4 %s, private with huge-page size bits %s\n", a, b, c);
	close(fd);
}

static void droppable(const char *dir) {
	char path[256];
	snprintf(path, sizeof path, "%s/mmflags-file2", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ftruncate(fd, PG);
	unlink(path);
	const char *a = mp(mmap(NULL, PG, PROT_READ, MAP_DROPPABLE, fd, 0));
	const char *b = mp(mmap(NULL, PG, PROT_READ, MAP_DROPPABLE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0));
	const char *c = mp(mmap(NULL, PG, PROT_READ, MAP_DROPPABLE | MAP_ANONYMOUS | MAP_GROWSDOWN, -1, 0));
	printf("MAP_DROPPABLE of a file %s, locked %s, growing down %s\n", a, b, c);
	close(fd);
	char *p = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_DROPPABLE | MAP_ANONYMOUS, -1, 0);
	memset(p, 'd', 2 * PG);
	long before = vmlck();
	long r = mlock(p, 2 * PG);
	printf("MAP_DROPPABLE: %s, holds %c; mlock %s, VmLck up by %ld kB; KEEPONFORK %s, WIPEONFORK %s\n", mp(p), p[PG],
		en(r), vmlck() - before, en(madvise(p, PG, MADV_KEEPONFORK)), en(madvise(p, PG, MADV_WIPEONFORK)));
	fflush(stdout);
	pid_t k = fork();
	if (k == 0) {
		printf("  a forked child finds %d %d\n", p[0], p[PG]);
		fflush(stdout);
		_exit(0);
	}
	waitpid(k, NULL, 0);
	printf("  the parent still %c\n", p[0]);
	munlock(p, 2 * PG);
	munmap(p, 2 * PG);
}

static void grows(void) {
	char *g = mmap(NULL, 4 * PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN, -1, 0);
	char *h = anon(4 * PG);
	const char *a = en(mprotect(g + 2 * PG, PG, PROT_READ | PROT_WRITE | PROT_GROWSDOWN));
	printf("mprotect PROT_GROWSDOWN on a MAP_GROWSDOWN mapping: %s; ", a);
	g[0] = 'w'; // writable from the mapping's start
	printf("its first page written %c\n", g[0]);
	a = en(mprotect(h, PG, PROT_READ | PROT_GROWSDOWN));
	const char *b = en(mprotect(h, PG, PROT_READ | PROT_GROWSUP));
	const char *c = en(mprotect(h, PG, PROT_READ | PROT_GROWSUP | PROT_GROWSDOWN));
	printf("on another mapping: PROT_GROWSDOWN %s, PROT_GROWSUP %s, both %s\n", a, b, c);
}

static void remap(void) {
	int fd = memfd_create("remap", 0);
	for (int i = 0; i < 4; i++) {
		char b[PG];
		memset(b, 'A' + i, PG);
		write(fd, b, PG);
	}
	char *s = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	long r = remap_file_pages(s, PG, 0, 3, 0);
	printf("remap_file_pages page 0 to the file's page 3: %s, reads %c%c%c%c; ", en(r), s[0], s[PG], s[2 * PG], s[3 * PG]);
	s[0] = 'x';
	char b;
	pread(fd, &b, 1, 3 * PG);
	printf("a write lands in page 3: %c\n", b);
	r = remap_file_pages(s + PG + 5, PG, 0, 0, 0);
	printf("unaligned start, page 1 to page 0: %s, reads %c\n", en(r), s[PG]);
	FILE *f = fopen("/proc/self/maps", "r");
	char line[256];
	int n = 0;
	while (fgets(line, sizeof line, f))
		if (strstr(line, "memfd:remap"))
			n++;
	fclose(f);
	printf("maps lines of the memfd: %d\n", n);
	char *q = anon(PG);
	const char *a = en(remap_file_pages(s, PG, PROT_READ, 1, 0));
	const char *c = en(remap_file_pages(q, PG, 0, 1, 0));
	const char *d = en(remap_file_pages(s + 3 * PG, 2 * PG, 0, 1, 0));
	const char *e = en(remap_file_pages(s, 0, 0, 1, 0));
	printf("remap_file_pages with prot %s, of private memory %s, past the mapping %s, of nothing %s\n", a, c, d, e);
	munmap(s, 4 * PG);
	close(fd);
}

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	const char *dir = argc > 1 ? argv[1] : "/tmp";
	locked();
	memlock();
	validate(dir);
	droppable(dir);
	grows();
	remap();
	printf("mmflags: done\n");
	return 0;
}
