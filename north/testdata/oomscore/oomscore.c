// oomscore: /proc/PID/oom_score_adj, oom_adj and oom_score as Linux
// (fs/proc/base.c): what writes are taken and refused, the legacy
// oom_adj's scaling both ways, inheritance by fork, the floor an
// unprivileged process may not go below, and oom_score's order (no
// figures: they depend on the machine's memory). Compared with Linux: the
// program first gives up CAP_SYS_RESOURCE (which a container's root may
// lack), and assumes it starts at oom_score_adj 0 with a floor of 0 (no
// privileged ancestor set a lower one).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *en(int e) {
	switch (e) {
	case 0: return "ok";
	case EINVAL: return "EINVAL";
	case ERANGE: return "ERANGE";
	case EACCES: return "EACCES";
	case EPERM: return "EPERM";
	case ESRCH: return "ESRCH";
	}
	static char b[16];
	snprintf(b, sizeof b, "errno %d", e);
	return b;
}

static long readnum(const char *path) {
	char buf[32] = {0};
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -99999;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0 || buf[n - 1] != '\n')
		return -99998;
	return strtol(buf, 0, 10);
}

// put writes s to path and prints what the write returned.
static void put(const char *path, const char *s, size_t len) {
	int fd = open(path, O_WRONLY);
	if (fd < 0) {
		printf("open %s: %s\n", path, en(errno));
		return;
	}
	errno = 0;
	ssize_t n = write(fd, s, len);
	int e = errno;
	close(fd);
	printf("write %s \"%.*s\" (%zu): %zd %s -> adj %ld oom_adj %ld\n", strrchr(path, '/') + 1, (int)strcspn(s, "\n"), s, len, n, n < 0 ? en(e) : "",
	       readnum("/proc/self/oom_score_adj"), readnum("/proc/self/oom_adj"));
}

static void puts_(const char *path, const char *s) { put(path, s, strlen(s)); }

// dropResource gives up CAP_SYS_RESOURCE (effective and permitted).
static void dropResource(void) {
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) != 0) {
		printf("capget: %s\n", en(errno));
		return;
	}
	d[0].effective &= ~(1u << CAP_SYS_RESOURCE);
	d[0].permitted &= ~(1u << CAP_SYS_RESOURCE);
	if (syscall(SYS_capset, &h, d) != 0)
		printf("capset: %s\n", en(errno));
}

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	dropResource();
	const char *sa = "/proc/self/oom_score_adj", *oa = "/proc/self/oom_adj";
	printf("start: adj %ld oom_adj %ld\n", readnum(sa), readnum(oa));
	const char *adjs[] = {"500", "500\n", " 12 \n", "+7", "0x10", "010", "-1000", "-1", "1000", "1001", "-1001", "abc", "", "\n",
			      "12abc", "1_0", "08", "0x", "99999999999", "2147483648", "-2147483648", "--5", "+-5", "0"};
	for (size_t i = 0; i < sizeof adjs / sizeof *adjs; i++)
		puts_(sa, adjs[i]);
	put(sa, "3\0" "99", 4);
	puts_(sa, "0000000000000005");
	const char *legacy[] = {"15", "-17", "-16", "3", "-3", "16", "-18", "14", "0"};
	for (size_t i = 0; i < sizeof legacy / sizeof *legacy; i++)
		puts_(oa, legacy[i]);
	const char *back[] = {"999", "941", "940", "59", "58", "-58", "-59", "-999", "0"};
	for (size_t i = 0; i < sizeof back / sizeof *back; i++)
		puts_(sa, back[i]);

	// oom_score: ordered by oom_score_adj.
	long s[3];
	const char *order[] = {"0", "500", "1000"};
	for (int i = 0; i < 3; i++) {
		int fd = open(sa, O_WRONLY);
		write(fd, order[i], strlen(order[i]));
		close(fd);
		s[i] = readnum("/proc/self/oom_score");
	}
	printf("oom_score: 0 < 500 %d, 500 < 1000 %d, at 0 in [600,800] %d, at 1000 in [1200,1400] %d\n",
	       s[0] < s[1], s[1] < s[2], s[0] >= 600 && s[0] <= 800, s[2] >= 1200 && s[2] <= 1400);

	// An open file reads the value at each read.
	int keep = open(sa, O_RDWR);
	puts_(sa, "300");
	char buf[16] = {0};
	pread(keep, buf, sizeof buf - 1, 0);
	printf("pread of a file opened before: %s", buf);
	errno = 0;
	ssize_t n = pwrite(keep, "301", 3, 0);
	printf("pwrite: %zd %s, now %ld\n", n, n < 0 ? en(errno) : "", readnum(sa));
	close(keep);

	// Inherited by fork; the child's own writes are its own.
	puts_(sa, "200");
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		printf("child: adj %ld\n", readnum(sa));
		int fd = open(sa, O_WRONLY);
		write(fd, "300", 3);
		close(fd);
		printf("child: set 300, adj %ld\n", readnum(sa));
		_exit(0);
	}
	waitpid(c, 0, 0);
	printf("parent after the child: adj %ld\n", readnum(sa));

	// Written through another process's file, and read there.
	int p[2];
	pipe(p);
	c = fork();
	if (c == 0) {
		char x;
		read(p[0], &x, 1);
		printf("child sees the parent's write: adj %ld\n", readnum(sa));
		_exit(0);
	}
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/oom_score_adj", c);
	int fd = open(path, O_WRONLY);
	printf("write the child's: %zd\n", write(fd, "123", 3));
	close(fd);
	snprintf(path, sizeof path, "/proc/%d/task/%d/oom_score_adj", c, c);
	printf("the child's through task/: %ld\n", readnum(path));
	write(p[1], "x", 1);
	waitpid(c, 0, 0);

	// Another user: down to the floor, and oom_adj not below the value.
	puts_(sa, "100");
	fflush(stdout);
	c = fork();
	if (c == 0) {
		if (setresuid(1000, 1000, 1000) != 0) {
			printf("setresuid: %s\n", en(errno));
			_exit(1);
		}
		prctl(PR_SET_DUMPABLE, 1);
		puts_(sa, "50");
		puts_(sa, "0");
		puts_(sa, "-1");
		puts_(sa, "200");
		puts_(oa, "1");
		puts_(oa, "3");
		puts_(oa, "4");
		puts_(oa, "-17");
		puts_(sa, "0");
		_exit(0);
	}
	waitpid(c, 0, 0);
	printf("oomscore: done\n");
	return 0;
}
