// forkadvice: what fork does with ranges advised MADV_DONTFORK,
// MADV_WIPEONFORK and their undoing (mm/madvise.c, kernel/fork.c
// dup_mmap): the child has nothing mapped at a DONTFORK range (private,
// shared or SysV), zero pages at a WIPEONFORK one (and keeps the advice
// for its own children); DOFORK and KEEPONFORK undo them; the advice
// follows mremap and ends with munmap; WIPEONFORK on a file or shared
// mapping is EINVAL, a hole in the range ENOMEM (the mapped parts take
// the advice still).
// Usage: forkadvice [scratch-dir]
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG 4096L

static const char *en(long r) {
	if (r == 0)
		return "0";
	switch (errno) {
	case EINVAL: return "EINVAL";
	case ENOMEM: return "ENOMEM";
	case EPERM: return "EPERM";
	}
	static char b[32];
	snprintf(b, sizeof b, "errno %d", errno);
	return b;
}

static char *anon(long n, int shared) {
	char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		printf("mmap: %s\n", strerror(errno));
		exit(1);
	}
	return p;
}

static void pattern(char *p, long n, int seed) {
	for (long i = 0; i < n; i += PG)
		memset(p + i, seed + (int)(i / PG), PG);
}

// look tells what the calling process finds at each page of [p, p+n):
// "-" unmapped (msync ENOMEM), "0" zeros, "p" the pattern of seed,
// "?" other bytes.
static const char *look(char *p, long n, int seed) {
	static char b[64];
	int k = 0;
	for (long i = 0; i < n && k < 63; i += PG) {
		if (msync(p + i, PG, MS_ASYNC) != 0) {
			b[k++] = '-';
			continue;
		}
		int zero = 1, pat = 1;
		for (long j = 0; j < PG; j++) {
			zero &= p[i + j] == 0;
			pat &= p[i + j] == (char)(seed + i / PG);
		}
		b[k++] = zero ? '0' : pat ? 'p' : '?';
	}
	b[k] = 0;
	return b;
}

static int shmid = -1;

struct region {
	const char *name;
	char *p;
	long n;
	int seed;
};

// child forks and prints what the child finds in each region, and, if
// deeper, what its own child finds after it rewrote the patterns.
static void child(const char *label, struct region *r, int nr, int deeper) {
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		printf("%s:", label);
		for (int i = 0; i < nr; i++)
			printf(" %s %s", r[i].name, look(r[i].p, r[i].n, r[i].seed));
		printf("\n");
		if (shmid >= 0) {
			struct shmid_ds ds;
			shmctl(shmid, IPC_STAT, &ds);
			printf("%s: v's shm_nattch %ld\n", label, (long)ds.shm_nattch);
		}
		if (deeper) {
			for (int i = 0; i < nr; i++)
				for (long j = 0; j < r[i].n; j += PG)
					if (msync(r[i].p + j, PG, MS_ASYNC) == 0)
						memset(r[i].p + j, r[i].seed + (int)(j / PG), PG);
			child("  its child", r, nr, 0);
		}
		fflush(stdout);
		_exit(0);
	}
	int st;
	waitpid(c, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		printf("%s: status %#x\n", label, st);
}

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	const char *dir = argc > 1 ? argv[1] : "/tmp";
	long n = 4 * PG;
	char *a = anon(n, 0), *b = anon(n, 0), *c = anon(n, 0), *s = anon(n, 1);
	int id = shmid = shmget(IPC_PRIVATE, n, IPC_CREAT | 0600);
	char *v = shmat(id, NULL, 0);
	if (v == (void *)-1) {
		printf("shmat: %s\n", strerror(errno));
		return 1;
	}
	char path[256];
	snprintf(path, sizeof path, "%s/forkadvice-file", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ftruncate(fd, n);
	char *f = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	pattern(a, n, 1);
	pattern(b, n, 11);
	pattern(c, n, 21);
	pattern(s, n, 31);
	pattern(v, n, 41);
	pattern(f, n, 51);
	struct region r[] = {{"a", a, n, 1}, {"b", b, n, 11}, {"c", c, n, 21}, {"s", s, n, 31}, {"v", v, n, 41}, {"f", f, n, 51}};
	int nr = sizeof r / sizeof r[0];

	child("no advice", r, nr, 0);
	printf("DONTFORK a: %s, WIPEONFORK b: %s, DONTFORK c's page 1: %s, DONTFORK s: %s, DONTFORK v: %s\n",
		en(madvise(a, n, MADV_DONTFORK)), en(madvise(b, n, MADV_WIPEONFORK)), en(madvise(c + PG, PG, MADV_DONTFORK)),
		en(madvise(s, n, MADV_DONTFORK)), en(madvise(v, n, MADV_DONTFORK)));
	printf("WIPEONFORK on shared anonymous: %s, on SysV: %s, on a private file mapping: %s, KEEPONFORK on it: %s\n",
		en(madvise(s, n, MADV_WIPEONFORK)), en(madvise(v, n, MADV_WIPEONFORK)), en(madvise(f, n, MADV_WIPEONFORK)),
		en(madvise(f, n, MADV_KEEPONFORK)));
	child("advised", r, nr, 1);

	// A range with a hole: the mapped parts take the advice, ENOMEM.
	munmap(f + PG, PG);
	printf("DONTFORK over a hole: %s\n", en(madvise(f, n, MADV_DONTFORK)));
	// Undone, moved, ended.
	printf("DOFORK a: %s, KEEPONFORK b: %s, DOFORK s: %s, DOFORK v: %s\n", en(madvise(a, n, MADV_DOFORK)),
		en(madvise(b, n, MADV_KEEPONFORK)), en(madvise(s, n, MADV_DOFORK)), en(madvise(v, n, MADV_DOFORK)));
	printf("WIPEONFORK b: %s, DONTFORK c: %s\n", en(madvise(b, n, MADV_WIPEONFORK)), en(madvise(c, n, MADV_DONTFORK)));
	char *b2 = mremap(b, n, n, MREMAP_MAYMOVE | MREMAP_FIXED, anon(n, 0));
	r[1].p = b2;
	munmap(c, n);
	char *c2 = mmap(c, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	pattern(c2, n, 21);
	child("undone, b moved, c mapped again", r, nr, 0);

	shmdt(v);
	shmctl(id, IPC_RMID, NULL);
	unlink(path);
	printf("forkadvice: done\n");
	return 0;
}
