// forkrss: a forked child's resident set, as Linux's fork leaves it
// (kernel/fork.c dup_mmap, mm/memory.c copy_page_range and
// vma_needs_copy): the page-table entries of shared mappings (a file's,
// shared anonymous memory) and of private file mappings never written are
// not copied, so their pages count in the child only once it touches
// them again; private anonymous pages and the mappings holding them are
// copied. What the child then reads and writes through each mapping is
// what Linux's child sees. Prints relations, not sizes (a libc's own
// pages differ between machines). Usage: forkrss [DIR] [bench]: with
// bench, prints the instructions (ns under -icount) fork takes.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MiB (1L << 20)
#define SIZE (8 * MiB)

struct rss {
	long total, anon, file, shmem;
};

static long field(const char *s, const char *name) {
	const char *p = strstr(s, name);
	return p ? atol(p + strlen(name)) : -1;
}

static struct rss rss(void) {
	char buf[8192];
	int fd = open("/proc/self/status", O_RDONLY);
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	return (struct rss){field(buf, "VmRSS:"), field(buf, "RssAnon:"), field(buf, "RssFile:"), field(buf, "RssShmem:")};
}

static long sum(char *p, long n) {
	long s = 0;
	for (long i = 0; i < n; i += 4096)
		s += p[i];
	return s;
}

static long now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IONBF, 0);
	const char *dir = argc > 1 ? argv[1] : "/tmp";
	int bench = argc > 2 && strcmp(argv[2], "bench") == 0;
	char path[256];
	snprintf(path, sizeof path, "%s/forkrss.%d", dir, getpid());
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	char *block = malloc(MiB);
	memset(block, 'f', MiB);
	for (int i = 0; i < SIZE / MiB; i++)
		write(fd, block, MiB);
	free(block);
	unlink(path);
	char *shfile = mmap(0, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	char *prfile = mmap(0, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	char *prfilew = mmap(0, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	char *shanon = mmap(0, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	char *anon = mmap(0, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	sum(shfile, SIZE);
	sum(prfile, SIZE);
	prfilew[0] = 'w'; // one private copy: the mapping's file pages are copied at fork too
	long s = sum(shfile, SIZE) + sum(prfile, SIZE) + sum(prfilew, SIZE);
	memset(shanon, 's', SIZE);
	memset(anon, 'a', SIZE);
	struct rss p = rss();
	int pipefd[2];
	pipe(pipefd);
	long best = -1, bestread = 0;
	for (int round = 0; round < (bench ? 5 : 1); round++) {
		long t0 = now();
		pid_t c = fork();
		if (c == 0) {
			struct rss r[3];
			r[0] = rss();
			long t1 = now();
			long got = sum(shfile, SIZE) + sum(prfile, SIZE) + sum(prfilew, SIZE);
			t1 = now() - t1;
			r[1] = rss();
			shanon[4096] = 'S';
			prfile[4096] = 'P';
			shfile[4096] = 'F';
			anon[4096] = 'A';
			r[2] = rss();
			write(pipefd[1], r, sizeof r);
			write(pipefd[1], &got, sizeof got);
			write(pipefd[1], &t1, sizeof t1);
			_exit(0);
		}
		long t = now() - t0;
		if (best < 0 || t < best)
			best = t;
		struct rss r[3];
		long got, t1;
		read(pipefd[0], r, sizeof r);
		read(pipefd[0], &got, sizeof got);
		read(pipefd[0], &t1, sizeof t1);
		waitpid(c, 0, 0);
		if (bench) {
			if (round == 0 || t1 < bestread)
				bestread = t1;
			if (round == 0)
				printf("parent: rss %ld anon %ld file %ld shmem %ld kB\nchild at fork: rss %ld anon %ld file %ld shmem %ld kB\n",
				       p.total, p.anon, p.file, p.shmem, r[0].total, r[0].anon, r[0].file, r[0].shmem);
			continue;
		}
		// File pages count as RssFile, or RssShmem for a tmpfs file on
		// Linux (Cocoon counts every file's as RssFile): their sum is
		// compared. The shared anonymous mapping is RssShmem.
		const long M = SIZE >> 10; // kB of one mapping
		long pf = p.file + p.shmem, f0 = r[0].file + r[0].shmem, f1 = r[1].file + r[1].shmem, f2 = r[2].file + r[2].shmem;
		printf("child at fork: file and shmem lower by the three mappings not written %d, anon the parent's %d\n",
		       pf - f0 >= 3 * M - 1024 && pf - f0 <= 3 * M + 1024, r[0].anon >= p.anon - 512 && r[0].anon <= p.anon + 512);
		printf("child after reading the file mappings: reads the same %d, file and shmem up by two mappings %d\n",
		       got == s, f1 - f0 >= 2 * M - 512 && f1 - f0 <= 2 * M + 512);
		// Which of the two: RssShmem for a tmpfs file (swap-backed),
		// RssFile for another file system's.
		struct statfs sf;
		statfs(dir, &sf);
		long dsh = r[1].shmem - r[0].shmem, dfi = r[1].file - r[0].file;
		if (sf.f_type != 0x01021994) {
			long t = dsh;
			dsh = dfi, dfi = t;
		}
		printf("the file's pages count where its file system says (tmpfs: RssShmem) %d\n",
		       dsh >= 2 * M - 512 && dsh <= 2 * M + 512 && dfi >= -512 && dfi <= 512);
		// A private file page becomes anonymous, a shared anonymous one
		// comes back; the anonymous page copied was counted already.
		printf("child after writing a page of each: anon %+ld kB, file and shmem %+ld kB\n", r[2].anon - r[1].anon, f2 - f1);
		printf("parent sees the child's shared writes: anon %c file %c; private ones not: %c %c\n",
		       shanon[4096], shfile[4096], prfile[4096], anon[4096]);
		char b;
		pread(fd, &b, 1, 4096);
		printf("the file holds %c\n", b);
	}
	if (bench)
		printf("fork: %ld ns; the child reads its three file mappings in %ld ns\n", best, bestread);
	printf("forkrss: done\n");
	return 0;
}
