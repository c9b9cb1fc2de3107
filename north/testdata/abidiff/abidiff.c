// abidiff: the long tail of the Linux ABI — extended attributes, openat2,
// memfd seals, mremap with old_len 0, real-time signal queueing, F_SETOWN
// and SIGIO, /proc/self, unshare, AF_UNIX control messages and SO_PEERCRED,
// and the credential model — built with gcc -static and run natively and
// inside Cocoon (north/abi_vm_test.go): both runs must print the same lines. It prints outcomes (results, errors,
// values), never addresses, times or host-dependent numbers. It must run
// as root (it drops privileges at the end). Usage: abidiff DIR
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/falloc.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <grp.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#define PG 4096
// include/uapi/linux/memfd.h, for C libraries older than Linux 6.3.
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#define MFD_EXEC 0x0010U
#endif

static const char *res(long r) {
	static char buf[64];
	if (r >= 0) {
		snprintf(buf, sizeof buf, "%ld", r);
		return buf;
	}
	switch (errno) {
#define E(x) \
	case x: \
		return #x;
		E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EBADF) E(EAGAIN) E(ENOMEM) E(EACCES) E(EFAULT)
		E(EBUSY) E(EEXIST) E(EXDEV) E(ENOTDIR) E(EISDIR) E(EINVAL) E(ENOSPC) E(ERANGE)
		E(ELOOP) E(ENODATA) E(E2BIG) E(EOPNOTSUPP) E(ENOSYS) E(ENXIO) E(ETXTBSY)
#undef E
	}
	snprintf(buf, sizeof buf, "errno %d", errno);
	return buf;
}

// show prints what a call returned: its result or its error's name.
static void show(const char *what, long r) { printf("%s: %s\n", what, res(r)); }

static char dir[512];
static const char *argv0;
static char *at(const char *name) {
	static char buf[4][600];
	static int i;
	i = (i + 1) % 4;
	snprintf(buf[i], sizeof buf[i], "%s/%s", dir, name);
	return buf[i];
}

// listing prints a listxattr result: the names, NUL-separated.
static void listing(const char *what, const char *list, long n) {
	printf("%s:", what);
	if (n < 0) {
		printf(" %s\n", res(n));
		return;
	}
	for (long i = 0; i < n; i += strlen(list + i) + 1)
		printf(" [%s]", list + i);
	printf("\n");
}

static void xattrs(void) {
	char buf[256], list[512];
	const char *f = at("xfile");
	close(open(f, O_CREAT | O_RDWR | O_TRUNC, 0644));
	show("setxattr user.a", setxattr(f, "user.a", "hello", 5, 0));
	show("getxattr size 0", getxattr(f, "user.a", NULL, 0));
	show("getxattr small buffer", getxattr(f, "user.a", buf, 3));
	memset(buf, 0, sizeof buf);
	show("getxattr", getxattr(f, "user.a", buf, sizeof buf));
	printf("value: %s\n", buf);
	show("setxattr XATTR_CREATE existing", setxattr(f, "user.a", "x", 1, XATTR_CREATE));
	show("setxattr XATTR_REPLACE missing", setxattr(f, "user.b", "x", 1, XATTR_REPLACE));
	show("setxattr XATTR_REPLACE existing", setxattr(f, "user.a", "bye", 3, XATTR_REPLACE));
	memset(buf, 0, sizeof buf);
	show("getxattr replaced", getxattr(f, "user.a", buf, sizeof buf));
	printf("value: %s\n", buf);
	show("setxattr XATTR_CREATE new", setxattr(f, "user.c", "", 0, XATTR_CREATE));
	show("getxattr empty value", getxattr(f, "user.c", buf, sizeof buf));
	show("setxattr both flags, existing", setxattr(f, "user.c", "x", 1, XATTR_CREATE | XATTR_REPLACE));
	show("setxattr bad flags", setxattr(f, "user.a", "x", 1, 4));
	show("setxattr trusted as root", setxattr(f, "trusted.t", "tv", 2, 0));
	show("listxattr size 0", listxattr(f, NULL, 0));
	show("listxattr small buffer", listxattr(f, list, 4));
	listing("listxattr", list, listxattr(f, list, sizeof list));
	show("getxattr missing", getxattr(f, "user.zz", buf, sizeof buf));
	show("removexattr missing", removexattr(f, "user.zz"));
	show("removexattr", removexattr(f, "user.c"));
	show("getxattr removed", getxattr(f, "user.c", buf, sizeof buf));
	static char big[65537];
	show("setxattr 64 KiB + 1", setxattr(f, "user.big", big, sizeof big, 0));
	show("setxattr 64 KiB", setxattr(f, "user.big", big, 65536, 0));
	show("getxattr 64 KiB", getxattr(f, "user.big", big, 65536));
	show("removexattr 64 KiB", removexattr(f, "user.big"));
	show("setxattr empty name", setxattr(f, "", "x", 1, 0));
	char longname[300];
	memset(longname, 'n', sizeof longname);
	memcpy(longname, "user.", 5);
	longname[256] = 0;
	show("setxattr 256-byte name", setxattr(f, longname, "x", 1, 0));
	longname[255] = 0;
	show("setxattr 255-byte name", setxattr(f, longname, "x", 1, 0));
	show("removexattr 255-byte name", removexattr(f, longname));
	show("setxattr unknown namespace", setxattr(f, "foo.bar", "x", 1, 0));
	show("getxattr unknown namespace", getxattr(f, "foo.bar", buf, sizeof buf));
	show("setxattr bare prefix", setxattr(f, "user.", "x", 1, 0));
	show("setxattr missing file", setxattr(at("nofile"), "user.a", "x", 1, 0));
	show("getxattr bad name pointer", getxattr(f, (char *)8, buf, sizeof buf));

	// Through a descriptor, a directory, a symbolic link and a pipe.
	int fd = open(f, O_RDONLY);
	show("fsetxattr on a read-only descriptor", fsetxattr(fd, "user.fd", "1", 1, 0));
	show("fgetxattr", fgetxattr(fd, "user.fd", buf, sizeof buf));
	listing("flistxattr", list, flistxattr(fd, list, sizeof list));
	show("fremovexattr", fremovexattr(fd, "user.fd"));
	close(fd);
	show("fgetxattr closed descriptor", fgetxattr(fd, "user.a", buf, sizeof buf));
	int pfd = open(f, O_PATH);
	show("fgetxattr O_PATH descriptor", fgetxattr(pfd, "user.a", buf, sizeof buf));
	close(pfd);
	mkdir(at("xdir"), 0755);
	show("setxattr on a directory", setxattr(at("xdir"), "user.d", "dv", 2, 0));
	show("getxattr on a directory", getxattr(at("xdir"), "user.d", buf, sizeof buf));
	symlink("xfile", at("xlink"));
	show("getxattr through a symlink", getxattr(at("xlink"), "user.a", buf, sizeof buf));
	show("lgetxattr user.* on a symlink", lgetxattr(at("xlink"), "user.a", buf, sizeof buf));
	show("lsetxattr user.* on a symlink", lsetxattr(at("xlink"), "user.a", "x", 1, 0));
	show("lsetxattr trusted.* on a symlink", lsetxattr(at("xlink"), "trusted.l", "x", 1, 0));
	listing("llistxattr", list, llistxattr(at("xlink"), list, sizeof list));
	int p[2];
	pipe(p);
	show("fsetxattr user.* on a pipe", fsetxattr(p[0], "user.p", "x", 1, 0));
	show("fgetxattr user.* on a pipe", fgetxattr(p[0], "user.p", buf, sizeof buf));
	show("fgetxattr trusted.* on a pipe", fgetxattr(p[0], "trusted.p", buf, sizeof buf));
	show("fsetxattr trusted.* on a pipe", fsetxattr(p[0], "trusted.p", "x", 1, 0));
	show("flistxattr on a pipe", flistxattr(p[0], list, sizeof list));
	close(p[0]);
	close(p[1]);
	int mfd = memfd_create("x", 0);
	show("fsetxattr on a memfd", fsetxattr(mfd, "user.m", "mv", 2, 0));
	show("fgetxattr on a memfd", fgetxattr(mfd, "user.m", buf, sizeof buf));
	close(mfd);
	// Attributes follow the inode: a hard link sees them, rename keeps them.
	link(f, at("xhard"));
	show("getxattr through a hard link", getxattr(at("xhard"), "user.a", buf, sizeof buf));
	rename(at("xhard"), at("xmoved"));
	show("getxattr after rename", getxattr(at("xmoved"), "user.a", buf, sizeof buf));
}

static long openat2_(int dfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve) {
	struct open_how how = {.flags = flags, .mode = mode, .resolve = resolve};
	long fd = syscall(SYS_openat2, dfd, path, &how, sizeof how);
	if (fd >= 0)
		close(fd);
	return fd;
}

static void openat2s(void) {
	mkdir(at("o"), 0755);
	mkdir(at("o/sub"), 0755);
	close(open(at("o/file"), O_CREAT | O_RDWR, 0644));
	symlink("sub", at("o/rel"));
	symlink("/", at("o/abs"));
	symlink("/file", at("o/absfile"));
	symlink("../file", at("o/sub/up"));
	symlink("../../..", at("o/sub/escape"));
	int d = open(at("o"), O_PATH | O_DIRECTORY);

	// struct open_how's size and the flags' rules.
	struct {
		struct open_how how;
		uint64_t extra;
	} big = {{.flags = O_RDONLY}, 0};
	show("openat2 size 24", syscall(SYS_openat2, d, "file", &big, 24) >= 0);
	show("openat2 size 23", syscall(SYS_openat2, d, "file", &big, 23));
	show("openat2 size 32, zero tail", syscall(SYS_openat2, d, "file", &big, 32) >= 0);
	big.extra = 1;
	show("openat2 size 32, nonzero tail", syscall(SYS_openat2, d, "file", &big, 32));
	static char page[PG + 8];
	show("openat2 size > page", syscall(SYS_openat2, d, "file", page, PG + 1));
	show("openat2 bad how pointer", syscall(SYS_openat2, d, "file", (void *)8, 24));
	show("openat2 unknown flag bit", openat2_(d, "file", 1ULL << 40, 0, 0));
	show("openat2 unknown resolve bit", openat2_(d, "file", O_RDONLY, 0, 0x1000));
	show("openat2 BENEATH|IN_ROOT", openat2_(d, "file", O_RDONLY, 0, RESOLVE_BENEATH | RESOLVE_IN_ROOT));
	show("openat2 mode without O_CREAT", openat2_(d, "file", O_RDONLY, 0644, 0));
	show("openat2 mode beyond 07777", openat2_(d, "new", O_CREAT | O_RDWR, 010644, 0));
	show("openat2 O_CREAT with mode", openat2_(d, "new", O_CREAT | O_RDWR, 0640, 0) >= 0);
	show("openat2 O_PATH|O_RDWR", openat2_(d, "file", O_PATH | O_RDWR, 0, 0));
	show("openat2 O_CREAT|O_DIRECTORY", openat2_(d, "new2", O_CREAT | O_DIRECTORY, 0644, 0));
	show("openat2 RESOLVE_CACHED|O_CREAT", openat2_(d, "new", O_CREAT | O_RDWR, 0644, RESOLVE_CACHED));
	show("openat2 RESOLVE_CACHED", openat2_(d, "file", O_RDONLY, 0, RESOLVE_CACHED) >= 0);
	show("openat2 O_CLOEXEC", openat2_(d, "file", O_RDONLY | O_CLOEXEC, 0, 0) >= 0);

	// RESOLVE_NO_SYMLINKS.
	show("NO_SYMLINKS through a link", openat2_(d, "rel/../file", O_RDONLY, 0, RESOLVE_NO_SYMLINKS));
	show("NO_SYMLINKS final link O_PATH|O_NOFOLLOW", openat2_(d, "rel", O_PATH | O_NOFOLLOW, 0, RESOLVE_NO_SYMLINKS) >= 0);
	show("NO_SYMLINKS plain path", openat2_(d, "sub/../file", O_RDONLY, 0, RESOLVE_NO_SYMLINKS) >= 0);
	// RESOLVE_BENEATH.
	show("BENEATH inside", openat2_(d, "sub/../file", O_RDONLY, 0, RESOLVE_BENEATH) >= 0);
	show("BENEATH relative link inside", openat2_(d, "sub/up", O_RDONLY, 0, RESOLVE_BENEATH) >= 0);
	show("BENEATH ..", openat2_(d, "../o/file", O_RDONLY, 0, RESOLVE_BENEATH));
	show("BENEATH absolute path", openat2_(d, at("o/file"), O_RDONLY, 0, RESOLVE_BENEATH));
	show("BENEATH absolute link", openat2_(d, "abs", O_PATH, 0, RESOLVE_BENEATH));
	show("BENEATH escaping link", openat2_(d, "sub/escape", O_PATH, 0, RESOLVE_BENEATH));
	// RESOLVE_IN_ROOT: / and .. stop at the directory.
	show("IN_ROOT absolute path", openat2_(d, "/file", O_RDONLY, 0, RESOLVE_IN_ROOT) >= 0);
	show("IN_ROOT ../..", openat2_(d, "../../file", O_RDONLY, 0, RESOLVE_IN_ROOT) >= 0);
	show("IN_ROOT absolute link", openat2_(d, "absfile", O_RDONLY, 0, RESOLVE_IN_ROOT) >= 0);
	show("IN_ROOT escaping link then file", openat2_(d, "sub/escape/file", O_RDONLY, 0, RESOLVE_IN_ROOT) >= 0);
	show("IN_ROOT missing", openat2_(d, "/nothere", O_RDONLY, 0, RESOLVE_IN_ROOT));
	show("IN_ROOT O_CREAT absolute", openat2_(d, "/made", O_CREAT | O_RDWR, 0644, RESOLVE_IN_ROOT) >= 0);
	show("IN_ROOT created where", access(at("o/made"), F_OK));
	// RESOLVE_NO_MAGICLINKS and RESOLVE_NO_XDEV.
	char fdpath[64];
	int f = open(at("o/file"), O_RDONLY);
	snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", f);
	show("magic link", openat2_(AT_FDCWD, fdpath, O_RDONLY, 0, 0) >= 0);
	show("NO_MAGICLINKS magic link", openat2_(AT_FDCWD, fdpath, O_RDONLY, 0, RESOLVE_NO_MAGICLINKS));
	show("NO_MAGICLINKS magic link O_PATH|O_NOFOLLOW", openat2_(AT_FDCWD, fdpath, O_PATH | O_NOFOLLOW, 0, RESOLVE_NO_MAGICLINKS) >= 0);
	show("NO_MAGICLINKS plain link", openat2_(d, "rel/../file", O_RDONLY, 0, RESOLVE_NO_MAGICLINKS) >= 0);
	show("NO_SYMLINKS magic link", openat2_(AT_FDCWD, fdpath, O_RDONLY, 0, RESOLVE_NO_SYMLINKS));
	close(f);
	show("NO_XDEV into /proc", openat2_(AT_FDCWD, "/proc/self", O_PATH, 0, RESOLVE_NO_XDEV));
	show("NO_XDEV absolute start", openat2_(AT_FDCWD, "/", O_PATH, 0, RESOLVE_NO_XDEV) >= 0);
	show("NO_XDEV link to another mount", openat2_(d, "abs", O_PATH, 0, RESOLVE_NO_XDEV));
	show("NO_XDEV same mount", openat2_(d, "sub/../file", O_RDONLY, 0, RESOLVE_NO_XDEV) >= 0);
	show("openat2 bad dirfd", openat2_(99, "file", O_RDONLY, 0, RESOLVE_BENEATH));
	show("openat2 dirfd not a directory", openat2_(0, "file", O_RDONLY, 0, RESOLVE_BENEATH));
	show("openat2 empty path", openat2_(d, "", O_RDONLY, 0, RESOLVE_BENEATH));
	close(d);
}

static void mremap0(void) {
	char *a = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	strcpy(a + PG, "shared");
	char *b = mremap(a + PG, 0, PG, MREMAP_MAYMOVE);
	show("mremap old_len 0 of shared anonymous", b != MAP_FAILED);
	if (b != MAP_FAILED) {
		show("duplicate sees the bytes", strcmp(b, "shared"));
		strcpy(b, "dup");
		show("original sees the duplicate's store", strcmp(a + PG, "dup"));
		show("original still mapped", strcmp(a, ""));
		munmap(b, PG);
	}
	show("mremap old_len 0 without MAYMOVE", mremap(a, 0, PG, 0) == MAP_FAILED ? -1 : 0);
	munmap(a, 2 * PG);
	char *pr = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	show("mremap old_len 0 of private", mremap(pr, 0, PG, MREMAP_MAYMOVE) == MAP_FAILED ? -1 : 0);
	munmap(pr, PG);
	int fd = open(at("mr"), O_CREAT | O_RDWR | O_TRUNC, 0644);
	ftruncate(fd, 3 * PG);
	pwrite(fd, "filepage", 8, 2 * PG);
	char *m = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	char *d = mremap(m + 2 * PG, 0, PG, MREMAP_MAYMOVE);
	show("mremap old_len 0 of a shared file mapping", d != MAP_FAILED);
	if (d != MAP_FAILED) {
		show("duplicate maps the same file page", strcmp(d, "filepage"));
		d[0] = 'F';
		char c;
		pread(fd, &c, 1, 2 * PG);
		show("store through duplicate reaches the file", c == 'F');
		munmap(d, PG);
	}
	char *pf = mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 0);
	show("mremap old_len 0 of a private file mapping", mremap(pf, 0, PG, MREMAP_MAYMOVE) == MAP_FAILED ? -1 : 0);
	char *hole = mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(hole, PG);
	show("mremap old_len 0 of unmapped memory", mremap(hole, 0, PG, MREMAP_MAYMOVE) == MAP_FAILED ? -1 : 0);
	munmap(pf, PG);
	munmap(m, 3 * PG);
	close(fd);
}

static void seals(void) {
	int plain = memfd_create("plain", 0);
	show("F_GET_SEALS without MFD_ALLOW_SEALING", fcntl(plain, F_GET_SEALS));
	show("F_ADD_SEALS without MFD_ALLOW_SEALING", fcntl(plain, F_ADD_SEALS, F_SEAL_WRITE));
	close(plain);
	int tf = open(at("sealfile"), O_CREAT | O_RDWR, 0644);
	show("F_GET_SEALS on a tmpfs file", fcntl(tf, F_GET_SEALS));
	show("F_ADD_SEALS on a tmpfs file", fcntl(tf, F_ADD_SEALS, F_SEAL_GROW));
	close(tf);
	int p[2];
	pipe(p);
	show("F_GET_SEALS on a pipe", fcntl(p[0], F_GET_SEALS));
	show("F_ADD_SEALS on a pipe's read end", fcntl(p[0], F_ADD_SEALS, F_SEAL_GROW));
	show("F_ADD_SEALS on a pipe's write end", fcntl(p[1], F_ADD_SEALS, F_SEAL_GROW));
	close(p[0]);
	close(p[1]);

	int fd = memfd_create("sealed", MFD_ALLOW_SEALING);
	show("F_GET_SEALS new", fcntl(fd, F_GET_SEALS));
	show("F_ADD_SEALS unknown bit", fcntl(fd, F_ADD_SEALS, 0x100));
	show("write 3 pages", write(fd, memset(malloc(3 * PG), 'a', 3 * PG), 3 * PG));
	char rofd[64];
	snprintf(rofd, sizeof rofd, "/proc/self/fd/%d", fd);
	int ro = open(rofd, O_RDONLY);
	show("F_ADD_SEALS through a read-only descriptor", fcntl(ro, F_ADD_SEALS, F_SEAL_GROW));
	show("F_GET_SEALS through a read-only descriptor", fcntl(ro, F_GET_SEALS));

	// F_SEAL_SHRINK and F_SEAL_GROW.
	show("F_ADD_SEALS SHRINK", fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK));
	show("ftruncate smaller", ftruncate(fd, PG));
	show("ftruncate larger", ftruncate(fd, 4 * PG));
	show("F_ADD_SEALS GROW", fcntl(fd, F_ADD_SEALS, F_SEAL_GROW));
	show("ftruncate larger, sealed", ftruncate(fd, 5 * PG));
	show("ftruncate same size", ftruncate(fd, 4 * PG));
	show("pwrite inside", pwrite(fd, "in", 2, 10));
	show("pwrite past the end", pwrite(fd, "out", 3, 4 * PG));
	show("pwrite across the end", pwrite(fd, memset(malloc(PG + 100), 'b', PG + 100), PG + 100, 3 * PG - 50));
	show("fallocate growing", fallocate(fd, 0, 0, 8 * PG));
	show("fallocate inside", fallocate(fd, 0, 0, PG));
	show("F_GET_SEALS", fcntl(fd, F_GET_SEALS));

	// F_SEAL_WRITE: refused while a shared writable mapping exists.
	char *w = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	show("F_ADD_SEALS WRITE with a writable shared mapping", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
	char *pv = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	munmap(w, PG);
	show("F_ADD_SEALS WRITE after munmap (a private mapping stays)", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
	pv[0] = 'P'; // copy-on-write: allowed
	char c;
	pread(fd, &c, 1, 0);
	show("private store does not reach the file", c == 'a');
	munmap(pv, PG);
	show("write, sealed", write(fd, "x", 1));
	show("pwrite, sealed", pwrite(fd, "x", 1, 0));
	show("mmap shared writable, sealed", mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED ? -1 : 0);
	char *r = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0);
	show("mmap shared read-only, sealed", r == MAP_FAILED ? -1 : 0);
	show("mprotect it writable", mprotect(r, PG, PROT_READ | PROT_WRITE));
	munmap(r, PG);
	show("fallocate punch hole, sealed", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, PG));
	show("F_ADD_SEALS SEAL", fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL));
	show("F_ADD_SEALS after SEAL", fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE));
	show("F_GET_SEALS final", fcntl(fd, F_GET_SEALS));
	close(ro);
	close(fd);

	// F_SEAL_FUTURE_WRITE: existing writable mappings keep writing.
	fd = memfd_create("future", MFD_ALLOW_SEALING);
	ftruncate(fd, PG);
	w = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	show("F_ADD_SEALS FUTURE_WRITE with a writable mapping", fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE));
	w[0] = 'W';
	pread(fd, &c, 1, 0);
	show("old mapping still writes", c == 'W');
	show("write, future-sealed", write(fd, "x", 1));
	show("new shared writable mapping", mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED ? -1 : 0);
	show("F_ADD_SEALS WRITE with the old mapping", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
	munmap(w, PG);
	show("F_ADD_SEALS WRITE after munmap", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
	close(fd);

	// MFD_NOEXEC_SEAL and F_SEAL_EXEC.
	fd = memfd_create("noexec", MFD_NOEXEC_SEAL);
	show("MFD_NOEXEC_SEAL seals", fcntl(fd, F_GET_SEALS));
	struct stat st;
	fstat(fd, &st);
	show("MFD_NOEXEC_SEAL execute bits", st.st_mode & 0111);
	show("write, exec-sealed", write(fd, "x", 1));
	close(fd);
	show("memfd_create MFD_EXEC|MFD_NOEXEC_SEAL", memfd_create("bad", MFD_EXEC | MFD_NOEXEC_SEAL));
}

static volatile int norder, order[64], values[64], codes[64];
static void rt_handler(int s, siginfo_t *si, void *uc) {
	(void)uc;
	if (norder < 64) {
		order[norder] = s;
		values[norder] = si->si_value.sival_int;
		codes[norder] = si->si_code;
		norder++;
	}
}

static const char *signame(int s) {
	static char buf[32];
	if (s >= SIGRTMIN)
		snprintf(buf, sizeof buf, "SIGRTMIN+%d", s - SIGRTMIN);
	else
		snprintf(buf, sizeof buf, "%s", s == SIGUSR1 ? "SIGUSR1" : s == SIGIO ? "SIGIO" : s == SIGURG ? "SIGURG" : "other");
	return buf;
}

static long queue(int sig, int value) { return sigqueue(getpid(), sig, (union sigval){.sival_int = value}); }

// drain takes every pending signal of set without waiting and prints it.
static void drain(const char *what, sigset_t *set) {
	siginfo_t si;
	struct timespec zero = {0, 0};
	int n;
	printf("%s:", what);
	while ((n = sigtimedwait(set, &si, &zero)) > 0)
		printf(" %s(value %d, code %d, own pid %d, uid %d)", signame(n), si.si_value.sival_int, si.si_code,
		       si.si_pid == getpid(), (int)si.si_uid);
	printf(" then %s\n", res(n));
}

static void rtsignals(void) {
	int r1 = SIGRTMIN + 1, r2 = SIGRTMIN + 2;
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, r1);
	sigaddset(&set, r2);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, &old);
	show("sigqueue r2 1", queue(r2, 1));
	show("sigqueue r1 2", queue(r1, 2));
	show("sigqueue r2 3", queue(r2, 3));
	show("sigqueue r1 4", queue(r1, 4));
	show("sigqueue SIGUSR1 5", queue(SIGUSR1, 5));
	show("sigqueue SIGUSR1 6 (already pending)", queue(SIGUSR1, 6));
	sigset_t pend;
	sigpending(&pend);
	printf("pending: r1 %d r2 %d SIGUSR1 %d\n", sigismember(&pend, r1), sigismember(&pend, r2), sigismember(&pend, SIGUSR1));
	drain("sigtimedwait order", &set);
	sigpending(&pend);
	printf("pending after: r1 %d r2 %d\n", sigismember(&pend, r1), sigismember(&pend, r2));

	// Delivered to handlers: lowest number first, each number in order.
	struct sigaction sa = {0};
	sa.sa_sigaction = rt_handler;
	sa.sa_flags = SA_SIGINFO;
	sigaction(r1, &sa, NULL);
	sigaction(r2, &sa, NULL);
	for (int i = 0; i < 3; i++)
		queue(r2, 10 + i);
	for (int i = 0; i < 2; i++)
		queue(r1, 20 + i);
	norder = 0;
	sigprocmask(SIG_SETMASK, &old, NULL);
	printf("handled %d:", norder);
	for (int i = 0; i < norder; i++)
		printf(" %s=%d(%d)", signame(order[i]), values[i], codes[i]);
	printf("\n");
	// A thread-directed queue (rt_tgsigqueueinfo) and tgkill.
	sigprocmask(SIG_BLOCK, &set, NULL);
	siginfo_t si = {0};
	si.si_signo = r1;
	si.si_code = SI_QUEUE;
	si.si_pid = getpid();
	si.si_uid = getuid();
	si.si_value.sival_int = 30;
	show("rt_tgsigqueueinfo", syscall(SYS_rt_tgsigqueueinfo, getpid(), gettid(), r1, &si));
	si.si_value.sival_int = 31;
	show("rt_tgsigqueueinfo again", syscall(SYS_rt_tgsigqueueinfo, getpid(), gettid(), r1, &si));
	drain("thread-directed", &set);
	// The rules of rt_sigqueueinfo.
	show("rt_sigqueueinfo bad signal", syscall(SYS_rt_sigqueueinfo, getpid(), 65, &si));
	show("rt_sigqueueinfo signal 0", syscall(SYS_rt_sigqueueinfo, getpid(), 0, &si));
	show("rt_sigqueueinfo bad info pointer", syscall(SYS_rt_sigqueueinfo, getpid(), r1, (void *)8));
	show("rt_sigqueueinfo no such process", syscall(SYS_rt_sigqueueinfo, 0x3ffff0, r1, &si));
	si.si_code = SI_USER;
	show("rt_sigqueueinfo SI_USER to itself", syscall(SYS_rt_sigqueueinfo, getpid(), r1, &si));
	show("rt_sigqueueinfo SI_USER to another", syscall(SYS_rt_sigqueueinfo, getpid() + 1, r1, &si));
	si.si_code = SI_TKILL;
	show("rt_sigqueueinfo SI_TKILL to another", syscall(SYS_rt_sigqueueinfo, getpid() + 1, r1, &si));
	drain("after rt_sigqueueinfo", &set);
	struct timespec bad = {0, 1000000000};
	show("sigtimedwait bad timeout", sigtimedwait(&set, NULL, &bad));
	struct timespec zero = {0, 0};
	show("sigtimedwait nothing pending", sigtimedwait(&set, NULL, &zero));

	// RLIMIT_SIGPENDING counts a user's queued signals: a child of its
	// own user with a limit of 3.
	pid_t pid = fork();
	if (pid == 0) {
		struct rlimit rl = {3, 3};
		setrlimit(RLIMIT_SIGPENDING, &rl);
		setresgid(4242, 4242, 4242);
		setresuid(4242, 4242, 4242);
		for (int i = 0; i < 5; i++) {
			char what[64];
			snprintf(what, sizeof what, "child: sigqueue r1 %d", i);
			show(what, queue(r1, i));
		}
		show("child: sigqueue SIGUSR1 over the limit", queue(SIGUSR1, 99));
		show("child: kill r2 over the limit", kill(getpid(), r2));
		drain("child: queued", &set);
		show("child: sigqueue r1 after taking them", queue(r1, 7));
		drain("child: again", &set);
		rl.rlim_max = 4;
		show("child: raising the hard limit", setrlimit(RLIMIT_SIGPENDING, &rl));
		show("child: tgkill root's process", syscall(SYS_tgkill, getppid(), getppid(), 0));
		show("child: kill root's process", kill(getppid(), 0));
		show("child: SIGCONT to root's process, same session", kill(getppid(), SIGCONT));
		show("child: kill its own process group", kill(0, 0));
		siginfo_t ci = {0};
		ci.si_code = SI_QUEUE;
		show("child: sigqueue to root's process", syscall(SYS_rt_sigqueueinfo, getppid(), SIGRTMIN + 1, &ci));
		_exit(0);
	}
	int status;
	waitpid(pid, &status, 0);
	printf("child exited %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

static volatile int io_count, io_sig, io_code, io_fd;
static volatile long io_band;
static void io_handler(int s, siginfo_t *si, void *uc) {
	(void)uc;
	io_count++;
	io_sig = s;
	io_code = si->si_code;
	io_fd = si->si_fd;
	io_band = si->si_band;
}

// io prints what the signal handler saw since io_count was reset, with
// si_fd compared to fd.
static void io(const char *what, int fd) {
	printf("%s: signals %d", what, io_count);
	if (io_count)
		printf(" %s code %#x fd %s band %#lx", signame(io_sig), io_code, io_fd == fd ? "same" : "other", io_band);
	printf("\n");
	io_count = 0;
}

static void sigio(void) {
	int p[2];
	pipe(p);
	struct f_owner_ex ex = {-1, -1};
	show("F_GETOWN, none set", fcntl(p[0], F_GETOWN));
	show("F_GETOWN_EX, none set", fcntl(p[0], F_GETOWN_EX, &ex));
	printf("owner: type %d pid %d\n", ex.type, ex.pid);
	show("F_GETSIG, none set", fcntl(p[0], F_GETSIG));
	show("F_SETOWN 0", fcntl(p[0], F_SETOWN, 0));
	fcntl(p[0], F_GETOWN_EX, &ex);
	printf("owner after F_SETOWN 0: type %d pid %d\n", ex.type, ex.pid);
	show("F_SETOWN itself", fcntl(p[0], F_SETOWN, getpid()));
	show("F_GETOWN is itself", fcntl(p[0], F_GETOWN) == getpid());
	fcntl(p[0], F_GETOWN_EX, &ex);
	printf("owner: type %d itself %d\n", ex.type, ex.pid == getpid());
	show("F_SETOWN no such process", fcntl(p[0], F_SETOWN, 0x3ffff0));
	show("F_SETOWN INT_MIN", fcntl(p[0], F_SETOWN, -2147483647 - 1));
	show("F_SETOWN its group", fcntl(p[0], F_SETOWN, -getpgrp()));
	show("F_GETOWN is minus its group", fcntl(p[0], F_GETOWN) == -getpgrp());
	fcntl(p[0], F_GETOWN_EX, &ex);
	printf("owner: type %d its group %d\n", ex.type, ex.pid == getpgrp());
	ex.type = 5;
	show("F_SETOWN_EX bad type", fcntl(p[0], F_SETOWN_EX, &ex));
	ex.type = F_OWNER_TID;
	ex.pid = gettid();
	show("F_SETOWN_EX thread", fcntl(p[0], F_SETOWN_EX, &ex));
	ex.pid = 0x3ffff0;
	show("F_SETOWN_EX no such thread", fcntl(p[0], F_SETOWN_EX, &ex));
	show("F_SETOWN_EX bad pointer", fcntl(p[0], F_SETOWN_EX, (void *)8));
	show("F_SETSIG 65", fcntl(p[0], F_SETSIG, 65));
	show("F_SETSIG 64", fcntl(p[0], F_SETSIG, 64));
	show("F_GETSIG", fcntl(p[0], F_GETSIG));
	int opath = open("/", O_PATH);
	show("F_SETOWN on O_PATH", fcntl(opath, F_SETOWN, getpid()));
	close(opath);

	struct sigaction sa = {0};
	sa.sa_sigaction = io_handler;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGIO, &sa, NULL);
	sigaction(SIGURG, &sa, NULL);
	for (int i = 3; i <= 5; i++)
		sigaction(SIGRTMIN + i, &sa, NULL);
	char buf[8];
	fcntl(p[0], F_SETOWN, getpid());
	fcntl(p[0], F_SETSIG, 0);
	io_count = 0;
	write(p[1], "a", 1);
	io("write before O_ASYNC", p[0]);
	show("F_SETFL O_ASYNC|O_NONBLOCK", fcntl(p[0], F_SETFL, O_ASYNC | O_NONBLOCK));
	show("F_GETFL has O_ASYNC", !!(fcntl(p[0], F_GETFL) & O_ASYNC));
	io("O_ASYNC set with data waiting", p[0]);
	write(p[1], "b", 1);
	io("write, F_SETSIG 0", p[0]);
	fcntl(p[0], F_SETSIG, SIGRTMIN + 3);
	write(p[1], "c", 1);
	io("write, F_SETSIG SIGRTMIN+3", p[0]);
	fcntl(p[0], F_SETSIG, SIGURG);
	write(p[1], "d", 1);
	io("write, F_SETSIG SIGURG", p[0]);
	fcntl(p[1], F_SETOWN, getpid());
	fcntl(p[1], F_SETSIG, SIGRTMIN + 4);
	fcntl(p[1], F_SETFL, O_ASYNC);
	read(p[0], buf, sizeof buf);
	io("read, the writer's signal", p[1]);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	write(p[1], "e", 1);
	io("write after O_ASYNC cleared", p[0]);
	close(p[0]);
	io("reader closed", p[1]);
	close(p[1]);

	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	fcntl(sv[0], F_SETOWN, getpid());
	fcntl(sv[0], F_SETSIG, SIGRTMIN + 5);
	fcntl(sv[0], F_SETFL, O_ASYNC);
	write(sv[1], "s", 1);
	io("socket write, F_SETSIG SIGRTMIN+5", sv[0]);
	read(sv[0], buf, sizeof buf);
	io("socket read", sv[0]);
	close(sv[0]);
	close(sv[1]);

	int rf = open(at("asyncfile"), O_CREAT | O_RDWR, 0644);
	fcntl(rf, F_SETOWN, getpid());
	show("F_SETFL O_ASYNC on a regular file", fcntl(rf, F_SETFL, O_ASYNC));
	show("F_GETFL has O_ASYNC", !!(fcntl(rf, F_GETFL) & O_ASYNC));
	write(rf, "r", 1);
	io("regular file write", rf);
	close(rf);
	signal(SIGIO, SIG_DFL);
}

static char *slurp(const char *path) {
	static char buf[1 << 16];
	int fd = open(path, O_RDONLY);
	long n = 0, r;
	if (fd < 0)
		return NULL;
	while ((r = read(fd, buf + n, sizeof buf - 1 - n)) > 0)
		n += r;
	close(fd);
	buf[n] = 0;
	return buf;
}

// mapsLine finds the /proc/self/maps line of the mapping holding addr
// and prints its permissions, offset, whether its device and inode are
// st's, and its name (the last path element).
static void mapsLine(const char *what, void *addr, struct stat *st) {
	char *maps = slurp("/proc/self/maps");
	unsigned long a = (unsigned long)addr;
	for (char *l = maps; l && *l;) {
		char *nl = strchr(l, '\n');
		*nl = 0;
		unsigned long lo, hi, off, ino;
		unsigned maj, mnr;
		char perm[5];
		int name = 0;
		if (sscanf(l, "%lx-%lx %4s %lx %x:%x %lu %n", &lo, &hi, perm, &off, &maj, &mnr, &ino, &name) >= 7 && lo <= a && a < hi) {
			const char *n = name ? l + name : "";
			const char *base = strrchr(n, '/');
			int same = st && ino == st->st_ino && maj == major(st->st_dev) && mnr == minor(st->st_dev);
			printf("%s: %s offset %#lx file %s name [%s]\n", what, perm, off, st ? (same ? "same" : "other") : (ino ? "some" : "none"),
			       base ? base + 1 : n);
			return;
		}
		l = nl + 1;
	}
	printf("%s: no mapping\n", what);
}

// field returns the value of "Name:" in /proc/self/status.
static const char *field(const char *status, const char *name) {
	static char out[256];
	const char *p = strstr(status, name);
	if (name[0] == '\n' && strncmp(status, name + 1, strlen(name + 1)) == 0)
		p = status - 1; // the first line
	if (!p)
		return "(none)";
	p += strlen(name);
	while (*p == '\t' || *p == ' ')
		p++;
	size_t n = strcspn(p, "\n");
	snprintf(out, sizeof out, "%.*s", (int)n, p);
	return out;
}

static void procself(void) {
	int fd = open(at("mapped"), O_CREAT | O_RDWR | O_TRUNC, 0644);
	ftruncate(fd, 4 * PG);
	struct stat st;
	fstat(fd, &st);
	char *fm = mmap(NULL, 2 * PG, PROT_READ, MAP_SHARED, fd, 2 * PG);
	char *pm = mmap(NULL, PG, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE, fd, PG);
	char *an = mmap(NULL, 3 * PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *sh = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	mprotect(an + PG, PG, PROT_NONE);
	int local;
	void *heap = sbrk(PG);
	mapsLine("maps shared file", fm + PG, &st);
	mapsLine("maps private file", pm, &st);
	mapsLine("maps anonymous", an, NULL);
	mapsLine("maps anonymous after mprotect", an + PG, NULL);
	mapsLine("maps shared anonymous", sh, NULL);
	mapsLine("maps stack", &local, NULL);
	mapsLine("maps heap", heap, NULL);
	munmap(fm, 2 * PG);
	mapsLine("maps after munmap", fm, NULL);
	// The lines are in address order and do not overlap.
	char *maps = slurp("/proc/self/maps");
	unsigned long last = 0, lo, hi;
	int ordered = 1, lines = 0;
	for (char *l = maps; l && *l; l = strchr(l, '\n') + 1) {
		if (sscanf(l, "%lx-%lx", &lo, &hi) != 2 || lo < last || hi <= lo)
			ordered = 0;
		last = hi;
		lines++;
	}
	printf("maps ordered: %d, lines > 5: %d\n", ordered, lines > 5);
	munmap(pm, PG);
	munmap(an, 3 * PG);
	munmap(sh, PG);
	close(fd);

	// stat: 52 fields; those a ps-like tool or Go reads.
	char *stat = slurp("/proc/self/stat");
	char comm[64];
	char state;
	int pid, ppid, pgrp, sid, nfields = 0;
	sscanf(stat, "%d (%63[^)]) %c %d %d %d", &pid, comm, &state, &ppid, &pgrp, &sid);
	for (char *p = strrchr(stat, ')') + 1; *p; p++)
		if (*p == ' ')
			nfields++;
	char *f = strrchr(stat, ')') + 2;
	long v[60];
	int k = 0;
	for (char *tok = strtok(f, " \n"); tok && k < 60; tok = strtok(NULL, " \n"))
		v[k++] = strtol(tok, NULL, 10);
	// v[0] is field 3 (state); field n is v[n-3].
	const char *prog = strrchr(argv0, '/') ? strrchr(argv0, '/') + 1 : argv0;
	// The nice value is the runner's natively (a niced go test's), 0 in
	// Cocoon, whose init starts at 0 as a booted Linux's does: stat's
	// must be getpriority's, its priority 20 more (task_prio).
	errno = 0;
	long nice = getpriority(PRIO_PROCESS, 0);
	if (errno)
		nice = -100;
	printf("stat: fields %d pid %d comm is the program's %d state %c ppid %d pgrp %d session %d threads %ld priority is 20 + nice %d nice is getpriority's %d vsize>0 %d\n",
	       nfields + 2, pid == getpid(), strncmp(comm, prog, 15) == 0, state, ppid == getppid(), pgrp == getpgrp(), sid == getsid(0), v[17],
	       v[15] == 20 + v[16], v[16] == nice, v[20] > 0);
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR2);
	sigprocmask(SIG_BLOCK, &block, &old);
	stat = slurp("/proc/self/stat");
	f = strrchr(stat, ')') + 2;
	k = 0;
	for (char *tok = strtok(f, " \n"); tok && k < 60; tok = strtok(NULL, " \n"))
		v[k++] = strtol(tok, NULL, 10);
	printf("stat: blocked has SIGUSR2 %d\n", !!(v[31 - 3 + 1] & (1L << (SIGUSR2 - 1))));

	// status.
	char *status = slurp("/proc/self/status");
	printf("status Name is the program's: %d\n", strncmp(field(status, "\nName:"), prog, 15) == 0);
	printf("status State: %s\n", field(status, "\nState:"));
	char want[128];
	uid_t r, e, s;
	getresuid(&r, &e, &s);
	snprintf(want, sizeof want, "%d\t%d\t%d\t%d", r, e, s, (int)syscall(SYS_setfsuid, -1));
	printf("status Uid matches: %d\n", strcmp(field(status, "\nUid:"), want) == 0);
	printf("status Pid matches: %d\n", atoi(field(status, "\nPid:")) == getpid());
	printf("status PPid matches: %d\n", atoi(field(status, "\nPPid:")) == getppid());
	printf("status Threads: %s\n", field(status, "\nThreads:"));
	printf("status SigBlk has SIGUSR2: %d\n", !!(strtoull(field(status, "\nSigBlk:"), NULL, 16) & (1ULL << (SIGUSR2 - 1))));
	printf("status CapEff has CAP_SETUID: %d\n", !!(strtoull(field(status, "\nCapEff:"), NULL, 16) & (1ULL << CAP_SETUID)));
	printf("status NoNewPrivs: %s\n", field(status, "\nNoNewPrivs:"));
	sigprocmask(SIG_SETMASK, &old, NULL);

	// mountinfo: every line has the separator; / and /proc are there.
	char *mi = slurp("/proc/self/mountinfo");
	int root = 0, proc = 0, sep = 1;
	for (char *l = mi; l && *l; l = strchr(l, '\n') + 1) {
		char mp[256];
		if (sscanf(l, "%*d %*d %*d:%*d %*s %255s", mp) == 1) {
			root |= strcmp(mp, "/") == 0;
			char *dash = strstr(l, " - ");
			if (!dash || dash > strchr(l, '\n'))
				sep = 0;
			else if (strcmp(mp, "/proc") == 0)
				proc = strncmp(dash, " - proc ", 8) == 0;
		}
	}
	printf("mountinfo: root %d, /proc is proc %d, separators %d\n", root, proc, sep);
}

// cmsgs: sendmsg control-message edge cases on AF_UNIX (net/core/scm.c
// __scm_send, scm_fp_copy; include/linux/socket.h CMSG_NXTHDR) and
// SO_PEERCRED on unconnected and datagram sockets.
static int cmsgPair[2];

// sendCtl sends one byte with the control buffer c of n bytes and, if
// the send succeeded, receives it and says how many files came along.
static void sendCtl(const char *what, void *c, size_t n) {
	char x = 'c';
	struct iovec iov = {&x, 1};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = c, .msg_controllen = n};
	long r = sendmsg(cmsgPair[0], &m, 0);
	if (r < 0) {
		show(what, r);
		return;
	}
	static char in[CMSG_SPACE(sizeof(int) * 300)];
	struct msghdr h = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = in, .msg_controllen = sizeof in};
	if (recvmsg(cmsgPair[1], &h, 0) != 1) {
		show("cmsg recvmsg", -1);
		return;
	}
	int files = 0;
	for (struct cmsghdr *k = CMSG_FIRSTHDR(&h); k; k = CMSG_NXTHDR(&h, k)) {
		if (k->cmsg_level != SOL_SOCKET || k->cmsg_type != SCM_RIGHTS)
			continue;
		int nfd = (k->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (int i = 0; i < nfd; i++)
			close(((int *)CMSG_DATA(k))[i]);
		files += nfd;
	}
	printf("%s: %ld, %d files\n", what, r, files);
}

// cmsgAt fills a control message header at c.
static struct cmsghdr *cmsgAt(void *c, size_t len, int level, int type) {
	struct cmsghdr *k = c;
	k->cmsg_len = len;
	k->cmsg_level = level;
	k->cmsg_type = type;
	return k;
}

static void peercred(const char *what, int fd) {
	struct ucred u;
	socklen_t l = sizeof u;
	long r = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &u, &l);
	if (r < 0) {
		show(what, r);
		return;
	}
	printf("%s: pid %s uid %d gid %d len %u\n", what,
	       u.pid == 0 ? "0" : u.pid == getpid() ? "self" : "other", u.uid, u.gid, l);
}

static void cmsgs(void) {
	static union {
		char b[CMSG_SPACE(sizeof(int) * 300) * 2];
		struct cmsghdr align;
	} c;
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, cmsgPair) < 0) {
		show("cmsg socketpair", -1);
		return;
	}
	int one = 1;
	setsockopt(cmsgPair[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof one);
	struct ucred me = {getpid(), getuid(), getgid()};
	int fd = cmsgPair[0];

	memset(&c, 0, sizeof c);
	memcpy(CMSG_DATA(cmsgAt(&c, CMSG_LEN(sizeof me), SOL_SOCKET, SCM_CREDENTIALS)), &me, sizeof me);
	sendCtl("SCM_CREDENTIALS exact", &c, CMSG_SPACE(sizeof me));
	memcpy(CMSG_DATA(cmsgAt(&c, CMSG_LEN(sizeof me) + 4, SOL_SOCKET, SCM_CREDENTIALS)), &me, sizeof me);
	sendCtl("SCM_CREDENTIALS len +4", &c, CMSG_SPACE(sizeof me + 4));
	cmsgAt(&c, CMSG_LEN(sizeof me) - 4, SOL_SOCKET, SCM_CREDENTIALS);
	sendCtl("SCM_CREDENTIALS len -4", &c, CMSG_SPACE(sizeof me));

	memset(&c, 0, sizeof c);
	memcpy(CMSG_DATA(cmsgAt(&c, CMSG_LEN(sizeof fd), SOL_SOCKET, SCM_RIGHTS)), &fd, sizeof fd);
	sendCtl("SCM_RIGHTS one", &c, CMSG_SPACE(sizeof fd));
	cmsgAt(&c, CMSG_LEN(sizeof fd) + 2, SOL_SOCKET, SCM_RIGHTS);
	sendCtl("SCM_RIGHTS len +2", &c, CMSG_SPACE(sizeof fd + 2));
	cmsgAt(&c, CMSG_LEN(0), SOL_SOCKET, SCM_RIGHTS);
	sendCtl("SCM_RIGHTS no fds", &c, CMSG_SPACE(0));
	cmsgAt(&c, CMSG_LEN(2), SOL_SOCKET, SCM_RIGHTS);
	sendCtl("SCM_RIGHTS len 2", &c, CMSG_SPACE(2));
	for (int i = 0; i < 254; i++)
		((int *)CMSG_DATA((struct cmsghdr *)&c))[i] = fd;
	cmsgAt(&c, CMSG_LEN(253 * sizeof fd), SOL_SOCKET, SCM_RIGHTS);
	sendCtl("SCM_RIGHTS 253 fds", &c, CMSG_SPACE(253 * sizeof fd));
	cmsgAt(&c, CMSG_LEN(254 * sizeof fd), SOL_SOCKET, SCM_RIGHTS);
	sendCtl("SCM_RIGHTS 254 fds", &c, CMSG_SPACE(254 * sizeof fd));
	// Two messages of 200 files each: 400 in all, over SCM_MAX_FD.
	memset(&c, 0, sizeof c);
	struct cmsghdr *k = cmsgAt(&c, CMSG_LEN(200 * sizeof fd), SOL_SOCKET, SCM_RIGHTS);
	for (int i = 0; i < 200; i++)
		((int *)CMSG_DATA(k))[i] = fd;
	k = (struct cmsghdr *)(c.b + CMSG_SPACE(200 * sizeof fd));
	cmsgAt(k, CMSG_LEN(200 * sizeof fd), SOL_SOCKET, SCM_RIGHTS);
	for (int i = 0; i < 200; i++)
		((int *)CMSG_DATA(k))[i] = fd;
	sendCtl("SCM_RIGHTS 2x200 fds", &c, 2 * CMSG_SPACE(200 * sizeof fd));
	cmsgAt(k, CMSG_LEN(20 * sizeof fd), SOL_SOCKET, SCM_RIGHTS);
	sendCtl("SCM_RIGHTS 200+20 fds", &c, CMSG_SPACE(200 * sizeof fd) + CMSG_SPACE(20 * sizeof fd));

	memset(&c, 0, sizeof c);
	int closed = dup(0);
	close(closed);
	memcpy(CMSG_DATA(cmsgAt(&c, CMSG_LEN(sizeof fd), SOL_SOCKET, SCM_RIGHTS)), &closed, sizeof fd);
	sendCtl("SCM_RIGHTS closed fd", &c, CMSG_SPACE(sizeof fd));
	int neg = -1;
	memcpy(CMSG_DATA(cmsgAt(&c, CMSG_LEN(sizeof fd), SOL_SOCKET, SCM_RIGHTS)), &neg, sizeof fd);
	sendCtl("SCM_RIGHTS fd -1", &c, CMSG_SPACE(sizeof fd));

	memset(&c, 0, sizeof c);
	memcpy(CMSG_DATA(cmsgAt(&c, CMSG_LEN(sizeof fd), SOL_SOCKET, SCM_RIGHTS)), &fd, sizeof fd);
	sendCtl("cmsg_len > controllen", &c, CMSG_LEN(sizeof fd) - 1);
	cmsgAt(&c, sizeof(struct cmsghdr) - 1, SOL_SOCKET, SCM_RIGHTS);
	sendCtl("cmsg_len < header", &c, CMSG_SPACE(sizeof fd));
	cmsgAt(&c, 0, SOL_SOCKET, SCM_RIGHTS);
	sendCtl("cmsg_len 0", &c, CMSG_SPACE(sizeof fd));
	cmsgAt(&c, 0, SOL_SOCKET, SCM_RIGHTS);
	sendCtl("controllen < header", &c, sizeof(struct cmsghdr) - 1);
	memcpy(CMSG_DATA(cmsgAt(&c, CMSG_LEN(sizeof fd), SOL_SOCKET, SCM_RIGHTS)), &fd, sizeof fd);
	sendCtl("trailing short bytes", &c, CMSG_SPACE(sizeof fd) + 8);
	cmsgAt(&c, CMSG_LEN(sizeof fd), 0 /* SOL_IP */, 1);
	sendCtl("level SOL_IP", &c, CMSG_SPACE(sizeof fd));
	cmsgAt(&c, CMSG_LEN(sizeof fd), SOL_SOCKET, 99);
	sendCtl("unknown SOL_SOCKET type", &c, CMSG_SPACE(sizeof fd));
	close(cmsgPair[0]);
	close(cmsgPair[1]);

	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	peercred("SO_PEERCRED unconnected stream", s);
	close(s);
	s = socket(AF_UNIX, SOCK_DGRAM, 0);
	peercred("SO_PEERCRED unconnected dgram", s);
	// An abstract name: DIR may be longer than sun_path.
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	socklen_t al = offsetof(struct sockaddr_un, sun_path) + 1 +
		       snprintf(a.sun_path + 1, sizeof a.sun_path - 1, "cocoon-abidiff-%d", getpid());
	int srv = socket(AF_UNIX, SOCK_DGRAM, 0);
	show("dgram bind", bind(srv, (struct sockaddr *)&a, al));
	show("dgram connect", connect(s, (struct sockaddr *)&a, al));
	peercred("SO_PEERCRED connected dgram", s);
	peercred("SO_PEERCRED dgram server", srv);
	close(s);
	close(srv);
	int p[2];
	socketpair(AF_UNIX, SOCK_DGRAM, 0, p);
	peercred("SO_PEERCRED dgram socketpair", p[0]);
	close(p[0]);
	close(p[1]);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	show("stream listen unbound", listen(s, 1));
	show("stream bind", bind(s, (struct sockaddr *)&a, al));
	show("stream listen", listen(s, 1));
	peercred("SO_PEERCRED listening stream", s);
	close(s);
}

static int capsets(uint64_t *eff, uint64_t *perm) {
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) != 0)
		return -1;
	*eff = d[0].effective | (uint64_t)d[1].effective << 32;
	*perm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	return 0;
}

static void ids(const char *what) {
	uid_t r, e, s;
	getresuid(&r, &e, &s);
	uint64_t eff = 0, perm = 0;
	capsets(&eff, &perm);
	printf("%s: uid %d %d %d fsuid %d, CAP_SETUID effective %d permitted %d, effective empty %d, effective=permitted %d\n",
	       what, r, e, s, (int)syscall(SYS_setfsuid, -1), !!(eff & 1ULL << CAP_SETUID), !!(perm & 1ULL << CAP_SETUID),
	       eff == 0, eff == perm);
}

// ambient raises CAP_KILL in the ambient set (capabilities(7)): only
// once it is inheritable, and the set loses it when it no longer is.
static void ambient(void) {
	show("ambient is_set", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_KILL, 0, 0));
	show("ambient raise, not inheritable", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_KILL, 0, 0));
	show("ambient raise capability 64", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, 64, 0, 0));
	show("ambient unknown operation", prctl(PR_CAP_AMBIENT, 9, CAP_KILL, 0, 0));
	show("ambient clear_all with an argument", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 1, 0, 0));
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	syscall(SYS_capget, &h, d);
	d[0].inheritable = 1 << CAP_KILL | 1 << CAP_CHOWN;
	d[1].inheritable = 0;
	show("capset inheritable CAP_KILL CAP_CHOWN", syscall(SYS_capset, &h, d));
	show("ambient raise CAP_KILL", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_KILL, 0, 0));
	show("ambient raise CAP_CHOWN", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_CHOWN, 0, 0));
	show("ambient is_set CAP_KILL", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_KILL, 0, 0));
	d[0].inheritable = 1 << CAP_KILL;
	show("capset inheritable CAP_KILL", syscall(SYS_capset, &h, d));
	show("ambient is_set CAP_CHOWN after", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_CHOWN, 0, 0));
	show("ambient lower CAP_KILL", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER, CAP_KILL, 0, 0));
	show("ambient is_set CAP_KILL after lower", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_KILL, 0, 0));
	show("ambient raise CAP_KILL again", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_KILL, 0, 0));
}

// statusCap reads capability set name (Inh, Prm, Eff, Bnd, Amb) from
// /proc/self/status.
static unsigned long long statusCap(const char *name) {
	char line[128], want[16];
	unsigned long long v = ~0ULL;
	snprintf(want, sizeof want, "Cap%s:", name);
	FILE *f = fopen("/proc/self/status", "r");
	if (!f)
		return v;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, want, strlen(want)) == 0)
			v = strtoull(line + strlen(want), NULL, 16);
	fclose(f);
	return v;
}

// statusCaps prints the capability sets of /proc/self/status relative to
// the bounding set a process starts with (a container's root may lack
// some capabilities Cocoon's has).
static unsigned long long startBnd;

static void statusCaps(const char *what) {
	unsigned long long bnd = statusCap("Bnd"), prm = statusCap("Prm");
	printf("%s: CapBnd lacks %#llx of the start's, CapPrm is CapBnd|CapInh %d, CapEff is CapPrm %d, CapInh %#llx CapAmb %#llx\n", what,
	       startBnd & ~bnd, prm == (bnd | statusCap("Inh")), statusCap("Eff") == prm, statusCap("Inh"), statusCap("Amb"));
}

// bset drops capabilities from the bounding set (capabilities(7)), in a
// child: PR_CAPBSET_READ and _DROP, CapBnd, capset refusing an
// inheritable capability outside the set, execve making permitted only
// the set's and the inheritable ones, and CAP_SETPCAP needed to drop.
static void bset(void) {
	startBnd = statusCap("Bnd");
	pid_t pid = fork();
	if (pid == 0) {
		show("capbset read CAP_KILL", prctl(PR_CAPBSET_READ, CAP_KILL, 0, 0, 0));
		show("capbset read 41", prctl(PR_CAPBSET_READ, 41, 0, 0, 0));
		show("capbset read 64", prctl(PR_CAPBSET_READ, 64, 0, 0, 0));
		show("capbset drop CAP_KILL", prctl(PR_CAPBSET_DROP, CAP_KILL, 0, 0, 0));
		show("capbset drop CAP_KILL again", prctl(PR_CAPBSET_DROP, CAP_KILL, 0, 0, 0));
		show("capbset read CAP_KILL dropped", prctl(PR_CAPBSET_READ, CAP_KILL, 0, 0, 0));
		show("capbset drop 41", prctl(PR_CAPBSET_DROP, 41, 0, 0, 0));
		show("capbset drop CAP_SYS_ADMIN", prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0));
		statusCaps("bset dropped");
		struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
		struct __user_cap_data_struct d[2];
		syscall(SYS_capget, &h, d);
		d[0].inheritable = 1 << CAP_KILL;
		show("capset inheritable CAP_KILL outside the bounding set", syscall(SYS_capset, &h, d));
		d[0].inheritable = 1 << CAP_CHOWN;
		show("capset inheritable CAP_CHOWN", syscall(SYS_capset, &h, d));
		fflush(stdout);
		pid_t c = fork();
		if (c == 0) {
			char start[32];
			snprintf(start, sizeof start, "%llx", startBnd);
			char *args[] = {(char *)argv0, dir, "bsetexec", start, NULL};
			execv("/proc/self/exe", args);
			printf("execv: %s\n", strerror(errno));
			_exit(1);
		}
		int st;
		waitpid(c, &st, 0);
		syscall(SYS_capget, &h, d);
		d[0].effective &= ~(1u << CAP_SETPCAP);
		show("capset without CAP_SETPCAP effective", syscall(SYS_capset, &h, d));
		show("capbset drop without CAP_SETPCAP", prctl(PR_CAPBSET_DROP, CAP_CHOWN, 0, 0, 0));
		show("capbset drop 64 without CAP_SETPCAP", prctl(PR_CAPBSET_DROP, 64, 0, 0, 0));
		show("capbset read CAP_CHOWN", prctl(PR_CAPBSET_READ, CAP_CHOWN, 0, 0, 0));
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	show("capbset read CAP_KILL in the parent", prctl(PR_CAPBSET_READ, CAP_KILL, 0, 0, 0));
}

static void creds(void) {
	char buf[64], list[256];
	// The file's attributes are read through a descriptor opened while
	// privileged: the directory may not be searchable afterwards.
	int fd = open(at("xfile"), O_RDONLY);
	ids("start");
	ambient();
	show("setresgid 100 100 100", setresgid(100, 100, 100));
	show("setgroups 0", setgroups(0, NULL));
	show("setresuid 1000 1001 0", setresuid(1000, 1001, 0));
	ids("after setresuid");
	show("setuid 2000 (neither real nor saved)", setuid(2000));
	show("setuid 0 (the saved ID)", setuid(0));
	ids("after setuid 0");
	show("setreuid -1 1000", setreuid(-1, 1000));
	ids("after setreuid");
	show("setreuid -1 0", setreuid(-1, 0));
	ids("after setreuid back");
	show("setresuid 1000 1000 1000", setresuid(1000, 1000, 1000));
	ids("unprivileged");
	show("ambient CAP_KILL once unprivileged", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_KILL, 0, 0));
	show("setuid 0", setuid(0));
	show("setresuid -1 0 -1", setresuid(-1, 0, -1));
	show("setreuid 0 -1", setreuid(0, -1));
	show("setuid 1000", setuid(1000));
	show("setfsuid 0 returns the old", syscall(SYS_setfsuid, 0));
	show("setfsuid unchanged", syscall(SYS_setfsuid, -1));
	show("setgroups", setgroups(0, NULL));
	show("setgid 5", setgid(5));
	show("setgid 100", setgid(100));
	show("setresgid 100 100 100", setresgid(100, 100, 100));
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2] = {{1 << CAP_SETUID, 1 << CAP_SETUID, 0}, {0, 0, 0}};
	show("capset raising", syscall(SYS_capset, &h, d));
	memset(d, 0, sizeof d);
	show("capset to nothing", syscall(SYS_capset, &h, d));
	h.pid = getpid() + 1;
	show("capset another process", syscall(SYS_capset, &h, d));
	h.version = 1;
	show("capget bad version", syscall(SYS_capget, &h, d));
	printf("version written back: %#x\n", h.version);
	show("capget bad version, null data", syscall(SYS_capget, &h, NULL));
	// Unprivileged, trusted.* is hidden and cannot be written.
	show("fgetxattr trusted.* unprivileged", fgetxattr(fd, "trusted.t", buf, sizeof buf));
	show("fsetxattr trusted.* unprivileged", fsetxattr(fd, "trusted.u", "x", 1, 0));
	show("fgetxattr user.* unprivileged", fgetxattr(fd, "user.a", buf, sizeof buf));
	listing("flistxattr unprivileged", list, flistxattr(fd, list, sizeof list));
	close(fd);
}

// unshares: unshare(2) of what a process alone holds is Linux's nothing
// to do; the thread group, handlers and address space cannot be unshared
// while a thread or a vfork parent shares them; unknown flags fail.
static int unshareGate[2];

static void *unshareThread(void *arg) {
	char c;
	return (void *)(long)read(unshareGate[0], &c, 1);
}

static void unshares(void) {
	char c = 'u';
	show("unshare 0", syscall(SYS_unshare, 0));
	show("unshare CSIGNAL bits", syscall(SYS_unshare, 0x11));
	show("unshare CLONE_VFORK", syscall(SYS_unshare, CLONE_VFORK));
	show("unshare CLONE_SETTLS", syscall(SYS_unshare, CLONE_SETTLS));
	show("unshare bit 32", syscall(SYS_unshare, 1UL << 32));
	if (pipe(unshareGate) != 0) {
		printf("FAIL: pipe\n");
		exit(1);
	}
	show("unshare CLONE_FILES alone", syscall(SYS_unshare, CLONE_FILES));
	show("write after unshare CLONE_FILES", write(unshareGate[1], &c, 1));
	show("read after unshare CLONE_FILES", read(unshareGate[0], &c, 1));
	show("unshare CLONE_FS alone", syscall(SYS_unshare, CLONE_FS));
	show("unshare CLONE_SYSVSEM", syscall(SYS_unshare, CLONE_SYSVSEM));
	show("unshare CLONE_THREAD alone", syscall(SYS_unshare, CLONE_THREAD));
	show("unshare CLONE_SIGHAND alone", syscall(SYS_unshare, CLONE_SIGHAND));
	show("unshare CLONE_VM alone", syscall(SYS_unshare, CLONE_VM));
	pid_t pid = vfork();
	if (pid == 0) {
		long r = syscall(SYS_unshare, CLONE_VM);
		_exit(r == 0 ? 0 : r == -1 && errno == EINVAL ? 1 : 2);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	printf("vfork child unshare CLONE_VM: exit %d (1: EINVAL)\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	pthread_t th;
	if (pthread_create(&th, NULL, unshareThread, NULL) != 0) {
		printf("FAIL: pthread_create\n");
		exit(1);
	}
	show("unshare CLONE_THREAD with a thread", syscall(SYS_unshare, CLONE_THREAD));
	show("unshare CLONE_SIGHAND with a thread", syscall(SYS_unshare, CLONE_SIGHAND));
	show("unshare CLONE_VM with a thread", syscall(SYS_unshare, CLONE_VM));
	show("unshare CLONE_SYSVSEM with a thread", syscall(SYS_unshare, CLONE_SYSVSEM));
	show("unshare bad flags with a thread", syscall(SYS_unshare, CLONE_VFORK));
	write(unshareGate[1], &c, 1);
	void *r;
	pthread_join(th, &r);
	show("thread's read", (long)r);
	close(unshareGate[0]);
	close(unshareGate[1]);
}

// unsharesUnprivileged: without CAP_SYS_ADMIN new namespaces are EPERM.
static void unsharesUnprivileged(void) {
	show("unshare CLONE_NEWNS unprivileged", syscall(SYS_unshare, CLONE_NEWNS));
	show("unshare CLONE_NEWUTS unprivileged", syscall(SYS_unshare, CLONE_NEWUTS));
	show("unshare CLONE_NEWIPC unprivileged", syscall(SYS_unshare, CLONE_NEWIPC));
}

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IONBF, 0);
	snprintf(dir, sizeof dir, "%s", argc > 1 ? argv[1] : "/tmp");
	argv0 = argv[0];
	if (argc > 3 && strcmp(argv[2], "bsetexec") == 0) {
		startBnd = strtoull(argv[3], NULL, 16);
		statusCaps("after execve");
		return 0;
	}
	if (geteuid() != 0) {
		printf("FAIL: abidiff must run as root (it tests dropping privileges)\n");
		return 1;
	}
	xattrs();
	openat2s();
	mremap0();
	seals();
	rtsignals();
	procself();
	sigio();
	unshares();
	cmsgs();
	bset();
	creds();
	unsharesUnprivileged();
	printf("abidiff: done\n");
	return 0;
}
