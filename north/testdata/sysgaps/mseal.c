// mseal: mseal(2)'s errors, and what sealed memory refuses (munmap,
// mprotect, pkey_mprotect, mmap MAP_FIXED over it, mremap, brk shrinking
// into it, madvise's discarding advice on read-only private anonymous
// memory) and allows; a fork's copy stays sealed; every result printed,
// for comparison with Linux's.
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define R(x)                                                                               \
	do {                                                                               \
		errno = 0;                                                                 \
		long r_ = (long)(x);                                                       \
		printf("%-64s = %ld %s\n", #x, r_, r_ < 0 ? strerrorname_np(errno) : ""); \
		fflush(stdout);                                                            \
	} while (0)

static long mseal_(void *a, size_t n, unsigned long f) { return syscall(462, a, n, f); }
// ok is 0 for a mapping made, -1 (errno set) for MAP_FAILED.
static long ok(void *p) { return p == MAP_FAILED ? -1 : 0; }

int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	long ps = 4096;
	char *a = mmap(NULL, 8 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(a + 7 * ps, ps);
	R(mseal_(a, ps, 1));
	R(mseal_(a + 1, ps, 0));
	R(mseal_(a, -1, 0));
	R(mseal_(a, 0, 0));
	R(mseal_(a + 6 * ps, 2 * ps, 0));
	R(mseal_((void *)0xfffffffffffff000, 2 * ps, 0));
	R(mseal_(a + ps, 2 * ps, 0));
	R(mseal_(a + ps, ps, 0));
	// Sealed: pages 1 and 2.
	R(munmap(a + ps, ps));
	R(munmap(a, 3 * ps));
	R(munmap(a + 2 * ps, 2 * ps));
	R(munmap(a + 3 * ps, ps));
	R(mprotect(a + ps, ps, PROT_READ));
	R(mprotect(a, 2 * ps, PROT_READ));
	R(mprotect(a + ps, ps, PROT_READ | PROT_WRITE));
	R(syscall(SYS_pkey_mprotect, a + ps, ps, PROT_READ, -1));
	R(ok(mmap(a + ps, ps, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0)));
	R(ok(mremap(a + ps, ps, 2 * ps, MREMAP_MAYMOVE)));
	R(ok(mremap(a + ps, 2 * ps, ps, 0)));
	char *dst = mmap(NULL, ps, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	R(ok(mremap(dst, ps, ps, MREMAP_MAYMOVE | MREMAP_FIXED, a + ps)));
	a[ps] = 'w';
	R(a[ps]);
	R(madvise(a + ps, ps, MADV_DONTNEED));
	R(a[ps]);
	R(madvise(a + ps, ps, MADV_COLD));
	R(madvise(a + ps, 2 * ps, MADV_WILLNEED));
	// Read-only sealed anonymous memory keeps its contents.
	char *r = mmap(NULL, 2 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	r[0] = 'k';
	mprotect(r, 2 * ps, PROT_READ);
	R(mseal_(r, 2 * ps, 0));
	R(madvise(r, ps, MADV_DONTNEED));
	R(madvise(r, ps, MADV_FREE));
	R(madvise(r, ps, MADV_DONTFORK));
	R(madvise(r, ps, MADV_WIPEONFORK));
	R(madvise(r, ps, MADV_NORMAL));
	R(r[0]);
	// Shared memory may be discarded.
	char *sh = mmap(NULL, ps, PROT_READ, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	R(mseal_(sh, ps, 0));
	R(madvise(sh, ps, MADV_DONTNEED));
	// A fork's copy is sealed too.
	pid_t c = fork();
	if (c == 0) {
		R(munmap(a + ps, ps));
		R(mprotect(r, ps, PROT_NONE));
		_exit(0);
	}
	waitpid(c, NULL, 0);
	// The rest of the mapping is not.
	R(munmap(a + 4 * ps, ps));
	R(mprotect(a, ps, PROT_READ));
	printf("mseal: done\n");
	return 0;
}
