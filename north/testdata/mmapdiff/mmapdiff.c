// mmapdiff: mapping coherence, copy-on-write, msync, truncation and
// mremap as Linux guarantees them. Its output must be the same natively
// and inside Cocoon (north/mmap_vm_test.go). Usage: mmapdiff DIR
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG 4096
static char path[512];

static void check(const char *what, long got, long want) {
	printf("%s: %s\n", what, got == want ? "ok" : "FAIL");
	if (got != want)
		printf("  got %ld want %ld (errno %d %s)\n", got, want, errno, strerror(errno));
}

static int err(long r) { return r < 0 ? errno : 0; }

// vmpte returns /proc/self/status's VmPTE in kB, -1 without it.
static long vmpte(void) {
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "VmPTE: %ld", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

static sigjmp_buf jb;
static volatile int sig, code;
static void onsig(int s, siginfo_t *si, void *uc) {
	(void)uc;
	sig = s;
	code = si->si_code;
	siglongjmp(jb, 1);
}

static char *shared_page;
static void *writer(void *arg) {
	(void)arg;
	strcpy(shared_page, "from a thread");
	return NULL;
}

int main(int argc, char **argv) {
	const char *dir = argc > 1 ? argv[1] : "/tmp";
	snprintf(path, sizeof path, "%s/mmapdiff.dat", dir);
	unlink(path);
	setvbuf(stdout, NULL, _IONBF, 0);
	char buf[64];

	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	check("open", fd >= 0, 1);
	check("ftruncate 3 pages", ftruncate(fd, 3 * PG), 0);
	char *m = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	check("mmap shared", m != MAP_FAILED, 1);

	// pwrite, then read through the mapping (page already touched and not).
	m[0] = 'x';
	check("pwrite", pwrite(fd, "hello", 5, 100), 5);
	check("pwrite seen through mapping (touched page)", memcmp(m + 100, "hello", 5), 0);
	check("pwrite 2nd page", pwrite(fd, "again", 5, PG + 7), 5);
	check("pwrite seen through mapping (fresh page)", memcmp(m + PG + 7, "again", 5), 0);

	// Store through the mapping, then read().
	memcpy(m + 2 * PG + 9, "world", 5);
	memset(buf, 0, sizeof buf);
	check("pread after store", pread(fd, buf, 5, 2 * PG + 9), 5);
	check("store seen by read()", memcmp(buf, "world", 5), 0);

	// A second shared mapping of the same file, at an offset.
	char *m2 = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, PG);
	check("mmap shared at offset", m2 != MAP_FAILED, 1);
	memcpy(m2 + 20, "two", 3);
	check("second mapping seen by first", memcmp(m + PG + 20, "two", 3), 0);
	check("first mapping seen by second", memcmp(m2 + PG + 9, "world", 5), 0);

	// A thread stores into shared anonymous memory.
	shared_page = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	check("mmap shared anonymous", shared_page != MAP_FAILED, 1);
	pthread_t th;
	pthread_create(&th, NULL, writer, NULL);
	pthread_join(th, NULL);
	check("thread's store seen", strcmp(shared_page, "from a thread"), 0);

	// msync: arguments as Linux checks them.
	check("msync MS_SYNC", msync(m, 3 * PG, MS_SYNC), 0);
	check("msync MS_ASYNC|MS_INVALIDATE", msync(m, PG, MS_ASYNC | MS_INVALIDATE), 0);
	check("msync MS_ASYNC|MS_SYNC", err(msync(m, PG, MS_ASYNC | MS_SYNC)), EINVAL);
	check("msync misaligned", err(msync(m + 1, PG, MS_SYNC)), EINVAL);
	check("msync bad flag", err(msync(m, PG, 8)), EINVAL);

	// munmap, close, reopen: the data stays.
	check("munmap", munmap(m2, 2 * PG), 0);
	check("msync unmapped", err(msync(m2, PG, MS_SYNC)), ENOMEM);
	memcpy(m + 50, "kept", 4);
	check("munmap first", munmap(m, 3 * PG), 0);
	check("close", close(fd), 0);
	fd = open(path, O_RDWR);
	memset(buf, 0, sizeof buf);
	check("pread after reopen", pread(fd, buf, 4, 50), 4);
	check("data kept after munmap and close", memcmp(buf, "kept", 4), 0);
	m = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	check("remapped sees old stores", memcmp(m + 2 * PG + 9, "world", 5), 0);

	// MAP_PRIVATE: own copy once written, the file's pages until then.
	char *p = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	check("mmap private", p != MAP_FAILED, 1);
	check("private sees file", memcmp(p + 100, "hello", 5), 0);
	memcpy(p + 100, "PRIVT", 5);
	check("private store stays private (shared view)", memcmp(m + 100, "hello", 5), 0);
	memset(buf, 0, sizeof buf);
	pread(fd, buf, 5, 100);
	check("private store stays private (read)", memcmp(buf, "hello", 5), 0);
	pwrite(fd, "HELLO", 5, 100);
	check("private copy keeps its bytes", memcmp(p + 100, "PRIVT", 5), 0);
	pwrite(fd, "newer", 5, PG + 7);
	check("unwritten private page follows the file", memcmp(p + PG + 7, "newer", 5), 0);
	char *ro = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0);
	check("read-only shared mapping", memcmp(ro + 100, "HELLO", 5), 0);
	check("mprotect private to read-only", mprotect(p, PG, PROT_READ), 0);
	check("private copy after mprotect", memcmp(p + 100, "PRIVT", 5), 0);
	int rfd = open(path, O_RDONLY);
	check("shared writable mapping of O_RDONLY", err((long)mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, rfd, 0)), EACCES);
	char *rm = mmap(NULL, PG, PROT_READ, MAP_SHARED, rfd, 0);
	check("mprotect PROT_WRITE on O_RDONLY shared", err(mprotect(rm, PG, PROT_READ | PROT_WRITE)), EACCES);
	check("private writable mapping of O_RDONLY", mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, rfd, 0) != MAP_FAILED, 1);

	// write() from a mapping and read() into one.
	check("write from mapping", pwrite(fd, m + 100, 5, 3 * PG), 5);
	check("read into mapping", pread(fd, m + 200, 5, 3 * PG), 5);
	check("read into mapping landed", memcmp(m + 200, "HELLO", 5), 0);

	// madvise: DONTNEED keeps shared data, zeroes private anonymous.
	check("MADV_DONTNEED shared", madvise(m, PG, MADV_DONTNEED), 0);
	check("shared data after MADV_DONTNEED", memcmp(m + 100, "HELLO", 5), 0);
	check("MADV_DONTNEED private file", madvise(p, PG, MADV_DONTNEED), 0);
	check("private file page after MADV_DONTNEED", memcmp(p + 100, "HELLO", 5), 0);
	char *a = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	a[0] = 7;
	check("MADV_DONTNEED anonymous", madvise(a, PG, MADV_DONTNEED), 0);
	check("anonymous zero after MADV_DONTNEED", a[0], 0);
	check("MADV_FREE file", err(madvise(m, PG, MADV_FREE)), EINVAL);
	check("MADV_REMOVE private", err(madvise(a, PG, MADV_REMOVE)), EINVAL);
	check("MADV_REMOVE shared", madvise(m + PG, PG, MADV_REMOVE), 0);
	check("hole after MADV_REMOVE (mapping)", m[PG + 7], 0);
	memset(buf, 1, sizeof buf);
	pread(fd, buf, 5, PG + 7);
	check("hole after MADV_REMOVE (read)", buf[0] | buf[4], 0);
	check("madvise bad advice", err(madvise(m, PG, 12345)), EINVAL);

	// ftruncate shrinks a mapped file: SIGBUS (BUS_ADRERR) past the end.
	struct sigaction sa = {0};
	sa.sa_sigaction = onsig;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	check("ftruncate to 1.5 pages", ftruncate(fd, PG + PG / 2), 0);
	check("tail of the last page is zero", m[PG + PG / 2 + 1], 0);
	sig = 0;
	if (sigsetjmp(jb, 1) == 0)
		(void)*(volatile char *)(m + 2 * PG);
	check("SIGBUS past the end", sig, SIGBUS);
	check("si_code BUS_ADRERR", code, BUS_ADRERR);
	sig = 0;
	if (sigsetjmp(jb, 1) == 0)
		(void)*(volatile char *)(p + 2 * PG + 5);
	check("SIGBUS past the end (private)", sig, SIGBUS);
	check("ftruncate back to 3 pages", ftruncate(fd, 3 * PG), 0);
	check("grown file reads zero through mapping", m[2 * PG + 9], 0);

	// mremap.
	char *r = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	strcpy(r, "first");
	strcpy(r + PG, "second");
	char *r2 = mremap(r, 2 * PG, 64 * PG, MREMAP_MAYMOVE);
	check("mremap grow", r2 != MAP_FAILED, 1);
	check("mremap kept data", strcmp(r2, "first") | strcmp(r2 + PG, "second"), 0);
	r2[63 * PG] = 1;
	check("mremap new tail zero", r2[63 * PG - 1], 0);
	check("mremap shrink in place", mremap(r2, 64 * PG, PG, 0) == r2, 1);
	check("shrunk tail unmapped", err(msync(r2 + PG, PG, MS_ASYNC)), ENOMEM);
	char *fx = mmap(NULL, 8 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *r3 = mremap(r2, PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, fx + 4 * PG);
	check("MREMAP_FIXED lands there", r3 == fx + 4 * PG, 1);
	check("MREMAP_FIXED kept data", strcmp(r3, "first"), 0);
	check("old range gone", err(msync(r2, PG, MS_ASYNC)), ENOMEM);
	char *r4 = mremap(r3, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP);
	check("MREMAP_DONTUNMAP", r4 != MAP_FAILED && r4 != r3, 1);
	check("DONTUNMAP moved data", strcmp(r4, "first"), 0);
	check("DONTUNMAP old range empty", r3[0], 0);
	check("mremap FIXED without MAYMOVE", err((long)mremap(r4, PG, PG, MREMAP_FIXED, fx)), EINVAL);
	char *gone = mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(gone, PG);
	check("mremap unmapped", err((long)mremap(gone, PG, 2 * PG, MREMAP_MAYMOVE)), EFAULT);
	char *pn = mremap(fx, PG, 16 * PG, MREMAP_MAYMOVE);
	check("mremap PROT_NONE grow", pn != MAP_FAILED, 1);
	char *fm = mremap(m, 3 * PG, 6 * PG, MREMAP_MAYMOVE);
	check("mremap shared file mapping", fm != MAP_FAILED, 1);
	check("moved file mapping still shared", (pwrite(fd, "moved", 5, 10), memcmp(fm + 10, "moved", 5)), 0);

	// fallocate, as tmpfs does it.
	int ffd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	check("fallocate grows the file", fallocate(ffd, 0, 0, 3 * PG) == 0 && lseek(ffd, 0, SEEK_END) == 3 * PG, 1);
	check("fallocate KEEP_SIZE", fallocate(ffd, FALLOC_FL_KEEP_SIZE, 0, 8 * PG) == 0 && lseek(ffd, 0, SEEK_END) == 3 * PG, 1);
	char *fmap = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, ffd, 0);
	memset(fmap, 'z', 3 * PG);
	check("PUNCH_HOLE", fallocate(ffd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 100, 2 * PG), 0);
	check("punched bytes read zero through the mapping", fmap[99] == 'z' && fmap[100] == 0 && fmap[PG + 50] == 0 && fmap[2 * PG + 99] == 0 && fmap[2 * PG + 100] == 'z', 1);
	memset(buf, 1, sizeof buf);
	pread(ffd, buf, 4, PG);
	check("punched bytes read zero", buf[0] | buf[3], 0);
	check("PUNCH_HOLE without KEEP_SIZE", err(fallocate(ffd, FALLOC_FL_PUNCH_HOLE, 0, PG)), EOPNOTSUPP);
	check("COLLAPSE_RANGE on tmpfs", err(fallocate(ffd, FALLOC_FL_COLLAPSE_RANGE, 0, PG)), EOPNOTSUPP);
	check("fallocate zero length", err(fallocate(ffd, 0, 0, 0)), EINVAL);
	check("fallocate read-only fd", err(fallocate(rfd, 0, 0, PG)), EBADF);
	int pfd[2];
	pipe(pfd);
	check("fallocate pipe", err(fallocate(pfd[1], 0, 0, PG)), ESPIPE);
	munmap(fmap, 3 * PG);
	close(ffd);

	// memfd_create.
	int mfd = memfd_create("mmapdiff", MFD_CLOEXEC);
	check("memfd_create", mfd >= 0, 1);
	check("memfd ftruncate", ftruncate(mfd, PG), 0);
	char *mm = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	strcpy(mm, "memfd data");
	memset(buf, 0, sizeof buf);
	check("memfd read", pread(mfd, buf, 10, 0), 10);
	check("memfd coherent", strcmp(buf, "memfd data"), 0);

	// System V shared memory.
	int id = shmget(IPC_PRIVATE, 3 * PG + 10, IPC_CREAT | 0600);
	check("shmget", id >= 0, 1);
	char *s1 = shmat(id, NULL, 0);
	char *s2 = shmat(id, NULL, SHM_RDONLY);
	check("shmat twice", s1 != (void *)-1 && s2 != (void *)-1 && s1 != s2, 1);
	strcpy(s1 + 2 * PG, "shared segment");
	check("attachments share", strcmp(s2 + 2 * PG, "shared segment"), 0);
	struct shmid_ds ds;
	check("IPC_STAT", shmctl(id, IPC_STAT, &ds), 0);
	check("shm_segsz", ds.shm_segsz, 3 * PG + 10);
	check("shm_nattch", ds.shm_nattch, 2);
	check("shm_perm.mode", ds.shm_perm.mode & 0777, 0600);
	check("shmdt", shmdt(s2), 0);
	check("shmdt again", err(shmdt(s2)), EINVAL);
	check("IPC_RMID while attached", shmctl(id, IPC_RMID, NULL), 0);
	check("data survives IPC_RMID while attached", strcmp(s1 + 2 * PG, "shared segment"), 0);
	check("last shmdt", shmdt(s1), 0);
	check("segment gone", err(shmctl(id, IPC_STAT, &ds)), EINVAL);
	key_t key = 0x5eed0000 + (getpid() & 0xffff);
	int k1 = shmget(key, PG, IPC_CREAT | IPC_EXCL | 0600);
	check("shmget key", k1 >= 0, 1);
	check("shmget key again", shmget(key, PG, 0600) == k1, 1);
	check("shmget IPC_EXCL", err(shmget(key, PG, IPC_CREAT | IPC_EXCL | 0600)), EEXIST);
	check("shmget larger", err(shmget(key, 2 * PG, 0600)), EINVAL);
	check("shmat misaligned", err((long)shmat(k1, (void *)0x12345, 0)), EINVAL);
	shmctl(k1, IPC_RMID, NULL);
	check("shmget removed key", err(shmget(key, PG, 0600)), ENOENT);
	check("shmget size 0", err(shmget(IPC_PRIVATE, 0, 0600)), EINVAL);

	// MAP_POPULATE of shared anonymous memory and of a file, private and
	// shared: the pages hold their bytes at once. (Cocoon's mmap faulted
	// them in holding its own lock and waited on itself for ever: fuzzer
	// seed 1267.)
	char *pa = mmap(NULL, 2 * PG, PROT_READ, MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	check("MAP_POPULATE shared anonymous", pa != MAP_FAILED && pa[PG] == 0, 1);
	char *pp = mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_POPULATE, mfd, 0);
	check("MAP_POPULATE private file", pp != MAP_FAILED && strcmp(pp, "memfd data") == 0, 1);
	char *ps = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, mfd, 0);
	check("MAP_POPULATE shared file", ps != MAP_FAILED && strcmp(ps, "memfd data") == 0, 1);
	strcpy(ps, "populated");
	check("MAP_POPULATE shared file coherent", strcmp(mm, "populated"), 0);

	unlink(path);
	// Files without pages of their own (drivers/char/mem.c, fs/proc):
	// /dev/zero maps anonymous memory, private or shared; files with no
	// mmap are ENODEV; a descriptor not open for reading is EACCES first.
	{
		int z = open("/dev/zero", O_RDWR);
		char *zp = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, z, 0);
		check("/dev/zero private mapping", zp != MAP_FAILED, 1);
		if (zp != MAP_FAILED) {
			check("/dev/zero private reads zeros", zp[PG + 5], 0);
			zp[5] = 'z';
			check("/dev/zero private write", zp[5], 'z');
			munmap(zp, 2 * PG);
		}
		char *zs = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, z, 0);
		check("/dev/zero shared mapping", zs != MAP_FAILED, 1);
		if (zs != MAP_FAILED) {
			pid_t c = fork();
			if (c == 0) {
				strcpy(zs, "child");
				_exit(0);
			}
			int st;
			waitpid(c, &st, 0);
			check("/dev/zero shared mapping seen across fork", strcmp(zs, "child"), 0);
			munmap(zs, PG);
		}
		close(z);
		const char *nommap[] = {"/dev/null", "/dev/urandom", "/dev/full", "/proc/self/maps", "/proc/self/status"};
		for (unsigned i = 0; i < sizeof nommap / sizeof nommap[0]; i++) {
			int f = open(nommap[i], O_RDONLY);
			void *p = mmap(NULL, PG, PROT_READ, MAP_PRIVATE, f, 0);
			printf("mmap private %s: %s\n", nommap[i], p == MAP_FAILED ? strerror(errno) : "mapped");
			if (p != MAP_FAILED)
				munmap(p, PG);
			close(f);
		}
		int w = open("/dev/null", O_WRONLY);
		void *p = mmap(NULL, PG, PROT_READ, MAP_PRIVATE, w, 0);
		printf("mmap private write-only /dev/null: %s\n", p == MAP_FAILED ? strerror(errno) : "mapped");
		close(w);
		int pp[2];
		pipe(pp);
		p = mmap(NULL, PG, PROT_READ, MAP_PRIVATE, pp[0], 0);
		printf("mmap private pipe: %s\n", p == MAP_FAILED ? strerror(errno) : "mapped");
		p = mmap(NULL, PG, PROT_READ, MAP_PRIVATE, pp[1], 0);
		printf("mmap private write end of a pipe: %s\n", p == MAP_FAILED ? strerror(errno) : "mapped");
		close(pp[0]);
		close(pp[1]);
	}

	// Page tables are freed with the last mapping in their span (Linux's
	// free_pgtables): mapping, touching and unmapping (or moving away) at
	// new addresses round after round leaves VmPTE where it was; what is
	// left mapped nearby keeps its pages; an unmapped address still
	// faults, and a new mapping there works.
	{
		struct sigaction sa = {0}, old;
		sa.sa_sigaction = onsig;
		sa.sa_flags = SA_SIGINFO;
		sigaction(SIGSEGV, &sa, &old);
		const size_t G = 1UL << 30, len = 16 * PG;
		char *base = (char *)0x200000000000UL;
		long before = vmpte(), bad = 0;
		char *last = NULL;
		for (int i = 0; i < 200; i++) {
			char *a = base + (size_t)(2 * i) * G, *b = a + G;
			char *p = mmap(a, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
			if (p != a) {
				bad++;
				continue;
			}
			for (size_t o = 0; o < len; o += PG)
				p[o] = (char)i;
			if (i % 2) { // half the rounds move it first (mremap's move)
				char *q = mremap(p, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, b);
				if (q != b || q[PG] != (char)i) {
					bad++;
					continue;
				}
				p = q;
			}
			if (munmap(p, len) != 0)
				bad++;
			last = p;
		}
		long after = vmpte();
		check("ptfree: 200 rounds map, touch, unmap at new addresses", bad, 0);
		printf("ptfree: VmPTE back within 32 kB of its start: %s\n",
		       before >= 0 && after >= 0 && after - before <= 32 ? "yes" : "no");
		sig = 0;
		if (sigsetjmp(jb, 1) == 0)
			(void)*(volatile char *)last;
		printf("ptfree: touching an unmapped address: signal %d code %d\n", sig, code);
		char *p = mmap(last, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		check("ptfree: a new mapping there", p == last, 1);
		if (p == last) {
			check("ptfree: new mapping reads zeros", p[7], 0);
			p[7] = 'x';
			check("ptfree: new mapping written", p[7], 'x');
			munmap(p, PG);
		}
		// An 8 MiB mapping, 2 MiB aligned: unmapping its middle 4 MiB
		// frees those tables only; the ends keep their pages.
		char *m8 = mmap(base + 4 * G, 8 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		check("ptfree: 8 MiB mapping", m8 == base + 4 * G, 1);
		if (m8 == base + 4 * G) {
			for (size_t o = 0; o < (8 << 20); o += PG)
				m8[o] = (char)(o >> 12);
			check("ptfree: unmap the middle 4 MiB", munmap(m8 + (2 << 20), 4 << 20), 0);
			long wrong = 0;
			for (size_t o = 0; o < (8 << 20); o += PG)
				if ((o < (2 << 20) || o >= (6 << 20)) && m8[o] != (char)(o >> 12))
					wrong++;
			check("ptfree: the ends keep their pages", wrong, 0);
			sig = 0;
			if (sigsetjmp(jb, 1) == 0)
				(void)*(volatile char *)(m8 + (3 << 20));
			printf("ptfree: touching the hole: signal %d code %d\n", sig, code);
			check("ptfree: remap the hole", mmap(m8 + (2 << 20), 4 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == m8 + (2 << 20), 1);
			check("ptfree: the hole reads zeros again", m8[3 << 20], 0);
			munmap(m8, 8 << 20);
		}
		sigaction(SIGSEGV, &old, NULL);
	}

	printf("mmapdiff: done\n");
	return 0;
}
