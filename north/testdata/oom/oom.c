// oom: runs a program out of memory one way (argv[1]) and reports how it
// ended: with ENOMEM or ENOSPC (printed, exit 0), or killed by the
// out-of-memory killer (status 137). Linux and Cocoon must both end it
// one of these ways and the kernel must survive (north/oom_vm_test.go).
// Usage: oom MODE [DIR]
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#define MB (1L << 20)

static long ram(void) {
	struct sysinfo si;
	sysinfo(&si);
	return (long)si.totalram * si.mem_unit;
}

// anon touches anonymous memory 1 MiB at a time until the kernel kills it.
static int anon(void) {
	for (long n = 0;; n++) {
		char *p = mmap(NULL, MB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			printf("anon: mmap: %s\n", strerror(errno));
			return 0;
		}
		memset(p, 1, MB);
	}
}

// bigmap asks for more writable memory than there is RAM in one mapping.
static int bigmap(void) {
	void *p = mmap(NULL, 2 * ram(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf("bigmap: %s\n", p == MAP_FAILED ? strerror(errno) : "mapped");
	void *q = mmap(NULL, 2 * ram(), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf("bigmap PROT_NONE reservation: %s\n", q == MAP_FAILED ? strerror(errno) : "mapped");
	return 0;
}

// overcommit prints the policy (/proc/sys/vm/overcommit_memory), maps
// twice the RAM writable in one mapping, which only policy 1 accepts,
// then touches it page by page until the kernel kills the program.
static int overcommit(void) {
	char policy[8] = "?";
	int fd = open("/proc/sys/vm/overcommit_memory", O_RDONLY);
	if (fd >= 0) {
		ssize_t n = read(fd, policy, sizeof policy - 1);
		policy[n > 0 ? n - 1 : 0] = 0;
		close(fd);
	}
	printf("overcommit: policy %s\n", policy);
	long size = 2 * ram();
	char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		printf("overcommit: mmap: %s\n", strerror(errno));
		return 0;
	}
	printf("overcommit: mapped\n");
	for (long off = 0; off < size; off += 4096)
		p[off] = 1;
	printf("overcommit: all touched\n");
	return 0;
}

// tmpfs fills a file in DIR until the file system is full.
static int tmpfs(const char *dir) {
	char path[512], buf[1 << 16];
	memset(buf, 7, sizeof buf);
	snprintf(path, sizeof path, "%s/oom.fill", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	for (;;) {
		ssize_t n = write(fd, buf, sizeof buf);
		if (n < 0) {
			printf("tmpfs: write: %s\n", strerror(errno));
			break;
		}
	}
	// The kernel still serves a program that freed what it took.
	unlink(path);
	close(fd);
	char *p = malloc(8 * MB);
	memset(p, 1, 8 * MB);
	printf("tmpfs: recovered\n");
	return 0;
}

// falloc asks fallocate for a terabyte of a file in DIR: the file system
// is full first, and the call gives back what it took. Cocoon's undo was
// quadratic in the pages it had taken (the kernel stuck in the call for
// hours under TCG; the in-guest fuzzer's seed 1099).
static int falloc(const char *dir) {
	char path[512], kept[5] = {0};
	snprintf(path, sizeof path, "%s/oom.falloc", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, "kept", 4) != 4) {
		printf("fallocate: open or write: %s\n", strerror(errno));
		return 1;
	}
	if (fallocate(fd, 0, 0, 1L << 40) == 0) {
		printf("fallocate: a terabyte allocated\n");
		return 1;
	}
	printf("fallocate: %s\n", strerror(errno));
	pread(fd, kept, 4, 0);
	printf("fallocate: file %s, size %ld\n", kept, (long)lseek(fd, 0, SEEK_END));
	// What the call took is free again.
	if (fallocate(fd, 0, 0, 8 * MB) != 0) {
		printf("fallocate: 8 MiB after the failed call: %s\n", strerror(errno));
		return 1;
	}
	printf("fallocate: room after the failed call\n");
	return 0;
}

// files makes empty files in DIR until the file system has no inode left.
static int files(const char *dir) {
	char path[512];
	long n;
	for (n = 0;; n++) {
		snprintf(path, sizeof path, "%s/f%ld", dir, n);
		int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
		if (fd < 0) {
			printf("files: open: %s\n", strerror(errno));
			break;
		}
		close(fd);
	}
	while (n-- > 0) {
		snprintf(path, sizeof path, "%s/f%ld", dir, n);
		unlink(path);
	}
	int fd = open(path, O_RDWR | O_CREAT, 0600);
	printf("files: %s after unlinking\n", fd < 0 ? strerror(errno) : "room");
	return 0;
}

static void onbus(int s) {
	(void)s;
	static const char msg[] = "filemap: SIGBUS: file system full\n";
	write(1, msg, sizeof msg - 1);
	_exit(0);
}

// filemap grows a shared file mapping in DIR page by page.
static int filemap(const char *dir) {
	char path[512];
	snprintf(path, sizeof path, "%s/oom.map", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	long size = 2 * ram();
	if (ftruncate(fd, size) < 0) {
		printf("filemap: ftruncate: %s\n", strerror(errno));
		return 0;
	}
	char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		printf("filemap: mmap: %s\n", strerror(errno));
		return 0;
	}
	signal(SIGBUS, onbus);
	for (long off = 0; off < size; off += 4096)
		p[off] = 1;
	printf("filemap: all touched\n");
	return 0;
}

static void *hog(void *arg) {
	(void)arg;
	for (;;) {
		char *p = malloc(MB);
		if (!p)
			return NULL;
		memset(p, 1, MB);
	}
}

// threads starts threads that each eat memory.
static int threads(void) {
	for (int i = 0; i < 100000; i++) {
		pthread_t t;
		int e = pthread_create(&t, NULL, hog, NULL);
		if (e) {
			printf("threads: pthread_create: %s\n", strerror(e));
			for (;;)
				pause();
		}
	}
	return 0;
}

// rlimit caps the address space and the data segment.
static int rlimit(void) {
	struct rlimit r = {64 * MB, 64 * MB};
	setrlimit(RLIMIT_AS, &r);
	void *p = mmap(NULL, 128 * MB, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf("rlimit AS: %s\n", p == MAP_FAILED ? strerror(errno) : "mapped");
	r.rlim_cur = r.rlim_max = RLIM_INFINITY;
	setrlimit(RLIMIT_AS, &r);
	r.rlim_cur = r.rlim_max = 16 * MB;
	setrlimit(RLIMIT_DATA, &r);
	p = mmap(NULL, 32 * MB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf("rlimit DATA: %s\n", p == MAP_FAILED ? strerror(errno) : "mapped");
	p = mmap(NULL, 32 * MB, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf("rlimit DATA, read-only: %s\n", p == MAP_FAILED ? strerror(errno) : "mapped");
	void *b = sbrk(0);
	printf("rlimit DATA, brk: %s\n", brk((char *)b + 32 * MB) ? strerror(errno) : "moved");
	return 0;
}

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IONBF, 0);
	const char *mode = argc > 1 ? argv[1] : "";
	const char *dir = argc > 2 ? argv[2] : "/tmp";
	if (!strcmp(mode, "anon"))
		return anon();
	if (!strcmp(mode, "bigmap"))
		return bigmap();
	if (!strcmp(mode, "overcommit"))
		return overcommit();
	if (!strcmp(mode, "tmpfs"))
		return tmpfs(dir);
	if (!strcmp(mode, "files"))
		return files(dir);
	if (!strcmp(mode, "fallocate"))
		return falloc(dir);
	if (!strcmp(mode, "filemap"))
		return filemap(dir);
	if (!strcmp(mode, "threads"))
		return threads();
	if (!strcmp(mode, "rlimit"))
		return rlimit();
	fprintf(stderr, "usage: oom anon|bigmap|overcommit|tmpfs|files|fallocate|filemap|threads|rlimit [DIR]\n");
	return 2;
}
