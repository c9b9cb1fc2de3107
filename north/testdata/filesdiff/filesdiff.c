// filesdiff: who shares a descriptor table and a working directory —
// tasks made by clone(2) with and without CLONE_FILES and CLONE_FS
// (threads and processes), unshare(2) in a thread, close_range(2)'s
// CLOSE_RANGE_UNSHARE, /proc's views of a task's table, record locks
// owned by a table, and execve from a thread and from a process sharing
// its table — built with gcc -static and run natively and inside Cocoon
// (north/files_vm_test.go): both runs must print the same lines. It prints
// outcomes and paths below DIR, never pids or descriptor numbers, and
// depends on no descriptor the caller left open. Usage: filesdiff DIR
// (a writable scratch directory).
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

// include/uapi/linux/close_range.h, for C libraries that lack it.
#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static const char *ename(int e) {
	static char buf[32];
	switch (e) {
#define E(x) \
	case x: \
		return #x;
		E(EPERM) E(ENOENT) E(EBADF) E(EAGAIN) E(EACCES) E(EINVAL) E(ENOSYS) E(ENOTDIR) E(EEXIST)
#undef E
	}
	snprintf(buf, sizeof buf, "errno %d", e);
	return buf;
}

// A task's results: a call's return value, or -errno. The children of
// clone write them here (shared memory: some children are processes
// with a copy of everything else), the parent prints them.
#define NRES 32
struct results {
	long r[NRES];
	char s[4][PATH_MAX];
};
static struct results *res;

static long rc(long r) { return r < 0 ? -errno : r; }

static void show(const char *what, long r) {
	if (r < 0)
		printf("%s: %s\n", what, ename((int)-r));
	else
		printf("%s: %ld\n", what, r);
}

// isopen reports whether fd is open in the calling task's table.
static long isopen(int fd) { return fcntl(fd, F_GETFD) >= 0 ? 1 : -errno; }

static char dir[PATH_MAX];

// rel prints a path with DIR for the scratch directory.
static void showpath(const char *what, const char *p) {
	size_t n = strlen(dir);
	if (strncmp(p, dir, n) == 0)
		printf("%s: DIR%s\n", what, p + n);
	else
		printf("%s: %s\n", what, p);
}

static char stack[1 << 16] __attribute__((aligned(16)));
static volatile pid_t tidword;

// thread runs fn as a thread of this process made by clone with extra
// flags (CLONE_FILES, CLONE_FS or neither) and waits for it to end
// (CLONE_CHILD_CLEARTID wakes the futex).
static void thread(int (*fn)(void *), int extra) {
	tidword = 1;
	int flags = CLONE_VM | CLONE_SIGHAND | CLONE_THREAD | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID | extra;
	if (clone(fn, stack + sizeof stack, flags, NULL, &tidword, NULL, &tidword) < 0) {
		printf("FAIL clone(%#x): %s\n", flags, ename(errno));
		exit(1);
	}
	for (;;) {
		pid_t v = tidword;
		if (v == 0)
			break;
		syscall(SYS_futex, &tidword, FUTEX_WAIT, v, NULL, NULL, 0);
	}
}

// waitSingleThreaded waits, a few seconds at most, until
// /proc/self/status counts one thread.
static void waitSingleThreaded(void) {
	for (int i = 0; i < 2000; i++) {
		char b[4096];
		int fd = open("/proc/self/status", O_RDONLY);
		ssize_t n = fd < 0 ? -1 : read(fd, b, sizeof b - 1);
		if (fd >= 0)
			close(fd);
		if (n <= 0)
			return;
		b[n] = 0;
		char *t = strstr(b, "\nThreads:\t");
		if (!t || atoi(t + 10) <= 1)
			return;
		usleep(1000);
	}
}

// process runs fn in a child process made by clone with extra flags and
// waits for it; it returns the child's exit status.
static int process(int (*fn)(void *), int extra) {
	pid_t pid = clone(fn, stack + sizeof stack, extra | SIGCHLD, NULL);
	if (pid < 0) {
		printf("FAIL clone(%#x): %s\n", extra, ename(errno));
		exit(1);
	}
	int st;
	if (waitpid(pid, &st, 0) != pid) {
		printf("FAIL waitpid: %s\n", ename(errno));
		exit(1);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int shared_fd = -1; // a descriptor the parent opened before clone
static char sub[PATH_MAX + 8], sub2[PATH_MAX + 8];

// The children: each records what it did and saw in res->r.

static int child_basic(void *arg) {
	(void)arg;
	res->r[0] = isopen(shared_fd); // the parent's descriptor
	res->r[3] = rc(chdir(sub));    // the child's working directory
	// Relative to the child's working directory.
	res->r[2] = rc(open("made-by-child", O_CREAT | O_RDWR, 0666));
	res->r[1] = rc(close(shared_fd)); // closed in the child's table
	res->r[4] = rc(umask(027));       // the previous mask
	if (!getcwd(res->s[0], PATH_MAX))
		strcpy(res->s[0], "getcwd failed");
	return 0;
}

// basic runs child_basic as a thread or process with flags and shows what
// the parent sees afterwards, then restores the parent's state.
static void basic(const char *name, int flags, int isproc) {
	shared_fd = open(".", O_RDONLY | O_DIRECTORY);
	memset(res, 0, sizeof *res);
	if (isproc)
		process(child_basic, flags);
	else
		thread(child_basic, flags);
	char what[128];
	snprintf(what, sizeof what, "%s: child saw the parent's fd", name);
	show(what, res->r[0]);
	snprintf(what, sizeof what, "%s: child closed it", name);
	show(what, res->r[1]);
	snprintf(what, sizeof what, "%s: parent's fd after the child's close", name);
	show(what, isopen(shared_fd));
	snprintf(what, sizeof what, "%s: child's open", name);
	show(what, res->r[2] >= 0 ? 1 : res->r[2]);
	if (res->r[2] >= 0) {
		snprintf(what, sizeof what, "%s: parent sees the child's new fd", name);
		show(what, isopen((int)res->r[2]));
		close((int)res->r[2]);
	}
	char made[PATH_MAX + 32];
	snprintf(made, sizeof made, "%s/made-by-child", sub);
	snprintf(what, sizeof what, "%s: child's relative open made DIR/sub/made-by-child", name);
	show(what, rc(access(made, F_OK)) == 0);
	unlink(made);
	snprintf(what, sizeof what, "%s: chdir in child", name);
	show(what, res->r[3]);
	snprintf(what, sizeof what, "%s: child's cwd", name);
	showpath(what, res->s[0]);
	char cwd[PATH_MAX];
	snprintf(what, sizeof what, "%s: parent's cwd after", name);
	showpath(what, getcwd(cwd, sizeof cwd) ? cwd : "getcwd failed");
	snprintf(what, sizeof what, "%s: child's umask saw", name);
	printf("%s: %03lo\n", what, res->r[4]);
	mode_t m = umask(022);
	snprintf(what, sizeof what, "%s: parent's umask after", name);
	printf("%s: %03o\n", what, m);
	close(shared_fd);
	chdir(dir);
}

// child_unshare shares the table and cwd (CLONE_FILES|CLONE_FS), then
// unshares what flags say.
static int unshare_flags;
static int child_unshare(void *arg) {
	(void)arg;
	res->r[0] = rc(unshare(unshare_flags));
	res->r[2] = rc(open(".", O_RDONLY | O_DIRECTORY));
	res->r[1] = rc(close(shared_fd));
	res->r[3] = rc(chdir(sub));
	res->r[4] = rc(umask(077));
	return 0;
}

static void unshares(void) {
	static const struct {
		const char *name;
		int flags;
	} cases[] = {{"unshare(0)", 0},
		     {"unshare(CLONE_FILES)", CLONE_FILES},
		     {"unshare(CLONE_FS)", CLONE_FS},
		     {"unshare(CLONE_FILES|CLONE_FS)", CLONE_FILES | CLONE_FS}};
	for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *name = cases[i].name;
		shared_fd = open(".", O_RDONLY | O_DIRECTORY);
		memset(res, 0, sizeof *res);
		unshare_flags = cases[i].flags;
		thread(child_unshare, CLONE_FILES | CLONE_FS);
		char what[128], cwd[PATH_MAX];
		snprintf(what, sizeof what, "%s in a thread", name);
		show(what, res->r[0]);
		snprintf(what, sizeof what, "%s: parent's fd after the thread closed it", name);
		show(what, isopen(shared_fd));
		snprintf(what, sizeof what, "%s: parent sees the thread's new fd", name);
		show(what, res->r[2] >= 0 ? isopen((int)res->r[2]) : res->r[2]);
		snprintf(what, sizeof what, "%s: parent's cwd after the thread's chdir", name);
		showpath(what, getcwd(cwd, sizeof cwd) ? cwd : "getcwd failed");
		mode_t m = umask(022);
		snprintf(what, sizeof what, "%s: parent's umask after the thread's", name);
		printf("%s: %03o\n", what, m);
		if (res->r[2] >= 0 && isopen((int)res->r[2]) == 1)
			close((int)res->r[2]);
		close(shared_fd);
		chdir(dir);
	}
	// Single-threaded, unshare has nothing to copy. The last thread
	// cleared its TID (mm_release) before it left the thread group
	// (exit_notify): wait until it has, or Linux's unshare(CLONE_THREAD)
	// still sees two threads (EINVAL).
	waitSingleThreaded();
	show("unshare(CLONE_FILES|CLONE_FS) single-threaded", rc(unshare(CLONE_FILES | CLONE_FS)));
	show("unshare(CLONE_THREAD) single-threaded", rc(unshare(CLONE_THREAD)));
}

// child_proc looks at /proc from a thread with a table and a working
// directory of its own.
static int child_proc(void *arg) {
	(void)arg;
	int fd = open("proc-probe", O_CREAT | O_RDWR, 0666);
	char path[128], link[PATH_MAX];
	long tid = syscall(SYS_gettid);
	const char *fmt[] = {"/proc/thread-self/fd/%d", "/proc/self/fd/%d", "/proc/%ld/fd/%d", "/proc/self/task/%ld/fd/%d"};
	for (int i = 0; i < 4; i++) {
		if (i < 2)
			snprintf(path, sizeof path, fmt[i], fd);
		else
			snprintf(path, sizeof path, fmt[i], tid, fd);
		ssize_t n = readlink(path, link, sizeof link - 1);
		if (n < 0) {
			res->r[i] = -errno;
			continue;
		}
		link[n] = 0;
		size_t l = strlen(link);
		res->r[i] = l >= 10 && strcmp(link + l - 10, "proc-probe") == 0;
	}
	chdir(sub);
	ssize_t n = readlink("/proc/thread-self/cwd", res->s[0], PATH_MAX - 1);
	res->s[0][n > 0 ? n : 0] = 0;
	n = readlink("/proc/self/cwd", res->s[1], PATH_MAX - 1);
	res->s[1][n > 0 ? n : 0] = 0;
	snprintf(path, sizeof path, "/proc/%ld/cwd", tid);
	n = readlink(path, res->s[2], PATH_MAX - 1);
	res->s[2][n > 0 ? n : 0] = 0;
	// Opening through /proc/thread-self reaches the thread's own file.
	int again = open("/proc/thread-self/fd/0", O_RDONLY);
	res->r[4] = again >= 0 ? 1 : -errno;
	if (again >= 0)
		close(again);
	snprintf(path, sizeof path, "/proc/thread-self/fd/%d", fd);
	again = open(path, O_RDONLY);
	res->r[5] = again >= 0 ? 1 : -errno;
	if (again >= 0)
		close(again);
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	again = open(path, O_RDONLY);
	res->r[6] = again >= 0 ? 1 : -errno;
	if (again >= 0)
		close(again);
	close(fd);
	return 0;
}

static void procs(void) {
	memset(res, 0, sizeof *res);
	thread(child_proc, 0);
	show("private table: /proc/thread-self/fd/N names the thread's file", res->r[0]);
	show("private table: /proc/self/fd/N (the leader's table)", res->r[1]);
	show("private table: /proc/TID/fd/N names the thread's file", res->r[2]);
	show("private table: /proc/self/task/TID/fd/N names the thread's file", res->r[3]);
	show("private table: open /proc/thread-self/fd/0", res->r[4]);
	show("private table: open /proc/thread-self/fd/N", res->r[5]);
	show("private table: open /proc/self/fd/N", res->r[6]);
	showpath("private fs: /proc/thread-self/cwd", res->s[0]);
	showpath("private fs: /proc/self/cwd", res->s[1]);
	showpath("private fs: /proc/TID/cwd", res->s[2]);
	unlink("proc-probe");
	chdir(dir);
}

// Record locks belong to a descriptor table (files_struct): a thread
// with its own table is another owner, one sharing it the same.
static int lock_fd = -1;
static int child_lock(void *arg) {
	(void)arg;
	int fd = open("lockfile", O_RDWR);
	struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
	res->r[0] = rc(fcntl(fd, F_SETLK, &l));
	struct flock g = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
	res->r[1] = rc(fcntl(fd, F_GETLK, &g));
	res->r[2] = g.l_type == F_UNLCK ? 0 : 1;
	res->r[3] = g.l_type != F_UNLCK && g.l_pid == getpid();
	// Closing the thread's descriptor drops its table's locks only.
	close(fd);
	return 0;
}

static void locks(void) {
	lock_fd = open("lockfile", O_CREAT | O_RDWR, 0666);
	struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
	show("parent F_SETLK", rc(fcntl(lock_fd, F_SETLK, &l)));
	memset(res, 0, sizeof *res);
	thread(child_lock, CLONE_FILES);
	show("shared table: thread's F_SETLK over the parent's lock", res->r[0]);
	show("shared table: thread's F_GETLK sees a conflict", res->r[2]);
	// The shared table's close dropped the lock: take it again.
	show("parent F_SETLK again", rc(fcntl(lock_fd, F_SETLK, &l)));
	memset(res, 0, sizeof *res);
	thread(child_lock, 0);
	show("private table: thread's F_SETLK over the parent's lock", res->r[0]);
	show("private table: thread's F_GETLK sees a conflict", res->r[2]);
	show("private table: its l_pid is the process's", res->r[3]);
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		int fd = open("lockfile", O_RDWR);
		struct flock g = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
		fcntl(fd, F_GETLK, &g);
		printf("another process's F_GETLK: %s, l_pid is the parent's %d, l_start %ld, l_len %ld\n",
		       g.l_type == F_WRLCK ? "F_WRLCK" : "other", g.l_pid == getppid(), (long)g.l_start, (long)g.l_len);
		_exit(0);
	}
	waitpid(c, NULL, 0);
	// And the other way round: a child's lock, as the parent sees it.
	int up[2], down[2];
	pipe(up);
	pipe(down);
	c = fork();
	if (c == 0) {
		int fd = open("lockfile", O_RDWR);
		struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 5, .l_len = 2};
		char b = fcntl(fd, F_SETLK, &l) == 0 ? 'y' : 'n';
		write(up[1], &b, 1);
		read(down[0], &b, 1);
		_exit(0);
	}
	char b = 0;
	read(up[0], &b, 1);
	struct flock g = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 4, .l_len = 0};
	show("parent F_GETLK over a child's lock", rc(fcntl(lock_fd, F_GETLK, &g)));
	printf("  the child locked: %c; F_GETLK: %s, l_pid is the child's %d, l_start %ld, l_len %ld\n", b,
	       g.l_type == F_WRLCK ? "F_WRLCK" : "other", g.l_pid == c, (long)g.l_start, (long)g.l_len);
	write(down[1], &b, 1);
	waitpid(c, NULL, 0);
	close(up[0]);
	close(up[1]);
	close(down[0]);
	close(down[1]);
	memset(res, 0, sizeof *res);
	thread(child_lock, 0);
	show("private table: the lock outlived the other thread's close", res->r[0]);
	close(lock_fd);
	unlink("lockfile");
}

// A thread with a table of its own holds its copy of a pipe's write
// end: its exit closes it, and the reader sees the end of the pipe.
static int pipe_w = -1;
static int child_idle(void *arg) {
	(void)arg;
	res->r[0] = isopen(pipe_w);
	return 0;
}

static void exits(void) {
	int p[2];
	pipe(p);
	pipe_w = p[1];
	memset(res, 0, sizeof *res);
	thread(child_idle, 0);
	show("private table: thread saw the write end", res->r[0]);
	close(p[1]);
	struct pollfd pf = {p[0], POLLIN, 0};
	int n = poll(&pf, 1, 20000);
	printf("after the thread's exit and the parent's close: poll %d%s\n", n, pf.revents & POLLHUP ? " HUP" : "");
	close(p[0]);
}

// close_range with CLOSE_RANGE_UNSHARE in a thread sharing the table.
static int cr_flags;
static int cr_lo;
static int child_close_range(void *arg) {
	(void)arg;
	res->r[0] = rc(syscall(SYS_close_range, cr_lo, ~0U, cr_flags));
	res->r[1] = isopen(cr_lo);
	res->r[2] = rc(fcntl(cr_lo, F_GETFD));
	res->r[3] = isopen(0);
	return 0;
}

static void close_ranges(void) {
	show("close_range first > last", rc(syscall(SYS_close_range, 5, 4, 0)));
	show("close_range unknown flag", rc(syscall(SYS_close_range, 5, 6, 1)));
	static const struct {
		const char *name;
		unsigned flags;
	} cases[] = {{"close_range UNSHARE", CLOSE_RANGE_UNSHARE},
		     {"close_range UNSHARE|CLOEXEC", CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC},
		     {"close_range", 0},
		     {"close_range CLOEXEC", CLOSE_RANGE_CLOEXEC}};
	for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		// Two descriptors above every other: the range is theirs.
		int a = fcntl(0, F_DUPFD, 900);
		int b = fcntl(0, F_DUPFD, 901);
		cr_lo = a;
		cr_flags = cases[i].flags;
		memset(res, 0, sizeof *res);
		thread(child_close_range, CLONE_FILES);
		char what[128];
		snprintf(what, sizeof what, "%s in a sharing thread", cases[i].name);
		show(what, res->r[0]);
		snprintf(what, sizeof what, "%s: thread's fd", cases[i].name);
		show(what, res->r[1]);
		snprintf(what, sizeof what, "%s: thread's close-on-exec flag", cases[i].name);
		show(what, res->r[2] < 0 ? res->r[2] : res->r[2] & FD_CLOEXEC);
		snprintf(what, sizeof what, "%s: thread's fd 0", cases[i].name);
		show(what, res->r[3]);
		snprintf(what, sizeof what, "%s: parent's fd", cases[i].name);
		show(what, isopen(a));
		snprintf(what, sizeof what, "%s: parent's close-on-exec flag", cases[i].name);
		long fl = fcntl(a, F_GETFD);
		show(what, fl < 0 ? -errno : fl & FD_CLOEXEC);
		snprintf(what, sizeof what, "%s: parent's second fd", cases[i].name);
		show(what, isopen(b));
		close(a);
		close(b);
	}
}

// A process sharing the parent's table (clone(CLONE_FILES)) execs: the
// exec gives it a private copy first, so the close-on-exec descriptors
// close in its copy only.
static char self[PATH_MAX];
static char fdarg[3][16];
static int child_exec(void *arg) {
	(void)arg;
	char *argv[] = {self, dir, "exec-check", fdarg[0], fdarg[1], fdarg[2], NULL};
	execv("/proc/self/exe", argv);
	return 127;
}

static void exec_shared(void) {
	int keep = open(".", O_RDONLY | O_DIRECTORY);
	int cloexec = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	snprintf(fdarg[0], sizeof fdarg[0], "%d", keep);
	snprintf(fdarg[1], sizeof fdarg[1], "%d", cloexec);
	snprintf(fdarg[2], sizeof fdarg[2], "%d", -1);
	printf("exec in a process sharing the table: status %d\n", process(child_exec, CLONE_FILES));
	show("after it: parent's fd", isopen(keep));
	show("after it: parent's close-on-exec fd", isopen(cloexec));
	close(keep);
	close(cloexec);
}

// The last: a thread with a table of its own opens a descriptor and
// execs; the program that follows checks what it has.
static int child_exec_thread(void *arg) {
	(void)arg;
	int mine = open(".", O_RDONLY | O_DIRECTORY);
	snprintf(fdarg[2], sizeof fdarg[2], "%d", mine);
	chdir(sub2);
	char *argv[] = {self, dir, "exec-check", fdarg[0], fdarg[1], fdarg[2], "last", NULL};
	execv("/proc/self/exe", argv);
	return 127;
}

static void exec_thread(void) {
	int keep = open(".", O_RDONLY | O_DIRECTORY);
	int cloexec = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	snprintf(fdarg[0], sizeof fdarg[0], "%d", keep);
	snprintf(fdarg[1], sizeof fdarg[1], "%d", cloexec);
	printf("exec from a thread with a table and cwd of its own\n");
	thread(child_exec_thread, 0); // never returns: the exec ends this thread
	printf("FAIL the exec from the thread returned\n");
}

// exec_check is the program an exec runs: it reports which of the
// descriptors it was given are open, and its working directory.
static int exec_check(char **argv) {
	show("  after exec: the open fd", isopen(atoi(argv[3])));
	show("  after exec: the close-on-exec fd", isopen(atoi(argv[4])));
	int mine = atoi(argv[5]);
	if (mine >= 0)
		show("  after exec: the thread's own fd", isopen(mine));
	char cwd[PATH_MAX];
	showpath("  after exec: cwd", getcwd(cwd, sizeof cwd) ? cwd : "getcwd failed");
	ssize_t n = readlink("/proc/self/cwd", cwd, sizeof cwd - 1);
	cwd[n > 0 ? n : 0] = 0;
	showpath("  after exec: /proc/self/cwd", cwd);
	if (mine >= 0) {
		char path[64];
		snprintf(path, sizeof path, "/proc/self/fd/%d", mine);
		show("  after exec: /proc/self/fd has the thread's own fd", rc(access(path, F_OK)) == 0);
	}
	show("  after exec: pid is the tid", getpid() == syscall(SYS_gettid));
	if (argv[6]) {
		// Only this thread went on: the process's table is its own.
		DIR *d = opendir("/proc/self/task");
		int n = 0;
		struct dirent *e;
		while (d && (e = readdir(d)))
			n += e->d_name[0] != '.';
		if (d)
			closedir(d);
		show("  after exec: threads", n);
		printf("filesdiff: done\n");
	}
	return 0;
}

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc < 2) {
		fprintf(stderr, "usage: filesdiff DIR\n");
		return 2;
	}
	if (!realpath(argv[1], dir)) {
		printf("FAIL realpath %s: %s\n", argv[1], ename(errno));
		return 1;
	}
	if (argc > 5 && strcmp(argv[2], "exec-check") == 0) {
		return exec_check(argv);
	}
	if (chdir(dir) < 0) {
		printf("FAIL chdir: %s\n", ename(errno));
		return 1;
	}
	snprintf(sub, sizeof sub, "%s/sub", dir);
	snprintf(sub2, sizeof sub2, "%s/sub2", dir);
	mkdir(sub, 0755);
	mkdir(sub2, 0755);
	umask(022);
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	self[n > 0 ? n : 0] = 0;
	res = mmap(NULL, sizeof *res, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (res == MAP_FAILED) {
		printf("FAIL mmap: %s\n", ename(errno));
		return 1;
	}
	basic("thread CLONE_FILES|CLONE_FS", CLONE_FILES | CLONE_FS, 0);
	basic("thread CLONE_FILES", CLONE_FILES, 0);
	basic("thread CLONE_FS", CLONE_FS, 0);
	basic("thread sharing neither", 0, 0);
	basic("process CLONE_FILES|CLONE_FS", CLONE_FILES | CLONE_FS, 1);
	basic("process CLONE_FILES", CLONE_FILES, 1);
	basic("process CLONE_FS", CLONE_FS, 1);
	basic("process CLONE_VM|CLONE_VFORK", CLONE_VM | CLONE_VFORK, 1);
	unshares();
	procs();
	locks();
	exits();
	close_ranges();
	exec_shared();
	exec_thread();
	return 1;
}
