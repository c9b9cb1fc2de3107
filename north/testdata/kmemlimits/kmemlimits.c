// kmemlimits: the bounds Linux puts on kernel objects a program can make,
// each in a child process so that one's limits do not touch the next.
// Files in flight on AF_UNIX sockets (net/unix/garbage.c: a socket sent
// over itself, or two over each other, then closed, is collected with
// what its queue holds; too_many_unix_fds: ETOOMANYREFS past the
// sender's RLIMIT_NOFILE without CAP_SYS_RESOURCE; files sent with a lone
// MSG_OOB byte are released when the stream goes). Tasks of a user past
// RLIMIT_NPROC (kernel/fork.c copy_process: EAGAIN for a fork or a
// thread, root exempt). A user's inotify instances past
// max_user_instances are EMFILE. Run as root.
// Usage: kmemlimits [scratch-dir]
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *en(int e) {
	switch (e) {
	case 0: return "0";
	case EPERM: return "EPERM";
	case EINVAL: return "EINVAL";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EMFILE: return "EMFILE";
	case ENOBUFS: return "ENOBUFS";
	case ETOOMANYREFS: return "ETOOMANYREFS";
	case ELOOP: return "ELOOP";
	case E2BIG: return "E2BIG";
	}
	static char b[32];
	snprintf(b, sizeof b, "errno %d", e);
	return b;
}

// sendfds sends one byte with n descriptors: 0 or the errno.
static int sendfds(int s, const int *fds, int n) {
	char buf[CMSG_SPACE(sizeof(int) * 8)];
	char c = 'x';
	struct iovec iov = {&c, 1};
	struct msghdr m = {0};
	memset(buf, 0, sizeof buf);
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = buf;
	m.msg_controllen = CMSG_SPACE(sizeof(int) * n);
	struct cmsghdr *h = CMSG_FIRSTHDR(&m);
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN(sizeof(int) * n);
	memcpy(CMSG_DATA(h), fds, sizeof(int) * n);
	return sendmsg(s, &m, 0) < 0 ? errno : 0;
}

// recvfds receives one message into fds (up to 8): how many came, or -1.
static int recvfds(int s, int *fds) {
	char buf[CMSG_SPACE(sizeof(int) * 8)], c;
	struct iovec iov = {&c, 1};
	struct msghdr m = {0};
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = buf;
	m.msg_controllen = sizeof buf;
	if (recvmsg(s, &m, 0) < 0)
		return -1;
	struct cmsghdr *h = CMSG_FIRSTHDR(&m);
	if (!h)
		return 0;
	int n = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
	memcpy(fds, CMSG_DATA(h), n * sizeof(int));
	return n;
}

// hup says whether the read end r sees its writer gone within ms.
static const char *hup(int r, int ms) {
	struct pollfd p = {r, POLLIN, 0};
	int n = poll(&p, 1, ms);
	if (n < 0)
		return en(errno);
	return n == 0 ? "open" : (p.revents & POLLHUP) ? "hup" : "readable";
}

// closeAll closes every descriptor above stderr.
static void closeAll(void) {
	for (int fd = 3; fd < 1024; fd++)
		close(fd);
}

// release closes a new socket pair: Linux collects the garbage when an
// AF_UNIX socket is released.
static void release(void) {
	int t[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, t);
	close(t[0]);
	close(t[1]);
}

// gcSelf: a socket sent over itself with a pipe's write end, then closed.
static void gcSelf(void) {
	int p[2], s[2];
	pipe(p);
	socketpair(AF_UNIX, SOCK_STREAM, 0, s);
	int f[2] = {s[1], p[1]};
	int e = sendfds(s[0], f, 2);
	close(s[1]);
	close(s[0]);
	close(p[1]);
	printf("gc self: send %s, writer %s\n", en(e), hup(p[0], 10000));
	close(p[0]);
}

// gcPair: two sockets each in the other's queue, then closed.
static void gcPair(void) {
	int p[2], a[2], b[2];
	pipe(p);
	socketpair(AF_UNIX, SOCK_STREAM, 0, a);
	socketpair(AF_UNIX, SOCK_DGRAM, 0, b);
	int fa[2] = {a[1], p[1]};
	int e1 = sendfds(b[0], fa, 2); // a[1] waits at b[1]
	int e2 = sendfds(a[0], &b[1], 1); // b[1] waits at a[1]
	close(a[0]), close(a[1]), close(b[0]), close(b[1]), close(p[1]);
	release();
	printf("gc pair: send %s %s, writer %s\n", en(e1), en(e2), hup(p[0], 10000));
	close(p[0]);
}

// gcListener: a listening socket in the queue of a connection waiting
// on it, then closed.
static void gcListener(const char *dir) {
	int p[2];
	pipe(p);
	struct sockaddr_un a = {AF_UNIX};
	snprintf(a.sun_path, sizeof a.sun_path, "%s/kmem.sock", dir);
	unlink(a.sun_path);
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	bind(l, (struct sockaddr *)&a, sizeof a);
	listen(l, 4);
	int c = socket(AF_UNIX, SOCK_STREAM, 0);
	int e0 = connect(c, (struct sockaddr *)&a, sizeof a) ? errno : 0;
	int f[2] = {l, p[1]};
	int e = sendfds(c, f, 2); // waits at the connection not yet accepted
	close(l), close(p[1]), close(c);
	unlink(a.sun_path);
	release();
	printf("gc listener: connect %s, send %s, writer %s\n", en(e0), en(e), hup(p[0], 10000));
	close(p[0]);
}

// gcReachable: a socket in flight whose carrier is open is no garbage.
static void gcReachable(void) {
	int p[2], s[2], t[2], got[8];
	pipe(p);
	socketpair(AF_UNIX, SOCK_STREAM, 0, s);
	socketpair(AF_UNIX, SOCK_STREAM, 0, t);
	int f[2] = {t[1], p[1]};
	int e = sendfds(t[0], f, 2); // t[1] and the pipe wait at t[1]
	int e2 = sendfds(s[0], &t[1], 1); // t[1] waits at s[1] too
	close(t[0]), close(t[1]), close(p[1]);
	release();
	printf("gc reachable: send %s %s, writer %s\n", en(e), en(e2), hup(p[0], 0));
	int n = recvfds(s[1], got);
	int m = n == 1 ? recvfds(got[0], got + 1) : -1;
	printf("gc reachable: received %d, then %d\n", n, m);
	if (m == 2) {
		close(got[0]), close(got[1]), close(got[2]);
		printf("gc reachable: all closed, writer %s\n", hup(p[0], 10000));
	}
	close(p[0]), close(s[0]), close(s[1]);
}

// gcLoop makes many self-referencing sockets, each holding 128 KiB:
// more than a small machine's memory unless they are collected.
static void gcLoop(void) {
	static char big[65536];
	int i, e = 0;
	for (i = 0; i < 2000 && !e; i++) {
		int s[2];
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, s) < 0) {
			e = errno;
			break;
		}
		for (int k = 0; k < 2 && !e; k++)
			if (write(s[0], big, sizeof big) != sizeof big)
				e = errno;
		if (!e)
			e = sendfds(s[0], &s[1], 1);
		close(s[1]);
		close(s[0]);
	}
	printf("gc loop: %d cycles, %s\n", i, en(e));
}

// oobRights: files sent with a lone MSG_OOB byte, the stream then read
// past them and closed, are released.
static void oobRights(void) {
	int p[2], s[2];
	char c;
	pipe(p);
	socketpair(AF_UNIX, SOCK_STREAM, 0, s);
	write(s[0], "A", 1);
	char buf[CMSG_SPACE(sizeof(int))];
	memset(buf, 0, sizeof buf);
	struct iovec iov = {"B", 1};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = buf, .msg_controllen = sizeof buf};
	struct cmsghdr *h = CMSG_FIRSTHDR(&m);
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(h), &p[1], sizeof(int));
	int e = sendmsg(s[0], &m, MSG_OOB) < 0 ? errno : 0;
	close(p[1]);
	ssize_t n = recv(s[1], &c, 1, 0);
	close(s[0]), close(s[1]);
	printf("oob rights: send %s, read %zd, writer %s\n", en(e), n, hup(p[0], 10000));
}

// inflight: an unprivileged user's files in flight past RLIMIT_NOFILE.
static void inflight(void) {
	struct rlimit rl = {10, 10};
	setrlimit(RLIMIT_NOFILE, &rl);
	int s[2], got[8];
	socketpair(AF_UNIX, SOCK_STREAM, 0, s);
	int p[2];
	pipe(p);
	int f[3] = {p[0], p[1], p[0]};
	int i, e = 0;
	for (i = 0; i < 20 && !e; i++)
		e = sendfds(s[0], f, 3);
	printf("inflight root: %d sends of 3 files, %s\n", i, en(e));
	if (setresuid(54321, 54321, 54321)) {
		printf("inflight: setresuid: %s\n", en(errno));
		return;
	}
	e = sendfds(s[0], f, 3);
	printf("inflight user: sends over the root's %s\n", en(e));
	close(s[0]), close(s[1]);
	socketpair(AF_UNIX, SOCK_STREAM, 0, s);
	for (i = 0; i < 20 && !e; i++)
		e = sendfds(s[0], f, 3);
	printf("inflight user: %d sends of 3 files, %s\n", i, en(e));
	int n = recvfds(s[1], got);
	for (int k = 0; k < n; k++)
		close(got[k]);
	int e1 = sendfds(s[0], f, 3);
	int e2 = sendfds(s[0], f, 3);
	printf("inflight user: received %d, send %s, send %s\n", n, en(e1), en(e2));
	close(s[0]), close(s[1]);
	socketpair(AF_UNIX, SOCK_STREAM, 0, s);
	printf("inflight user: queues closed, send %s\n", en(sendfds(s[0], f, 3)));
}

static void *sleeper(void *arg) {
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

// nproc: forks and threads of a user past RLIMIT_NPROC.
static void nproc(void) {
	// Soft limits only: raising a hard one needs CAP_SYS_RESOURCE,
	// which a container's root may lack.
	struct rlimit rl;
	getrlimit(RLIMIT_NPROC, &rl);
	rl.rlim_cur = 1;
	setrlimit(RLIMIT_NPROC, &rl);
	pid_t c = fork();
	if (c == 0)
		_exit(0);
	printf("nproc root, limit 1: fork %s\n", c < 0 ? en(errno) : "ok");
	waitpid(c, NULL, 0);
	rl.rlim_cur = 5;
	if (setrlimit(RLIMIT_NPROC, &rl))
		printf("nproc: setrlimit: %s\n", en(errno));
	if (setresuid(54323, 54323, 54323)) {
		printf("nproc: setresuid: %s\n", en(errno));
		return;
	}
	pid_t kids[20];
	int i, e = 0;
	for (i = 0; i < 20; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			pause();
			_exit(0);
		}
		if (kids[i] < 0) {
			e = errno;
			break;
		}
	}
	printf("nproc user, limit 5: %d forks, then %s\n", i, en(e));
	kill(kids[0], SIGKILL);
	waitpid(kids[0], NULL, 0);
	c = fork();
	if (c == 0)
		_exit(0);
	printf("nproc user: one reaped, fork %s\n", c < 0 ? en(errno) : "ok");
	if (c > 0)
		waitpid(c, NULL, 0);
	for (int k = 1; k < i; k++) {
		kill(kids[k], SIGKILL);
		waitpid(kids[k], NULL, 0);
	}
	pthread_t th;
	for (i = 0; i < 20; i++)
		if ((e = pthread_create(&th, NULL, sleeper, NULL)))
			break;
	printf("nproc user: %d threads, then %s\n", i, en(e));
}

// inotifyInstances: a user's inotify instances past max_user_instances
// (128) are EMFILE; closing one makes room.
static void inotifyInstances(void) {
	if (setresuid(54324, 54324, 54324)) {
		printf("inotify: setresuid: %s\n", en(errno));
		return;
	}
	int i, e = 0, first = -1;
	for (i = 0; i < 200; i++) {
		int fd = inotify_init1(0);
		if (fd < 0) {
			e = errno;
			break;
		}
		if (first < 0)
			first = fd;
	}
	close(first);
	int again = inotify_init1(0);
	printf("inotify: %d instances, then %s; one closed, another %s\n", i, en(e), again < 0 ? en(errno) : "ok");
}

// child runs f in a child process and waits for it.
static void child(void (*f)(void)) {
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		closeAll();
		f();
		fflush(stdout);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		printf("child status %#x\n", st);
}

static const char *scratch;
static void gcListenerIn(void) { gcListener(scratch); }

int main(int argc, char **argv) {
	scratch = argc > 1 ? argv[1] : "/tmp";
	setvbuf(stdout, NULL, _IOLBF, 0);
	child(gcSelf);
	child(gcPair);
	child(gcListenerIn);
	child(gcReachable);
	child(gcLoop);
	child(oobRights);
	child(inflight);
	child(nproc);
	child(inotifyInstances);
	printf("kmemlimits: done\n");
	return 0;
}
