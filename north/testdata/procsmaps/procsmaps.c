// procsmaps: /proc/self/smaps and smaps_rollup as pmap, ps_mem, smem and
// memory profilers parse them: every mapping's fields in Linux's order,
// and for the mappings made here the values that do not depend on the
// machine: Size; Rss of memory touched whole (anonymous, shared, a file's
// pages read, a private copy written), untouched or only read anonymous
// memory not resident (the zero page); Anonymous; Swap 0; Locked after
// mlock; VmFlags (without sd, soft-dirty, which only some kernels
// build); a partial mlock splitting a mapping in three; the rollup's
// sums against smaps' and its header. ProtectionKey, which only a CPU
// with pku shows, is left out. Every result printed, for comparison with
// Linux's.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PG 4096UL

static char buf[1 << 20], small[1 << 20];

static long slurp(const char *path) {
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	long n = 0, r;
	while ((r = read(fd, buf + n, sizeof buf - 1 - n)) > 0)
		n += r;
	close(fd);
	buf[n] = 0;
	return n;
}

// A mapping of smaps, as read.
struct map {
	unsigned long start, end;
	char perms[8], name[256], fields[1024], flags[256];
	long size, rss, anon, swap, locked, kps, mps, referenced, thp;
};

static struct map maps[512];
static int nmaps;

static int is_header(const char *l) {
	unsigned long a, b;
	char dash;
	return sscanf(l, "%lx%c%lx", &a, &dash, &b) == 3 && dash == '-' && strchr(l, ' ') && !strchr(l, ':') == 0;
}

// parse reads smaps text s into maps.
static void parse(char *s) {
	nmaps = 0;
	struct map *m = NULL;
	for (char *l = strtok(s, "\n"); l; l = strtok(NULL, "\n")) {
		unsigned long a, b;
		char perms[8], dev[16];
		unsigned long off, ino;
		int pos = 0;
		if (sscanf(l, "%lx-%lx %7s %lx %15s %lu %n", &a, &b, perms, &off, dev, &ino, &pos) >= 6 && strchr(dev, ':')) {
			m = &maps[nmaps++];
			memset(m, 0, sizeof *m);
			m->start = a, m->end = b;
			strcpy(m->perms, perms);
			snprintf(m->name, sizeof m->name, "%s", pos ? l + pos : "");
			continue;
		}
		if (!m)
			continue;
		char *colon = strchr(l, ':');
		if (!colon)
			continue;
		*colon = 0;
		if (strcmp(l, "ProtectionKey")) {
			strcat(m->fields, " ");
			strcat(m->fields, l);
		}
		long v = atol(colon + 1);
		if (!strcmp(l, "Size")) m->size = v;
		if (!strcmp(l, "Rss")) m->rss = v;
		if (!strcmp(l, "Anonymous")) m->anon = v;
		if (!strcmp(l, "Swap")) m->swap = v;
		if (!strcmp(l, "Locked")) m->locked = v;
		if (!strcmp(l, "KernelPageSize")) m->kps = v;
		if (!strcmp(l, "MMUPageSize")) m->mps = v;
		if (!strcmp(l, "Referenced")) m->referenced = v;
		if (!strcmp(l, "THPeligible")) m->thp = v;
		if (!strcmp(l, "VmFlags")) {
			// Without sd (CONFIG_MEM_SOFT_DIRTY).
			char *save, *f;
			for (f = strtok_r(colon + 1, " ", &save); f; f = strtok_r(NULL, " ", &save)) {
				if (strcmp(f, "sd")) {
					strcat(m->flags, " ");
					strcat(m->flags, f);
				}
			}
			*colon = ':';
			// strtok_r on the line ended the outer strtok's line early:
			// nothing follows VmFlags on it.
		}
	}
	(void)is_header;
}

static void load(void) {
	if (slurp("/proc/self/smaps") <= 0) {
		printf("FAIL read smaps: %s\n", strerrorname_np(errno));
		exit(1);
	}
	parse(buf);
}

static struct map *at(void *p) {
	for (int i = 0; i < nmaps; i++)
		if (maps[i].start == (unsigned long)p)
			return &maps[i];
	return NULL;
}

static void show(const char *what, void *p) {
	struct map *m = at(p);
	if (!m) {
		printf("%s: no mapping starts there\n", what);
		return;
	}
	printf("%s: %s size %ld rss %ld anon %ld swap %ld locked %ld page %ld/%ld vmflags%s\n", what, m->perms,
	       m->size, m->rss, m->anon, m->swap, m->locked, m->kps, m->mps, m->flags);
}

static void named(const char *name) {
	for (int i = 0; i < nmaps; i++)
		if (!strcmp(maps[i].name, name)) {
			printf("%s: %s vmflags%s\n", name, maps[i].perms, maps[i].flags);
			return;
		}
	printf("%s: none\n", name);
}

static long status(const char *name) {
	slurp("/proc/self/status");
	char *p = strstr(buf, name);
	return p ? atol(p + strlen(name) + 1) : -1;
}

int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	// The buffers the reads fill, resident before the first read, so
	// that smaps and the rollup count the same.
	memset(buf, 1, sizeof buf);
	memset(maps, 1, sizeof maps);
	memset(small, 1, sizeof small);
	printf("procsmaps\n");
	free(malloc(100000)); // a [heap]
	char *rw = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(rw, 1, 16 * PG);
	char *ro = mmap(NULL, 8 * PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *read0 = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	volatile char sink = 0;
	for (int i = 0; i < 4; i++)
		sink += read0[i * PG]; // the zero page: not resident
	char *sh = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	memset(sh, 2, 4 * PG);
	int exe = open("/proc/self/exe", O_RDONLY);
	char *file = mmap(NULL, 2 * PG, PROT_READ, MAP_PRIVATE, exe, 0);
	sink += file[0] + file[PG];
	char *cow = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, exe, 0);
	sink += cow[PG];
	cow[0] = 1; // a private copy
	char *fsh = mmap(NULL, 2 * PG, PROT_READ, MAP_SHARED, exe, 0);
	sink += fsh[0] + fsh[PG];
	char *lk = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mlock(lk, 4 * PG))
		printf("FAIL mlock: %s\n", strerrorname_np(errno));
	char *part = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mlock(part + PG, 2 * PG))
		printf("FAIL mlock: %s\n", strerrorname_np(errno));
	char *df = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	// Advised page by page: one mapping still (the VMAs merge again).
	madvise(df, PG, MADV_DONTFORK);
	madvise(df + PG, PG, MADV_DONTFORK);
	char *wf = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	madvise(wf, 2 * PG, MADV_WIPEONFORK);
	char *gd = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN, -1, 0);
	char *none = mmap(NULL, 2 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	load();
	// The fields of every mapping, in order.
	int same = 1;
	for (int i = 1; i < nmaps; i++)
		if (strcmp(maps[i].fields, maps[0].fields)) {
			printf("mapping %d's fields differ:%s\n", i, maps[i].fields);
			same = 0;
		}
	printf("fields%s (%s)\n", maps[0].fields, same ? "every mapping" : "not every mapping");
	long thp = 0;
	for (int i = 0; i < nmaps; i++)
		thp |= maps[i].swap | (maps[i].kps != 4) | (maps[i].mps != 4) | (maps[i].size * 1024 != (long)(maps[i].end - maps[i].start));
	printf("every mapping: Swap 0, page sizes 4 kB, Size its length: %s\n", thp ? "no" : "yes");
	show("private anonymous, written", rw);
	show("read-only anonymous, untouched", ro);
	show("anonymous, read", read0);
	show("shared anonymous, written", sh);
	show("the program, private, read", file);
	show("the program, private, one page written", cow);
	show("the program, shared, read", fsh);
	show("locked", lk);
	show("part locked: before", part);
	show("part locked: locked", part + PG);
	show("part locked: after", part + 3 * PG);
	show("MADV_DONTFORK", df);
	show("MADV_WIPEONFORK", wf);
	show("MAP_GROWSDOWN", gd);
	show("PROT_NONE", none);
	named("[heap]");
	named("[stack]");
	named("[vdso]");
	named("[vvar]");
	named("[vsyscall]");
	// The sums against status's and the rollup's.
	long size = 0, rss = 0, anon = 0, locked = 0;
	unsigned long first = 0, last = 0;
	for (int i = 0; i < nmaps; i++) {
		if (!strcmp(maps[i].name, "[vsyscall]"))
			continue;
		if (!first)
			first = maps[i].start;
		last = maps[i].end;
		size += maps[i].size, rss += maps[i].rss, anon += maps[i].anon, locked += maps[i].locked;
	}
	// Read in small pieces, and again after a seek back: the same
	// mappings.
	int fd = open("/proc/self/smaps", O_RDONLY);
	long got = 0, r;
	while ((r = read(fd, small + got, 37)) > 0)
		got += r;
	small[got] = 0;
	int vmflags = 0;
	for (char *q = small; (q = strstr(q, "\nVmFlags:")); q++)
		vmflags++;
	char head[60];
	memcpy(head, small, sizeof head);
	lseek(fd, 0, SEEK_SET);
	r = read(fd, small, sizeof head);
	close(fd);
	printf("read 37 bytes at a time: %s; after a seek back: %s\n", vmflags == nmaps ? "every mapping" : "not every mapping",
	       r == sizeof head && !memcmp(small, head, sizeof head) ? "the same start" : "another start");
	printf("sum of Size is VmSize: %s; of Locked, VmLck: %s\n", size == status("VmSize:") ? "yes" : "no",
	       locked == status("VmLck:") ? "yes" : "no");
	if (slurp("/proc/self/smaps_rollup") <= 0) {
		printf("FAIL read smaps_rollup: %s\n", strerrorname_np(errno));
		return 1;
	}
	unsigned long a, b;
	char rest[256];
	sscanf(buf, "%lx-%lx %255[^\n]", &a, &b, rest);
	char *sp = rest;
	while (*sp) {
		if (sp[0] == ' ' && sp[1] == ' ')
			memmove(sp, sp + 1, strlen(sp));
		else
			sp++;
	}
	printf("rollup: %s, from the first mapping: %s, to the last's end: %s\n", rest, a == first ? "yes" : "no", b == last ? "yes" : "no");
	char fields[1024] = "";
	long rrss = 0, ranon = 0, rlocked = 0;
	for (char *l = strtok(strchr(buf, '\n') + 1, "\n"); l; l = strtok(NULL, "\n")) {
		char *colon = strchr(l, ':');
		if (!colon)
			continue;
		*colon = 0;
		strcat(fields, " ");
		strcat(fields, l);
		if (!strcmp(l, "Rss")) rrss = atol(colon + 1);
		if (!strcmp(l, "Anonymous")) ranon = atol(colon + 1);
		if (!strcmp(l, "Locked")) rlocked = atol(colon + 1);
	}
	printf("rollup fields%s\n", fields);
	// Memory may be faulted in between the two reads (the stack):
	// within a few pages.
	printf("rollup Rss is smaps': %s, Anonymous: %s, Locked: %s\n", labs(rrss - rss) <= 16 ? "yes" : "no",
	       labs(ranon - anon) <= 16 ? "yes" : "no", rlocked == locked ? "yes" : "no");
	if (labs(rrss - rss) > 16 || labs(ranon - anon) > 16)
		printf("rollup Rss %ld Anonymous %ld, smaps' %ld %ld\n", rrss, ranon, rss, anon);
	printf("procsmaps: done\n");
	return sink == 123;
}
