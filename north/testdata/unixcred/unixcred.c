// unixcred: AF_UNIX credentials and control messages — whose
// credentials data written by write(2), sendfile(2) and splice(2) carries,
// messages sent while no side asked for credentials, how a stream read
// glues writers, MSG_PEEK, SO_PASSCRED's autobind and the truncation of
// received control messages — built with gcc -static and run natively and
// inside Cocoon (north/unixcred_vm_test.go): both runs must print the
// same lines. It prints outcomes, never pids, names or descriptor numbers.
// Usage: unixcred DIR (a scratch directory).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

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
		E(EPERM) E(EACCES) E(ENOENT) E(EBADF) E(EAGAIN) E(EFAULT) E(EINVAL) E(EPIPE) E(ENOTCONN)
		E(EOPNOTSUPP) E(ECONNREFUSED) E(EISCONN) E(EMSGSIZE) E(ECONNRESET) E(ENOPROTOOPT) E(ENODATA) E(ERANGE)
#undef E
	}
	snprintf(buf, sizeof buf, "errno %d", errno);
	return buf;
}

static void show(const char *what, long r) { printf("%s: %s\n", what, res(r)); }

static pid_t child;

static const char *who(pid_t p) {
	return p == 0 ? "0" : p == getpid() ? "self" : p == child ? "child" : "other";
}

// openFds counts the open descriptors below 1024.
static int openFds(void) {
	int n = 0;
	for (int fd = 0; fd < 1024; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}

// recvShow receives up to n bytes from fd with flags and a control
// buffer of room bytes (none if room is 0) and prints what came: the
// bytes, each control message, the flags, the control length and how
// many descriptors the receive opened. Received descriptors are closed.
static void recvShow(const char *what, int fd, size_t n, int flags, size_t room) {
	static union {
		char b[1024];
		struct cmsghdr align;
	} c;
	char data[256] = {0};
	struct iovec iov = {data, n};
	memset(&c, 0, sizeof c);
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = room ? c.b : NULL, .msg_controllen = room};
	int before = openFds();
	long r = recvmsg(fd, &m, flags | MSG_DONTWAIT);
	if (r < 0) {
		show(what, r);
		return;
	}
	int opened = openFds() - before;
	printf("%s: %ld \"%.*s\"", what, r, (int)(r < (long)n ? r : (long)n), data);
	for (struct cmsghdr *k = CMSG_FIRSTHDR(&m); k; k = CMSG_NXTHDR(&m, k)) {
		if (k->cmsg_level == SOL_SOCKET && k->cmsg_type == SCM_CREDENTIALS) {
			struct ucred u = {0, 0, 0};
			size_t l = k->cmsg_len > CMSG_LEN(0) ? k->cmsg_len - CMSG_LEN(0) : 0;
			memcpy(&u, CMSG_DATA(k), l < sizeof u ? l : sizeof u);
			printf(" creds(len %zu) %s/%d/%d", (size_t)k->cmsg_len, who(u.pid), u.uid, u.gid);
		} else if (k->cmsg_level == SOL_SOCKET && k->cmsg_type == SCM_RIGHTS) {
			int nfd = (k->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			int cloexec = 0;
			for (int i = 0; i < nfd; i++) {
				int f = ((int *)CMSG_DATA(k))[i];
				cloexec += (fcntl(f, F_GETFD) & FD_CLOEXEC) != 0;
				close(f);
			}
			printf(" rights(len %zu) %d, %d cloexec", (size_t)k->cmsg_len, nfd, cloexec);
		} else {
			printf(" cmsg %d/%d len %zu", k->cmsg_level, k->cmsg_type, (size_t)k->cmsg_len);
		}
	}
	printf("%s%s controllen %zu opened %d\n", m.msg_flags & MSG_CTRUNC ? " CTRUNC" : "",
	       m.msg_flags & MSG_TRUNC ? " TRUNC" : "", (size_t)m.msg_controllen, opened);
}

static void passcred(int fd, int on) {
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) < 0)
		show("SO_PASSCRED", -1);
}

// sync is the pair a parent and its child take turns on.
static int syncp[2];

static void step(int fd) {
	char x = 's';
	if (write(fd, &x, 1) != 1 || read(fd, &x, 1) != 1)
		_exit(3);
}

static void waitStep(void) {
	char x;
	if (read(syncp[0], &x, 1) != 1)
		printf("sync: lost the child\n");
}

static void nextStep(void) {
	char x = 'g';
	if (write(syncp[0], &x, 1) != 1)
		printf("sync: lost the child\n");
}

static void reap(void) {
	int st;
	waitpid(child, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		printf("child: status %#x\n", st);
	close(syncp[0]);
	child = 0;
}

static const char *typeName(int type) {
	return type == SOCK_STREAM ? "stream" : type == SOCK_DGRAM ? "dgram" : "seqpacket";
}

// writers: a socket the parent made, written by a child with other user
// and group IDs through write, sendfile and splice; the receiver asks
// for credentials (SO_PASSCRED), which must be the writer's
// (unix_stream_sendmsg, unix_dgram_sendmsg: scm_send and
// maybe_add_creds take current's).
static void writers(const char *dir, int type) {
	char path[600], what[64];
	snprintf(path, sizeof path, "%s/unixcred-data", dir);
	int file = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (file < 0 || write(file, "sendfile", 8) != 8) {
		show("data file", -1);
		return;
	}
	int p[2];
	if (socketpair(AF_UNIX, type, 0, p) < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, syncp) < 0) {
		show("socketpair", -1);
		return;
	}
	passcred(p[1], 1);
	child = fork();
	if (child == 0) {
		close(syncp[0]);
		if (setresgid(2000, 2000, 2000) < 0 || setresuid(1000, 1000, 1000) < 0)
			_exit(2);
		if (write(p[0], "write", 5) != 5)
			_exit(4);
		step(syncp[1]);
		off_t off = 0;
		if (sendfile(p[0], file, &off, 8) != 8)
			_exit(5);
		step(syncp[1]);
		int q[2];
		if (pipe(q) < 0 || write(q[1], "splice", 6) != 6 || splice(q[0], NULL, p[0], NULL, 6, 0) != 6)
			_exit(6);
		step(syncp[1]);
		_exit(0);
	}
	close(syncp[1]);
	const char *ops[] = {"write", "sendfile", "splice"};
	for (int i = 0; i < 3; i++) {
		waitStep();
		snprintf(what, sizeof what, "%s %s by child", typeName(type), ops[i]);
		recvShow(what, p[1], 64, 0, 64);
		nextStep();
	}
	reap();
	close(p[0]);
	close(p[1]);
	close(file);
	unlink(path);
}

// uncredited: what a message sent while neither side had SO_PASSCRED
// carries (no credentials: pid 0, the overflow IDs), and how stream
// reads glue segments of different writers only for a receiver that
// asks for credentials (unix_stream_read_generic: check_creds).
static void uncredited(int type) {
	int p[2];
	char what[64];
	if (socketpair(AF_UNIX, type, 0, p) < 0) {
		show("socketpair", -1);
		return;
	}
	if (write(p[0], "early", 5) != 5)
		show("write early", -1);
	passcred(p[1], 1);
	if (write(p[0], "late", 4) != 4)
		show("write late", -1);
	snprintf(what, sizeof what, "%s sent before SO_PASSCRED", typeName(type));
	recvShow(what, p[1], 64, 0, 64);
	snprintf(what, sizeof what, "%s sent after SO_PASSCRED", typeName(type));
	recvShow(what, p[1], 64, 0, 64);

	// The sender asks for credentials, the receiver not yet.
	passcred(p[1], 0);
	passcred(p[0], 1);
	if (write(p[0], "sender", 6) != 6)
		show("write sender", -1);
	passcred(p[0], 0);
	passcred(p[1], 1);
	snprintf(what, sizeof what, "%s sender's SO_PASSCRED", typeName(type));
	recvShow(what, p[1], 64, 0, 64);

	// Two writers, credited; then read with and without SO_PASSCRED.
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, syncp) < 0)
		return;
	child = fork();
	if (child == 0) {
		close(syncp[0]);
		char x;
		if (read(syncp[1], &x, 1) != 1 || write(p[0], "cd", 2) != 2)
			_exit(4);
		step(syncp[1]);
		if (write(p[0], "gh", 2) != 2)
			_exit(4);
		step(syncp[1]);
		_exit(0);
	}
	close(syncp[1]);
	if (write(p[0], "ab", 2) != 2)
		show("write ab", -1);
	nextStep();
	waitStep();
	snprintf(what, sizeof what, "%s two writers, peek", typeName(type));
	recvShow(what, p[1], 64, MSG_PEEK, 64);
	snprintf(what, sizeof what, "%s two writers, peek 1", typeName(type));
	recvShow(what, p[1], 1, MSG_PEEK, 64);
	snprintf(what, sizeof what, "%s two writers, 1", typeName(type));
	recvShow(what, p[1], 1, 0, 64);
	snprintf(what, sizeof what, "%s two writers, peek rest", typeName(type));
	recvShow(what, p[1], 64, MSG_PEEK, 64);
	passcred(p[1], 0);
	snprintf(what, sizeof what, "%s two writers, no SO_PASSCRED", typeName(type));
	recvShow(what, p[1], 64, 0, 64);
	recvShow(what, p[1], 64, 0, 64);
	passcred(p[1], 1);
	if (write(p[0], "ef", 2) != 2)
		show("write ef", -1);
	nextStep();
	waitStep();
	snprintf(what, sizeof what, "%s two writers, SO_PASSCRED", typeName(type));
	recvShow(what, p[1], 64, 0, 64);
	recvShow(what, p[1], 64, 0, 64);
	nextStep();
	reap();
	close(p[0]);
	close(p[1]);
}

// autobindName says what kind of name a socket has.
static void nameShow(const char *what, struct sockaddr_un *a, socklen_t l) {
	int hex = l == offsetof(struct sockaddr_un, sun_path) + 6 && a->sun_path[0] == 0;
	for (int i = 1; hex && i < 6; i++)
		hex = strchr("0123456789abcdef", a->sun_path[i]) != NULL;
	printf("%s: len %u%s\n", what, (unsigned)l, hex ? ", 5 hex digits" : "");
}

static void sockName(const char *what, int fd, int peer) {
	struct sockaddr_un a;
	socklen_t l = sizeof a;
	memset(&a, 0, sizeof a);
	long r = peer ? getpeername(fd, (struct sockaddr *)&a, &l) : getsockname(fd, (struct sockaddr *)&a, &l);
	if (r < 0) {
		show(what, r);
		return;
	}
	nameShow(what, &a, l);
}

// autobind: a socket with SO_PASSCRED gets a name when it connects or
// sends unbound (unix_stream_connect, unix_dgram_connect,
// unix_dgram_sendmsg: unix_autobind), so its peer can tell who it is.
static void autobind(void) {
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	socklen_t al = offsetof(struct sockaddr_un, sun_path) + 1 +
		       snprintf(a.sun_path + 1, sizeof a.sun_path - 1, "cocoon-unixcred-%d", getpid());
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	if (bind(l, (struct sockaddr *)&a, al) < 0 || listen(l, 4) < 0) {
		show("listen", -1);
		return;
	}
	for (int on = 0; on < 2; on++) {
		int c = socket(AF_UNIX, SOCK_STREAM, 0);
		passcred(c, on);
		show(on ? "stream connect SO_PASSCRED" : "stream connect", connect(c, (struct sockaddr *)&a, al));
		sockName(on ? "stream SO_PASSCRED name" : "stream name", c, 0);
		int s = accept(l, NULL, NULL);
		sockName(on ? "stream SO_PASSCRED accepted's peer" : "stream accepted's peer", s, 1);
		int v = -1;
		socklen_t vl = sizeof v;
		getsockopt(s, SOL_SOCKET, SO_PASSCRED, &v, &vl);
		printf("accepted SO_PASSCRED: %d\n", v);
		close(s);
		close(c);
	}
	// The listener's SO_PASSCRED after the connect, before the accept.
	int c = socket(AF_UNIX, SOCK_STREAM, 0);
	show("stream connect, then SO_PASSCRED on the listener", connect(c, (struct sockaddr *)&a, al));
	passcred(l, 1);
	int s = accept(l, NULL, NULL);
	int v = -1;
	socklen_t vl = sizeof v;
	getsockopt(s, SOL_SOCKET, SO_PASSCRED, &v, &vl);
	printf("accepted SO_PASSCRED: %d\n", v);
	close(s);
	close(c);
	// The listener's SO_PASSCRED before the connect.
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	show("stream connect to a listener with SO_PASSCRED", connect(c, (struct sockaddr *)&a, al));
	passcred(l, 0);
	s = accept(l, NULL, NULL);
	getsockopt(s, SOL_SOCKET, SO_PASSCRED, &v, &vl);
	printf("accepted SO_PASSCRED: %d\n", v);
	close(s);
	close(c);
	close(l);

	int srv = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (bind(srv, (struct sockaddr *)&a, al) < 0) {
		show("dgram bind", -1);
		return;
	}
	for (int on = 0; on < 2; on++) {
		int d = socket(AF_UNIX, SOCK_DGRAM, 0);
		passcred(d, on);
		show(on ? "dgram sendto SO_PASSCRED" : "dgram sendto", sendto(d, "x", 1, 0, (struct sockaddr *)&a, al));
		sockName(on ? "dgram SO_PASSCRED name" : "dgram name", d, 0);
		struct sockaddr_un from;
		socklen_t fl = sizeof from;
		memset(&from, 0, sizeof from);
		char x;
		long r = recvfrom(srv, &x, 1, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
		if (r < 0)
			show("dgram recvfrom", r);
		else
			nameShow(on ? "dgram SO_PASSCRED sender" : "dgram sender", &from, fl);
		close(d);
		d = socket(AF_UNIX, SOCK_DGRAM, 0);
		passcred(d, on);
		show(on ? "dgram connect SO_PASSCRED" : "dgram connect", connect(d, (struct sockaddr *)&a, al));
		sockName(on ? "dgram connected SO_PASSCRED name" : "dgram connected name", d, 0);
		close(d);
	}
	close(srv);
}

// truncation: received files and credentials in too little control room
// (net/core/scm.c put_cmsg, scm_detach_fds: MSG_CTRUNC, a credentials
// message cut to the room, files that do not fit closed).
static void truncation(int type) {
	int p[2];
	char what[96];
	if (socketpair(AF_UNIX, type, 0, p) < 0) {
		show("socketpair", -1);
		return;
	}
	size_t rooms[] = {0,
			  CMSG_LEN(0) - 1,
			  CMSG_LEN(0),
			  CMSG_LEN(0) + 4,
			  CMSG_LEN(sizeof(struct ucred)),
			  CMSG_SPACE(sizeof(struct ucred)),
			  CMSG_SPACE(sizeof(struct ucred)) + CMSG_LEN(0),
			  CMSG_SPACE(sizeof(struct ucred)) + CMSG_LEN(sizeof(int)),
			  CMSG_SPACE(sizeof(struct ucred)) + CMSG_LEN(2 * sizeof(int)) + 2,
			  CMSG_SPACE(sizeof(struct ucred)) + CMSG_LEN(3 * sizeof(int)),
			  CMSG_LEN(3 * sizeof(int)),
			  512};
	for (int cred = 0; cred < 2; cred++) {
		passcred(p[1], cred);
		for (size_t i = 0; i < sizeof rooms / sizeof rooms[0]; i++) {
			union {
				char b[CMSG_SPACE(3 * sizeof(int))];
				struct cmsghdr align;
			} c;
			memset(&c, 0, sizeof c);
			struct cmsghdr *k = (struct cmsghdr *)c.b;
			k->cmsg_len = CMSG_LEN(3 * sizeof(int));
			k->cmsg_level = SOL_SOCKET;
			k->cmsg_type = SCM_RIGHTS;
			int fds[3] = {p[0], 0, 1};
			memcpy(CMSG_DATA(k), fds, sizeof fds);
			struct iovec iov = {"xyz", 3};
			struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.b, .msg_controllen = sizeof c.b};
			if (sendmsg(p[0], &m, 0) != 3) {
				show("sendmsg rights", -1);
				continue;
			}
			snprintf(what, sizeof what, "%s%s 3 files, room %zu", typeName(type), cred ? " SO_PASSCRED" : "", rooms[i]);
			recvShow(what, p[1], 8, i == 3 ? MSG_CMSG_CLOEXEC : 0, rooms[i]);
		}
	}
	// A peek gives the files too, each time.
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} c;
	struct cmsghdr *k = (struct cmsghdr *)c.b;
	k->cmsg_len = CMSG_LEN(sizeof(int));
	k->cmsg_level = SOL_SOCKET;
	k->cmsg_type = SCM_RIGHTS;
	memcpy(CMSG_DATA(k), &p[0], sizeof(int));
	struct iovec iov = {"pq", 2};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.b, .msg_controllen = sizeof c.b};
	if (sendmsg(p[0], &m, 0) != 2)
		show("sendmsg rights", -1);
	snprintf(what, sizeof what, "%s peek file", typeName(type));
	recvShow(what, p[1], 8, MSG_PEEK, 64);
	recvShow(what, p[1], 1, MSG_PEEK, 64);
	snprintf(what, sizeof what, "%s read file 1", typeName(type));
	recvShow(what, p[1], 1, 0, 64);
	snprintf(what, sizeof what, "%s read file rest", typeName(type));
	recvShow(what, p[1], 8, 0, 64);
	// Plain bytes, then bytes with a file, then plain bytes again: what
	// one read takes of them.
	if (send(p[0], "ab", 2, 0) != 2 || sendmsg(p[0], &m, 0) != 2 || send(p[0], "cd", 2, 0) != 2)
		show("send around a file", -1);
	snprintf(what, sizeof what, "%s around a file, peek", typeName(type));
	recvShow(what, p[1], 8, MSG_PEEK, 64);
	snprintf(what, sizeof what, "%s around a file", typeName(type));
	for (int i = 0; i < 4; i++)
		recvShow(what, p[1], 8, 0, 64);
	close(p[0]);
	close(p[1]);
}

static void soError(const char *what, int fd) {
	int e = -1;
	socklen_t l = sizeof e;
	long r = getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l);
	if (r < 0) {
		show(what, r);
		return;
	}
	errno = e;
	show(what, e ? -1 : 0);
}

static void pollShow(const char *what, int fd) {
	struct pollfd p = {fd, POLLIN | POLLOUT | POLLRDHUP, 0};
	long r = poll(&p, 1, 0);
	printf("%s: %ld%s%s%s%s%s\n", what, r, p.revents & POLLIN ? " IN" : "", p.revents & POLLOUT ? " OUT" : "",
	       p.revents & POLLERR ? " ERR" : "", p.revents & POLLHUP ? " HUP" : "", p.revents & POLLRDHUP ? " RDHUP" : "");
}

// peers: a peer that goes away. A connected stream or seqpacket socket
// whose peer closes with bytes unread gets ECONNRESET once, as its next
// receive or SO_ERROR (unix_release_sock: sk_err); a datagram socket
// whose peer is gone is refused once and disconnected
// (unix_dgram_sendmsg: SOCK_DEAD).
static void peers(void) {
	char b[64];
	int types[] = {SOCK_STREAM, SOCK_SEQPACKET, SOCK_DGRAM};
	for (int i = 0; i < 3; i++) {
		char what[96];
		int p[2];
		for (int how = 0; i < 2 && how < 4; how++) {
			socketpair(AF_UNIX, types[i], 0, p);
			if (how > 0 && send(p[0], "unread", 6, 0) != 6)
				show("send", -1);
			if (send(p[1], "to p0", 5, 0) != 5)
				show("send", -1);
			close(p[1]);
			const char *hows[] = {"read", "unread", "unread, SO_ERROR first", "unread, recv first"};
			snprintf(what, sizeof what, "%s peer closed (%s): poll", typeName(types[i]), hows[how]);
			pollShow(what, p[0]);
			if (how == 2) {
				snprintf(what, sizeof what, "%s peer closed (%s): SO_ERROR", typeName(types[i]), hows[how]);
				soError(what, p[0]);
			}
			snprintf(what, sizeof what, "%s peer closed (%s): send", typeName(types[i]), hows[how]);
			if (how != 3)
				show(what, send(p[0], "x", 1, MSG_DONTWAIT | MSG_NOSIGNAL));
			for (int k = 0; k < 3; k++) {
				snprintf(what, sizeof what, "%s peer closed (%s): recv %d", typeName(types[i]), hows[how], k);
				long r = recv(p[0], b, sizeof b, MSG_DONTWAIT);
				show(what, r);
			}
			snprintf(what, sizeof what, "%s peer closed (%s): SO_ERROR after", typeName(types[i]), hows[how]);
			soError(what, p[0]);
			close(p[0]);
		}
		// Shut down for writing, then for reading.
		socketpair(AF_UNIX, types[i], 0, p);
		shutdown(p[0], SHUT_WR);
		snprintf(what, sizeof what, "%s SHUT_WR: poll", typeName(types[i]));
		pollShow(what, p[0]);
		snprintf(what, sizeof what, "%s SHUT_WR: peer's poll", typeName(types[i]));
		pollShow(what, p[1]);
		shutdown(p[0], SHUT_RD);
		snprintf(what, sizeof what, "%s SHUT_RDWR: poll", typeName(types[i]));
		pollShow(what, p[0]);
		snprintf(what, sizeof what, "%s SHUT_RDWR: peer's poll", typeName(types[i]));
		pollShow(what, p[1]);
		close(p[0]);
		close(p[1]);
	}
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	socklen_t al = offsetof(struct sockaddr_un, sun_path) + 1 +
		       snprintf(a.sun_path + 1, sizeof a.sun_path - 1, "cocoon-unixcred-peer-%d", getpid());
	int srv = socket(AF_UNIX, SOCK_DGRAM, 0);
	int c = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (bind(srv, (struct sockaddr *)&a, al) < 0 || connect(c, (struct sockaddr *)&a, al) < 0)
		show("dgram connect", -1);
	close(srv);
	pollShow("dgram server gone: poll", c);
	soError("dgram server gone: SO_ERROR", c);
	show("dgram server gone: send", send(c, "x", 1, MSG_DONTWAIT));
	show("dgram server gone: send again", send(c, "x", 1, MSG_DONTWAIT));
	sockName("dgram server gone: peer", c, 1);
	show("dgram server gone: recv", recv(c, b, sizeof b, MSG_DONTWAIT));
	close(c);
	int p[2];
	socketpair(AF_UNIX, SOCK_DGRAM, 0, p);
	close(p[1]);
	pollShow("dgram pair peer closed: poll", p[0]);
	show("dgram pair peer closed: send", send(p[0], "x", 1, MSG_DONTWAIT));
	show("dgram pair peer closed: send again", send(p[0], "x", 1, MSG_DONTWAIT));
	close(p[0]);

	// A receive with no control buffer but a length (scm_recv: no
	// msg_control, MSG_CTRUNC; the file is dropped).
	socketpair(AF_UNIX, SOCK_STREAM, 0, p);
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cc;
	struct cmsghdr *k = (struct cmsghdr *)cc.b;
	k->cmsg_len = CMSG_LEN(sizeof(int));
	k->cmsg_level = SOL_SOCKET;
	k->cmsg_type = SCM_RIGHTS;
	memcpy(CMSG_DATA(k), &p[0], sizeof(int));
	struct iovec iov = {"z", 1};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cc.b, .msg_controllen = sizeof cc.b};
	show("send a file", sendmsg(p[0], &m, 0));
	iov.iov_base = b;
	struct msghdr r = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = NULL, .msg_controllen = 64};
	int before = openFds();
	long n = recvmsg(p[1], &r, 0);
	int e = errno, opened = openFds() - before;
	errno = e;
	printf("recvmsg, no control buffer, length 64: %s, flags %#x, controllen %zu, opened %d\n", res(n), r.msg_flags,
	       (size_t)r.msg_controllen, opened);

	// A control buffer the process cannot write: the data comes, the
	// files do not (put_cmsg, scm_detach_fds fail quietly).
	char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (int cred = 0; cred < 2; cred++) {
		passcred(p[1], cred);
		iov.iov_base = "z";
		m.msg_control = cc.b;
		if (sendmsg(p[0], &m, 0) != 1)
			show("send a file", -1);
		iov.iov_base = b;
		struct msghdr ro_ = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ro, .msg_controllen = 64};
		before = openFds();
		n = recvmsg(p[1], &ro_, 0);
		e = errno, opened = openFds() - before;
		errno = e;
		printf("recvmsg, read-only control buffer%s: %s, flags %#x, controllen %zu, opened %d\n",
		       cred ? ", SO_PASSCRED" : "", res(n), ro_.msg_flags, (size_t)ro_.msg_controllen, opened);
		show("recv after", recv(p[1], b, sizeof b, MSG_DONTWAIT));
	}
	munmap(ro, 4096);
	close(p[0]);
	close(p[1]);
}

// peekOff: SO_PEEK_OFF moves peeks along (sk_peek_offset) on stream and
// datagram sockets.
static void peekOff(int type) {
	char b[64], what[64];
	int p[2];
	socketpair(AF_UNIX, type, 0, p);
	int off = 0;
	snprintf(what, sizeof what, "%s SO_PEEK_OFF 0", typeName(type));
	show(what, setsockopt(p[1], SOL_SOCKET, SO_PEEK_OFF, &off, sizeof off));
	if (send(p[0], "abcdef", 6, 0) != 6 || send(p[0], "ghi", 3, 0) != 3)
		show("send", -1);
	for (int i = 0; i < 3; i++) {
		long r = recv(p[1], b, 2, MSG_PEEK | MSG_DONTWAIT);
		snprintf(what, sizeof what, "%s peek 2", typeName(type));
		printf("%s: %s \"%.*s\"\n", what, res(r), r > 0 ? (int)r : 0, b);
	}
	long r = recv(p[1], b, 1, MSG_DONTWAIT);
	printf("%s read 1: %s \"%.*s\"\n", typeName(type), res(r), r > 0 ? (int)r : 0, b);
	socklen_t l = sizeof off;
	getsockopt(p[1], SOL_SOCKET, SO_PEEK_OFF, &off, &l);
	printf("%s SO_PEEK_OFF now %d\n", typeName(type), off);
	r = recv(p[1], b, 8, MSG_PEEK | MSG_DONTWAIT);
	printf("%s peek 8: %s \"%.*s\"\n", typeName(type), res(r), r > 0 ? (int)r : 0, b);
	off = -5;
	show("SO_PEEK_OFF -5", setsockopt(p[1], SOL_SOCKET, SO_PEEK_OFF, &off, sizeof off));
	getsockopt(p[1], SOL_SOCKET, SO_PEEK_OFF, &off, &l);
	printf("%s SO_PEEK_OFF now %d\n", typeName(type), off);
	off = -1;
	setsockopt(p[1], SOL_SOCKET, SO_PEEK_OFF, &off, sizeof off);
	r = recv(p[1], b, 8, MSG_PEEK | MSG_DONTWAIT);
	printf("%s peek 8 after -1: %s \"%.*s\"\n", typeName(type), res(r), r > 0 ? (int)r : 0, b);
	close(p[0]);
	close(p[1]);
}

// options: SOL_SOCKET flags every socket keeps (net/core/sock.c
// sk_setsockopt, sk_getsockopt), on an AF_UNIX socket.
static void options(int type) {
	static const struct {
		int opt;
		const char *name;
	} opts[] = {{SO_DONTROUTE, "SO_DONTROUTE"}, {SO_BROADCAST, "SO_BROADCAST"}, {SO_OOBINLINE, "SO_OOBINLINE"},
		    {SO_NO_CHECK, "SO_NO_CHECK"},   {SO_BSDCOMPAT, "SO_BSDCOMPAT"}, {SO_REUSEPORT, "SO_REUSEPORT"},
		    {SO_PASSSEC, "SO_PASSSEC"},     {SO_SNDLOWAT, "SO_SNDLOWAT"}};
	int fd = socket(AF_UNIX, type, 0);
	for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
		printf("%s %s:", typeName(type), opts[i].name);
		for (int set = -1; set < 2; set++) {
			if (set >= 0) {
				int r = setsockopt(fd, SOL_SOCKET, opts[i].opt, &set, sizeof set);
				printf(" set %d %s,", set, res(r));
			}
			int v = -7;
			socklen_t l = sizeof v;
			int r = getsockopt(fd, SOL_SOCKET, opts[i].opt, &v, &l);
			if (r < 0)
				printf(" get %s", res(r));
			else
				printf(" get %d (len %u)", v, (unsigned)l);
		}
		short two = 1;
		printf(", short %s\n", res(setsockopt(fd, SOL_SOCKET, opts[i].opt, &two, sizeof two)));
	}
	close(fd);
}

static void peerGroups(const char *what, int fd, socklen_t room) {
	gid_t g[16] = {0};
	socklen_t l = room;
	long r = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &l);
	printf("%s: %s, len %u:", what, res(r), (unsigned)l);
	for (unsigned i = 0; r == 0 && i < l / sizeof(gid_t); i++)
		printf(" %u", (unsigned)g[i]);
	printf("\n");
}

// groups: SO_PEERGROUPS, the supplementary groups of the process
// SO_PEERCRED names, recorded when it made the pair, listened or
// connected (net/core/sock.c sk_getsockopt; init_peercred).
static void groups(void) {
	gid_t listener[] = {5, 7}, client[] = {9};
	int p[2];
	if (setgroups(2, listener) < 0) {
		show("setgroups", -1);
		return;
	}
	socketpair(AF_UNIX, SOCK_STREAM, 0, p);
	peerGroups("SO_PEERGROUPS socketpair", p[0], sizeof(gid_t) * 16);
	peerGroups("SO_PEERGROUPS socketpair, room for 1", p[0], sizeof(gid_t));
	peerGroups("SO_PEERGROUPS socketpair, room 0", p[0], 0);
	close(p[0]);
	close(p[1]);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	socklen_t al = offsetof(struct sockaddr_un, sun_path) + 1 +
		       snprintf(a.sun_path + 1, sizeof a.sun_path - 1, "cocoon-unixcred-groups-%d", getpid());
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	peerGroups("SO_PEERGROUPS unconnected", l, sizeof(gid_t) * 16);
	if (bind(l, (struct sockaddr *)&a, al) < 0 || listen(l, 1) < 0)
		show("listen", -1);
	peerGroups("SO_PEERGROUPS listener", l, sizeof(gid_t) * 16);
	if (setgroups(1, client) < 0)
		show("setgroups", -1);
	int c = socket(AF_UNIX, SOCK_STREAM, 0);
	if (connect(c, (struct sockaddr *)&a, al) < 0)
		show("connect", -1);
	int s = accept(l, NULL, NULL);
	peerGroups("SO_PEERGROUPS client", c, sizeof(gid_t) * 16);
	peerGroups("SO_PEERGROUPS accepted", s, sizeof(gid_t) * 16);
	int d = socket(AF_UNIX, SOCK_DGRAM, 0);
	peerGroups("SO_PEERGROUPS dgram", d, sizeof(gid_t) * 16);
	setgroups(0, NULL);
	close(d);
	close(s);
	close(c);
	close(l);
}

// privileged: SOL_SOCKET options whose setting needs a capability
// (sk_setsockopt: SO_DEBUG CAP_NET_ADMIN, SO_PRIORITY over 6 and SO_MARK
// CAP_NET_RAW or CAP_NET_ADMIN), as root and as a user without them.
static void privileged(void) {
	static const struct {
		int opt, val;
		const char *name;
	} opts[] = {{SO_DEBUG, 1, "SO_DEBUG 1"},   {SO_DEBUG, 0, "SO_DEBUG 0"}, {SO_PRIORITY, 3, "SO_PRIORITY 3"},
		    {SO_PRIORITY, 7, "SO_PRIORITY 7"}, {SO_PRIORITY, -1, "SO_PRIORITY -1"}, {SO_MARK, 5, "SO_MARK 5"}};
	for (int user = 0; user < 2; user++) {
		if (user) {
			child = fork();
			if (child != 0) {
				int st;
				waitpid(child, &st, 0);
				child = 0;
				return;
			}
			if (setresgid(2000, 2000, 2000) < 0 || setresuid(1000, 1000, 1000) < 0)
				_exit(2);
		}
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
			int r = setsockopt(fd, SOL_SOCKET, opts[i].opt, &opts[i].val, sizeof opts[i].val);
			int v = -7;
			socklen_t l = sizeof v;
			int g = getsockopt(fd, SOL_SOCKET, opts[i].opt, &v, &l);
			printf("%s %s: set %s,", user ? "user" : "root", opts[i].name, res(r));
			printf(" get %s %d\n", res(g), v);
		}
		close(fd);
		if (user)
			_exit(0);
	}
}

// fill sends datagrams or records of n bytes on fd (to to, if given)
// without blocking until one fails, and prints how many went and why
// the next did not.
static void fill(const char *what, int fd, const struct sockaddr_un *to, socklen_t tl, size_t n) {
	static char buf[1000];
	int k = 0;
	long r;
	while ((r = sendto(fd, buf, n, MSG_DONTWAIT, (const struct sockaddr *)to, tl)) == (long)n && k < 100000)
		k++;
	printf("%s: %d sent, then %s\n", what, k, res(r));
}

// drain receives what fd holds and prints how many it took.
static void drain(const char *what, int fd) {
	char b[1000];
	int q = 0;
	while (recv(fd, b, sizeof b, MSG_DONTWAIT) >= 0 && q < 100000)
		q++;
	printf("%s: %d received\n", what, q);
}

// queueLimits: how many datagrams a non-blocking sender gets queued
// before EAGAIN, and POLLOUT there. A receiver connected back to the
// sender (a socketpair) is bounded only by the sender's buffer, charged
// each message's truesize; another takes one more than
// net.unix.max_dgram_qlen (unix_dgram_sendmsg, unix_recvq_full_lockless,
// sock_alloc_send_pskb, unix_dgram_poll). SOCK_SEQPACKET goes the
// socketpair's way.
static void queueLimits(void) {
	char what[96];
	int types[] = {SOCK_DGRAM, SOCK_SEQPACKET};
	size_t sizes[] = {1, 200, 1000};
	for (int i = 0; i < 2; i++) {
		const char *tn = types[i] == SOCK_DGRAM ? "dgram" : "seqpacket";
		for (int j = 0; j < 3; j++) {
			int sv[2];
			socketpair(AF_UNIX, types[i], 0, sv);
			snprintf(what, sizeof what, "%s pair %zu-byte", tn, sizes[j]);
			fill(what, sv[0], NULL, 0, sizes[j]);
			snprintf(what, sizeof what, "%s pair %zu-byte full: sender poll", tn, sizes[j]);
			pollShow(what, sv[0]);
			if (j == 0) {
				// Writable again once what is unread takes at
				// most a quarter of the buffer (unix_writable).
				char b[8];
				for (int k = 0; k < 100; k++)
					recv(sv[1], b, sizeof b, MSG_DONTWAIT);
				snprintf(what, sizeof what, "%s pair 100 read: sender poll", tn);
				pollShow(what, sv[0]);
				snprintf(what, sizeof what, "%s pair 100 read, send", tn);
				show(what, send(sv[0], "x", 1, MSG_DONTWAIT));
			}
			snprintf(what, sizeof what, "%s pair %zu-byte drain", tn, sizes[j]);
			drain(what, sv[1]);
			snprintf(what, sizeof what, "%s pair %zu-byte drained: sender poll", tn, sizes[j]);
			pollShow(what, sv[0]);
			close(sv[0]);
			close(sv[1]);
		}
		// The largest message is the send buffer less 32 bytes.
		int sv[2];
		socketpair(AF_UNIX, types[i], 0, sv);
		int sb = 0;
		socklen_t sl = sizeof sb;
		getsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sb, &sl);
		char *big = calloc(1, sb);
		snprintf(what, sizeof what, "%s send SO_SNDBUF-31", tn);
		show(what, send(sv[0], big, sb - 31, MSG_DONTWAIT) < 0 ? -1 : 0);
		snprintf(what, sizeof what, "%s send SO_SNDBUF-32", tn);
		show(what, send(sv[0], big, sb - 32, MSG_DONTWAIT) < 0 ? -1 : 0);
		free(big);
		close(sv[0]);
		close(sv[1]);
	}

	struct sockaddr_un a = {.sun_family = AF_UNIX};
	socklen_t al = offsetof(struct sockaddr_un, sun_path) + 1 +
		       snprintf(a.sun_path + 1, sizeof a.sun_path - 1, "cocoon-unixcred-qlen-%d", getpid());
	int rx = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (bind(rx, (struct sockaddr *)&a, al) < 0) {
		show("qlen bind", -1);
		return;
	}
	// (b) An unconnected sender: the receiver's queue bounds it; with
	// no peer the sender stays writable.
	int tx = socket(AF_UNIX, SOCK_DGRAM, 0);
	fill("dgram sendto bound receiver 1-byte", tx, &a, al, 1);
	pollShow("dgram sendto full: sender poll", tx);
	drain("dgram sendto drain", rx);
	fill("dgram sendto bound receiver 1000-byte", tx, &a, al, 1000);
	drain("dgram sendto 1000 drain", rx);
	close(tx);
	// (c) A sender connected to a receiver not connected back: the same
	// bound, and not writable while the receiver's queue is full.
	tx = socket(AF_UNIX, SOCK_DGRAM, 0);
	show("dgram connect to receiver", connect(tx, (struct sockaddr *)&a, al));
	fill("dgram connected one-way 1-byte", tx, NULL, 0, 1);
	pollShow("dgram connected one-way full: sender poll", tx);
	char b[8];
	show("dgram one-way receive one", recv(rx, b, sizeof b, MSG_DONTWAIT));
	pollShow("dgram one-way one read: sender poll", tx);
	fill("dgram connected one-way refill", tx, NULL, 0, 1);
	drain("dgram one-way drain", rx);
	close(tx);
	// Blocking senders wait for room and go on as it is read: 1000
	// datagrams over a pair and one way, from another process.
	for (int way = 0; way < 2; way++) {
		int sv[2];
		socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
		int from = way ? socket(AF_UNIX, SOCK_DGRAM, 0) : sv[0], to = way ? rx : sv[1];
		if (way)
			connect(from, (struct sockaddr *)&a, al);
		pid_t p = fork();
		if (p == 0) {
			int k = 0;
			while (k < 1000 && send(from, "y", 1, 0) == 1)
				k++;
			_exit(k == 1000 ? 0 : 1);
		}
		int got = 0;
		while (got < 1000 && recv(to, b, sizeof b, 0) == 1)
			got++;
		int st = -1;
		waitpid(p, &st, 0);
		printf("dgram %s blocking 1000: %d received, sender status %d\n", way ? "one-way" : "pair", got, st);
		if (way)
			close(from);
		close(sv[0]);
		close(sv[1]);
	}
	// A socket sending to itself is its own peer's peer: no queue bound.
	int self = socket(AF_UNIX, SOCK_DGRAM, 0);
	struct sockaddr_un sa = a;
	sa.sun_path[1] ^= 1;
	bind(self, (struct sockaddr *)&sa, al);
	fill("dgram sendto self 1-byte", self, &sa, al, 1);
	drain("dgram self drain", self);
	close(self);
	close(rx);
}

int main(int argc, char **argv) {
	if (argc < 2) {
		fprintf(stderr, "usage: unixcred DIR\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	int types[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET};
	for (int i = 0; i < 3; i++)
		writers(argv[1], types[i]);
	for (int i = 0; i < 3; i++)
		uncredited(types[i]);
	autobind();
	for (int i = 0; i < 3; i++)
		truncation(types[i]);
	peers();
	for (int i = 0; i < 3; i++)
		peekOff(types[i]);
	for (int i = 0; i < 3; i++)
		options(types[i]);
	groups();
	privileged();
	queueLimits();
	printf("unixcred: done\n");
	return 0;
}
