// procabi: process-level corners of the Linux ABI — writing
// /proc/PID/comm, init's immunity to signals it does not handle, timed
// waits across a stop and a continue, execveat's argument checks and the
// AT_EXECFN it gives, dumpability after running an unreadable program, file
// permissions against the caller's IDs, write permission for connecting
// to a Unix socket's file, Unix socket credentials, fs.protected_hardlinks, lock waits under
// SA_RESTART, memfd modes and the per-user count of pending signals —
// built with gcc -static and run natively and
// inside Cocoon (north/procabi_vm_test.go): both runs must print the same
// lines. It prints outcomes, never addresses, times or IDs the host
// chooses. It must run as root. Natively, the part that needs to be
// init runs as pid 1 of a new PID namespace; in Cocoon the program is
// pid 1 already. Usage: procabi DIR
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/futex.h>
#include <poll.h>
#include <sys/auxv.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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
		E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EBADF) E(EAGAIN) E(ENOMEM) E(EACCES) E(EFAULT)
		E(EBUSY) E(EEXIST) E(EXDEV) E(ENOTDIR) E(EISDIR) E(EINVAL) E(ENOSPC) E(ESPIPE)
		E(ELOOP) E(ENOEXEC) E(E2BIG) E(EOPNOTSUPP) E(ENOSYS) E(ENXIO) E(ETXTBSY) E(ETIMEDOUT)
		E(EROFS) E(ENAMETOOLONG) E(ECONNREFUSED)
#undef E
	}
	snprintf(buf, sizeof buf, "errno %d", errno);
	return buf;
}

// show prints what a call returned: its result or its error's name.
static void show(const char *what, long r) {
	printf("%s: %s\n", what, res(r));
	fflush(stdout);
}

static char dir[512];
static __attribute__((unused)) char *at(const char *name) {
	static char buf[4][600];
	static int i;
	i = (i + 1) % 4;
	snprintf(buf[i], sizeof buf[i], "%s/%s", dir, name);
	return buf[i];
}

// text prints a file's contents with newlines shown as \n.
static void text(const char *what, const char *path) {
	char b[128];
	int fd = open(path, O_RDONLY);
	long n = fd < 0 ? -1 : read(fd, b, sizeof b);
	if (fd >= 0)
		close(fd);
	if (n < 0) {
		show(what, n);
		return;
	}
	printf("%s: [", what);
	for (long i = 0; i < n; i++)
		printf(b[i] == '\n' ? "\\n" : "%c", b[i]);
	printf("]\n");
	fflush(stdout);
}

// waitChild waits for pid and prints how it ended.
static void waitChild(const char *what, pid_t pid) {
	int st;
	if (waitpid(pid, &st, 0) != pid) {
		printf("%s: waitpid: %s\n", what, res(-1));
	} else if (WIFEXITED(st)) {
		printf("%s: exit %d\n", what, WEXITSTATUS(st));
	} else if (WIFSIGNALED(st)) {
		printf("%s: killed by %d\n", what, WTERMSIG(st));
	} else {
		printf("%s: status %#x\n", what, st);
	}
	fflush(stdout);
}

static char selfComm[64];
static pid_t threadTid;
static pthread_barrier_t bar;

static void *namedThread(void *arg) {
	threadTid = syscall(SYS_gettid);
	pthread_barrier_wait(&bar); // the main thread renames us
	pthread_barrier_wait(&bar);
	char nm[17] = {0};
	prctl(PR_GET_NAME, nm);
	printf("thread's own name: [%s]\n", nm);
	return arg;
}

// comm: writing /proc/PID/comm and /proc/PID/task/TID/comm.
static void comm(void) {
	snprintf(selfComm, sizeof selfComm, "/proc/%d/comm", getpid());
	int fd = open(selfComm, O_WRONLY);
	show("open own comm for writing", fd >= 0 ? 0 : -1);
	show("write hello\\n", write(fd, "hello\n", 6));
	text("comm", "/proc/self/comm");
	show("write 20 bytes", write(fd, "0123456789abcdefghij", 20));
	text("comm", "/proc/self/comm");
	char nm[17] = {0};
	prctl(PR_GET_NAME, nm);
	printf("PR_GET_NAME: [%s]\n", nm);
	show("write 0 bytes", write(fd, "", 0));
	text("comm", "/proc/self/comm");
	show("write 1 MiB", write(fd, malloc(1 << 20), 1 << 20));
	show("write bad address", syscall(SYS_write, fd, 8L, 3L));
	show("pwrite", pwrite(fd, "abc", 3, 0));
	show("lseek after writes", lseek(fd, 0, SEEK_CUR));
	close(fd);
	struct stat st;
	stat(selfComm, &st);
	printf("comm mode %o\n", st.st_mode);
	show("open comm O_RDWR|O_TRUNC", fd = open("/proc/self/comm", O_RDWR | O_TRUNC));
	show("write procabi", write(fd, "procabi", 7));
	close(fd);
	text("comm", "/proc/self/comm");
	show("open stat for writing", fd = open("/proc/self/stat", O_WRONLY));
	show("write stat", write(fd, "x", 1));
	close(fd);
	show("access comm W_OK", access("/proc/self/comm", W_OK));

	// A thread renamed through /proc/self/task/TID/comm.
	pthread_t th;
	pthread_barrier_init(&bar, NULL, 2);
	pthread_create(&th, NULL, namedThread, NULL);
	pthread_barrier_wait(&bar);
	char path[64];
	snprintf(path, sizeof path, "/proc/self/task/%d/comm", threadTid);
	fd = open(path, O_WRONLY);
	show("write thread's comm", write(fd, "worker", 6));
	close(fd);
	text("thread's comm", path);
	text("process comm after", "/proc/self/comm");
	pthread_barrier_wait(&bar);
	pthread_join(th, NULL);

	// Another process may open it, but not rename it; an unprivileged
	// user may not even open root's.
	pid_t c = fork();
	if (c == 0) {
		fd = open(selfComm, O_WRONLY);
		show("other process opens comm", fd >= 0 ? 0 : -1);
		show("other process writes comm", write(fd, "x", 1));
		close(fd);
		_exit(0);
	}
	waitChild("other process", c);
	text("comm unchanged", "/proc/self/comm");
}

// The timed waits a stop and a continue (or a handler) interrupt.
enum { wNanosleep, wClockRel, wClockAbs, wFutex, wFutexBitset, wPoll, wPpoll, wSelect, wPselect, wEpoll, wSigtimedwait, wRead, nWaits };
static const char *waitNames[nWaits] = {"nanosleep", "clock_nanosleep", "clock_nanosleep TIMER_ABSTIME",
	"futex FUTEX_WAIT timed", "futex FUTEX_WAIT_BITSET timed", "poll", "ppoll", "select", "pselect6",
	"epoll_wait forever", "sigtimedwait forever", "read of a pipe"};

static int gate[2], quiet[2];

// doWait makes wait w, of 1 s if timed; it returns the result.
static long doWait(int w) {
	struct timespec ts = {1, 0}, abs;
	struct timeval tv = {1, 0};
	static int fut;
	struct pollfd pfd = {quiet[0], POLLIN, 0};
	fd_set rd;
	FD_ZERO(&rd);
	FD_SET(quiet[0], &rd);
	switch (w) {
	case wNanosleep:
		return nanosleep(&ts, NULL);
	case wClockRel:
		errno = clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
		return errno ? -1 : 0;
	case wClockAbs:
		clock_gettime(CLOCK_MONOTONIC, &abs);
		abs.tv_sec += 1;
		errno = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &abs, NULL);
		return errno ? -1 : 0;
	case wFutex:
		return syscall(SYS_futex, &fut, FUTEX_WAIT, 0, &ts, NULL, 0);
	case wFutexBitset:
		clock_gettime(CLOCK_MONOTONIC, &abs);
		abs.tv_sec += 1;
		return syscall(SYS_futex, &fut, FUTEX_WAIT_BITSET, 0, &abs, NULL, FUTEX_BITSET_MATCH_ANY);
	case wPoll:
		return poll(&pfd, 1, 1000);
	case wPpoll:
		return ppoll(&pfd, 1, &ts, NULL);
	case wSelect:
		return select(quiet[0] + 1, &rd, NULL, NULL, &tv);
	case wPselect:
		return pselect(quiet[0] + 1, &rd, NULL, NULL, &ts, NULL);
	case wEpoll: {
		int ep = epoll_create1(0);
		struct epoll_event ev = {.events = EPOLLIN};
		epoll_ctl(ep, EPOLL_CTL_ADD, quiet[0], &ev);
		long r = epoll_wait(ep, &ev, 1, -1);
		int e = errno;
		close(ep);
		errno = e;
		return r;
	}
	case wSigtimedwait: {
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGUSR2);
		return sigtimedwait(&set, NULL, NULL);
	}
	case wRead: {
		char c;
		return read(quiet[0], &c, 1);
	}
	}
	return -1;
}

// sleeping waits until process pid sleeps in a system call (state S in
// /proc/PID/stat).
static void sleeping(pid_t pid) {
	char path[64], b[256];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	for (;;) {
		int fd = open(path, O_RDONLY);
		long n = read(fd, b, sizeof b - 1);
		close(fd);
		b[n > 0 ? n : 0] = 0;
		char *p = strrchr(b, ')');
		if (p && p[1] == ' ' && p[2] == 'S')
			return;
		usleep(1000);
	}
}

static void onUsr1(int sig);

// stopWaits: each wait in a child that the parent stops and continues
// (no handler: the timed waits go on with the time left, epoll_wait and
// sigtimedwait fail with EINTR, signal(7)), and then interrupts with a
// SA_RESTART handler (the sleeps, poll, select and timed futex waits fail
// with EINTR; read is restarted and the parent then writes a byte).
static void stopWaits(void) {
	for (int handler = 0; handler < 2; handler++) {
		pipe(gate);
		pipe(quiet);
		pid_t c = fork();
		if (c == 0) {
			struct sigaction sa = {.sa_handler = onUsr1, .sa_flags = SA_RESTART};
			sigaction(SIGUSR1, &sa, NULL);
			for (int w = 0; w < nWaits; w++) {
				if (handler && (w == wEpoll || w == wSigtimedwait))
					continue;
				write(gate[1], "x", 1);
				long r = doWait(w);
				printf("%s %s: %s\n", handler ? "handler:" : "stop/cont:", waitNames[w], res(r));
			}
			_exit(0);
		}
		for (int w = 0; w < nWaits; w++) {
			if (handler && (w == wEpoll || w == wSigtimedwait))
				continue;
			char x;
			read(gate[0], &x, 1);
			sleeping(c);
			if (handler) {
				kill(c, SIGUSR1);
				if (w == wRead) {
					usleep(100000);
					write(quiet[1], "x", 1);
				}
				continue;
			}
			int st;
			kill(c, SIGSTOP);
			waitpid(c, &st, WUNTRACED);
			if (!WIFSTOPPED(st))
				printf("FAIL: %s: not stopped: %#x\n", waitNames[w], st);
			kill(c, SIGCONT);
			if (w == wRead) {
				usleep(100000);
				write(quiet[1], "x", 1);
			}
		}
		waitChild(handler ? "handler waits" : "stopped waits", c);
		close(gate[0]), close(gate[1]), close(quiet[0]), close(quiet[1]);
	}
}

static char exe[512];

// tryExecveat runs execveat(dirfd, path, flags) in a child, which runs
// this program's probe mode labelled what if it succeeds, and prints
// the child's error otherwise.
static void tryExecveat(const char *what, int dirfd, const char *path, int flags) {
	pid_t c = fork();
	if (c == 0) {
		char *argv[] = {"procabi", dir, "probe", (char *)what, NULL};
		char *envp[] = {NULL};
		long r = syscall(SYS_execveat, dirfd, path, argv, envp, flags);
		printf("execveat %s: %s\n", what, res(r));
		_exit(0);
	}
	int st;
	waitpid(c, &st, 0);
}

// execveats: execveat's dirfd, AT_EMPTY_PATH and AT_SYMLINK_NOFOLLOW,
// and its errors.
static void execveats(void) {
	long n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	exe[n > 0 ? n : 0] = 0;
	char *slash = strrchr(exe, '/');
	char exeDir[512];
	snprintf(exeDir, sizeof exeDir, "%.*s", (int)(slash - exe) + 1, exe);
	const char *base = slash + 1;
	int dfd = open(exeDir, O_RDONLY | O_DIRECTORY);
	int rfd = open(exe, O_RDONLY);
	int pfd = open(exe, O_PATH);
	int sdir = open(dir, O_RDONLY | O_DIRECTORY);
	int p[2];
	pipe(p);
	symlink(exe, at("exe-link"));
	tryExecveat("dirfd + relative path", dfd, base, 0);
	tryExecveat("dirfd + relative path, AT_EMPTY_PATH", dfd, base, AT_EMPTY_PATH);
	tryExecveat("absolute path, bad dirfd", 99, exe, 0);
	tryExecveat("AT_EMPTY_PATH, O_RDONLY fd", rfd, "", AT_EMPTY_PATH);
	tryExecveat("AT_EMPTY_PATH, O_PATH fd", pfd, "", AT_EMPTY_PATH);
	tryExecveat("symbolic link", sdir, "exe-link", 0);
	tryExecveat("symbolic link, AT_SYMLINK_NOFOLLOW", sdir, "exe-link", AT_SYMLINK_NOFOLLOW);
	tryExecveat("bad flags", dfd, base, 0x1);
	tryExecveat("AT_REMOVEDIR", dfd, base, AT_REMOVEDIR);
	tryExecveat("empty path", dfd, "", 0);
	tryExecveat("empty path, AT_FDCWD", AT_FDCWD, "", 0);
	tryExecveat("AT_EMPTY_PATH, AT_FDCWD", AT_FDCWD, "", AT_EMPTY_PATH);
	tryExecveat("AT_EMPTY_PATH, directory fd", sdir, "", AT_EMPTY_PATH);
	tryExecveat("AT_EMPTY_PATH, pipe", p[0], "", AT_EMPTY_PATH);
	tryExecveat("AT_EMPTY_PATH, bad fd", 99, "", AT_EMPTY_PATH);
	tryExecveat("relative path, bad dirfd", 99, base, 0);
	tryExecveat("relative path, file as dirfd", rfd, base, 0);
	tryExecveat("missing file", dfd, "no-such-program", 0);
	tryExecveat("directory", sdir, ".", 0);
	close(dfd), close(rfd), close(pfd), close(sdir), close(p[0]), close(p[1]);
	unlink(at("exe-link"));
}

static void copyExe(const char *name, mode_t mode);

// tryExecfn runs this program's execfn mode (or the script DIR/execfn.sh,
// whose interpreter is this program) by execveat(dirfd, path, flags) in a
// child, from DIR as the working directory.
static void tryExecfn(const char *what, int dirfd, const char *path, int flags) {
	pid_t c = fork();
	if (c == 0) {
		chdir(dir);
		char fdnum[16];
		snprintf(fdnum, sizeof fdnum, "%d", dirfd);
		char *argv[] = {"procabi", dir, "execfn", (char *)what, fdnum, NULL};
		char *envp[] = {NULL};
		long r = syscall(SYS_execveat, dirfd, path, argv, envp, flags);
		printf("execfn %s: execveat: %s\n", what, res(r));
		_exit(0);
	}
	waitpid(c, NULL, 0);
}

// execfns: the AT_EXECFN a program gets, and the path a script's
// interpreter gets, are the path as execve was given it, or for
// execveat with a directory descriptor "/dev/fd/N/path" ("/dev/fd/N"
// with AT_EMPTY_PATH); a script reached through a close-on-exec
// descriptor cannot be run (ENOENT), as its interpreter could not open
// that path (fs/exec.c alloc_bprm, fs/binfmt_script.c).
static void execfns(void) {
	copyExe("execfn-prog", 0755);
	int fd = open(at("execfn.sh"), O_CREAT | O_WRONLY | O_TRUNC, 0755);
	dprintf(fd, "#!%s\n", at("execfn-prog"));
	close(fd);
	int sdir = open(dir, O_RDONLY | O_DIRECTORY);
	int cdir = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int pfd = open(at("execfn-prog"), O_PATH);
	tryExecfn("dirfd + name", sdir, "execfn-prog", 0);
	tryExecfn("close-on-exec dirfd + name", cdir, "execfn-prog", 0);
	tryExecfn("dirfd + absolute path", sdir, at("execfn-prog"), 0);
	tryExecfn("AT_FDCWD + name", AT_FDCWD, "execfn-prog", 0);
	tryExecfn("AT_FDCWD + ./name", AT_FDCWD, "./execfn-prog", 0);
	tryExecfn("AT_EMPTY_PATH", pfd, "", AT_EMPTY_PATH);
	tryExecfn("script: dirfd + name", sdir, "execfn.sh", 0);
	tryExecfn("script: close-on-exec dirfd + name", cdir, "execfn.sh", 0);
	tryExecfn("script: AT_FDCWD + name", AT_FDCWD, "execfn.sh", 0);
	tryExecfn("script: absolute path", AT_FDCWD, at("execfn.sh"), 0);
	close(sdir), close(cdir), close(pfd);
}

// shownPath prints path with the scratch directory as DIR and
// "/dev/fd/<fdnum>" as /dev/fd/N.
static void shownPath(const char *what, const char *path, const char *fdnum) {
	char devfd[32];
	snprintf(devfd, sizeof devfd, "/dev/fd/%s", fdnum);
	size_t d = strlen(dir), f = strlen(devfd);
	if (strncmp(path, dir, d) == 0)
		printf("%s: DIR%s\n", what, path + d);
	else if (strncmp(path, devfd, f) == 0 && (path[f] == 0 || path[f] == '/'))
		printf("%s: /dev/fd/N%s\n", what, path + f);
	else
		printf("%s: %s\n", what, path);
}

// include/uapi/linux/memfd.h, for C libraries older than Linux 6.3.
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#define MFD_EXEC 0x0010U
#endif

// memfdModes: a memfd is mode 0777 whatever the umask, 0666 with
// MFD_NOEXEC_SEAL; fchmod changes it.
static void memfdModes(void) {
	struct {
		const char *what;
		unsigned flags;
	} cases[] = {{"memfd", 0}, {"memfd MFD_ALLOW_SEALING", MFD_ALLOW_SEALING},
		{"memfd MFD_NOEXEC_SEAL", MFD_NOEXEC_SEAL}, {"memfd MFD_EXEC", MFD_EXEC}};
	struct stat st;
	for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int fd = memfd_create("m", cases[i].flags);
		fstat(fd, &st);
		printf("%s: mode %o, links %lu\n", cases[i].what, st.st_mode, (unsigned long)st.st_nlink);
		close(fd);
	}
	mode_t old = umask(0777);
	int fd = memfd_create("m", 0);
	umask(old);
	fstat(fd, &st);
	printf("memfd under umask 0777: mode %o\n", st.st_mode);
	fchmod(fd, 0640);
	fstat(fd, &st);
	printf("memfd after fchmod 0640: mode %o\n", st.st_mode);
	close(fd);
}

// mk makes DIR/name as root with owner uid:gid and mode.
static void mk(const char *name, int dirMode, uid_t uid, gid_t gid, mode_t mode) {
	if (dirMode)
		mkdir(at(name), 0700);
	else
		close(open(at(name), O_CREAT | O_WRONLY | O_TRUNC, 0600));
	chown(at(name), uid, gid);
	chmod(at(name), mode);
}

// copyExe copies this program to DIR/name with mode.
static void copyExe(const char *name, mode_t mode) {
	int in = open("/proc/self/exe", O_RDONLY), out = open(at(name), O_CREAT | O_WRONLY | O_TRUNC, 0700);
	char b[65536];
	long n;
	while ((n = read(in, b, sizeof b)) > 0)
		write(out, b, n);
	close(in), close(out);
	chmod(at(name), mode);
}

// tryOpen prints what opening DIR/name with flags gives.
static void tryOpen(const char *who, const char *name, int flags) {
	char line[160];
	snprintf(line, sizeof line, "%s: open %s %s%s%s", who, name,
		(flags & O_ACCMODE) == O_RDONLY ? "O_RDONLY" : (flags & O_ACCMODE) == O_WRONLY ? "O_WRONLY" : "O_RDWR",
		flags & O_TRUNC ? "|O_TRUNC" : "", flags & O_CREAT ? "|O_CREAT" : "");
	int fd = open(at(name), flags, 0640);
	show(line, fd >= 0 ? 0 : -1);
	if (fd >= 0)
		close(fd);
}

// tryExec runs DIR/name's probe mode in a child and prints the outcome.
static void tryExec(const char *who, const char *name) {
	pid_t c = fork();
	if (c == 0) {
		char *argv[] = {"procabi", dir, "probe", (char *)name, NULL};
		char *envp[] = {NULL};
		execve(at(name), argv, envp);
		printf("%s: execve %s: %s\n", who, name, res(-1));
		_exit(0);
	}
	waitpid(c, NULL, 0);
}

static void tryAccess(const char *who, const char *name, int mode, int flags) {
	char line[160];
	snprintf(line, sizeof line, "%s: faccessat %s %s%s%s%s%s", who, name, mode == F_OK ? "F_OK" : "",
		mode & R_OK ? "R" : "", mode & W_OK ? "W" : "", mode & X_OK ? "X" : "", flags ? " AT_EACCESS" : "");
	show(line, syscall(SYS_faccessat2, AT_FDCWD, at(name), mode, flags));
}

// asUser: what an unprivileged user (1000, group 1000, also in group
// 2000) may do with the files permsSetup made.
static void asUser(void) {
	const char *u = "user";
	gid_t groups[] = {2000};
	setgroups(1, groups);
	setgid(1000);
	setuid(1000);
	tryOpen(u, "root600", O_RDONLY);
	tryOpen(u, "root644", O_RDONLY);
	tryOpen(u, "root644", O_WRONLY);
	tryOpen(u, "root644", O_RDONLY | O_TRUNC);
	tryOpen(u, "root666", O_RDWR | O_TRUNC);
	tryOpen(u, "own600", O_RDWR);
	tryOpen(u, "own077", O_RDONLY);
	tryOpen(u, "grp2000-640", O_RDONLY);
	tryOpen(u, "grp2000-640", O_WRONLY);
	tryOpen(u, "grp1000-604", O_RDONLY);
	tryOpen(u, "nosearch/f", O_RDONLY);
	tryOpen(u, "noread/f", O_RDONLY);
	tryOpen(u, "noread", O_RDONLY | O_DIRECTORY);
	tryOpen(u, "nosearch", O_RDONLY | O_DIRECTORY);
	show("user: opendir noread", opendir(at("noread")) ? 0 : -1);
	struct stat st;
	show("user: stat nosearch/f", stat(at("nosearch/f"), &st));
	show("user: stat noread/f", stat(at("noread/f"), &st));
	tryOpen(u, "rootdir/new", O_WRONLY | O_CREAT);
	tryOpen(u, "root644", O_WRONLY | O_CREAT);
	tryOpen(u, "owndir/new", O_WRONLY | O_CREAT);
	stat(at("owndir/new"), &st);
	printf("user: owndir/new owner %d:%d mode %o\n", st.st_uid, st.st_gid, st.st_mode);
	show("user: mkdir rootdir/d", mkdir(at("rootdir/d"), 0755));
	show("user: mkdir owndir/d", mkdir(at("owndir/d"), 0755));
	stat(at("owndir/d"), &st);
	printf("user: owndir/d owner %d:%d mode %o\n", st.st_uid, st.st_gid, st.st_mode);
	show("user: mkdir sgid/d", mkdir(at("sgid/d"), 0755));
	stat(at("sgid/d"), &st);
	printf("user: sgid/d owner %d:%d mode %o\n", st.st_uid, st.st_gid, st.st_mode);
	show("user: symlink in rootdir", symlink("x", at("rootdir/l")));
	show("user: link into rootdir", link(at("own600"), at("rootdir/l")));
	show("user: unlink rootdir/f", unlink(at("rootdir/f")));
	show("user: rmdir rootdir/sub", rmdir(at("rootdir/sub")));
	show("user: unlink sticky/rootfile", unlink(at("sticky/rootfile")));
	show("user: rename sticky/rootfile", rename(at("sticky/rootfile"), at("sticky/mine")));
	close(open(at("sticky/myfile"), O_CREAT | O_WRONLY, 0644));
	show("user: rename sticky/myfile", rename(at("sticky/myfile"), at("sticky/mine")));
	show("user: rename over sticky/rootfile", rename(at("sticky/mine"), at("sticky/rootfile")));
	show("user: unlink sticky/mine", unlink(at("sticky/mine")));
	show("user: unlink userdir-sticky/rootfile", unlink(at("userdir-sticky/rootfile")));
	show("user: rename owndir/d into rootdir-open", rename(at("owndir/d"), at("rootdir-open/d")));
	show("user: rename rootdir-open/rootsub into owndir", rename(at("rootdir-open/rootsub"), at("owndir/rootsub")));
	tryAccess(u, "root600", R_OK, 0);
	tryAccess(u, "root644", R_OK, 0);
	tryAccess(u, "root644", W_OK, 0);
	tryAccess(u, "root644", F_OK, 0);
	tryAccess(u, "nosearch/f", F_OK, 0);
	tryAccess(u, "prog711", X_OK, 0);
	tryAccess(u, "prog700", X_OK, 0);
	tryExec(u, "prog711");
	tryExec(u, "prog700");
	tryExec(u, "prog755");
	tryExec(u, "nosearch/prog");
	int fd = memfd_create("m", 0);
	fstat(fd, &st);
	printf("user: memfd owner %d:%d\n", st.st_uid, st.st_gid);
	close(fd);
	// Changed credentials make a process undumpable: its /proc files
	// are root's until PR_SET_DUMPABLE or an execve.
	show("user: PR_GET_DUMPABLE", prctl(PR_GET_DUMPABLE));
	stat("/proc/self/comm", &st);
	printf("user: /proc/self/comm owner %d:%d\n", st.st_uid, st.st_gid);
	show("user: open own comm for writing", open("/proc/self/comm", O_WRONLY));
	show("user: PR_SET_DUMPABLE 2", prctl(PR_SET_DUMPABLE, 2));
	show("user: PR_SET_DUMPABLE 1", prctl(PR_SET_DUMPABLE, 1));
	stat("/proc/self/comm", &st);
	printf("user: /proc/self/comm owner %d:%d\n", st.st_uid, st.st_gid);
	fd = open("/proc/self/comm", O_WRONLY);
	show("user: open own comm for writing", fd >= 0 ? 0 : -1);
	show("user: write own comm", write(fd, "user", 4));
	close(fd);
	text("user: comm", "/proc/self/comm");
	prctl(PR_SET_DUMPABLE, 0);
	tryExec(u, "dumpable");
	tryExec(u, "dumpable-711"); // fs/exec.c would_dump: not dumpable
	show("user: chdir nosearch", chdir(at("nosearch")));
	show("user: chmod root644", chmod(at("root644"), 0666));
	show("user: chmod own600", chmod(at("own600"), 0640));
	show("user: chown own600 to root", chown(at("own600"), 0, -1));
	show("user: chown own600 to itself", chown(at("own600"), 1000, -1));
	show("user: chgrp own600 to 2000", chown(at("own600"), -1, 2000));
	show("user: chgrp own600 to 3000", chown(at("own600"), -1, 3000));
	show("user: chgrp root644 to 1000", chown(at("root644"), -1, 1000));
	show("user: chmod owngrp0 02755", chmod(at("owngrp0"), 02755));
	stat(at("owngrp0"), &st);
	printf("user: owngrp0 mode %o\n", st.st_mode);
	show("user: utimes root666 now", utimes(at("root666"), NULL));
	show("user: utimes root644 now", utimes(at("root644"), NULL));
	struct timespec ts[2] = {{1, 0}, {2, 0}};
	show("user: utimensat root666 given times", utimensat(AT_FDCWD, at("root666"), ts, 0));
	show("user: utimensat own600 given times", utimensat(AT_FDCWD, at("own600"), ts, 0));
	show("user: truncate root644", truncate(at("root644"), 0));
	show("user: truncate root666", truncate(at("root666"), 0));
}

// permsSetup makes files of every kind of ownership and mode in DIR,
// then checks them as root and, in children, as an unprivileged user and
// with real and effective IDs apart (access(2) checks the real ones).
static void perms(void) {
	chmod(dir, 0755); // natively a private temporary directory: let the user in
	mk("root600", 0, 0, 0, 0600);
	mk("root644", 0, 0, 0, 0644);
	mk("root666", 0, 0, 0, 0666);
	mk("root444", 0, 0, 0, 0444);
	mk("own600", 0, 1000, 1000, 0600);
	mk("own077", 0, 1000, 0, 0077);
	mk("owngrp0", 0, 1000, 0, 0600);
	mk("grp2000-640", 0, 0, 2000, 0640);
	mk("grp1000-604", 0, 0, 1000, 0604);
	mk("nosearch", 1, 0, 0, 0766);
	mk("nosearch/f", 0, 0, 0, 0644);
	mk("noread", 1, 0, 0, 0711);
	mk("noread/f", 0, 0, 0, 0644);
	mk("rootdir", 1, 0, 0, 0755);
	mk("rootdir/f", 0, 0, 0, 0644);
	mk("rootdir/sub", 1, 0, 0, 0755);
	mk("rootdir-open", 1, 0, 0, 0777);
	mk("rootdir-open/rootsub", 1, 0, 0, 0755);
	mk("owndir", 1, 1000, 1000, 0755);
	mk("sgid", 1, 0, 3000, 02777);
	mk("sticky", 1, 0, 0, 01777);
	mk("sticky/rootfile", 0, 0, 0, 0666);
	mk("userdir-sticky", 1, 1000, 1000, 01777);
	mk("userdir-sticky/rootfile", 0, 0, 0, 0644);
	copyExe("prog711", 0711);
	copyExe("prog700", 0700);
	copyExe("prog755", 0755);
	copyExe("prog644", 0644);
	copyExe("prog100", 0100);
	copyExe("nosearch/prog", 0755);
	copyExe("dumpable", 0755);
	copyExe("dumpable-711", 0711); // executable, not readable by the user

	const char *r = "root";
	tryOpen(r, "root600", O_RDWR);
	tryOpen(r, "root444", O_WRONLY);
	tryOpen(r, "own077", O_RDONLY);
	tryOpen(r, "nosearch/f", O_RDONLY);
	tryAccess(r, "root444", W_OK, 0);
	tryAccess(r, "prog644", X_OK, 0);
	tryAccess(r, "prog100", X_OK, 0);
	tryAccess(r, "noread", X_OK, 0);
	tryExec(r, "prog644");
	tryExec(r, "prog100");

	pid_t c = fork();
	if (c == 0) {
		asUser();
		_exit(0);
	}
	waitChild("user", c);
	// Real user 1000, effective root: access(2) answers for the user.
	c = fork();
	if (c == 0) {
		setresuid(1000, 0, 0);
		tryAccess("ruid 1000 euid 0", "root600", R_OK, 0);
		tryAccess("ruid 1000 euid 0", "root600", R_OK, AT_EACCESS);
		tryOpen("ruid 1000 euid 0", "root600", O_RDONLY);
		_exit(0);
	}
	waitChild("ruid 1000 euid 0", c);
	c = fork();
	if (c == 0) {
		setresuid(0, 1000, 1000);
		tryAccess("ruid 0 euid 1000", "root600", R_OK, 0);
		tryAccess("ruid 0 euid 1000", "root600", R_OK, AT_EACCESS);
		tryOpen("ruid 0 euid 1000", "root600", O_RDONLY);
		_exit(0);
	}
	waitChild("ruid 0 euid 1000", c);
}

// sigq prints the SigQ line of /proc/self/status: the real user's queued
// signals and RLIMIT_SIGPENDING.
static void sigq(const char *what) {
	char b[4096];
	int fd = open("/proc/self/status", O_RDONLY);
	long n = read(fd, b, sizeof b - 1);
	close(fd);
	b[n > 0 ? n : 0] = 0;
	char *q = strstr(b, "SigQ:");
	printf("%s: %.*s\n", what, q ? (int)strcspn(q, "\n") : 0, q ? q : "");
}

// fill queues SIGRTMIN to itself (blocked) until RLIMIT_SIGPENDING
// refuses, and prints how many it queued.
static void fill(const char *what) {
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int n = 0;
	while (n < 100 && sigqueue(getpid(), SIGRTMIN, (union sigval){.sival_int = n}) == 0)
		n++;
	printf("%s: queued %d, then %s\n", what, n, res(-1));
}

// queueToSelf queues two SIGRTMIN to its own thread (blocked) and ends.
static void *queueToSelf(void *arg) {
	siginfo_t si;
	memset(&si, 0, sizeof si);
	si.si_code = SI_QUEUE;
	si.si_pid = getpid();
	si.si_uid = getuid();
	for (int i = 0; i < 2; i++)
		show("thread: rt_tgsigqueueinfo to itself", syscall(SYS_rt_tgsigqueueinfo, getpid(), syscall(SYS_gettid), SIGRTMIN, &si));
	sigq("thread, 2 queued to itself");
	return arg;
}

// pendingCount: the signals a process had queued when it died count no
// more against its user's RLIMIT_SIGPENDING once it is reaped. Run as a
// user of its own (4242), so that no other process shares the count.
static void pendingCount(void) {
	pid_t c = fork();
	if (c == 0) {
		setgid(4242);
		setuid(4242);
		struct rlimit rl = {4, 4};
		setrlimit(RLIMIT_SIGPENDING, &rl);
		sigq("user 4242");
		for (int round = 0; round < 3; round++) {
			pid_t g = fork();
			if (g == 0) {
				fill("child");
				sigq("child, full");
				_exit(0);
			}
			waitChild("child", g);
			sigq("after reaping the child");
		}
		// One killed with its signals queued.
		pid_t g = fork();
		if (g == 0) {
			fill("child to be killed");
			pause();
			_exit(0);
		}
		for (;;) { // until the child has filled its queue
			char path[64], b[256];
			snprintf(path, sizeof path, "/proc/%d/status", g);
			int fd = open(path, O_RDONLY);
			long n = read(fd, b, sizeof b - 1);
			close(fd);
			b[n > 0 ? n : 0] = 0;
			if (strstr(b, "State:\tS"))
				break;
			usleep(1000);
		}
		kill(g, SIGKILL);
		waitChild("killed child", g);
		sigq("after reaping the killed child");
		// A thread's own pending signals go when it ends.
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGRTMIN);
		sigprocmask(SIG_BLOCK, &set, NULL);
		pthread_t th;
		pthread_create(&th, NULL, queueToSelf, NULL);
		pthread_join(th, NULL);
		sigq("after the thread ended");
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		fill("user 4242 itself");
		_exit(0);
	}
	waitChild("user 4242", c);
}


// unixAddr fills a sockaddr_un for DIR/name.
static socklen_t unixAddr(struct sockaddr_un *sa, const char *name) {
	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	snprintf(sa->sun_path, sizeof sa->sun_path, "%s", at(name));
	return sizeof *sa;
}

// bindUnix makes a Unix socket of type bound at DIR/name (listening if
// a stream) and gives its file mode.
static int bindUnix(int type, const char *name, mode_t mode) {
	struct sockaddr_un sa;
	socklen_t n = unixAddr(&sa, name);
	unlink(sa.sun_path);
	int s = socket(AF_UNIX, type, 0);
	if (bind(s, (struct sockaddr *)&sa, n) != 0)
		printf("FAIL: bind %s: %s\n", name, res(-1));
	if (type == SOCK_STREAM)
		listen(s, 8);
	chmod(sa.sun_path, mode);
	return s;
}

// tryConnect prints what connect(2), or sendto(2) if send, to DIR/name
// gives a new socket of type.
static void tryConnect(const char *who, int type, const char *name, int send) {
	struct sockaddr_un sa;
	socklen_t n = unixAddr(&sa, name);
	int s = socket(AF_UNIX, type, 0);
	long r = send ? sendto(s, "x", 1, 0, (struct sockaddr *)&sa, n) : connect(s, (struct sockaddr *)&sa, n);
	char line[160];
	snprintf(line, sizeof line, "%s: %s %s %s", who, send ? "sendto" : "connect",
		type == SOCK_STREAM ? "stream" : "dgram", name);
	show(line, r);
	close(s);
}

// unixPerms: connecting or sending to a Unix socket's file needs write
// permission on it (net/unix/af_unix.c unix_find_bsd), checked before
// the file's type: EACCES, then ECONNREFUSED for a file that is no
// socket. Run after perms, which made DIR's files.
static void unixPerms(void) {
	int s755 = bindUnix(SOCK_STREAM, "sock755", 0755);
	int s757 = bindUnix(SOCK_STREAM, "sock757", 0757);
	int s777 = bindUnix(SOCK_STREAM, "sock777", 0777);
	int d755 = bindUnix(SOCK_DGRAM, "dgram755", 0755);
	int d777 = bindUnix(SOCK_DGRAM, "dgram777", 0777);
	tryConnect("root", SOCK_STREAM, "sock755", 0);
	tryConnect("root", SOCK_DGRAM, "dgram755", 1);
	pid_t c = fork();
	if (c == 0) {
		const char *u = "user";
		gid_t groups[] = {2000};
		setgroups(1, groups);
		setgid(1000);
		setuid(1000);
		tryConnect(u, SOCK_STREAM, "sock755", 0);
		tryConnect(u, SOCK_STREAM, "sock757", 0);
		tryConnect(u, SOCK_STREAM, "sock777", 0);
		tryConnect(u, SOCK_DGRAM, "dgram755", 0);
		tryConnect(u, SOCK_DGRAM, "dgram755", 1);
		tryConnect(u, SOCK_DGRAM, "dgram777", 1);
		tryConnect(u, SOCK_STREAM, "root644", 0);
		tryConnect(u, SOCK_STREAM, "root666", 0);
		tryConnect(u, SOCK_STREAM, "no-such-socket", 0);
		tryConnect(u, SOCK_STREAM, "nosearch/sock", 0);
		_exit(0);
	}
	waitChild("user connects", c);
	close(s755), close(s757), close(s777), close(d755), close(d777);
}

// peerCred returns fd's SO_PEERCRED.
static struct ucred peerCred(int fd) {
	struct ucred u = {0, -1, -1};
	socklen_t n = sizeof u;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &u, &n) != 0)
		printf("FAIL: SO_PEERCRED: %s\n", res(-1));
	return u;
}

// sendCreds sends a byte on fd with an SCM_CREDENTIALS message telling
// pid, uid and gid.
static long sendCreds(int fd, pid_t pid, uid_t uid, gid_t gid) {
	struct ucred u = {pid, uid, gid};
	char cbuf[CMSG_SPACE(sizeof u)];
	memset(cbuf, 0, sizeof cbuf);
	struct iovec iov = {"c", 1};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_CREDENTIALS;
	c->cmsg_len = CMSG_LEN(sizeof u);
	memcpy(CMSG_DATA(c), &u, sizeof u);
	return sendmsg(fd, &m, 0);
}

// whose names pid as the caller, its parent or child, or another.
static const char *whose(pid_t pid, pid_t child) {
	if (pid == getpid())
		return "self";
	if (pid == getppid())
		return "parent";
	if (pid == child)
		return "child";
	return "other";
}

// showCred prints a struct ucred with its pid named by whose.
static void showCred(const char *what, struct ucred u, pid_t child) {
	printf("%s: pid %s, uid %d, gid %d\n", what, whose(u.pid, child), (int)u.uid, (int)u.gid);
	fflush(stdout);
}

// peerCreds: a Unix socket's credentials are its processes' (net/core/
// sock.c, net/core/scm.c, net/unix/af_unix.c). SO_PEERCRED shows the
// process ID and effective IDs recorded at socketpair(2), connect(2) or
// listen(2); an SCM_CREDENTIALS message the kernel fills in carries the
// sender's process ID and real IDs; one the sender fills in must name
// itself (or CAP_SYS_ADMIN) and IDs among its real, effective and saved
// ones (or CAP_SETUID, CAP_SETGID): EPERM, then ESRCH for a process ID
// naming none. The child prints and exits before the parent prints.
static void peerCreds(void) {
	int sv[2], one = 1;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		printf("FAIL: socketpair: %s\n", res(-1));
	setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof one);
	int l = bindUnix(SOCK_STREAM, "peercred", 0777);
	pid_t gone = fork();
	if (gone == 0)
		_exit(0);
	waitpid(gone, NULL, 0);
	pid_t c = fork();
	if (c == 0) {
		showCred("peercred: child's socketpair peer", peerCred(sv[1]), 0);
		show("peercred: root sends", send(sv[1], "a", 1, 0));
		show("peercred: root sends its parent's pid", sendCreds(sv[1], getppid(), 0, 0));
		show("peercred: root sends a reaped pid", sendCreds(sv[1], gone, 0, 0));
		show("peercred: root sends uid -1", sendCreds(sv[1], getpid(), -1, 0));
		show("peercred: setresgid", setresgid(2000, 2001, 2002));
		show("peercred: setresuid", setresuid(1000, 1001, 1002));
		struct sockaddr_un sa;
		socklen_t n = unixAddr(&sa, "peercred");
		int s = socket(AF_UNIX, SOCK_STREAM, 0);
		show("peercred: user connects", connect(s, (struct sockaddr *)&sa, n));
		showCred("peercred: user's peer, the listener", peerCred(s), 0);
		show("peercred: user sends", send(sv[1], "b", 1, 0));
		show("peercred: user writes", write(sv[1], "w", 1));
		show("peercred: user sends its parent's pid", sendCreds(sv[1], getppid(), 1000, 2000));
		show("peercred: user sends a reaped pid", sendCreds(sv[1], gone, 1000, 2000));
		show("peercred: user sends uid 0", sendCreds(sv[1], getpid(), 0, 2000));
		show("peercred: user sends gid 0", sendCreds(sv[1], getpid(), 1000, 0));
		show("peercred: user sends saved uid and gid", sendCreds(sv[1], getpid(), 1002, 2002));
		_exit(0);
	}
	waitChild("peercred: child", c);
	showCred("peercred: parent's socketpair peer", peerCred(sv[0]), c);
	int a = accept(l, NULL, NULL);
	if (a < 0)
		printf("FAIL: accept: %s\n", res(-1));
	showCred("peercred: accepted peer", peerCred(a), c);
	for (int i = 0; i < 6; i++) {
		char b, cbuf[CMSG_SPACE(sizeof(struct ucred))];
		struct iovec iov = {&b, 1};
		struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
		long r = recvmsg(sv[0], &m, MSG_DONTWAIT);
		struct cmsghdr *h = r == 1 ? CMSG_FIRSTHDR(&m) : NULL;
		char what[64];
		snprintf(what, sizeof what, "peercred: message %c", r == 1 ? b : '?');
		if (h == NULL || h->cmsg_type != SCM_CREDENTIALS) {
			show(what, r < 0 ? r : -2);
			continue;
		}
		struct ucred u;
		memcpy(&u, CMSG_DATA(h), sizeof u);
		showCred(what, u, c);
	}
	close(a), close(l), close(sv[0]), close(sv[1]);
}

// hardlinks: fs.protected_hardlinks (1 on Debian; fs/namei.c
// may_linkat): a user may hard-link a file it owns, or a regular file
// that is neither set-user-ID nor executable set-group-ID and that it
// may read and write; EPERM otherwise. Root (CAP_FOWNER) may link
// anything. Run after perms.
static void hardlinks(void) {
	text("protected_hardlinks", "/proc/sys/fs/protected_hardlinks");
	mk("suid4777", 0, 0, 0, 04777);
	mk("sgid2777", 0, 0, 0, 02777);
	mk("sgid2767", 0, 0, 0, 02767);
	mkfifo(at("fifo666"), 0666);
	chmod(at("fifo666"), 0666);
	show("root: link own077", link(at("own077"), at("rootdir/own077-link")));
	pid_t c = fork();
	if (c == 0) {
		gid_t groups[] = {2000};
		setgroups(1, groups);
		setgid(1000);
		setuid(1000);
		const char *from[] = {"root644", "root666", "root600", "own600", "own077", "grp2000-640", "suid4777",
			"sgid2777", "sgid2767", "fifo666", "owndir"};
		for (unsigned i = 0; i < sizeof from / sizeof from[0]; i++) {
			char line[160], to[64];
			snprintf(to, sizeof to, "owndir/link-%s", from[i]);
			snprintf(line, sizeof line, "user: link %s", from[i]);
			show(line, link(at(from[i]), at(to)));
		}
		_exit(0);
	}
	waitChild("user links", c);
}

static int lockHandled[2];
static void onLockSig(int sig) { write(lockHandled[1], "h", 1); }

// settled waits until process pid sleeps (S) or is gone (Z, or no
// /proc entry).
static void settled(pid_t pid) {
	char path[64], b[256];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	for (;;) {
		int fd = open(path, O_RDONLY);
		if (fd < 0)
			return;
		long n = read(fd, b, sizeof b - 1);
		close(fd);
		b[n > 0 ? n : 0] = 0;
		char *p = strrchr(b, ')');
		if (p && p[1] == ' ' && (p[2] == 'S' || p[2] == 'Z'))
			return;
		usleep(1000);
	}
}

// lockRestarts: a wait for a file lock interrupted by a handler's signal
// is restarted if the handler has SA_RESTART and fails with EINTR if not
// (signal(7): flock and fcntl's F_SETLKW and F_OFD_SETLKW). The child
// waits for a lock the parent holds; the parent signals it, waits until
// its handler ran and it waits again (or ended), then unlocks.
static void lockRestarts(void) {
	const char *kinds[] = {"F_SETLKW", "F_OFD_SETLKW", "flock"};
	for (int restart = 0; restart < 2; restart++) {
		for (int k = 0; k < 3; k++) {
			int fd = open(at("lockfile"), O_RDWR | O_CREAT, 0644);
			struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
			if (k == 2)
				flock(fd, LOCK_EX);
			else
				fcntl(fd, k == 0 ? F_SETLK : F_OFD_SETLK, &fl);
			pipe(lockHandled);
			pid_t c = fork();
			if (c == 0) {
				struct sigaction sa = {.sa_handler = onLockSig, .sa_flags = restart ? SA_RESTART : 0};
				sigaction(SIGUSR1, &sa, NULL);
				close(fd); // the parent's description, which holds its OFD lock and flock
				int cfd = open(at("lockfile"), O_RDWR);
				struct flock cl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
				long r = k == 2 ? flock(cfd, LOCK_EX) : fcntl(cfd, k == 0 ? F_SETLKW : F_OFD_SETLKW, &cl);
				char line[80];
				snprintf(line, sizeof line, "%s interrupted, %s", kinds[k], restart ? "SA_RESTART" : "no SA_RESTART");
				show(line, r);
				_exit(0);
			}
			sleeping(c);
			kill(c, SIGUSR1);
			char x;
			read(lockHandled[0], &x, 1);
			settled(c);
			close(fd); // drops the parent's lock of every kind
			waitChild(kinds[k], c);
			close(lockHandled[0]), close(lockHandled[1]);
		}
	}
	unlink(at("lockfile"));
}

static volatile int usr1;
static void onUsr1(int sig) { usr1++; }

// sendToInit forks a child that sends init each of sigs by kill, and
// the first by tgkill and sigqueue too.
static void sendToInit(const char *what, const int *sigs, int n) {
	pid_t c = fork();
	if (c == 0) {
		char line[64];
		for (int i = 0; i < n; i++) {
			snprintf(line, sizeof line, "%s: kill(1, %d)", what, sigs[i]);
			show(line, kill(1, sigs[i]));
		}
		snprintf(line, sizeof line, "%s: tgkill(1, 1, %d)", what, sigs[0]);
		show(line, syscall(SYS_tgkill, 1, 1, sigs[0]));
		snprintf(line, sizeof line, "%s: sigqueue(1, %d)", what, sigs[0]);
		show(line, sigqueue(1, sigs[0], (union sigval){.sival_int = 7}));
		_exit(0);
	}
	waitChild(what, c);
}

// asInit: what init (pid 1) does with signals it has no handler for.
static void asInit(void) {
	printf("init: pid %d\n", getpid());
	int fatal[] = {SIGTERM, SIGKILL, SIGSTOP, SIGHUP, SIGINT, SIGSEGV, SIGUSR2, SIGTSTP, SIGALRM};
	sendToInit("signaller", fatal, sizeof fatal / sizeof fatal[0]);
	printf("init: survived the signaller\n");
	show("init: kill(1, SIGTERM) itself", kill(1, SIGTERM));
	show("init: raise(SIGUSR2)", raise(SIGUSR2));
	show("init: kill(1, SIGKILL) itself", kill(1, SIGKILL));
	show("init: kill(0, SIGTERM)", kill(0, SIGTERM));
	alarm(1);
	struct timespec ts = {1, 500000000};
	show("init: nanosleep through its SIGALRM", nanosleep(&ts, NULL));
	sigset_t set, pend;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int blocked[] = {SIGUSR2};
	sendToInit("blocked", blocked, 1);
	sigpending(&pend);
	printf("init: SIGUSR2 pending while blocked: %d\n", sigismember(&pend, SIGUSR2));
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	sigpending(&pend);
	printf("init: SIGUSR2 pending after unblocking: %d\n", sigismember(&pend, SIGUSR2));
	signal(SIGUSR1, onUsr1);
	int handled[] = {SIGUSR1};
	sendToInit("handled", handled, 1);
	printf("init: SIGUSR1 handler ran: %d\n", usr1 > 0); // standard signals coalesce
	signal(SIGUSR1, SIG_DFL);
	char status[4096];
	int fd = open("/proc/self/status", O_RDONLY);
	long n = read(fd, status, sizeof status - 1);
	close(fd);
	status[n > 0 ? n : 0] = 0;
	char *st = strstr(status, "State:");
	printf("init: %.*s\n", st ? (int)strcspn(st, "\n") : 0, st ? st : "");
}

// initFault: init still dies of its own faults, even when it blocks or
// ignores the signal (force_sig_info_to_task).
static void initFault(void) {
	printf("init: pid %d, faulting with SIGSEGV blocked and ignored\n", getpid());
	signal(SIGSEGV, SIG_IGN);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGSEGV);
	sigprocmask(SIG_BLOCK, &set, NULL);
	*(volatile int *)8 = 1;
	printf("init: FAIL: survived its fault\n");
}

// runInit runs f as init: here if this is pid 1 (in Cocoon), else as pid
// 1 of a new PID namespace, whose death this process then mirrors: the
// same exit status, 128+signal for a signal.
static void runInit(void (*f)(void)) {
	if (getpid() == 1) {
		f();
		return;
	}
	if (unshare(CLONE_NEWPID) != 0) {
		printf("FAIL: unshare(CLONE_NEWPID): %s (run as root)\n", res(-1));
		exit(1);
	}
	pid_t c = fork();
	if (c == 0) {
		setsid(); // a group of its own, as Cocoon's init has
		f();
		exit(0);
	}
	int st;
	waitpid(c, &st, 0);
	if (WIFSIGNALED(st))
		exit(128 + WTERMSIG(st));
	if (WEXITSTATUS(st) != 0)
		exit(WEXITSTATUS(st));
}

int main(int argc, char **argv) {
	if (argc == 5 && strcmp(argv[2], "execfn") == 0) { // tryExecfn's program
		snprintf(dir, sizeof dir, "%s", argv[1]);
		char line[160];
		snprintf(line, sizeof line, "execfn %s: AT_EXECFN", argv[3]);
		shownPath(line, (const char *)getauxval(AT_EXECFN), argv[4]);
		return 0;
	}
	if (argc == 6 && strcmp(argv[3], "execfn") == 0) { // tryExecfn's script
		snprintf(dir, sizeof dir, "%s", argv[2]);
		char line[160];
		snprintf(line, sizeof line, "execfn %s: AT_EXECFN", argv[4]);
		shownPath(line, (const char *)getauxval(AT_EXECFN), argv[5]);
		snprintf(line, sizeof line, "execfn %s: script path", argv[4]);
		shownPath(line, argv[1], argv[5]);
		return 0;
	}
	if (argc == 4 && strcmp(argv[2], "probe") == 0) {
		printf("probe: %s\n", argv[3]);
		if (strncmp(argv[3], "dumpable", 8) == 0) {
			struct stat st;
			stat("/proc/self/status", &st);
			printf("probe: PR_GET_DUMPABLE %d, /proc/self owner %d:%d\n", prctl(PR_GET_DUMPABLE), st.st_uid, st.st_gid);
		}
		return 0;
	}
	if (argc != 2 && !(argc == 3 && strcmp(argv[2], "fault") == 0)) {
		fprintf(stderr, "usage: procabi DIR [fault]\n");
		return 2;
	}
	snprintf(dir, sizeof dir, "%s", argv[1]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	prctl(PR_SET_NAME, "procabi");
	if (argc == 3) {
		runInit(initFault);
		return 0;
	}
	comm();
	show("PR_GET_DUMPABLE", prctl(PR_GET_DUMPABLE));
	stopWaits();
	execveats();
	execfns();
	memfdModes();
	perms();
	unixPerms();
	peerCreds();
	hardlinks();
	lockRestarts();
	pendingCount();
	runInit(asInit);
	printf("procabi: done\n");
	return 0;
}
