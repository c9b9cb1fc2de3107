// realfiles: the file operations databases, editors and package tools use
// beyond open/read/write, in the directory argv[1]: flock(2) between
// processes and beside fcntl locks, open file description locks against
// process locks, a shared file mapping coherent with read/write across a
// fork, SIGBUS past the end of file and after a shrink, MADV_DONTNEED on
// a shared mapping, a private mapping before and after its copy,
// fallocate (hole punching, modes tmpfs refuses), mremap of a shared
// mapping, msync, O_TMPFILE named by linkat through /proc/self/fd (as
// glibc's tmpfile(3) does first), renameat2 RENAME_EXCHANGE and
// RENAME_NOREPLACE, sendfile, copy_file_range, memfd seals. Prints every
// result with its errno name; compared line for line with a native run.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/falloc.h>

static char dir[256];

// P returns the path of n in the scratch directory, in one of four
// buffers used in turn.
static char *P(const char *n) {
	static char b[4][512];
	static int i;
	i = (i + 1) % 4;
	snprintf(b[i], 512, "%s/%s", dir, n);
	return b[i];
}

// R prints the call x, its result and its errno's name.
#define R(x)                                                                               \
	do {                                                                               \
		errno = 0;                                                                 \
		long r_ = (long)(x);                                                       \
		printf("%s = %ld %s\n", #x, r_, errno ? strerrorname_np(errno) : "");     \
	} while (0)

static sigjmp_buf jb;

static void onbus(int s) { siglongjmp(jb, s); }

int main(int argc, char **argv) {
	setvbuf(stdout, 0, _IOLBF, 0);
	snprintf(dir, sizeof dir, "%s", argv[1]);
	errno = 0;
	// flock between processes
	int fd = open(P("lock"), O_RDWR | O_CREAT, 0644);
	R(flock(fd, LOCK_EX));
	pid_t pid = fork();
	if (pid == 0) {
		int f2 = open(P("lock"), O_RDWR);
		R(flock(f2, LOCK_EX | LOCK_NB));
		R(flock(f2, LOCK_SH | LOCK_NB));
		R(flock(fd, LOCK_SH | LOCK_NB)); // same open file description: converts
		struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
		R(fcntl(f2, F_SETLK, &fl)); // independent of flock
		_exit(0);
	}
	waitpid(pid, 0, 0);
	R(flock(fd, LOCK_UN));
	// OFD locks
	int a = open(P("lock"), O_RDWR), b = open(P("lock"), O_RDWR);
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 10, .l_len = 5};
	R(fcntl(a, F_OFD_SETLK, &fl));
	fl.l_start = 12; fl.l_len = 1;
	R(fcntl(b, F_OFD_SETLK, &fl));
	fl.l_pid = 99;
	R(fcntl(b, F_OFD_GETLK, &fl));
	printf("ofd getlk type %d start %ld len %ld pid %d\n", fl.l_type, (long)fl.l_start, (long)fl.l_len, fl.l_pid);
	struct flock pl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
	R(fcntl(b, F_SETLK, &pl)); // a process lock conflicts with an OFD lock
	R(fcntl(b, F_GETLK, &pl));
	printf("getlk type %d start %ld len %ld pid %d\n", pl.l_type, (long)pl.l_start, (long)pl.l_len, pl.l_pid);
	close(a);
	R(fcntl(b, F_SETLK, &pl));
	// shared mapping and read/write coherence
	int m = open(P("map"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	R(ftruncate(m, 10000));
	char *p = mmap(0, 16384, PROT_READ | PROT_WRITE, MAP_SHARED, m, 0);
	pid = fork();
	if (pid == 0) {
		memcpy(p + 100, "child wrote", 11);
		_exit(0);
	}
	waitpid(pid, 0, 0);
	char buf[64] = "";
	R(pread(m, buf, 11, 100));
	printf("pread: %s\n", buf);
	R(pwrite(m, "via write", 9, 5000));
	printf("map: %.9s\n", p + 5000);
	signal(SIGBUS, onbus);
	int s = sigsetjmp(jb, 1);
	if (s == 0) {
		volatile char c = p[12288];
		printf("no SIGBUS past EOF %d\n", c);
	} else
		printf("signal %d past EOF\n", s);
	printf("within last page past EOF: %d\n", p[10001]);
	R(ftruncate(m, 14000));
	s = sigsetjmp(jb, 1);
	if (s == 0) {
		p[13000] = 'x';
		printf("write after grow ok\n");
	} else
		printf("signal %d after grow\n", s);
	R(pread(m, buf, 1, 13000));
	printf("read back %c\n", buf[0]);
	R(ftruncate(m, 4096));
	s = sigsetjmp(jb, 1);
	if (s == 0) {
		volatile char c = p[5000];
		printf("no SIGBUS after shrink %d\n", c);
	} else
		printf("signal %d after shrink\n", s);
	R(ftruncate(m, 10000));
	printf("after regrow zero: %d %d\n", p[5000], p[100]);
	// madvise DONTNEED on a shared mapping keeps data
	R(madvise(p, 4096, MADV_DONTNEED));
	printf("after dontneed: %.11s\n", p + 100);
	// private mapping sees file changes until written
	char *q = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, m, 0);
	printf("private: %.11s\n", q + 100);
	R(pwrite(m, "CHILD", 5, 100));
	printf("private sees write: %.11s\n", q + 100);
	q[0] = 1;
	R(pwrite(m, "child", 5, 100));
	printf("private after cow: %.11s\n", q + 100);
	// fallocate
	R(fallocate(m, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096));
	printf("after punch: %d %.11s\n", p[100], p + 100);
	struct stat st;
	fstat(m, &st);
	printf("size %ld blocks %ld\n", (long)st.st_size, (long)st.st_blocks);
	R(fallocate(m, 0, 0, 100000));
	fstat(m, &st);
	printf("size %ld blocks %ld\n", (long)st.st_size, (long)st.st_blocks);
	R(fallocate(m, FALLOC_FL_COLLAPSE_RANGE, 4096, 4096));
	R(fallocate(m, FALLOC_FL_ZERO_RANGE, 10, 10));
	R(posix_fallocate(m, 200000, 10));
	fstat(m, &st);
	printf("size %ld\n", (long)st.st_size);
	// mremap a shared mapping bigger
	char *r = mremap(p, 16384, 65536, MREMAP_MAYMOVE);
	printf("mremap %s\n", r == MAP_FAILED ? strerrorname_np(errno) : "ok");
	errno = 0;
	r[60000] = 'z';
	R(pread(m, buf, 1, 60000));
	printf("after mremap write %c\n", buf[0]);
	R(msync(r, 65536, MS_SYNC));
	R(msync(r + 1, 10, MS_SYNC));
	// O_TMPFILE + linkat
	int t = open(dir, O_TMPFILE | O_RDWR, 0600);
	R(t >= 0);
	R(write(t, "tmp", 3));
	char lp[64];
	snprintf(lp, sizeof lp, "/proc/self/fd/%d", t);
	R(linkat(AT_FDCWD, lp, AT_FDCWD, P("linked"), AT_SYMLINK_FOLLOW));
	R(stat(P("linked"), &st));
	printf("linked size %ld nlink %ld\n", (long)st.st_size, (long)st.st_nlink);
	// renameat2
	int x = open(P("x"), O_CREAT | O_WRONLY, 0644);
	R(write(x, "xx", 2));
	R(renameat2(AT_FDCWD, P("x"), AT_FDCWD, P("linked"), RENAME_EXCHANGE));
	R(stat(P("linked"), &st));
	printf("exchanged size %ld\n", (long)st.st_size);
	R(renameat2(AT_FDCWD, P("x"), AT_FDCWD, P("linked"), RENAME_NOREPLACE));
	// sendfile / copy_file_range
	int o = open(P("copy"), O_CREAT | O_RDWR | O_TRUNC, 0644);
	off_t off = 100;
	R(sendfile(o, m, &off, 5000));
	printf("off %ld\n", (long)off);
	loff_t in = 0, out = 10000;
	R(copy_file_range(m, &in, o, &out, 70000, 0));
	fstat(o, &st);
	printf("copy size %ld in %ld out %ld\n", (long)st.st_size, (long)in, (long)out);
	// memfd
	int mf = memfd_create("t", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	R(ftruncate(mf, 8192));
	R(fcntl(mf, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW));
	R(ftruncate(mf, 4096));
	R(fcntl(mf, F_GET_SEALS));
	char *mp = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, mf, 0);
	mp[8000] = 7;
	R(pread(mf, buf, 1, 8000));
	printf("memfd %d\n", buf[0]);
	R(fcntl(mf, F_ADD_SEALS, F_SEAL_WRITE));
	munmap(mp, 8192);
	R(fcntl(mf, F_ADD_SEALS, F_SEAL_WRITE));
	R(write(mf, "a", 1));
	R((long)mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, mf, 0));
	printf("realfiles: done\n");
	return 0;
}
