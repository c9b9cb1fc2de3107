// zeropage reads far more untouched private anonymous memory than the
// guest running it has RAM (Cocoon's test gives it 256 MiB), in user
// mode and through a system call that reads user memory (write(2) to a
// file in DIR), as Linux serves from its shared zero
// page; then writes some of those pages and checks every path that
// writes user memory from the kernel or changes the mappings: read(2)
// into zero pages, a signal frame on an alternate stack of zero pages,
// futex, fork's copy-on-write, mprotect, MADV_DONTNEED, mremap,
// MAP_POPULATE, mlock and MADV_POPULATE_READ/_WRITE; and that the
// resident set (VmRSS, VmHWM, ru_maxrss) counts pages of their own, not
// zero pages, across fork and execve. Usage: zeropage DIR | populate
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MB (1L << 20)
#define PAGE 4096L

static int failed;

static void check(int ok, const char *what) {
	printf("%s: %s\n", what, ok ? "ok" : "FAIL");
	if (!ok)
		failed = 1;
}

static char *anon(long size, int prot) {
	char *p = mmap(NULL, size, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		printf("mmap %ld MiB: %s\n", size / MB, strerror(errno));
		exit(1);
	}
	return p;
}

// zeros reports whether [p, p+n) reads as zeros, a word at a time.
static int zeros(const char *p, long n) {
	const uint64_t *w = (const uint64_t *)p;
	for (long i = 0; i < n / 8; i++)
		if (w[i])
			return 0;
	return 1;
}

// pattern is what page i holds once written.
static uint64_t pattern(long i) { return 0x5a5a000000000000ull | (uint64_t)i; }

// writeAll writes n bytes from p to fd and reports whether all went.
static int writeAll(int fd, const char *p, long n) {
	while (n > 0) {
		ssize_t k = write(fd, p, n > 64 * MB ? 64 * MB : n);
		if (k <= 0) {
			printf("write: %s\n", k < 0 ? strerror(errno) : "0 bytes");
			return 0;
		}
		p += k;
		n -= k;
	}
	return 1;
}

static volatile int handled;

static void onSignal(int sig) {
	char here[256];
	memset(here, sig, sizeof here); // the handler's frame is on the zero pages
	handled = here[100] == sig;
}

// status returns the value in kB of a /proc/self/status line (-1 if
// missing).
static long status(const char *name) {
	static char buf[8192];
	int fd = open("/proc/self/status", O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	size_t l = strlen(name);
	for (char *p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, name, l) == 0 && p[l] == ':')
			return strtol(p + l + 1, NULL, 10);
	return -1;
}

// addsUp reports whether RssAnon + RssFile + RssShmem is VmRSS (counted
// apart in Cocoon: the kinds in the page tables, the total as pages come
// and go); tally records a step where they do not.
static int addsUp(void) {
	return status("RssAnon") + status("RssFile") + status("RssShmem") == status("VmRSS");
}

static int badTally;

static void tally(int step) {
	if (!addsUp() && !badTally)
		badTally = step;
}

static long maxrss(int who) {
	struct rusage ru;
	return getrusage(who, &ru) == 0 ? ru.ru_maxrss : -1;
}

static long futex(uint32_t *w, int op, uint32_t val, const struct timespec *ts, uint32_t *w2, uint32_t val3) {
	return syscall(SYS_futex, w, op, val, ts, w2, val3);
}

// bigPopulate populates a terabyte of read-only private memory, and
// mlocks and MADV_POPULATE_READs a gigabyte of it: zero pages all, which
// Cocoon leaves to their first touch (Linux maps them one by one, for
// minutes: not run natively).
static int bigPopulate(void) {
	char *p = mmap(NULL, 1UL << 40, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE | MAP_NORESERVE, -1, 0);
	check(p != MAP_FAILED, "1 TiB PROT_READ, MAP_POPULATE");
	check(mlock(p, 1UL << 30) == 0, "mlock of 1 GiB of it");
	check(madvise(p, 1UL << 30, MADV_POPULATE_READ) == 0, "MADV_POPULATE_READ of 1 GiB of it");
	check(p[(1UL << 40) - 1] == 0 && p[12345678] == 0, "reads zeros");
	printf("zeropage: %s\n", failed ? "FAIL" : "done");
	return failed;
}

int main(int argc, char **argv) {
	if (argc == 2 && strcmp(argv[1], "populate") == 0)
		return bigPopulate();
	if (argc == 3) {
		// Run again by execve after step 12 with the high-water mark in
		// kB the old program reached: ru_maxrss keeps it, the new
		// address space's VmHWM starts afresh.
		long was = strtol(argv[2], NULL, 10);
		check(maxrss(RUSAGE_SELF) >= was, "after execve, ru_maxrss keeps the old program's high-water mark");
		check(status("VmHWM") < was / 2, "after execve, VmHWM is the new program's");
		printf("zeropage: %s\n", failed ? "FAIL" : "done");
		return failed;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: zeropage DIR\n");
		return 2;
	}
	const long big = 192 * MB;

	// 1. A user-mode read of every page of a fresh 192 MiB mapping.
	char *a = anon(big, PROT_READ | PROT_WRITE);
	check(zeros(a, big), "192 MiB read in user mode reads zeros");

	tally(1);
	// 2. The kernel reads another 192 MiB, never touched: write(2) of
	// it to a file in DIR, 96 MiB at a time; the file reads back zeros.
	char *b = anon(big, PROT_READ | PROT_WRITE);
	char path[512];
	snprintf(path, sizeof path, "%s/zeropage.data", argv[1]);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	check(fd >= 0 && writeAll(fd, b, big / 2) && ftruncate(fd, 0) == 0 && lseek(fd, 0, SEEK_SET) == 0 &&
		      writeAll(fd, b + big / 2, big / 2),
	      "write(2) of 192 MiB untouched to a file");
	{
		static char chunk[1 << 16];
		int same = lseek(fd, 0, SEEK_SET) == 0;
		long total = 0;
		for (ssize_t k; same && (k = read(fd, chunk, sizeof chunk)) > 0; total += k)
			same = zeros(chunk, k);
		check(same && total == big / 2, "the file reads back 96 MiB of zeros");
	}
	close(fd);
	unlink(path);

	tally(2);
	// 3. Writes to every 16th page of a; the rest still read zeros.
	for (long i = 0; i < big / PAGE; i += 16)
		*(uint64_t *)(a + i * PAGE + 8) = pattern(i);
	int right = 1;
	for (long i = 0; i < big / PAGE && right; i++) {
		const char *pg = a + i * PAGE;
		if (i % 16 == 0)
			right = *(const uint64_t *)(pg + 8) == pattern(i) && zeros(pg, 8) && zeros(pg + 16, PAGE - 16);
		else
			right = zeros(pg, PAGE);
	}
	check(right, "written pages read back, the others still zeros");
	check(zeros(b, big), "the pages written to the file still read zeros");
	munmap(b, big);

	tally(3);
	// 4. read(2) into pages first read (zero pages): the kernel writes them.
	char *c = anon(4 * PAGE, PROT_READ | PROT_WRITE);
	check(zeros(c, 4 * PAGE), "a buffer read before read(2)");
	int pfd[2];
	if (pipe(pfd) == 0) {
		char msg[3 * PAGE];
		for (long i = 0; i < (long)sizeof msg; i++)
			msg[i] = (char)(i * 7 + 1);
		ssize_t w = write(pfd[1], msg, sizeof msg);
		ssize_t r = read(pfd[0], c + 100, sizeof msg);
		check(w == (ssize_t)sizeof msg && r == w && memcmp(c + 100, msg, sizeof msg) == 0 && zeros(c, 100) &&
			      zeros(c + 100 + sizeof msg, 4 * PAGE - 100 - sizeof msg),
		      "read(2) into zero pages");
		close(pfd[0]);
		close(pfd[1]);
	}

	tally(4);
	// 5. A signal frame on an alternate stack of zero pages.
	char *alt = anon(16 * PAGE, PROT_READ | PROT_WRITE);
	check(zeros(alt, 16 * PAGE), "the alternate stack read before use");
	stack_t ss = {.ss_sp = alt, .ss_size = 16 * PAGE};
	struct sigaction sa = {.sa_handler = onSignal, .sa_flags = SA_ONSTACK};
	sigemptyset(&sa.sa_mask);
	check(sigaltstack(&ss, NULL) == 0 && sigaction(SIGUSR1, &sa, NULL) == 0 && raise(SIGUSR1) == 0 && handled,
	      "a signal handler on an alternate stack of zero pages");
	check(!zeros(alt, 16 * PAGE), "the signal frame was written there");

	tally(5);
	// 6. futex on a word of a zero page: a wait with the wrong value,
	// one that times out, and FUTEX_WAKE_OP's write.
	uint32_t *f = (uint32_t *)anon(2 * PAGE, PROT_READ | PROT_WRITE);
	uint32_t *f2 = f + PAGE / 4;
	check(f[0] == 0 && *f2 == 0, "futex words read zero");
	struct timespec ts = {0, 1000000};
	errno = 0;
	check(futex(f, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0) == -1 && errno == EAGAIN, "FUTEX_WAIT on a zero page, value 1: EAGAIN");
	errno = 0;
	check(futex(f, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0) == -1 && errno == ETIMEDOUT, "FUTEX_WAIT on a zero page, value 0: ETIMEDOUT");
	long woke = futex(f, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1, f2, FUTEX_OP(FUTEX_OP_SET, 7, FUTEX_OP_CMP_EQ, 0));
	check(woke == 0 && *f2 == 7 && f[0] == 0, "FUTEX_WAKE_OP writes a word of a zero page");

	tally(6);
	// 7. fork: zero pages stay zero on both sides, writes stay on theirs.
	char *d = anon(8 * MB, PROT_READ | PROT_WRITE);
	check(zeros(d, 8 * MB), "8 MiB read before fork");
	d[0] = 1;
	pid_t pid = fork();
	if (pid == 0) {
		int ok = d[0] == 1 && zeros(d + 1, 8 * MB - 1);
		d[PAGE] = 2;
		d[0] = 3;
		ok = ok && d[PAGE] == 2 && zeros(d + 2 * PAGE, 8 * MB - 2 * PAGE);
		_exit(ok && addsUp() ? 0 : 1);
	}
	int st = -1;
	waitpid(pid, &st, 0);
	check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child sees zeros and its own writes");
	check(d[0] == 1 && zeros(d + 1, 8 * MB - 1), "the parent does not see the child's writes");
	d[2 * PAGE] = 4;
	check(d[2 * PAGE] == 4 && zeros(d + 2 * PAGE + 1, PAGE - 1), "the parent writes a zero page after fork");

	tally(7);
	// 8. mprotect: read-only zero pages made writable, and back.
	char *e = anon(4 * PAGE, PROT_READ);
	check(zeros(e, 4 * PAGE), "a read-only mapping reads zeros");
	check(mprotect(e, 4 * PAGE, PROT_READ | PROT_WRITE) == 0, "mprotect PROT_READ|PROT_WRITE");
	e[PAGE + 5] = 9;
	check(e[PAGE + 5] == 9 && zeros(e, PAGE + 5) && zeros(e + PAGE + 6, 3 * PAGE - 6), "a write after mprotect");
	check(mprotect(e, 4 * PAGE, PROT_NONE) == 0 && mprotect(e, 4 * PAGE, PROT_READ) == 0 && e[PAGE + 5] == 9 &&
		      zeros(e, PAGE),
	      "PROT_NONE and back keeps both");

	tally(8);
	// 9. MADV_DONTNEED: written pages read zeros again, and can be written.
	check(madvise(a, 32 * PAGE, MADV_DONTNEED) == 0 && zeros(a, 32 * PAGE), "MADV_DONTNEED reads zeros");
	a[5] = 5;
	check(a[5] == 5 && zeros(a + PAGE, 31 * PAGE), "a write after MADV_DONTNEED");

	tally(9);
	// 10. mremap moves zero pages and written pages alike.
	char *m = mremap(a, big, big + 4 * MB, MREMAP_MAYMOVE);
	right = m != MAP_FAILED && m[5] == 5 && zeros(m, 5) && zeros(m + 6, 32 * PAGE - 6) && zeros(m + big, 4 * MB);
	for (long i = 32; i < 4096 && right; i++) {
		const char *pg = m + i * PAGE;
		if (i % 16 == 0)
			right = *(const uint64_t *)(pg + 8) == pattern(i) && zeros(pg, 8) && zeros(pg + 16, PAGE - 16);
		else
			right = zeros(pg, PAGE);
	}
	check(right, "mremap keeps zero pages and written ones");
	if (m != MAP_FAILED) {
		m[big + 7] = 7;
		check(m[big + 7] == 7, "a write to the grown part");
		munmap(m, big + 4 * MB);
	}

	tally(10);
	// 11. MAP_POPULATE, mlock and MADV_POPULATE_* on private memory.
	char *pp = mmap(NULL, 4 * MB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	check(pp != MAP_FAILED && zeros(pp, 4 * MB), "MAP_POPULATE, writable: zeros");
	pp[3 * PAGE] = 1;
	check(pp[3 * PAGE] == 1, "a write to a populated page");
	char *pr = mmap(NULL, 4 * MB, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	check(pr != MAP_FAILED && zeros(pr, 4 * MB), "MAP_POPULATE, read-only: zeros");
	char *ml = anon(4 * MB, PROT_READ | PROT_WRITE);
	check(mlock(ml, 4 * MB) == 0 && zeros(ml, 4 * MB), "mlock: zeros");
	ml[PAGE] = 1;
	check(ml[PAGE] == 1, "a write to a locked page");
	char *mn = anon(4 * PAGE, PROT_NONE);
	errno = 0;
	check(mlock(mn, 4 * PAGE) == -1 && errno == ENOMEM, "mlock of PROT_NONE: ENOMEM");
	char *mr = anon(4 * PAGE, PROT_READ);
	errno = 0;
	check(madvise(mr, 4 * PAGE, MADV_POPULATE_READ) == 0, "MADV_POPULATE_READ, read-only");
	errno = 0;
	check(madvise(mr, 4 * PAGE, MADV_POPULATE_WRITE) == -1 && errno == EINVAL, "MADV_POPULATE_WRITE, read-only: EINVAL");
	errno = 0;
	check(madvise(mn, 4 * PAGE, MADV_POPULATE_READ) == -1 && errno == EINVAL, "MADV_POPULATE_READ, PROT_NONE: EINVAL");
	char *mw = anon(4 * PAGE, PROT_READ | PROT_WRITE);
	check(zeros(mw, 4 * PAGE) && madvise(mw, 4 * PAGE, MADV_POPULATE_WRITE) == 0 && zeros(mw, 4 * PAGE),
	      "MADV_POPULATE_WRITE over zero pages");
	mw[10] = 10;
	check(mw[10] == 10, "a write after MADV_POPULATE_WRITE");

	tally(11);
	// 12. The resident set counts pages of their own, not zero pages
	// (Linux's VmRSS, VmHWM, ru_maxrss): in MiB, with room for the
	// program's own small allocations and for Linux's counters, which
	// may lag by some hundred kB (per-thread or per-CPU batches).
	const long K = 1024;
	long r0 = status("VmRSS");
	char *g = anon(64 * MB, PROT_READ | PROT_WRITE);
	check(zeros(g, 64 * MB), "64 MiB read");
	long r1 = status("VmRSS");
	check(r0 > 0 && r1 - r0 < 2 * K, "VmRSS after reading 64 MiB grew less than 2 MiB");
	snprintf(path, sizeof path, "%s/zeropage.rss", argv[1]);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	char *g2 = anon(32 * MB, PROT_READ | PROT_WRITE);
	check(fd >= 0 && writeAll(fd, g2, 32 * MB), "write(2) of 32 MiB untouched");
	close(fd);
	unlink(path);
	long r2 = status("VmRSS");
	check(r2 - r1 < 2 * K, "VmRSS after write(2) of 32 MiB untouched grew less than 2 MiB");
	for (long off = 0; off < 16 * MB; off += PAGE)
		g[off] = 1;
	long r3 = status("VmRSS");
	check(r3 - r2 >= 15 * K && r3 - r2 < 18 * K, "VmRSS after writing 16 MiB of zero pages grew 15-18 MiB");
	long anonKB = status("RssAnon"), fileKB = status("RssFile"), shmemKB = status("RssShmem");
	check(anonKB >= 15 * K && anonKB + fileKB + shmemKB == r3, "RssAnon + RssFile + RssShmem = VmRSS");
	check(madvise(g, 16 * MB, MADV_DONTNEED) == 0, "MADV_DONTNEED of the 16 MiB");
	long r4 = status("VmRSS"), hwm = status("VmHWM");
	check(r3 - r4 >= 15 * K && r3 - r4 < 18 * K, "VmRSS dropped by 15-18 MiB");
	check(hwm >= r3 - K, "VmHWM kept the high-water mark");
	check(maxrss(RUSAGE_SELF) >= r3 - K, "ru_maxrss kept it too");
	char *h = mmap(NULL, 8 * MB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	long r5 = status("VmRSS");
	check(h != MAP_FAILED && r5 - r4 >= 7 * K && r5 - r4 < 10 * K, "MAP_POPULATE of 8 MiB writable: VmRSS grew 7-10 MiB");
	char *h2 = mmap(NULL, 8 * MB, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	long r6 = status("VmRSS");
	check(h2 != MAP_FAILED && r6 - r5 < 2 * K, "MAP_POPULATE of 8 MiB read-only: VmRSS grew less than 2 MiB");
	pid = fork();
	if (pid == 0) {
		char *k = anon(24 * MB, PROT_READ | PROT_WRITE);
		memset(k, 1, 24 * MB);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	check(maxrss(RUSAGE_CHILDREN) >= 24 * K, "RUSAGE_CHILDREN's ru_maxrss counts the child's 24 MiB");

	tally(12);
	if (badTally)
		printf("resident counts add up after step %d: FAIL\n", badTally);
	check(!badTally, "RssAnon + RssFile + RssShmem = VmRSS after every step");

	if (failed) {
		printf("zeropage: FAIL\n");
		return 1;
	}
	char was[32];
	snprintf(was, sizeof was, "%ld", status("VmHWM") - K);
	fflush(stdout);
	execl("/proc/self/exe", argv[0], argv[1], was, (char *)NULL);
	printf("execve: %s\n", strerror(errno));
	return 1;
}
