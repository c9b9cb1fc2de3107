// procmem: /proc/PID/mem read and written as Linux does (fs/proc/base.c
// mem_rw with FOLL_FORCE): own stack, heap and text (a patched function
// runs), EIO past what is mapped, kernel addresses, offsets lseek allows,
// PROT_NONE pages (read by force; written into a private copy unless
// shared), another process's memory, and a file whose process has
// exited. Prints no addresses: the output is compared with Linux's.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

__attribute__((noinline)) int answer(void) { return 7; }

static off_t at(const void *p) { return (off_t)(uintptr_t)p; }

static char shared_data[32] = "child-data";

int main(void) {
	char buf[32];
	ssize_t n;
	setvbuf(stdout, NULL, _IONBF, 0);
	int fd = open("/proc/self/mem", O_RDWR);
	printf("open self O_RDWR: %s\n", fd >= 0 ? "ok" : strerror(errno));

	volatile int onstack = 0x11223344;
	n = pread(fd, buf, 4, at((void *)&onstack));
	printf("stack: %zd same %d\n", n, memcmp(buf, (void *)&onstack, 4) == 0);
	char *heap = malloc(100);
	strcpy(heap, "heap!");
	memset(buf, 0, sizeof buf);
	n = pread(fd, buf, 6, at(heap));
	printf("heap: %zd %s\n", n, buf);
	n = pwrite(fd, "HEAP", 4, at(heap));
	printf("heap write: %zd now %s\n", n, heap);

	// mov $42, %eax; ret over answer's text, mapped read-only.
	unsigned char code[6] = {0xb8, 42, 0, 0, 0, 0xc3};
	n = pwrite(fd, code, sizeof code, at((void *)answer));
	printf("text write: %zd answer() %d\n", n, answer());

	char *u = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(u, 'a', 8192);
	munmap(u + 4096, 4096);
	errno = 0;
	n = pread(fd, buf, 16, at(u + 4096 - 8));
	printf("read across the end: %zd errno %d %.8s\n", n, errno, buf);
	errno = 0;
	n = pread(fd, buf, 16, at(u + 4096));
	printf("read unmapped: %zd errno %d\n", n, errno);
	errno = 0;
	n = pwrite(fd, "bbbbbbbbbbbbbbbb", 16, at(u + 4096 - 8));
	printf("write across the end: %zd errno %d %.8s\n", n, errno, u + 4096 - 8);
	errno = 0;
	n = pwrite(fd, "b", 1, at(u + 4096));
	printf("write unmapped: %zd errno %d\n", n, errno);
	errno = 0;
	n = pread(fd, buf, 0, at(u + 4096));
	printf("read 0 bytes unmapped: %zd errno %d\n", n, errno);

	off_t kern = (off_t)0xffffffff81000000ULL;
	errno = 0;
	off_t o = lseek(fd, kern, SEEK_SET);
	printf("lseek to a kernel address: %d errno %d\n", o == kern, errno);
	errno = 0;
	n = read(fd, buf, 8);
	printf("read there: %zd errno %d\n", n, errno);
	errno = 0;
	n = write(fd, buf, 8);
	printf("write there: %zd errno %d\n", n, errno);
	errno = 0;
	n = pread(fd, buf, 8, kern);
	printf("pread there: %zd errno %d\n", n, errno);
	errno = 0;
	long r = syscall(SYS_lseek, fd, -5L, SEEK_SET);
	printf("lseek -5: %ld errno %d\n", r, errno);
	errno = 0;
	o = lseek(fd, 10, SEEK_CUR);
	printf("lseek +10 from there: %lld errno %d\n", (long long)o, errno);
	errno = 0;
	o = lseek(fd, 0, SEEK_END);
	printf("lseek SEEK_END: %lld errno %d\n", (long long)o, errno);
	errno = 0;
	n = read(fd, buf, 4);
	printf("read at 5: %zd errno %d\n", n, errno);
	lseek(fd, at(heap), SEEK_SET);
	n = read(fd, buf, 2);
	printf("read at the heap: %zd offset moved %d\n", n, lseek(fd, 0, SEEK_CUR) == at(heap) + 2);

	char *sh = mmap(0, 4096, PROT_READ, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	errno = 0;
	n = pwrite(fd, "Z", 1, at(sh));
	printf("write a shared read-only page: %zd errno %d\n", n, errno);
	char *shw = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	n = pwrite(fd, "W", 1, at(shw));
	printf("write a shared writable page: %zd now %c\n", n, shw[0]);

	// PROT_NONE pages: read and written by force as ptrace does (mm/gup.c
	// check_vma_flags: FOLL_FORCE reads any mapping, writes only private
	// ones, into a private copy).
	char *pn = mmap(0, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	strcpy(pn, "kept");
	mprotect(pn, 3 * 4096, PROT_NONE);
	memset(buf, 'x', sizeof buf);
	n = pread(fd, buf, 5, at(pn));
	printf("read PROT_NONE page: %zd %s\n", n, buf);
	memset(buf, 'x', sizeof buf);
	n = pread(fd, buf, 4, at(pn + 4096));
	printf("read untouched PROT_NONE page: %zd %d %d %d %d\n", n, buf[0], buf[1], buf[2], buf[3]);
	n = pwrite(fd, "NEW", 4, at(pn));
	printf("write PROT_NONE page: %zd\n", n);
	n = pwrite(fd, "UNT", 4, at(pn + 2 * 4096));
	printf("write untouched PROT_NONE page: %zd\n", n);
	n = pread(fd, buf, 8, at(pn + 4096 - 4));
	printf("read across PROT_NONE pages: %zd %d %d\n", n, buf[0], buf[4]);
	mprotect(pn, 3 * 4096, PROT_READ);
	printf("after mprotect: %s %d %s\n", pn, pn[4096], pn + 2 * 4096);
	char *pns = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	strcpy(pns, "shared");
	mprotect(pns, 4096, PROT_NONE);
	memset(buf, 0, sizeof buf);
	n = pread(fd, buf, 7, at(pns));
	printf("read shared PROT_NONE page: %zd %s\n", n, buf);
	errno = 0;
	n = pwrite(fd, "S", 1, at(pns));
	printf("write shared PROT_NONE page: %zd errno %d\n", n, errno);
	int ef = open("/proc/self/exe", O_RDONLY);
	char *pf = mmap(0, 4096, PROT_NONE, MAP_PRIVATE, ef, 0);
	memset(buf, 0, sizeof buf);
	n = pread(fd, buf, 4, at(pf));
	printf("read PROT_NONE file page: %zd %.3s\n", n, buf + 1);
	n = pwrite(fd, "FLE", 3, at(pf + 1));
	mprotect(pf, 4096, PROT_READ);
	pread(ef, buf, 4, 0);
	printf("write PROT_NONE file page: %zd mapping %.3s file %.3s\n", n, pf + 1, buf + 1);
	char *pfs = mmap(0, 4096, PROT_NONE, MAP_SHARED, ef, 0);
	memset(buf, 0, sizeof buf);
	n = pread(fd, buf, 4, at(pfs));
	printf("read shared PROT_NONE file page: %zd %.3s\n", n, buf + 1);
	errno = 0;
	n = pwrite(fd, "X", 1, at(pfs));
	printf("write shared PROT_NONE file page: %zd errno %d\n", n, errno);
	close(ef);

	int ro = open("/proc/self/mem", O_RDONLY);
	errno = 0;
	n = pwrite(ro, "Z", 1, at(heap));
	printf("write O_RDONLY: %zd errno %d\n", n, errno);

	int p2c[2], c2p[2];
	if (pipe(p2c) || pipe(c2p))
		return 1;
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		strcpy(shared_data, "in-child");
		write(c2p[1], "x", 1);
		read(p2c[0], buf, 1);
		printf("child sees: %s\n", shared_data);
		fflush(stdout);
		write(c2p[1], "y", 1);
		read(p2c[0], buf, 1);
		_exit(0);
	}
	read(c2p[0], buf, 1);
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/mem", c);
	int cf = open(path, O_RDWR);
	printf("open child: %s\n", cf >= 0 ? "ok" : strerror(errno));
	memset(buf, 0, sizeof buf);
	n = pread(cf, buf, 9, at(shared_data));
	printf("child read: %zd %s (parent has %s)\n", n, buf, shared_data);
	n = pwrite(cf, "parent!", 8, at(shared_data));
	printf("child write: %zd\n", n);
	snprintf(path, sizeof path, "/proc/%d/task/%d/mem", c, c);
	int tf = open(path, O_RDONLY);
	memset(buf, 0, sizeof buf);
	n = pread(tf, buf, 8, at(shared_data));
	printf("task read: %zd %s\n", n, buf);
	write(p2c[1], "x", 1);
	read(c2p[0], buf, 1);
	write(p2c[1], "x", 1);
	siginfo_t si;
	waitid(P_PID, c, &si, WEXITED | WNOWAIT);
	snprintf(path, sizeof path, "/proc/%d/mem", c);
	errno = 0;
	int zf = open(path, O_RDONLY);
	printf("open a zombie's: %d errno %d\n", zf, errno);
	errno = 0;
	n = pread(cf, buf, 8, at(shared_data));
	printf("read after exit: %zd errno %d\n", n, errno);
	errno = 0;
	n = pwrite(cf, "a", 1, at(shared_data));
	printf("write after exit: %zd errno %d\n", n, errno);
	waitpid(c, 0, 0);
	errno = 0;
	zf = open(path, O_RDONLY);
	printf("open a reaped one's: %d errno %d\n", zf, errno);
	printf("procmem: done\n");
	return 0;
}
