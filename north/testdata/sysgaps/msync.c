// msync: msync(2)'s flags, alignment, unmapped ranges (before, within,
// after a mapping), MS_INVALIDATE of locked memory, a shared file
// mapping's data reaching the file; every result printed, for comparison
// with Linux's. Run with a scratch directory on tmpfs as argument.
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

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	long ps = 4096;
	char *a = mmap(NULL, 6 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(a + 2 * ps, ps); // a hole at page 2
	munmap(a + 5 * ps, ps); // nothing after page 4
	R(msync(a, ps, MS_SYNC));
	R(msync(a, ps, MS_ASYNC));
	R(msync(a, ps, MS_INVALIDATE));
	R(msync(a, ps, 0));
	R(msync(a, ps, MS_ASYNC | MS_SYNC));
	R(msync(a, ps, 8));
	R(msync(a + 1, ps, MS_SYNC));
	R(msync(a, 0, MS_SYNC));
	R(msync(a, 1, MS_SYNC));
	R(msync(a, 4 * ps, MS_SYNC));
	R(msync(a, 4 * ps, MS_ASYNC));
	R(msync(a + 2 * ps, ps, MS_SYNC));
	R(msync(a + 2 * ps, 2 * ps, MS_SYNC));
	R(msync(a + 3 * ps, 3 * ps, MS_SYNC));
	R(msync(a, -4096, MS_SYNC));
	R(msync((void *)0xfffffffffffff000, 8192, MS_SYNC));
	// MS_INVALIDATE of locked memory.
	R(mlock(a + 3 * ps, ps));
	R(msync(a + 3 * ps, ps, MS_INVALIDATE));
	R(msync(a + 3 * ps, ps, MS_SYNC));
	R(msync(a + 4 * ps, ps, MS_INVALIDATE));
	R(msync(a + 2 * ps, 2 * ps, MS_INVALIDATE));
	R(msync(a + 3 * ps, 3 * ps, MS_INVALIDATE | MS_SYNC));
	R(msync(a, 5 * ps, MS_INVALIDATE));
	R(munlock(a + 3 * ps, ps));
	R(msync(a + 3 * ps, ps, MS_INVALIDATE));
	// A shared file mapping: msync, then the file has the bytes.
	char path[512];
	snprintf(path, sizeof path, "%s/msync", argc > 1 ? argv[1] : "/tmp");
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ftruncate(fd, 2 * ps);
	char *f = mmap(NULL, 2 * ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	memcpy(f + ps, "synced", 6);
	R(msync(f, 2 * ps, MS_SYNC));
	char b[8] = {0};
	pread(fd, b, 6, ps);
	printf("file: %s\n", b);
	R(msync(f, 2 * ps, MS_ASYNC | MS_INVALIDATE));
	unlink(path);
	printf("msync: done\n");
	return 0;
}
