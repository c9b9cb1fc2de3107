// realprocedge: what the calls beyond read(2) do on the files of /proc
// and /sys that programs read: mmap, pread, lseek from the end and past
// it, write, fsync, ftruncate and fallocate on a read-only descriptor,
// getdents with a buffer too small, read of a directory, fstatfs's type.
// Only what leaves the files as they are: natively these are the host's.
// Compared line for line with a native run.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *e(long r) { return r < 0 ? strerror(errno) : "ok"; }

int main(int argc, char **argv) {
	setvbuf(stdout, 0, _IOLBF, 0);
	const char *files[] = {"/proc/self/status", "/proc/meminfo", "/proc/self/fdinfo/0", "/proc/self/maps", "/proc/self/cgroup",
			       "/sys/devices/system/cpu/online", "/proc/sys/kernel/ostype", "/proc/self/mountinfo", 0};
	for (int i = 0; files[i]; i++) {
		int fd = open(files[i], O_RDONLY);
		if (fd < 0) {
			printf("%s: open %s\n", files[i], strerror(errno));
			continue;
		}
		errno = 0;
		void *p = mmap(0, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
		printf("%s: mmap %s", files[i], p == MAP_FAILED ? strerror(errno) : "ok");
		char b[8];
		errno = 0;
		long r = pread(fd, b, 1, 1);
		printf(", pread@1 %ld %s", r, e(r));
		errno = 0;
		r = lseek(fd, 0, SEEK_END);
		printf(", SEEK_END %s", r < 0 ? strerror(errno) : r == 0 ? "0" : ">0");
		errno = 0;
		r = lseek(fd, -1, SEEK_SET);
		printf(", lseek -1 %s", e(r));
		errno = 0;
		r = lseek(fd, 1000000, SEEK_SET);
		printf(", lseek far %s", e(r));
		r = read(fd, b, 8);
		printf(", read there %ld", r);
		errno = 0;
		r = write(fd, "x", 1);
		printf(", write %s", e(r));
		errno = 0;
		r = fsync(fd);
		printf(", fsync %s", e(r));
		errno = 0;
		r = ftruncate(fd, 0);
		printf(", ftruncate %s", e(r));
		errno = 0;
		r = fallocate(fd, 0, 0, 10);
		printf(", fallocate %s\n", e(r));
		close(fd);
	}
	const char *dirs[] = {"/proc/self/fdinfo", "/sys/devices/system/cpu", "/sys/fs", "/proc/sys/net/ipv4", 0};
	for (int i = 0; dirs[i]; i++) {
		int fd = open(dirs[i], O_RDONLY | O_DIRECTORY);
		char buf[64];
		errno = 0;
		long r = syscall(SYS_getdents64, fd, buf, 10);
		printf("%s: getdents64 10 bytes %s", dirs[i], e(r));
		errno = 0;
		r = read(fd, buf, 1);
		printf(", read %s", e(r));
		struct statfs sf;
		fstatfs(fd, &sf);
		printf(", f_type %lx\n", (long)sf.f_type);
		close(fd);
	}
	printf("realprocedge: done\n");
	return 0;
}
