// inotify: the events of file system changes as inotify(7) reports them
// (names, cookies, ISDIR, merging, IN_ONESHOT, IN_EXCL_UNLINK, IN_IGNORED,
// IN_Q_OVERFLOW), the calls' errors, FIONREAD, poll and epoll readiness
// and a blocking read woken by another process; every result printed,
// for comparison with Linux's. Run with a scratch directory on tmpfs as
// argument.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#define R(x)                                                                               \
	do {                                                                               \
		errno = 0;                                                                 \
		long r_ = (long)(x);                                                       \
		printf("%-64s = %ld %s\n", #x, r_, r_ < 0 ? strerrorname_np(errno) : ""); \
		fflush(stdout);                                                            \
	} while (0)

static const char *names[] = {"ACCESS",   "MODIFY", "ATTRIB",      "CLOSE_WRITE", "CLOSE_NOWRITE", "OPEN",
			      "MOVED_FROM", "MOVED_TO", "CREATE",     "DELETE",      "DELETE_SELF",   "MOVE_SELF",
			      "?",        "UNMOUNT", "Q_OVERFLOW", "IGNORED"};
static int in;
static unsigned lastCookie;

static void show(const char *buf, long n) {
	for (long off = 0; off < n;) {
		const struct inotify_event *e = (const void *)(buf + off);
		printf("   wd %d", e->wd);
		for (int i = 0; i < 16; i++)
			if (e->mask & (1u << i))
				printf(" %s", names[i]);
		if (e->mask & IN_ISDIR)
			printf(" ISDIR");
		// A rename's two events share a cookie; others have none.
		const char *c = "";
		if (e->cookie)
			c = e->cookie == lastCookie ? " cookie=same" : " cookie=new";
		if (e->cookie)
			lastCookie = e->cookie;
		printf("%s len %u name '%s'\n", c, e->len, e->len ? e->name : "");
		off += sizeof *e + e->len;
	}
}

static void drain(const char *what) {
	char buf[8192] __attribute__((aligned(8)));
	int avail = -1;
	ioctl(in, FIONREAD, &avail);
	long n = read(in, buf, sizeof buf);
	printf("-- %s (FIONREAD %d, read %ld%s)\n", what, avail, n, n < 0 ? strerrorname_np(errno) : "");
	show(buf, n);
	fflush(stdout);
}

static void events(void) {
	mkdir("d", 0755);
	in = inotify_init1(IN_NONBLOCK);
	int wd = inotify_add_watch(in, "d", IN_ALL_EVENTS);
	printf("wd %d\n", wd);
	drain("nothing yet");
	int fd = open("d/f", O_CREAT | O_WRONLY, 0644);
	drain("creat");
	write(fd, "x", 1);
	write(fd, "y", 1);
	drain("two writes merge");
	int wf = inotify_add_watch(in, "d/f", IN_ALL_EVENTS);
	printf("wf %d\n", wf);
	write(fd, "z", 1);
	drain("write with a file watch");
	close(fd);
	drain("close");
	char b[16];
	fd = open("d/f", O_RDONLY);
	read(fd, b, 1);
	pread(fd, b, 1, 0);
	read(fd, b, sizeof b); // the rest
	read(fd, b, sizeof b); // at the end: nothing read, no event
	close(fd);
	drain("open, read, close");
	fd = open("d/f", O_WRONLY | O_TRUNC);
	close(fd);
	drain("open O_TRUNC");
	chmod("d/f", 0600);
	drain("chmod");
	R(chown("d/f", 7, 7));
	drain("chown");
	utimensat(AT_FDCWD, "d/f", NULL, 0);
	drain("utimensat now");
	struct timespec ts[2] = {{1, 0}, {0, UTIME_OMIT}};
	utimensat(AT_FDCWD, "d/f", ts, 0);
	drain("utimensat atime only");
	ts[0].tv_nsec = UTIME_OMIT;
	ts[1] = (struct timespec){2, 0};
	utimensat(AT_FDCWD, "d/f", ts, 0);
	drain("utimensat mtime only");
	R(setxattr("d/f", "user.x", "1", 1, 0));
	R(removexattr("d/f", "user.x"));
	drain("xattrs");
	truncate("d/f", 3);
	drain("truncate");
	fd = open("d/f", O_RDWR);
	R(fallocate(fd, 0, 0, 100));
	R(ftruncate(fd, 5));
	close(fd);
	drain("fallocate, ftruncate");
	link("d/f", "d/g");
	drain("link");
	rename("d/g", "d/h");
	drain("rename");
	mkdir("d/s", 0755);
	drain("mkdir");
	int ws = inotify_add_watch(in, "d/s", IN_ALL_EVENTS);
	printf("ws %d\n", ws);
	rename("d/h", "d/s/h");
	drain("rename into a watched subdirectory");
	DIR *dir = opendir("d/s");
	while (readdir(dir))
		;
	closedir(dir);
	drain("list the subdirectory");
	unlink("d/s/h");
	drain("unlink h (f keeps a name)");
	close(open("d/t", O_CREAT | O_WRONLY, 0644));
	int wt = inotify_add_watch(in, "d/t", IN_ALL_EVENTS);
	printf("wt %d\n", wt);
	drain("make t");
	rename("d/f", "d/t");
	drain("rename f over the watched t");
	R(syscall(SYS_renameat2, AT_FDCWD, "d/t", AT_FDCWD, "d/s", 2 /* RENAME_EXCHANGE */));
	drain("exchange t and s");
	R(syscall(SYS_renameat2, AT_FDCWD, "d/t", AT_FDCWD, "d/s", 2));
	drain("exchange back");
	fd = open("d/t", O_RDONLY);
	unlink("d/t");
	drain("unlink t while open");
	close(fd);
	drain("close t");
	rmdir("d/s");
	drain("rmdir the watched s");
	symlink("x", "d/l");
	mknod("d/p", S_IFIFO | 0644, 0);
	drain("symlink, mkfifo");
	R(inotify_add_watch(in, "d/l", IN_ALL_EVENTS | IN_DONT_FOLLOW));
	R(inotify_add_watch(in, "d/l", IN_ALL_EVENTS));
	unlink("d/l");
	unlink("d/p");
	drain("unlink l, p");
}

static void flags(void) {
	close(open("d/o", O_CREAT | O_WRONLY, 0644));
	drain("make o");
	int wo = inotify_add_watch(in, "d/o", IN_MODIFY | IN_ONESHOT);
	printf("wo %d\n", wo);
	int fd = open("d/o", O_WRONLY);
	write(fd, "a", 1);
	write(fd, "b", 1);
	close(fd);
	drain("IN_ONESHOT");
	R(inotify_add_watch(in, "d/o", IN_ATTRIB));
	R(inotify_add_watch(in, "d/o", IN_MODIFY | IN_MASK_ADD));
	chmod("d/o", 0640);
	fd = open("d/o", O_WRONLY);
	write(fd, "c", 1);
	close(fd);
	drain("IN_MASK_ADD");
	R(inotify_add_watch(in, "d/o", IN_CLOSE_WRITE));
	fd = open("d/o", O_WRONLY);
	write(fd, "c", 1);
	close(fd);
	drain("mask replaced");
	R(inotify_add_watch(in, "d/o", IN_MODIFY | IN_MASK_CREATE));
	R(inotify_add_watch(in, "d/o", IN_MODIFY | IN_MASK_CREATE | IN_MASK_ADD));

	int in2 = inotify_init1(IN_NONBLOCK);
	int w2 = inotify_add_watch(in2, "d", IN_MODIFY | IN_CLOSE | IN_EXCL_UNLINK);
	printf("w2 %d\n", w2);
	fd = open("d/o", O_WRONLY);
	unlink("d/o");
	write(fd, "z", 1);
	close(fd);
	int saved = in;
	in = in2;
	drain("IN_EXCL_UNLINK");
	in = saved;
	drain("the first instance");
	close(in2);

	R(inotify_rm_watch(in, 1));
	drain("rm_watch");
	R(inotify_rm_watch(in, 1));
	R(inotify_rm_watch(in, 999));
	R(inotify_rm_watch(0, 1));
	R(inotify_rm_watch(-1, 1));
}

static void errors(void) {
	close(open("d/e", O_CREAT | O_WRONLY, 0644));
	R(inotify_add_watch(in, "d/e", 0));
	R(inotify_add_watch(in, "d/e", IN_ONESHOT));
	R(inotify_add_watch(in, "d/e", 0x1000 | IN_MODIFY));
	R(inotify_add_watch(in, "d/none", IN_ALL_EVENTS));
	R(inotify_add_watch(in, "d/e", IN_ALL_EVENTS | IN_ONLYDIR));
	R(inotify_add_watch(in, "d", IN_ALL_EVENTS | IN_ONLYDIR) > 0);
	R(inotify_add_watch(0, "d/e", IN_MODIFY));
	R(inotify_add_watch(-1, "d/e", IN_MODIFY));
	R(inotify_add_watch(in, (char *)8, IN_MODIFY));
	R(inotify_add_watch(in, "", IN_MODIFY));
	R(inotify_init1(IN_CLOEXEC | IN_NONBLOCK) > 0);
	R(inotify_init1(1));
	int i3 = syscall(SYS_inotify_init);
	R(fcntl(i3, F_GETFL) & (O_ACCMODE | O_NONBLOCK));
	R(fcntl(in, F_GETFL) & (O_ACCMODE | O_NONBLOCK));
	char b2[8];
	R(read(in, b2, 8));
	R(read(in, b2, 0));
	int fd = open("d/e", O_WRONLY);
	close(fd);
	R(read(in, b2, 8));
	R(read(in, b2, 0));
	R(write(in, "x", 1));
	R(lseek(in, 0, SEEK_SET));
	struct pollfd p = {in, POLLIN | POLLOUT, 0};
	R(poll(&p, 1, 0));
	printf("revents %#x\n", p.revents);
	drain("pending");
	R(poll(&p, 1, 0));
	char link[64] = {0};
	char path[32];
	snprintf(path, sizeof path, "/proc/self/fd/%d", in);
	readlink(path, link, sizeof link - 1);
	printf("fd link %s\n", link);
	struct stat st;
	R(fstat(in, &st));
	printf("mode %o\n", st.st_mode & 07777);
	// A user may not watch what it may not read.
	close(open("d/secret", O_CREAT | O_WRONLY, 0600));
	pid_t c = fork();
	if (c == 0) {
		setresuid(1000, 1000, 1000);
		R(inotify_add_watch(in, "d/secret", IN_ALL_EVENTS));
		fflush(stdout);
		_exit(0);
	}
	waitpid(c, NULL, 0);
}

// overflow fills the queue: 16384 events, then one IN_Q_OVERFLOW.
static void overflow(void) {
	int i4 = inotify_init1(IN_NONBLOCK);
	mkdir("d/q", 0755);
	inotify_add_watch(i4, "d/q", IN_MODIFY);
	int a = open("d/q/a", O_CREAT | O_WRONLY, 0644), b = open("d/q/b", O_CREAT | O_WRONLY, 0644);
	for (int i = 0; i < 8200; i++) {
		write(a, "a", 1);
		write(b, "b", 1);
	}
	int avail = 0;
	ioctl(i4, FIONREAD, &avail);
	printf("overflow: FIONREAD %d\n", avail);
	static char buf[32 * 16400] __attribute__((aligned(8)));
	long n = read(i4, buf, sizeof buf), events = 0;
	for (long off = 0; off < n; events++) {
		const struct inotify_event *e = (const void *)(buf + off);
		if (e->mask & IN_Q_OVERFLOW)
			printf("overflow: event %ld wd %d mask %#x len %u\n", events, e->wd, e->mask, e->len);
		off += sizeof *e + e->len;
	}
	printf("overflow: %ld events, %ld bytes\n", events, n);
	close(a);
	close(b);
	close(i4);
}

// waits blocks in read, poll and epoll_wait until another process
// changes a file.
static void waits(void) {
	int i5 = inotify_init();
	close(open("d/w", O_CREAT | O_WRONLY, 0644));
	R(inotify_add_watch(i5, "d/w", IN_MODIFY));
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN};
	R(epoll_ctl(ep, EPOLL_CTL_ADD, i5, &ev));
	pid_t c = fork();
	if (c == 0) {
		for (int i = 0; i < 3; i++) {
			struct timespec t = {0, 50000000};
			nanosleep(&t, NULL);
			int fd = open("d/w", O_WRONLY);
			write(fd, "w", 1);
			close(fd);
		}
		_exit(0);
	}
	char buf[256] __attribute__((aligned(8)));
	R(read(i5, buf, sizeof buf));
	show(buf, 16);
	struct pollfd p = {i5, POLLIN, 0};
	R(poll(&p, 1, -1));
	R(read(i5, buf, sizeof buf));
	R(epoll_wait(ep, &ev, 1, -1));
	R(read(i5, buf, sizeof buf));
	waitpid(c, NULL, 0);
	R(epoll_wait(ep, &ev, 1, 0));
	close(ep);
	close(i5);
}

int main(int argc, char **argv) {
	if (argc < 2 || chdir(argv[1]) < 0) {
		fprintf(stderr, "usage: inotify DIR\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	events();
	flags();
	errors();
	overflow();
	waits();
	printf("inotify: done\n");
	return 0;
}
