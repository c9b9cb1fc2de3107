// probe: targeted hostile probes of resource exhaustion and deadlock.
// Each mode named on the command line runs in its own forked process
// group; this process (pid 1 inside Cocoon) waits for it, kills what is
// left of the group, reaps everything and reports how the mode ended.
// After the last mode it proves the kernel still serves a fresh
// fork + pipe + exit. north/probe_vm_test.go checks each mode ended the
// way Linux allows: an errno of the class Linux gives, or the program
// killed and reported, and never the kernel failing.
//
// Exhaustion modes print what failed and with which errno, never a count
// (counts are the machine's). Deterministic modes print lines the test
// compares with a native run.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

// out writes one line with a single write(2), so lines of concurrent
// processes never interleave.
static void out(const char *fmt, ...) {
	char b[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b, sizeof b - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof b - 2)
		n = sizeof b - 2;
	b[n++] = '\n';
	while (write(1, b, n) < 0 && errno == EINTR)
		;
}

static const char *en(int e) {
	const char *s = strerrorname_np(e);
	return s ? s : "?";
}

static void msleep(int ms) {
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

// raw is a system call without the C library: usable from threads made
// by clone without their own thread pointer (errno lives there).
static long raw(long nr, long a, long b, long c, long d) {
	long ret;
	register long r10 __asm__("r10") = d;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
	return ret;
}

// errset records which errnos a loop ended with, across processes (a
// shared page).
struct errset {
	int n;
	int e[16];
};

static void adderr(struct errset *s, int e) {
	for (int i = 0; i < s->n; i++)
		if (s->e[i] == e)
			return;
	if (s->n < 16)
		s->e[s->n++] = e;
}

// errlist formats the set sorted, for example "EAGAIN ENOMEM".
static const char *errlist(struct errset *s) {
	static char b[256];
	int v[16], n = s->n;
	memcpy(v, s->e, sizeof v);
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (v[j] < v[i]) {
				int x = v[i];
				v[i] = v[j];
				v[j] = x;
			}
	b[0] = 0;
	for (int i = 0; i < n; i++) {
		strcat(b, i ? " " : "");
		strcat(b, en(v[i]));
	}
	return n ? b : "none";
}

static void *shared(size_t n) {
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		out("mmap shared: %s", en(errno));
		_exit(99);
	}
	return p;
}

static void maxfiles(void) {
	struct rlimit r;
	getrlimit(RLIMIT_NOFILE, &r);
	r.rlim_cur = r.rlim_max;
	setrlimit(RLIMIT_NOFILE, &r);
}

// reapall waits for every child.
static void reapall(void) {
	while (wait(NULL) > 0 || errno == EINTR)
		;
}

// ---- fork bomb: every process forks until fork fails ----

struct bomb {
	int made, settled, cap;
	struct errset errs;
};

static void bomber(struct bomb *b) {
	for (;;) {
		if (__atomic_add_fetch(&b->made, 1, __ATOMIC_SEQ_CST) > b->cap) {
			__atomic_sub_fetch(&b->made, 1, __ATOMIC_SEQ_CST);
			break;
		}
		pid_t c = fork();
		if (c == 0)
			continue; // the child bombs too
		if (c < 0) {
			int e = errno;
			__atomic_sub_fetch(&b->made, 1, __ATOMIC_SEQ_CST);
			adderr(&b->errs, e);
			break;
		}
	}
	__atomic_add_fetch(&b->settled, 1, __ATOMIC_SEQ_CST);
	for (;;)
		pause();
}

static int forkbomb(void) {
	struct bomb *b = shared(4096);
	b->cap = 1000;
	pid_t root = fork();
	if (root == 0)
		bomber(b);
	// Every process made settles (fork failed, or the cap): then the
	// whole tree sits in pause.
	while (__atomic_load_n(&b->settled, __ATOMIC_SEQ_CST) < __atomic_load_n(&b->made, __ATOMIC_SEQ_CST) + 1)
		msleep(10);
	out("forkbomb: fork failed with: %s", b->made >= b->cap ? "(cap reached)" : errlist(&b->errs));
	// The runner kills the group; show one process of it can be killed
	// and reaped here.
	kill(root, SIGKILL);
	int st;
	waitpid(root, &st, 0);
	out("forkbomb: root killed: %s", WIFSIGNALED(st) ? strsignal(WTERMSIG(st)) : "no");
	return 0;
}

// ---- thread bomb: clone threads that wait for ever, until clone fails ----

static int tbword;

static int tbthread(void *arg) {
	(void)arg;
	for (;;)
		raw(SYS_futex, (long)&tbword, FUTEX_WAIT, 0, 0);
	return 0;
}

static int threadbomb(void) {
	const int cap = 16384, stk = 4096;
	char *stacks = mmap(NULL, (size_t)cap * stk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (stacks == MAP_FAILED) {
		out("threadbomb: mmap: %s", en(errno));
		return 1;
	}
	int n = 0, err = 0;
	for (; n < cap; n++) {
		int t = clone(tbthread, stacks + (size_t)(n + 1) * stk,
			      CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM, NULL);
		if (t < 0) {
			err = errno;
			break;
		}
	}
	out("threadbomb: clone failed with: %s", n == cap ? "(cap reached)" : en(err));
	// The kernel must still serve this thread group: a fresh fork.
	pid_t c = fork();
	if (c == 0)
		_exit(3);
	int st = 0;
	if (c > 0)
		waitpid(c, &st, 0);
	out("threadbomb: fork after: %s", c > 0 ? (WIFEXITED(st) && WEXITSTATUS(st) == 3 ? "ok" : "bad status") : en(errno));
	return 0; // exit_group ends every thread
}

// ---- descriptors ----

// fdbomb: EMFILE at the soft limit, then at the hard limit, then many
// processes each making distinct open files (eventfds) up to their hard
// limit.
static int fdbomb(void) {
	struct rlimit r;
	getrlimit(RLIMIT_NOFILE, &r);
	int n = 0, e = 0;
	for (;;) {
		if (dup(0) < 0) {
			e = errno;
			break;
		}
		n++;
	}
	out("fdbomb: dup at the soft limit: %s, table full: %s", en(e), n + 3 == (int)r.rlim_cur ? "yes" : "no");
	for (int fd = 3; fd < n + 3; fd++)
		close(fd);
	struct errset *errs = shared(4096);
	const int procs = 8;
	for (int i = 0; i < procs; i++) {
		if (fork() == 0) {
			maxfiles();
			for (int k = 0; k < (1 << 20); k++)
				if (eventfd(0, 0) < 0) {
					adderr(errs, errno);
					_exit(0);
				}
			adderr(errs, 0);
			_exit(0);
		}
	}
	int st, killed = 0;
	while (wait(&st) > 0 || errno == EINTR)
		if (WIFSIGNALED(st))
			killed++;
	out("fdbomb: eventfd in %d processes failed with: %s%s", procs, errlist(errs), killed ? " (some killed)" : "");
	return 0;
}

// fillers runs procs copies of fill, each in its own process, until
// every one has stopped by itself (its loop ended: fill returned) or was
// killed; then reports the errnos they stopped with, ends them and
// reaps them.
static void fillers(const char *name, int procs, void (*fill)(int i, struct errset *errs)) {
	struct errset *errs = shared(4096);
	int *settled = (int *)((char *)errs + 2048);
	pid_t kids[64];
	for (int i = 0; i < procs; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			maxfiles();
			fill(i, errs);
			__atomic_add_fetch(settled, 1, __ATOMIC_SEQ_CST);
			for (;;)
				pause(); // hold everything until killed
		}
	}
	int dead = 0, killed = 0;
	while (dead + __atomic_load_n(settled, __ATOMIC_SEQ_CST) < procs) {
		int st;
		pid_t w = waitpid(-1, &st, WNOHANG);
		if (w > 0) {
			dead++;
			killed += WIFSIGNALED(st);
		} else
			msleep(20);
	}
	out("%s: %d processes stopped with: %s%s", name, procs, errlist(errs), killed ? " (some killed)" : "");
	for (int i = 0; i < procs; i++)
		kill(kids[i], SIGKILL);
	reapall();
}

// pipefill: many processes, each with as many pipes as it may open,
// every pipe filled until EAGAIN.
static void pipefill1(int i, struct errset *errs) {
	(void)i;
	static char buf[65536];
	for (;;) {
		int p[2];
		if (pipe2(p, O_NONBLOCK) < 0) {
			adderr(errs, errno);
			return;
		}
		for (;;) {
			ssize_t w = write(p[1], buf, sizeof buf);
			if (w < 0) {
				if (errno != EAGAIN) {
					adderr(errs, errno);
					return;
				}
				break;
			}
		}
	}
}

static int pipefill(void) {
	fillers("pipefill", 8, pipefill1);
	return 0;
}

// sockfill: many processes fill AF_UNIX socket pairs (stream ones with
// one-byte writes) until EAGAIN.
static void sockfill1(int i, struct errset *errs) {
	static char buf[65536];
	for (;;) {
		int s[2];
		if (socketpair(AF_UNIX, i & 1 ? SOCK_DGRAM : SOCK_STREAM, 0, s) < 0) {
			adderr(errs, errno);
			return;
		}
		int big = 1 << 30;
		setsockopt(s[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
		setsockopt(s[1], SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
		for (;;) {
			ssize_t w = send(s[0], buf, i & 1 ? 4096 : i & 2 ? 1 : sizeof buf, MSG_DONTWAIT);
			if (w < 0) {
				if (errno != EAGAIN) {
					adderr(errs, errno);
					return;
				}
				break;
			}
		}
	}
}

static int sockfill(void) {
	fillers("sockfill", 8, sockfill1);
	return 0;
}

// meminfo returns a line of /proc/meminfo in KiB, or -1.
static long meminfo(const char *key) {
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	long v = -1;
	size_t n = strlen(key);
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, key, n) == 0 && line[n] == ':')
			v = atol(line + n + 1);
	if (f)
		fclose(f);
	return v;
}

// tcpreuse: loopback TCP connections, each sent 64 KiB it never reads,
// closed; then this process touches the memory they had taken. The
// kernel must have given back what it kept of them (netstack's buffer
// pools) before calling the out-of-memory killer. Inside Cocoon only:
// it sizes its touch from the guest's free memory less the kernel's
// reserve (an eighth of RAM, 8-64 MiB) and 24 MiB.
static int tcpreuse(void) {
	static char buf[65536];
	long total = meminfo("MemTotal"), before = meminfo("MemFree");
	long reserve = total / 8 < 8192 ? 8192 : total / 8 > 65536 ? 65536 : total / 8;
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof a;
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) || getsockname(l, (struct sockaddr *)&a, &al) || listen(l, 64)) {
		out("tcpreuse: listen: %s", en(errno));
		return 1;
	}
	maxfiles();
	int n;
	for (n = 0; n < 400; n++) {
		int c = socket(AF_INET, SOCK_STREAM, 0);
		if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof a) < 0 || accept(l, NULL, NULL) < 0) {
			out("tcpreuse: connection %d: %s", n, en(errno));
			return 1;
		}
		if (send(c, buf, sizeof buf, MSG_DONTWAIT) < 0) {
			out("tcpreuse: send: %s", en(errno));
			return 1;
		}
	}
	for (int fd = 3; fd < 1024; fd++)
		close(fd);
	size_t len = (size_t)(before - reserve - 24 * 1024) * 1024;
	char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		out("tcpreuse: mmap: %s", en(errno));
		return 1;
	}
	for (size_t off = 0; off < len; off += 4096)
		m[off] = 1;
	out("tcpreuse: 400 connections closed, then their memory touched: ok");
	return 0;
}

// tcphoard: loopback TCP connections written one byte at a time
// (TCP_NODELAY: a segment each) and never read, each until not writable
// for 100 ms: the kernel's memory runs short of these segments long
// before the connections are full. Linux bounds all sockets' buffers
// together (net.ipv4.tcp_mem); a fork must still work after.
static int tcphoard(void) {
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof a;
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) || getsockname(l, (struct sockaddr *)&a, &al) || listen(l, 64)) {
		out("tcphoard: listen: %s", en(errno));
		return 1;
	}
	for (int n = 0; n < 12; n++) {
		int c = socket(AF_INET, SOCK_STREAM, 0), one = 1;
		if (c < 0 || setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) || connect(c, (struct sockaddr *)&a, sizeof a) < 0 || accept(l, NULL, NULL) < 0) {
			out("tcphoard: connection %d: %s", n, en(errno));
			return 1;
		}
		for (long w = 0; w < 1000000; w++) {
			if (send(c, "x", 1, MSG_DONTWAIT) == 1)
				continue;
			struct pollfd p = {c, POLLOUT, 0};
			if (errno != EAGAIN) {
				out("tcphoard: send: %s", en(errno));
				return 1;
			}
			if (poll(&p, 1, 100) == 0)
				break;
		}
	}
	pid_t c = fork();
	if (c == 0)
		_exit(0);
	out("tcphoard: fork with 12 connections full: %s", c < 0 ? en(errno) : "ok");
	if (c > 0)
		waitpid(c, NULL, 0);
	// netstack tears closed connections down on its own goroutines:
	// give it a second before the next mode needs the memory back.
	for (int fd = 3; fd < 1024; fd++)
		close(fd);
	sleep(1);
	return 0;
}

// timerbomb8: eight processes create POSIX timers until refused.
static void timers1(int i, struct errset *errs) {
	(void)i;
	for (int n = 0; n < (1 << 20); n++) {
		timer_t id;
		struct sigevent sev = {.sigev_notify = SIGEV_NONE};
		if (timer_create(CLOCK_MONOTONIC, &sev, &id) < 0) {
			adderr(errs, errno);
			return;
		}
	}
}

static int timerbomb8(void) {
	fillers("timerbomb8", 8, timers1);
	return 0;
}

// mmapmany8: eight processes map single pages until refused.
static void mmaps1(int i, struct errset *errs) {
	(void)i;
	for (int n = 0; n < 400000; n++)
		if (mmap(NULL, 4096, n & 1 ? PROT_READ : PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED) {
			adderr(errs, errno);
			return;
		}
}

static int mmapmany8(void) {
	fillers("mmapmany8", 8, mmaps1);
	return 0;
}

// epollbomb: eight processes each fill their descriptor table with one
// eventfd and add every descriptor to each of 64 epoll instances.
static void epolls1(int i, struct errset *errs) {
	(void)i;
	int efd = eventfd(0, 0), eps[64];
	for (int k = 0; k < 64; k++)
		if ((eps[k] = epoll_create1(0)) < 0) {
			adderr(errs, errno);
			return;
		}
	for (;;) {
		int fd = dup(efd);
		if (fd < 0) {
			adderr(errs, errno);
			return;
		}
		struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
		for (int k = 0; k < 64; k++)
			if (epoll_ctl(eps[k], EPOLL_CTL_ADD, fd, &ev) < 0) {
				adderr(errs, errno);
				return;
			}
	}
}

static int epollbomb(void) {
	fillers("epollbomb", 8, epolls1);
	return 0;
}

// scmloop: AF_UNIX sockets sent over themselves and closed: garbage only
// Linux's unix_gc collects. Then the nesting limit (ETOOMANYREFS).
static int scmloop(void) {
	int errs = 0, first = 0;
	for (int i = 0; i < 20000; i++) {
		int s[2];
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, s) < 0) {
			out("scmloop: socketpair at loop %d: %s", i, en(errno));
			return 1;
		}
		char c = 'x';
		struct iovec iov = {&c, 1};
		union {
			char b[CMSG_SPACE(2 * sizeof(int))];
			struct cmsghdr h;
		} u;
		struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof u.b};
		struct cmsghdr *h = CMSG_FIRSTHDR(&m);
		h->cmsg_level = SOL_SOCKET;
		h->cmsg_type = SCM_RIGHTS;
		h->cmsg_len = CMSG_LEN(2 * sizeof(int));
		memcpy(CMSG_DATA(h), s, 2 * sizeof(int));
		if (sendmsg(s[0], &m, 0) < 0 && !errs++)
			first = errno;
		close(s[0]);
		close(s[1]);
	}
	out("scmloop: 20000 self-sent pairs closed, send errors: %s", errs ? en(first) : "none");
	// Nesting: a socket carrying a socket carrying ... (Linux's
	// MAX_RECURSION_LEVEL 4; net/core/scm.c, net/unix/af_unix.c).
	int prev = -1;
	for (int level = 0; level < 7; level++) {
		int s[2];
		socketpair(AF_UNIX, SOCK_DGRAM, 0, s);
		if (prev >= 0) {
			char c = 'y';
			struct iovec iov = {&c, 1};
			union {
				char b[CMSG_SPACE(sizeof(int))];
				struct cmsghdr h;
			} u;
			struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof u.b};
			struct cmsghdr *h = CMSG_FIRSTHDR(&m);
			h->cmsg_level = SOL_SOCKET;
			h->cmsg_type = SCM_RIGHTS;
			h->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(h), &prev, sizeof(int));
			int r = sendmsg(s[0], &m, 0);
			out("scmloop: send a socket nested %d deep: %s", level, r < 0 ? en(errno) : "ok");
		}
		prev = s[1];
	}
	// The descriptor table still works.
	int fd = open("/", O_RDONLY);
	out("scmloop: open after: %s", fd >= 0 ? "ok" : en(errno));
	return 0;
}

// epoll: nesting beyond EP_MAX_NESTS and a cycle fail with ELOOP
// (fs/eventpoll.c); many instances watching one eventfd.
static int epollmode(void) {
	int e[8];
	for (int i = 0; i < 8; i++)
		e[i] = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN};
	int efd = eventfd(0, 0);
	ev.data.fd = efd;
	epoll_ctl(e[0], EPOLL_CTL_ADD, efd, &ev);
	for (int i = 1; i < 8; i++) {
		ev.data.fd = e[i - 1];
		int r = epoll_ctl(e[i], EPOLL_CTL_ADD, e[i - 1], &ev);
		out("epoll: chain depth %d: %s", i, r < 0 ? en(errno) : "ok");
	}
	int a = epoll_create1(0), b = epoll_create1(0);
	ev.data.fd = b;
	int r1 = epoll_ctl(a, EPOLL_CTL_ADD, b, &ev);
	ev.data.fd = a;
	int r2 = epoll_ctl(b, EPOLL_CTL_ADD, a, &ev);
	out("epoll: a in b: %s, b in a (cycle): %s", r1 < 0 ? en(errno) : "ok", r2 < 0 ? en(errno) : "ok");
	ev.data.fd = a;
	int r3 = epoll_ctl(a, EPOLL_CTL_ADD, a, &ev);
	out("epoll: an instance in itself: %s", r3 < 0 ? en(errno) : "ok");
	// Wake through the chain.
	uint64_t one = 1;
	write(efd, &one, 8);
	struct epoll_event got;
	int n = epoll_wait(e[3], &got, 1, 1000);
	out("epoll: wait on the chain's depth 3 after a write: %d ready", n);
	// Many instances (below any runner's descriptor limit), each watching
	// the same eventfd.
	int made = 0, err = 0;
	for (int i = 0; i < 900; i++) {
		int ep = epoll_create1(0);
		if (ep < 0) {
			err = errno;
			break;
		}
		ev.data.fd = efd;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) < 0) {
			err = errno;
			break;
		}
		made++;
	}
	n = epoll_wait(e[0], &got, 1, 1000);
	out("epoll: 900 instances on one eventfd: %s, wait after: %d ready", err ? en(err) : "ok", n);
	return 0;
}

// timerstorm: timerfds and POSIX timers with the smallest intervals.
static int timerstorm(void) {
	maxfiles();
	int ep = epoll_create1(0);
	int made = 0;
	for (int i = 0; i < 500; i++) {
		int t = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
		if (t < 0)
			break;
		struct itimerspec it = {{0, 1}, {0, 1}};
		timerfd_settime(t, 0, &it, NULL);
		struct epoll_event ev = {.events = EPOLLIN, .data.fd = t};
		epoll_ctl(ep, EPOLL_CTL_ADD, t, &ev);
		made++;
	}
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	for (int i = 0; i < 200; i++) {
		timer_t id;
		struct sigevent sev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGRTMIN};
		if (timer_create(CLOCK_MONOTONIC, &sev, &id) < 0)
			break;
		struct itimerspec it = {{0, 1000}, {0, 1000}};
		timer_settime(id, 0, &it, NULL);
	}
	struct epoll_event evs[64];
	int waits = 0;
	for (int i = 0; i < 50; i++) {
		int n = epoll_wait(ep, evs, 64, 100);
		for (int k = 0; k < n; k++) {
			uint64_t v;
			read(evs[k].data.fd, &v, 8);
		}
		if (n > 0)
			waits++;
	}
	out("timerstorm: %d timerfds firing every nanosecond: %s", made, waits ? "read" : "never ready");
	return 0;
}

// timerbomb: POSIX timers until timer_create fails (each holds a queued
// signal's place under RLIMIT_SIGPENDING: EAGAIN).
static int timerbomb(void) {
	int n = 0, err = 0;
	for (; n < (1 << 20); n++) {
		timer_t id;
		struct sigevent sev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGRTMIN + 1};
		if (timer_create(CLOCK_MONOTONIC, &sev, &id) < 0) {
			err = errno;
			break;
		}
	}
	out("timerbomb: timer_create failed with: %s", err ? en(err) : "(cap reached)");
	return 0;
}

// sigqueue: a blocked real-time signal queued until RLIMIT_SIGPENDING.
static int sigqueuemode(void) {
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGRTMIN);
	sigprocmask(SIG_BLOCK, &s, NULL);
	int n = 0, err = 0;
	union sigval v = {0};
	for (; n < (1 << 22); n++)
		if (sigqueue(getpid(), SIGRTMIN, v) < 0) {
			err = errno;
			break;
		}
	out("sigqueue: failed with: %s", err ? en(err) : "(cap reached)");
	// Standard signals do not queue: kill still works.
	int r = kill(getpid(), SIGRTMIN);
	out("sigqueue: kill with the queue full: %s", r < 0 ? en(errno) : "ok");
	return 0;
}

// mmapmany: one-page mappings that cannot merge until the map count
// limit; then a split of a mapping at the limit.
static int mmapmany(void) {
	int n = 0, err = 0;
	char *last = NULL;
	for (; n < 400000; n++) {
		char *p = mmap(NULL, 4096, n & 1 ? PROT_READ : PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			err = errno;
			break;
		}
		last = p;
	}
	out("mmapmany: mmap failed with: %s", err ? en(err) : "(cap reached)");
	char *big = NULL;
	if (err) {
		munmap(last, 4096);
		big = mmap(NULL, 3 * 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		int r = big == MAP_FAILED ? -1 : mprotect(big + 4096, 4096, PROT_NONE);
		out("mmapmany: split a mapping at the limit: %s", r < 0 ? en(errno) : "ok");
	}
	pid_t c = fork();
	if (c == 0)
		_exit(5);
	int st = 0;
	if (c > 0)
		waitpid(c, &st, 0);
	out("mmapmany: fork with every mapping: %s", c > 0 ? (WIFEXITED(st) && WEXITSTATUS(st) == 5 ? "ok" : "bad status") : en(errno));
	return 0;
}

// e2big: argument and vector limits (fs/exec.c, lib/iov_iter.c).
static int e2big(void) {
	static char *argv[4096];
	char *one = malloc(200 << 10);
	memset(one, 'a', 200 << 10);
	one[(200 << 10) - 1] = 0;
	argv[0] = "/proc/self/exe";
	argv[1] = one;
	execve("/proc/self/exe", argv, NULL);
	out("e2big: execve with a 200 KiB argument: %s", en(errno));
	char *piece = malloc(100 << 10);
	memset(piece, 'b', 100 << 10);
	piece[(100 << 10) - 1] = 0;
	for (int i = 1; i < 40; i++)
		argv[i] = piece; // 3.9 MiB of arguments
	execve("/proc/self/exe", argv, NULL);
	out("e2big: execve with 3.9 MiB of arguments: %s", en(errno));
	argv[1] = NULL;
	execve("/proc/self/exe", argv, &argv[2]); // empty environment
	char **env = malloc(sizeof(char *) * 41);
	for (int i = 0; i < 40; i++)
		env[i] = piece;
	env[40] = NULL;
	execve("/bin/does-not-exist-probe", argv, env);
	out("e2big: execve of a missing file with 3.9 MiB of environment: %s", en(errno));
	execve("/proc/self/exe", argv, env);
	out("e2big: execve with 3.9 MiB of environment: %s", en(errno));
	// 1<<22 empty arguments: the pointers alone pass the limit.
	char **many = malloc(sizeof(char *) * ((1 << 22) + 1));
	for (int i = 0; i < (1 << 22); i++)
		many[i] = "";
	many[1 << 22] = NULL;
	execve("/proc/self/exe", many, NULL);
	out("e2big: execve with 4M empty arguments: %s", en(errno));
	static struct iovec iov[IOV_MAX + 1];
	char c = 'z';
	for (int i = 0; i <= IOV_MAX; i++)
		iov[i] = (struct iovec){&c, 0};
	int fd = open("/dev/null", O_WRONLY);
	out("e2big: writev of IOV_MAX+1 vectors: %s", writev(fd, iov, IOV_MAX + 1) < 0 ? en(errno) : "ok");
	iov[0] = (struct iovec){&c, SSIZE_MAX};
	iov[1] = (struct iovec){&c, SSIZE_MAX};
	out("e2big: writev of two SSIZE_MAX vectors: %s", writev(fd, iov, 2) < 0 ? en(errno) : "ok");
	iov[0] = (struct iovec){&c, 1};
	iov[1] = (struct iovec){(void *)0xffff800000000000UL, 1};
	int p[2];
	pipe(p);
	ssize_t w = writev(p[1], iov, 2);
	out("e2big: writev of a byte then a kernel address to a pipe: %zd %s", w, w < 0 ? en(errno) : "");
	iov[1] = (struct iovec){(void *)4096, 1UL << 47};
	w = writev(p[1], iov, 2);
	out("e2big: writev of a byte then 128 TiB to a pipe: %zd %s", w, w < 0 ? en(errno) : "");
	return 0;
}

// ---- signals ----

static volatile int depth;

static void recurse(int sig) {
	depth++;
	raise(sig); // SA_NODEFER: runs this handler again, deeper
}

// sigrecurse: a handler that raises its own signal until the stack is
// gone: Linux kills the process with SIGSEGV.
static int sigrecurse(void) {
	struct sigaction sa = {.sa_handler = recurse, .sa_flags = SA_NODEFER};
	sigaction(SIGUSR1, &sa, NULL);
	raise(SIGUSR1);
	out("sigrecurse: returned (depth %d)", depth);
	return 0;
}

// altrecurse: the same on a small alternate stack.
static int altrecurse(void) {
	stack_t ss = {.ss_sp = malloc(65536), .ss_size = 65536};
	sigaltstack(&ss, NULL);
	struct sigaction sa = {.sa_handler = recurse, .sa_flags = SA_NODEFER | SA_ONSTACK};
	sigaction(SIGUSR1, &sa, NULL);
	raise(SIGUSR1);
	out("altrecurse: returned (depth %d)", depth);
	return 0;
}

// altbad: an alternate stack in read-only memory, then a signal.
static int altbad(void) {
	char *ro = mmap(NULL, 65536, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	stack_t ss = {.ss_sp = ro, .ss_size = 65536};
	sigaltstack(&ss, NULL);
	struct sigaction sa = {.sa_handler = recurse, .sa_flags = SA_ONSTACK};
	sigaction(SIGUSR1, &sa, NULL);
	raise(SIGUSR1);
	out("altbad: returned");
	return 0;
}

static volatile long got;
static void count(int sig) {
	(void)sig;
	got++;
}

// sigstorm: processes flood each other with signals, stop and continue
// each other, then end.
static int sigstorm(void) {
	struct sigaction sa = {.sa_handler = count, .sa_flags = SA_RESTART};
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	pid_t me = getpid(), kids[4];
	for (int i = 0; i < 4; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			for (int k = 0; k < 5000; k++) {
				kill(me, SIGUSR1);
				kill(0, SIGUSR2);
			}
			_exit(0);
		}
	}
	for (int k = 0; k < 2000; k++) {
		pid_t v = kids[k & 3];
		kill(v, SIGSTOP);
		kill(v, SIGCONT);
		kill(v, SIGUSR1);
	}
	for (int i = 0; i < 4; i++)
		kill(kids[i], SIGCONT);
	int st, ok = 0;
	for (int i = 0; i < 4; i++) {
		while (waitpid(kids[i], &st, 0) < 0 && errno == EINTR)
			;
		ok += WIFEXITED(st) && WEXITSTATUS(st) == 0;
	}
	out("sigstorm: %d of 4 children ended normally, signals caught: %s", ok, got ? "yes" : "no");
	return 0;
}

// spin: a busy loop with every signal blocked and ignored is still
// killed by SIGKILL; SIGTERM does nothing to it.
static int spin(void) {
	int ready[2];
	pipe(ready);
	pid_t c = fork();
	if (c == 0) {
		sigset_t all;
		sigfillset(&all);
		sigprocmask(SIG_BLOCK, &all, NULL);
		for (int s = 1; s < 32; s++)
			signal(s, SIG_IGN);
		write(ready[1], "r", 1);
		for (;;)
			__asm__ volatile("" ::: "memory");
	}
	char r;
	read(ready[0], &r, 1);
	msleep(100);
	kill(c, SIGTERM);
	kill(c, SIGSTOP);
	kill(c, SIGCONT);
	msleep(100);
	int st;
	pid_t w = waitpid(c, &st, WNOHANG);
	out("spin: alive after SIGTERM, SIGSTOP, SIGCONT: %s", w == 0 ? "yes" : "no");
	kill(c, SIGKILL);
	waitpid(c, &st, 0);
	out("spin: SIGKILL: %s", WIFSIGNALED(st) ? strsignal(WTERMSIG(st)) : "not killed");
	return 0;
}

// ---- futexes ----

static int fa, fb;

static void lockw(int *w) {
	while (__sync_val_compare_and_swap(w, 0, 1) != 0)
		raw(SYS_futex, (long)w, FUTEX_WAIT, 1, 0);
}

static int fbheld;

static int abba(void *arg) {
	(void)arg;
	lockw(&fb);
	__atomic_store_n(&fbheld, 1, __ATOMIC_SEQ_CST);
	raw(SYS_futex, (long)&fbheld, FUTEX_WAKE, 1, 0);
	lockw(&fa);
	return 0;
}

// deadlock: two threads of a process in an ABBA futex deadlock stay
// blocked until the process is killed.
static int deadlock(void) {
	pid_t c = fork();
	if (c == 0) {
		char *stk = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		lockw(&fa);
		clone(abba, stk + 65536, CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM, NULL);
		while (!__atomic_load_n(&fbheld, __ATOMIC_SEQ_CST))
			raw(SYS_futex, (long)&fbheld, FUTEX_WAIT, 0, 0);
		lockw(&fb);
		_exit(0);
	}
	msleep(500);
	int st;
	pid_t w = waitpid(c, &st, WNOHANG);
	out("deadlock: ABBA still blocked: %s", w == 0 ? "yes" : "no");
	kill(c, SIGKILL);
	waitpid(c, &st, 0);
	out("deadlock: ABBA process: %s", WIFSIGNALED(st) ? strsignal(WTERMSIG(st)) : "exited");
	return 0;
}

// robust: robust futex lists that loop, point nowhere or are huge; the
// thread that set them exits and the process goes on (Linux walks at
// most ROBUST_LIST_LIMIT entries, kernel/futex/core.c).
struct rl {
	struct rl *next;
};
struct rhead {
	struct rl list;
	long off;
	struct rl *pending;
};
static struct rhead heads[4];
static struct rl selfloop;
static int rlword;

static int robustthread(void *arg) {
	long i = (long)arg;
	raw(SYS_set_robust_list, (long)&heads[i], sizeof heads[i], 0, 0);
	raw(SYS_exit, 0, 0, 0, 0);
	return 0;
}

static int robust(void) {
	// 0: a node that points to itself; 1: a list into unmapped memory;
	// 2: a pending entry with a wild offset; 3: the head pointing to itself
	// through a long chain.
	selfloop.next = &selfloop;
	heads[0] = (struct rhead){{&selfloop}, 0, NULL};
	heads[1] = (struct rhead){{(struct rl *)0x1000}, 0, NULL};
	heads[2] = (struct rhead){{&heads[2].list}, (long)1 << 62, &selfloop};
	struct rl *chain = calloc(100000, sizeof *chain);
	for (int i = 0; i < 99999; i++)
		chain[i].next = &chain[i + 1];
	chain[99999].next = &chain[0];
	heads[3] = (struct rhead){{&chain[0]}, (char *)&rlword - (char *)&chain[0], NULL};
	rlword = gettid();
	for (long i = 0; i < 4; i++) {
		char *stk = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		int ctid = 1;
		int t = clone(robustthread, stk + 65536,
			      CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM | CLONE_CHILD_CLEARTID,
			      (void *)i, NULL, NULL, &ctid);
		if (t < 0) {
			out("robust: clone: %s", en(errno));
			return 1;
		}
		while (__atomic_load_n(&ctid, __ATOMIC_SEQ_CST) != 0)
			syscall(SYS_futex, &ctid, FUTEX_WAIT, t, NULL);
		out("robust: thread with list %ld exited", i);
	}
	// The same lists set by this thread, which then exits the process.
	pid_t c = fork();
	if (c == 0) {
		syscall(SYS_set_robust_list, &heads[0], sizeof heads[0]);
		_exit(4);
	}
	int st;
	waitpid(c, &st, 0);
	out("robust: process with a looping list: %s", WIFEXITED(st) ? "exited" : "killed");
	return 0;
}

// ---- blocking ----

// blocked: a reader whose writer exits sees end of file; a reader that
// holds the write end itself blocks for ever and is killed.
static int blocked(void) {
	int p[2];
	pipe(p);
	pid_t w = fork();
	if (w == 0) {
		close(p[0]);
		msleep(200);
		_exit(0); // the last writer goes
	}
	close(p[1]);
	char c;
	ssize_t n = read(p[0], &c, 1);
	out("blocked: read after the writer exited: %zd", n);
	waitpid(w, NULL, 0);
	int s[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, s);
	w = fork();
	if (w == 0) {
		close(s[0]);
		msleep(200);
		_exit(0);
	}
	close(s[1]);
	n = read(s[0], &c, 1);
	out("blocked: socket read after the peer exited: %zd", n);
	waitpid(w, NULL, 0);
	pipe(p);
	pid_t r = fork();
	if (r == 0) {
		read(p[0], &c, 1); // p[1] is open here: for ever
		_exit(0);
	}
	msleep(300);
	kill(r, SIGKILL);
	int st;
	waitpid(r, &st, 0);
	out("blocked: reader holding its own writer: %s", WIFSIGNALED(st) ? strsignal(WTERMSIG(st)) : "exited");
	return 0;
}

// ---- memory ----

// target is long enough (the padding) for the code written over it.
__attribute__((noinline)) static int target(int x) {
	__asm__ volatile(".fill 32, 1, 0x90");
	return x + 1;
}

// procmem: /proc/self/mem writes over this program's own text (Linux
// forces them through, FOLL_FORCE) and to unmapped addresses (EIO).
static int procmem(void) {
	int fd = open("/proc/self/mem", O_RDWR);
	if (fd < 0) {
		out("procmem: open: %s", en(errno));
		return 0;
	}
	int (*volatile fp)(int) = target;
	// mov eax, 42; ret
	unsigned char code[] = {0xb8, 42, 0, 0, 0, 0xc3};
	ssize_t w = pwrite(fd, code, sizeof code, (off_t)(uintptr_t)fp);
	out("procmem: write over text: %s, call: %d", w < 0 ? en(errno) : "ok", fp(1));
	w = pwrite(fd, code, sizeof code, 0x1000);
	out("procmem: write to an unmapped page: %s", w < 0 ? en(errno) : "ok");
	char buf[16];
	ssize_t r = pread(fd, buf, sizeof buf, (off_t)0xffff800000000000ULL);
	out("procmem: read of a kernel address: %s", r < 0 ? en(errno) : "ok");
	w = pwrite(fd, code, sizeof code, (off_t)0xffffffff80000000ULL);
	out("procmem: write to a kernel address: %s", w < 0 ? en(errno) : "ok");
	return 0;
}

// mlockall: everything locked, now and in future; then memory until it
// fails.
static int mlockmode(void) {
	int r = mlockall(MCL_CURRENT | MCL_FUTURE);
	out("mlock: mlockall: %s", r < 0 ? en(errno) : "ok");
	char *p = mmap(NULL, 1UL << 40, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	out("mlock: locked terabyte mapping: %s", p == MAP_FAILED ? en(errno) : "mapped");
	r = mlock((void *)0x10000, 1UL << 46);
	out("mlock: mlock of the whole user half: %s", r < 0 ? en(errno) : "ok");
	return 0;
}

// deepdirs: directories nested past PATH_MAX; getcwd there, and
// symbolic-link loops.
static int deepdirs(const char *dir) {
	if (chdir(dir) < 0) {
		out("deepdirs: chdir %s: %s", dir, en(errno));
		return 1;
	}
	mkdir("deep", 0755);
	chdir("deep");
	int n = 0;
	for (; n < 1500; n++)
		if (mkdir("dddddddd", 0755) < 0 || chdir("dddddddd") < 0)
			break;
	char buf[8192];
	char *c1 = getcwd(buf, 4096);
	int e1 = errno;
	char *c2 = getcwd(buf, sizeof buf);
	int e2 = errno;
	out("deepdirs: %d levels, getcwd: %s, with a larger buffer: %s", n, c1 ? "ok" : en(e1), c2 ? "ok" : en(e2));
	symlink("l2", "l1");
	symlink("l1", "l2");
	int fd = open("l1", O_RDONLY);
	out("deepdirs: open of a symlink loop: %s", fd < 0 ? en(errno) : "ok");
	char name[16];
	for (int i = 0; i < 45; i++) {
		snprintf(name, sizeof name, "s%d", i);
		char to[16];
		snprintf(to, sizeof to, i ? "s%d" : ".", i - 1);
		symlink(to, name);
	}
	fd = open("s39", O_RDONLY);
	out("deepdirs: 40 chained symlinks: %s", fd < 0 ? en(errno) : "ok");
	fd = open("s44", O_RDONLY);
	out("deepdirs: 45 chained symlinks: %s", fd < 0 ? en(errno) : "ok");
	for (int i = 0; i < 45; i++) {
		snprintf(name, sizeof name, "s%d", i);
		unlink(name);
	}
	unlink("l1");
	unlink("l2");
	int back = 0;
	for (; back < n; back++)
		if (chdir("..") < 0 || rmdir("dddddddd") < 0)
			break;
	out("deepdirs: removed %s", back == n ? "all" : "not all");
	return 0;
}

struct mode {
	const char *name;
	int (*fn)(void);
};

static const char *dirarg = "/tmp";
static int deepdirsmode(void) { return deepdirs(dirarg); }

static const struct mode modes[] = {
	{"forkbomb", forkbomb}, {"threadbomb", threadbomb}, {"fdbomb", fdbomb}, {"pipefill", pipefill},
	{"sockfill", sockfill}, {"scmloop", scmloop}, {"epoll", epollmode}, {"timerstorm", timerstorm}, {"timerbomb", timerbomb}, {"timerbomb8", timerbomb8}, {"mmapmany8", mmapmany8}, {"epollbomb", epollbomb},
	{"tcpreuse", tcpreuse}, {"tcphoard", tcphoard},
	{"sigqueue", sigqueuemode}, {"mmapmany", mmapmany}, {"e2big", e2big}, {"sigrecurse", sigrecurse},
	{"altrecurse", altrecurse}, {"altbad", altbad}, {"sigstorm", sigstorm}, {"spin", spin},
	{"deadlock", deadlock}, {"robust", robust}, {"blocked", blocked}, {"procmem", procmem},
	{"mlock", mlockmode}, {"deepdirs", deepdirsmode},
};

static volatile pid_t running;
static volatile int watchdog;

static void onalarm(int sig) {
	(void)sig;
	watchdog = 1;
	if (running > 0)
		kill(-running, SIGKILL);
}

static void run(const struct mode *m) {
	pid_t c = fork();
	if (c < 0) {
		out("probe %s: fork: %s", m->name, en(errno));
		return;
	}
	if (c == 0) {
		setpgid(0, 0);
		signal(SIGALRM, SIG_DFL);
		_exit(m->fn());
	}
	setpgid(c, c);
	running = c;
	watchdog = 0;
	alarm(200);
	int st;
	while (waitpid(c, &st, 0) < 0)
		if (errno != EINTR) {
			out("probe %s: waitpid: %s", m->name, en(errno));
			return;
		}
	alarm(0);
	kill(-c, SIGKILL);
	reapall();
	running = 0;
	if (watchdog)
		out("probe %s: WATCHDOG: still running after 200 s", m->name);
	if (WIFEXITED(st))
		out("probe %s: exit %d", m->name, WEXITSTATUS(st));
	else
		out("probe %s: killed by %s", m->name, sigabbrev_np(WTERMSIG(st)));
}

int main(int argc, char **argv) {
	if (argc > 1 && argv[argc - 1][0] == '/')
		dirarg = argv[--argc];
	// Start from 0, 1 and 2 only, whatever the caller left open.
	for (int fd = 3; fd < 1024; fd++)
		close(fd);
	struct sigaction sa = {.sa_handler = onalarm};
	sigaction(SIGALRM, &sa, NULL);
	for (int i = 1; i < argc; i++) {
		const struct mode *m = NULL;
		for (size_t k = 0; k < sizeof modes / sizeof modes[0]; k++)
			if (!strcmp(argv[i], modes[k].name))
				m = &modes[k];
		if (!m) {
			out("probe: unknown mode %s", argv[i]);
			return 2;
		}
		run(m);
	}
	// The kernel still serves: a fresh child writing through a pipe.
	int p[2];
	char buf[8] = {0};
	if (pipe(p) < 0) {
		out("probe: pipe after the modes: %s", en(errno));
		return 1;
	}
	pid_t c = fork();
	if (c < 0) {
		out("probe: fork after the modes: %s", en(errno));
		return 1;
	}
	if (c == 0) {
		write(p[1], "alive", 5);
		_exit(0);
	}
	close(p[1]);
	read(p[0], buf, 5);
	waitpid(c, NULL, 0);
	out("probe: %s", !strcmp(buf, "alive") ? "kernel alive" : "no answer");
	return 0;
}
