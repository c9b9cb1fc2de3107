// pvm: process_vm_readv and process_vm_writev between processes (and
// within one), their errors and partial transfers; kcmp. Every result
// printed, for comparison with Linux's.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define R(x)                                                                               \
	do {                                                                               \
		errno = 0;                                                                 \
		long r_ = (long)(x);                                                       \
		printf("%-64s = %ld %s\n", #x, r_, r_ < 0 ? strerrorname_np(errno) : ""); \
		fflush(stdout);                                                            \
	} while (0)

static char data[64] = "the parent's data";
static int pipes[2], back[2];

int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	long pg = sysconf(_SC_PAGESIZE);
	// Two pages: readable and writable, then PROT_NONE.
	char *area = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(area, 'A', pg);
	mprotect(area + pg, pg, PROT_NONE);
	char *ro = mmap(NULL, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pipe(pipes);
	pipe(back);
	pid_t c = fork();
	if (c == 0) {
		strcpy(data, "the child's data");
		memset(area, 'C', pg);
		write(back[1], "r", 1);
		char b;
		read(pipes[0], &b, 1); // the parent wrote into us
		printf("child: data now '%s', area[0] %c\n", data, area[0]);
		fflush(stdout);
		_exit(0);
	}
	char b;
	read(back[0], &b, 1);
	char buf[64] = {0};
	struct iovec local = {buf, sizeof buf}, remote = {data, sizeof data};
	R(process_vm_readv(c, &local, 1, &remote, 1, 0));
	printf("read from the child: '%s'\n", buf);
	R(process_vm_readv(getpid(), &local, 1, &remote, 1, 0));
	printf("read from myself: '%s'\n", buf);
	// Scatter and gather: two local pieces, three remote ones.
	char p1[5] = {0}, p2[8] = {0};
	struct iovec l2[2] = {{p1, 4}, {p2, 7}};
	struct iovec r3[3] = {{data + 4, 5}, {data, 3}, {area, 3}};
	R(process_vm_readv(c, l2, 2, r3, 3, 0));
	printf("pieces '%s' '%s'\n", p1, p2);
	// Into the PROT_NONE page: the readable part only.
	char big[2 * 4096];
	struct iovec lb = {big, sizeof big}, rb = {area + pg - 100, 200};
	R(process_vm_readv(c, &lb, 1, &rb, 1, 0));
	struct iovec rn = {area + pg, 10};
	R(process_vm_readv(c, &lb, 1, &rn, 1, 0));
	struct iovec rn2[2] = {{area, 10}, {area + pg, 10}};
	R(process_vm_readv(c, &lb, 1, rn2, 2, 0));
	struct iovec r0 = {NULL, 0};
	R(process_vm_readv(c, &lb, 1, &r0, 1, 0));
	R(process_vm_readv(c, &lb, 0, &remote, 1, 0));
	struct iovec lbad = {(void *)8, 10};
	R(process_vm_readv(c, &lbad, 1, &remote, 1, 0));
	R(process_vm_readv(c, &local, 1, (struct iovec *)8, 1, 0));
	R(process_vm_readv(c, (struct iovec *)8, 1, &remote, 1, 0));
	R(process_vm_readv(c, &local, 1, &remote, 1, 1));
	R(process_vm_readv(c, &local, 1025, &remote, 1, 0));
	R(process_vm_readv(c, &local, 1, &remote, 1025, 0));
	R(process_vm_readv(999999, &local, 1, &remote, 1, 0));
	R(process_vm_readv(-1, &local, 1, &remote, 1, 0));
	struct iovec huge = {buf, (size_t)1 << 62};
	R(process_vm_readv(c, &huge, 1, &remote, 1, 0));

	// Writes: into the child's data; not into a read-only page.
	strcpy(buf, "written by the parent");
	struct iovec lw = {buf, strlen(buf) + 1};
	R(process_vm_writev(c, &lw, 1, &remote, 1, 0));
	struct iovec rro = {ro, 10};
	R(process_vm_writev(c, &lw, 1, &rro, 1, 0));
	struct iovec rw2[2] = {{area, 2}, {ro, 2}};
	char xy[4] = "XYZW";
	struct iovec lxy = {xy, 4};
	R(process_vm_writev(c, &lxy, 1, rw2, 2, 0));
	R(process_vm_writev(c, &lw, 1, &remote, 1, 4));

	// kcmp: the same and different resources of two processes.
	int fd = open("/proc/self/exe", O_RDONLY), fd2 = dup(fd), other = open("/proc/self/exe", O_RDONLY);
	pid_t me = getpid();
	R(syscall(SYS_kcmp, me, me, KCMP_FILE, fd, fd2));
	R(syscall(SYS_kcmp, me, me, KCMP_FILE, fd, other) != 0);
	R(syscall(SYS_kcmp, me, c, KCMP_FILE, pipes[1], pipes[1]));
	R(syscall(SYS_kcmp, me, me, KCMP_FILE, fd, 999));
	R(syscall(SYS_kcmp, me, me, KCMP_VM, 0, 0));
	R(syscall(SYS_kcmp, me, c, KCMP_VM, 0, 0) != 0);
	R(syscall(SYS_kcmp, me, c, KCMP_FILES, 0, 0) != 0);
	R(syscall(SYS_kcmp, me, c, KCMP_FS, 0, 0) != 0);
	R(syscall(SYS_kcmp, me, c, KCMP_SIGHAND, 0, 0) != 0);
	R(syscall(SYS_kcmp, me, c, KCMP_IO, 0, 0) != 0);
	R(syscall(SYS_kcmp, me, c, KCMP_SYSVSEM, 0, 0));
	R(syscall(SYS_kcmp, me, me, KCMP_FILES, 0, 0));
	R(syscall(SYS_kcmp, me, me, 99, 0, 0));
	R(syscall(SYS_kcmp, me, 999999, KCMP_VM, 0, 0));
	struct kcmp_epoll_slot slot = {0, 0, 0};
	R(syscall(SYS_kcmp, me, me, KCMP_EPOLL_TFD, fd, &slot));

	write(pipes[1], "w", 1);
	waitpid(c, NULL, 0);

	// Another user may not look into our memory.
	pid_t d = fork();
	if (d == 0) {
		setresuid(1000, 1000, 1000);
		R(process_vm_readv(getppid(), &local, 1, &remote, 1, 0));
		R(syscall(SYS_kcmp, getpid(), getppid(), KCMP_VM, 0, 0));
		fflush(stdout);
		_exit(0);
	}
	waitpid(d, NULL, 0);
	printf("pvm: done\n");
	return 0;
}
