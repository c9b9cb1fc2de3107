// xattrat: setxattrat, getxattrat, listxattrat and removexattrat (Linux
// 6.13): a path relative to a directory descriptor, AT_SYMLINK_NOFOLLOW,
// AT_EMPTY_PATH on a descriptor (O_PATH too), struct xattr_args and its
// size, and the errors; every result printed, for comparison with
// Linux's. Run with a scratch directory on tmpfs as argument.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#define R(x)                                                                               \
	do {                                                                               \
		errno = 0;                                                                 \
		long r_ = (long)(x);                                                       \
		printf("%-64s = %ld %s\n", #x, r_, r_ < 0 ? strerrorname_np(errno) : ""); \
		fflush(stdout);                                                            \
	} while (0)

struct xattr_args {
	uint64_t value;
	uint32_t size, flags;
};

static char buf[256];
static struct xattr_args args;
static long setat(int dfd, const char *path, unsigned at, const char *name, const char *v, unsigned flags) {
	args = (struct xattr_args){(uintptr_t)v, v ? (uint32_t)strlen(v) : 0, flags};
	return syscall(463, dfd, path, at, name, &args, sizeof args);
}
static long getat(int dfd, const char *path, unsigned at, const char *name, unsigned size) {
	memset(buf, 0, sizeof buf);
	args = (struct xattr_args){(uintptr_t)buf, size, 0};
	long r = syscall(464, dfd, path, at, name, &args, sizeof args);
	if (r > 0 && size)
		printf("  value '%.*s'\n", (int)r, buf);
	return r;
}
static long listat(int dfd, const char *path, unsigned at, size_t size) {
	memset(buf, 0, sizeof buf);
	long r = syscall(465, dfd, path, at, buf, size);
	if (r > 0 && size) {
		printf("  names:");
		for (long i = 0; i < r; i += strlen(buf + i) + 1)
			printf(" %s", buf + i);
		printf("\n");
	}
	return r;
}
static long removeat(int dfd, const char *path, unsigned at, const char *name) { return syscall(466, dfd, path, at, name); }

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	const char *top = argc > 1 ? argv[1] : "/tmp";
	char dir[512];
	snprintf(dir, sizeof dir, "%s/xattrat", top);
	mkdir(dir, 0755);
	int d = open(dir, O_RDONLY | O_DIRECTORY);
	int f = openat(d, "file", O_RDWR | O_CREAT, 0644);
	symlinkat("file", d, "link");
	R(setat(d, "file", 0, "user.a", "alpha", 0));
	R(setat(d, "link", 0, "user.b", "beta", 0));
	R(setat(d, "link", AT_SYMLINK_NOFOLLOW, "user.c", "gamma", 0));
	R(setat(f, "", AT_EMPTY_PATH, "user.d", "delta", 0));
	R(setat(f, NULL, AT_EMPTY_PATH, "user.e", "eps", XATTR_CREATE));
	R(setat(d, "file", 0, "user.e", "again", XATTR_CREATE));
	R(setat(d, "file", 0, "user.zz", "none", XATTR_REPLACE));
	R(setat(d, "file", 0, "user.a", "x", 4));
	R(setat(d, "file", 0x200, "user.a", "x", 0));
	R(setat(d, "", 0, "user.a", "x", 0));
	R(setat(d, NULL, 0, "user.a", "x", 0));
	R(setat(d, "missing", 0, "user.a", "x", 0));
	R(setat(-1, "file", 0, "user.a", "x", 0));
	R(setat(f, "file", 0, "user.a", "x", 0));
	R(setat(d, "file", 0, "", "x", 0));
	args = (struct xattr_args){8, 4, 0};
	R(syscall(463, d, "file", 0, "user.a", &args, sizeof args));
	args = (struct xattr_args){(uintptr_t) "v", 1, 0};
	R(syscall(463, d, "file", 0, "user.s", &args, 8));
	R(syscall(463, d, "file", 0, "user.s", &args, 8192));
	R(syscall(463, d, "file", 0, "user.s", (void *)8, 16));
	struct {
		struct xattr_args a;
		uint64_t tail;
	} big = {{(uintptr_t) "v", 1, 0}, 0};
	R(syscall(463, d, "file", 0, "user.s", &big, sizeof big));
	big.tail = 1;
	R(syscall(463, d, "file", 0, "user.s", &big, sizeof big));
	args = (struct xattr_args){(uintptr_t) "v", 70000, 0};
	R(syscall(463, d, "file", 0, "user.s", &args, sizeof args));

	R(getat(d, "file", 0, "user.a", 100));
	R(getat(d, "link", 0, "user.b", 100));
	R(getat(d, "link", AT_SYMLINK_NOFOLLOW, "user.b", 100));
	R(getat(f, "", AT_EMPTY_PATH, "user.d", 100));
	R(getat(f, "", AT_EMPTY_PATH, "user.d", 0));
	R(getat(f, "", AT_EMPTY_PATH, "user.d", 2));
	R(getat(d, "file", 0, "user.none", 100));
	args = (struct xattr_args){(uintptr_t)buf, 100, 1};
	R(syscall(464, d, "file", 0, "user.a", &args, sizeof args));
	R(syscall(464, d, "file", 0, "user.a", &args, 4));
	int p = openat(d, "file", O_PATH);
	R(getat(p, "", AT_EMPTY_PATH, "user.a", 100));
	R(setat(p, "", AT_EMPTY_PATH, "user.p", "path", 0));
	R(listat(p, "", AT_EMPTY_PATH, 100));
	R(removeat(p, "", AT_EMPTY_PATH, "user.p"));
	R(getat(d, "", AT_EMPTY_PATH, "user.a", 100));
	R(getat(-1, "", AT_EMPTY_PATH, "user.a", 100));

	R(listat(d, "file", 0, 100));
	R(listat(d, "file", 0, 0));
	R(listat(d, "file", 0, 3));
	R(listat(f, NULL, AT_EMPTY_PATH, 100));
	R(listat(d, "link", AT_SYMLINK_NOFOLLOW, 100));
	R(listat(d, "file", 0x8000, 100));
	R(syscall(465, d, "file", 0, (void *)8, 100));

	R(removeat(d, "file", 0, "user.a"));
	R(removeat(d, "file", 0, "user.a"));
	R(removeat(f, "", AT_EMPTY_PATH, "user.d"));
	R(removeat(d, "link", AT_SYMLINK_NOFOLLOW, "user.c"));
	R(removeat(d, "file", 0x400, "user.b"));
	R(listat(d, "file", 0, 100));
	unlinkat(d, "link", 0);
	unlinkat(d, "file", 0);
	rmdir(dir);
	printf("xattrat: done\n");
	return 0;
}
