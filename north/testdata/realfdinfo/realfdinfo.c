// realfdinfo: /proc/PID/fdinfo as programs read it (glibc's
// pidfd_getpid, lsof, systemd, psutil): the offset, the flags with
// O_CLOEXEC from the descriptor, the mount ID and inode (checked against
// statx), and what each kind adds: an eventfd's count, a signalfd's
// mask, a timerfd's setting, an epoll instance's watches, a pidfd's
// process. Numbers that belong to the machine (inodes, mount and
// eventfd IDs, pids) print as checks. Compared line for line with a
// native run; the argument is a scratch directory.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pid_t child;

// watched are the files the inotify instance watches, by name.
static struct {
	const char *name;
	struct stat st;
} watched[2];

// slurp reads path into buf (NUL-terminated) and returns its length, or
// -errno.
static int slurp(const char *path, char *buf, int size) {
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	int n = 0, k;
	while (n < size - 1 && (k = read(fd, buf + n, size - 1 - n)) > 0)
		n += k;
	close(fd);
	buf[n] = 0;
	return n;
}

// show prints /proc/PID/fdinfo/FD of process pid (0: self), line by
// line, with the machine's numbers replaced by checks.
static void show(const char *what, pid_t pid, int fd) {
	char path[64], buf[4096];
	if (pid)
		snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", pid, fd);
	else
		snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
	int n = slurp(path, buf, sizeof buf);
	if (n < 0) {
		printf("%s: %s\n", what, strerror(-n));
		return;
	}
	struct statx sx = {0};
	int have = pid == 0 && statx(fd, "", AT_EMPTY_PATH, STATX_INO | STATX_MNT_ID, &sx) == 0;
	printf("%s:\n", what);
	for (char *l = strtok(buf, "\n"); l; l = strtok(0, "\n")) {
		long long v;
		int tfd;
		unsigned events, sdev;
		unsigned long long data, ino;
		long long pos;
		if (sscanf(l, "mnt_id: %lld", &v) == 1)
			printf("  mnt_id: statx's %d\n", have && (unsigned long long)v == sx.stx_mnt_id);
		else if (sscanf(l, "ino: %lld", &v) == 1)
			printf("  ino: statx's %d\n", have && (unsigned long long)v == sx.stx_ino);
		else if (sscanf(l, "eventfd-id: %lld", &v) == 1)
			printf("  eventfd-id: >= 0 %d\n", v >= 0);
		else if (sscanf(l, "Pid: %lld", &v) == 1 || sscanf(l, "NSpid: %lld", &v) == 1)
			printf("  %.*s %s\n", (int)strcspn(l, "\t") + 1, l, v == child ? "the child's" : v == -1 ? "-1" : "another");
		else if (sscanf(l, "tfd: %d events: %x data: %llx pos:%lld ino:%llx sdev:%x", &tfd, &events, &data, &pos, &ino, &sdev) == 6) {
			struct stat st;
			fstat(tfd, &st);
			printf("  tfd: %8d events: %8x data: %16llx  pos:%lld ino: fstat's %d sdev: fstat's %d\n", tfd, events, data, pos,
			       ino == st.st_ino, sdev == (major(st.st_dev) << 20 | minor(st.st_dev)));
		} else if (sscanf(l, "inotify wd:%x ino:%llx sdev:%x mask:%x", &tfd, &ino, &sdev, &events) == 4) {
			// Linux adds a file handle where it has them
			// (CONFIG_EXPORTFS): not compared.
			const char *name = "unknown";
			for (int i = 0; i < 2; i++)
				if (watched[i].name && ino == watched[i].st.st_ino &&
				    sdev == (major(watched[i].st.st_dev) << 20 | minor(watched[i].st.st_dev)))
					name = watched[i].name;
			printf("  inotify wd:%x mask:%x ino and sdev: %s's\n", tfd, events, name);
		} else if (strncmp(l, "it_value:", 9) == 0)
			printf("  it_value: %s\n", strcmp(l, "it_value: (0, 0)") == 0 ? "(0, 0)" : "running");
		else
			printf("  %s\n", l);
	}
}

// names lists directory path, sorted numerically, as one line.
static void names(const char *path) {
	DIR *d = opendir(path);
	int fds[256], n = 0;
	struct dirent *e;
	while (d && (e = readdir(d)) && n < 256)
		if (e->d_name[0] != '.')
			fds[n++] = atoi(e->d_name);
	int self = d ? dirfd(d) : -1;
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (fds[j] < fds[i]) {
				int t = fds[i];
				fds[i] = fds[j];
				fds[j] = t;
			}
	printf("%s:", path);
	for (int i = 0; i < n && fds[i] < 100; i++)
		if (fds[i] != self)
			printf(" %d", fds[i]);
	printf("\n");
	if (d)
		closedir(d);
}

int main(int argc, char **argv) {
	setvbuf(stdout, 0, _IOLBF, 0);
	if (argc < 2) {
		printf("FAIL: usage: realfdinfo DIR\n");
		return 1;
	}
	// Descriptors from 3 up, whatever the caller left open.
	for (int fd = 3; fd < 1024; fd++)
		close(fd);
	char path[256];
	snprintf(path, sizeof path, "%s/f", argv[1]);
	int f = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	write(f, "hello", 5);
	show("O_RDWR|O_APPEND|O_CLOEXEC after 5 bytes", 0, f);
	lseek(f, 2, SEEK_SET);
	show("after lseek 2", 0, f);
	int d = dup(f);
	show("its dup", 0, d);
	int r = open(path, O_RDONLY | O_NONBLOCK | O_NOATIME);
	show("O_RDONLY|O_NONBLOCK|O_NOATIME", 0, r);
	int p = open(path, O_PATH | O_NOFOLLOW);
	show("O_PATH|O_NOFOLLOW", 0, p);
	int dir = open(argv[1], O_RDONLY | O_DIRECTORY);
	show("a directory", 0, dir);
	int null = open("/dev/null", O_WRONLY | O_SYNC);
	show("/dev/null O_WRONLY|O_SYNC", 0, null);
	int pp[2];
	pipe2(pp, O_NONBLOCK | O_CLOEXEC);
	show("pipe read end", 0, pp[0]);
	show("pipe write end", 0, pp[1]);
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
	show("a socket", 0, sv[0]);
	// Two descriptors in flight to sv[1] (scm_fds).
	char cbuf[CMSG_SPACE(2 * sizeof(int))] = {0};
	struct iovec iov = {"x", 1};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(2 * sizeof(int));
	memcpy(CMSG_DATA(cm), (int[]){f, r}, 2 * sizeof(int));
	sendmsg(sv[0], &msg, 0);
	show("its peer with two descriptors in flight", 0, sv[1]);
	int mfd = memfd_create("m", MFD_CLOEXEC);
	show("a memfd", 0, mfd);
	names("/proc/self/fd");
	names("/proc/self/fdinfo");
	struct stat st;
	stat("/proc/self/fd", &st);
	printf("fd dir mode %o, ", st.st_mode & 07777);
	stat("/proc/self/fdinfo", &st);
	printf("fdinfo dir mode %o, ", st.st_mode & 07777);
	snprintf(path, sizeof path, "/proc/self/fdinfo/%d", f);
	stat(path, &st);
	printf("fdinfo file mode %o\n", st.st_mode & 0777777);
	show("a closed descriptor", 0, 200);
	close(d), close(r), close(p), close(dir), close(null), close(pp[0]), close(pp[1]), close(sv[0]), close(sv[1]), close(mfd);

	int e = eventfd(7, EFD_SEMAPHORE | EFD_NONBLOCK);
	show("eventfd 7, semaphore", 0, e);
	uint64_t one;
	read(e, &one, 8);
	show("after a read", 0, e);

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGRTMIN + 2);
	int s = signalfd(-1, &set, SFD_CLOEXEC);
	show("signalfd USR1 TERM RTMIN+2", 0, s);

	int t = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	show("timerfd disarmed", 0, t);
	struct itimerspec its = {.it_interval = {2, 500}, .it_value = {100, 0}};
	timerfd_settime(t, 0, &its, 0);
	show("timerfd 100 s, every 2.0000005 s", 0, t);
	int ta = timerfd_create(CLOCK_REALTIME, 0);
	struct itimerspec abs = {.it_value = {time(0) + 100000, 0}};
	timerfd_settime(ta, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &abs, 0);
	show("timerfd absolute, cancel on set", 0, ta);
	struct itimerspec soon = {.it_value = {0, 1000}};
	timerfd_settime(t, 0, &soon, 0);
	struct pollfd pf = {t, POLLIN, 0};
	poll(&pf, 1, -1);
	show("timerfd expired once", 0, t);

	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.u64 = 0x1234};
	epoll_ctl(ep, EPOLL_CTL_ADD, e, &ev);
	show("epoll watching the eventfd", 0, ep);
	struct epoll_event ev2 = {.events = EPOLLOUT | EPOLLONESHOT, .data.u64 = ~0ull};
	epoll_ctl(ep, EPOLL_CTL_ADD, f, &ev2);
	ev2.events = EPOLLIN | EPOLLRDHUP;
	epoll_ctl(ep, EPOLL_CTL_MOD, f, &ev2);
	show("and the file, modified", 0, ep);

	int in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	watched[0].name = "the directory";
	stat(argv[1], &watched[0].st);
	inotify_add_watch(in, argv[1], IN_CREATE | IN_DELETE | IN_ONLYDIR);
	snprintf(path, sizeof path, "%s/f", argv[1]);
	watched[1].name = "the file";
	stat(path, &watched[1].st);
	inotify_add_watch(in, path, IN_MODIFY | IN_ONESHOT | IN_EXCL_UNLINK);
	show("inotify watching a directory and a file", 0, in);
	inotify_add_watch(in, argv[1], IN_ATTRIB | IN_MASK_ADD);
	show("the directory's watch widened", 0, in);

	int go[2], ready[2];
	pipe(go);
	pipe(ready);
	child = fork();
	if (child == 0) {
		char c;
		lseek(f, 4, SEEK_SET);
		write(ready[1], "r", 1);
		read(go[0], &c, 1);
		_exit(0);
	}
	char c;
	read(ready[0], &c, 1);
	int pfd = syscall(SYS_pidfd_open, child, 0);
	show("pidfd of a running child", 0, pfd);
	// The child's own descriptor, read by its parent.
	show("the child's file, from the parent", child, f);
	write(go[1], "x", 1);
	siginfo_t si;
	waitid(P_PID, child, &si, WEXITED | WNOWAIT);
	show("pidfd of a zombie", 0, pfd);
	waitpid(child, 0, 0);
	show("pidfd of a reaped child", 0, pfd);
	// Another user may not read them (PTRACE_MODE_READ), nor list
	// /proc/PID/fd (mode 0500); /proc/PID/fdinfo it may list.
	pid_t parent = getpid();
	pid_t other = fork();
	if (other == 0) {
		if (setgid(65534) < 0 || setuid(65534) < 0) {
			printf("FAIL setuid: %s\n", strerror(errno));
			_exit(1);
		}
		snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", parent, f);
		int r = open(path, O_RDONLY);
		printf("another user's fdinfo: %s\n", r < 0 ? strerror(errno) : "opened");
		snprintf(path, sizeof path, "/proc/%d/fd", parent);
		DIR *d = opendir(path);
		printf("another user's fd directory: %s\n", d ? "opened" : strerror(errno));
		snprintf(path, sizeof path, "/proc/%d/fdinfo", parent);
		d = opendir(path);
		printf("another user's fdinfo directory: %s\n", d ? "opened" : strerror(errno));
		_exit(0);
	}
	waitpid(other, 0, 0);
	printf("realfdinfo: done\n");
	return 0;
}
