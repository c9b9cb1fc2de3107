// procleader: what /proc shows of a process whose main thread exited
// (pthread_exit) while another thread lives on. Linux keeps the leader
// in the thread group as a zombie until the whole group exits
// (kernel/exit.c exit_notify: a leader with live threads is not
// released, delay_group_leader): /proc/PID stays, /proc/PID/task lists
// it, its stat and status say Z, and, its address space and files gone
// (exit_mm, exit_files), /proc/PID and /proc/PID/task/PID show no memory
// (maps, statm, cmdline, environ empty; no Vm lines), where the live
// thread's /proc/PID/task/TID still shows them. Every result printed,
// for comparison with Linux's.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int pid;
static char buf[1 << 16];

// slurp reads path into buf; the length, or -1 with errno set.
static long slurp(const char *path) {
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	long n = 0, r;
	while ((r = read(fd, buf + n, sizeof buf - 1 - n)) > 0)
		n += r;
	int e = errno;
	close(fd);
	buf[n] = 0;
	if (r < 0) {
		errno = e;
		return -1;
	}
	return n;
}

// statField returns field i (1-based, proc(5)) of stat text s.
static const char *statField(const char *s, int i, char *out) {
	const char *p = strrchr(s, ')');
	out[0] = 0;
	if (!p)
		return "?";
	p += 2;
	for (int f = 3; f < i && p; f++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (!p)
		return "?";
	size_t n = strcspn(p, " \n");
	memcpy(out, p, n);
	out[n] = 0;
	return out;
}

// stat prints what the stat file path says of state, threads and memory.
static void stat_of(const char *what, const char *path) {
	if (slurp(path) < 0) {
		printf("%s: %s\n", what, strerrorname_np(errno));
		return;
	}
	char s[8192], f[64];
	strcpy(s, buf);
	printf("%s: state %s", what, statField(s, 3, f));
	printf(" threads %s", statField(s, 20, f));
	printf(" vsize %s", strcmp(statField(s, 23, f), "0") ? "nonzero" : "0");
	printf(" rss %s", strcmp(statField(s, 24, f), "0") ? "nonzero" : "0");
	for (int i = 26; i <= 28; i++)
		printf(" %d:%s", i, strcmp(statField(s, i, f), "0") ? "nonzero" : "0");
	for (int i = 45; i <= 51; i++)
		printf(" %d:%s", i, strcmp(statField(s, i, f), "0") ? "nonzero" : "0");
	printf(" exit_code %s\n", statField(s, 52, f));
}

// status prints the names of the lines of the status file path, and the
// values that do not depend on the machine.
static void status_of(const char *what, const char *path) {
	if (slurp(path) < 0) {
		printf("%s: %s\n", what, strerrorname_np(errno));
		return;
	}
	printf("%s:", what);
	for (const char *p = buf; *p;) {
		const char *colon = strchr(p, ':'), *nl = strchr(p, '\n');
		if (!colon || !nl)
			break;
		printf(" %.*s", (int)(colon - p), p);
		// The room of the table depends on the descriptors the
		// caller left open: only whether there is one is compared.
		if (!strncmp(p, "FDSize:", 7))
			printf("=%s", atoi(colon + 2) ? "nonzero" : "0");
		static const char *shown[] = {"State", "Threads", "Kthread", "VmSwap", "SigBlk", NULL};
		for (int i = 0; shown[i]; i++)
			if ((size_t)(colon - p) == strlen(shown[i]) && !strncmp(p, shown[i], colon - p))
				printf("=%.*s", (int)(nl - colon - 2), colon + 2);
		p = nl + 1;
	}
	printf("\n");
}

static void size_of(const char *what, const char *path) {
	long n = slurp(path);
	if (n < 0)
		printf("%s: %s\n", what, strerrorname_np(errno));
	else if (n == 0)
		printf("%s: empty\n", what);
	else
		printf("%s: not empty\n", what);
}

static void statm_of(const char *what, const char *path) {
	if (slurp(path) < 0) {
		printf("%s: %s\n", what, strerrorname_np(errno));
		return;
	}
	printf("%s: %s\n", what, strcmp(buf, "0 0 0 0 0 0 0\n") ? "sizes" : "0 0 0 0 0 0 0");
}

// comm_of prints whether the comm file path names the program, as
// this thread's does (the program's name differs between the runs).
static void comm_of(const char *what, const char *path) {
	char mine[64];
	if (slurp("/proc/thread-self/comm") < 0) {
		printf("FAIL /proc/thread-self/comm: %s\n", strerrorname_np(errno));
		return;
	}
	memcpy(mine, buf, sizeof mine - 1);
	mine[sizeof mine - 1] = 0;
	if (slurp(path) < 0) {
		printf("%s: %s\n", what, strerrorname_np(errno));
		return;
	}
	printf("%s: %s\n", what, strcmp(buf, mine) ? buf : "the program's name");
}

static void ls(const char *what, const char *path, int self) {
	DIR *d = opendir(path);
	if (!d) {
		printf("%s: opendir %s\n", what, strerrorname_np(errno));
		return;
	}
	int n = 0, leader = 0, me = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		n++;
		leader |= atoi(e->d_name) == pid;
		me |= atoi(e->d_name) == self;
	}
	closedir(d);
	// The descriptors a test harness leaves open differ: only whether
	// there are any is compared for fd.
	if (self < 0)
		printf("%s: %s\n", what, n ? "entries" : "empty");
	else
		printf("%s: %d entries, leader %s, this thread %s\n", what, n, leader ? "listed" : "not listed", me ? "listed" : "not listed");
}

static void pause_ms(int ms) {
	struct timespec t = {0, ms * 1000000L};
	nanosleep(&t, NULL);
}

static void *survivor(void *arg) {
	(void)arg;
	int tid = syscall(SYS_gettid);
	char path[128], dir[64], tdir[64], mine[64];
	snprintf(dir, sizeof dir, "/proc/%d", pid);
	snprintf(tdir, sizeof tdir, "/proc/%d/task/%d", pid, pid);
	snprintf(mine, sizeof mine, "/proc/%d/task/%d", pid, tid);
	// Wait for the main thread to be gone: its stat says Z (or, where
	// it is not kept, is not there).
	snprintf(path, sizeof path, "%s/stat", dir);
	for (int i = 0; i < 1500; i++) {
		if (slurp(path) > 0 && strrchr(buf, ')')[2] == 'Z')
			break;
		pause_ms(20);
	}
	struct stat st;
	printf("stat /proc/PID: %s\n", stat(dir, &st) ? strerrorname_np(errno) : "ok");
	printf("stat /proc/PID/task/PID: %s\n", stat(tdir, &st) ? strerrorname_np(errno) : "ok");
	snprintf(path, sizeof path, "%s/task", dir);
	ls("/proc/PID/task", path, tid);
	ls("/proc/self/task", "/proc/self/task", tid);
	printf("/proc/PID/task nlink %s\n", stat(path, &st) ? strerrorname_np(errno) : st.st_nlink == 4 ? "4" : "not 4");
	const char *dirs[][2] = {{"/proc/PID", dir}, {"/proc/PID/task/PID", tdir}, {"/proc/PID/task/TID", mine}};
	for (int i = 0; i < 3; i++) {
		char what[128];
		const char *d = dirs[i][1];
#define P(name, fn)                                                          \
	snprintf(what, sizeof what, "%s/%s", dirs[i][0], name);             \
	snprintf(path, sizeof path, "%s/%s", d, name);                      \
	fn(what, path);
		P("stat", stat_of);
		P("status", status_of);
		P("statm", statm_of);
		P("maps", size_of);
		P("smaps", size_of);
		P("smaps_rollup", size_of);
		P("cmdline", size_of);
		P("environ", size_of);
		P("auxv", size_of);
		P("comm", comm_of);
		P("mem", size_of);
		P("io", size_of);
		P("limits", size_of);
		P("mountinfo", size_of);
		snprintf(what, sizeof what, "%s/fd", dirs[i][0]);
		snprintf(path, sizeof path, "%s/fd", d);
		ls(what, path, -1);
		char link[256];
		snprintf(path, sizeof path, "%s/cwd", d);
		printf("readlink %s/cwd: %s\n", dirs[i][0], readlink(path, link, sizeof link) < 0 ? strerrorname_np(errno) : "ok");
		snprintf(path, sizeof path, "%s/exe", d);
		printf("readlink %s/exe: %s\n", dirs[i][0], readlink(path, link, sizeof link) < 0 ? strerrorname_np(errno) : "ok");
	}
	// kill(pid, 0) and tgkill of the zombie leader.
	printf("kill(pid, 0): %s\n", kill(pid, 0) ? strerrorname_np(errno) : "ok");
	printf("tgkill(pid, pid, 0): %s\n", syscall(SYS_tgkill, pid, pid, 0) ? strerrorname_np(errno) : "ok");
	printf("tkill(pid, 0): %s\n", syscall(SYS_tkill, pid, 0) ? strerrorname_np(errno) : "ok");
	// A signal for the exited main thread alone is never delivered.
	printf("tgkill(pid, pid, SIGUSR1): %s\n", syscall(SYS_tgkill, pid, pid, SIGUSR1) ? strerrorname_np(errno) : "ok");
	printf("procleader: done\n");
	fflush(stdout);
	exit(0);
}

// zombie shows a child that exited and is not yet reaped: its leader
// is still listed in its task directory, one thread.
static void zombie(void) {
	int c = fork();
	if (c == 0)
		_exit(3);
	siginfo_t si;
	waitid(P_PID, c, &si, WEXITED | WNOWAIT);
	char path[128];
	int saved = pid;
	pid = c;
	snprintf(path, sizeof path, "/proc/%d/task", c);
	ls("zombie /proc/PID/task", path, c);
	snprintf(path, sizeof path, "/proc/%d/stat", c);
	stat_of("zombie /proc/PID/stat", path);
	snprintf(path, sizeof path, "/proc/%d/task/%d/stat", c, c);
	stat_of("zombie /proc/PID/task/PID/stat", path);
	snprintf(path, sizeof path, "/proc/%d/status", c);
	status_of("zombie /proc/PID/status", path);
	snprintf(path, sizeof path, "/proc/%d/mountinfo", c);
	size_of("zombie /proc/PID/mountinfo", path);
	snprintf(path, sizeof path, "/proc/%d/environ", c);
	size_of("zombie /proc/PID/environ", path);
	printf("zombie tgkill(pid, pid, 0): %s\n", syscall(SYS_tgkill, c, c, 0) ? strerrorname_np(errno) : "ok");
	printf("zombie tkill(pid, 0): %s\n", syscall(SYS_tkill, c, 0) ? strerrorname_np(errno) : "ok");
	waitpid(c, NULL, 0);
	pid = saved;
}

int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	pid = getpid();
	zombie();
	pthread_t s;
	pthread_create(&s, NULL, survivor, NULL);
	pthread_exit(NULL);
}
