// oomkill: whom the out-of-memory killer chooses, as Linux's
// (mm/oom_kill.c select_bad_process, oom_badness): the process with the
// most resident memory and page tables, moved by oom_score_adj; never
// init (this program, pid 1 in the guest) nor a process at -1000; not
// simply the one whose page fault found no memory. Also kernel memory
// a system call takes (pipe buffers) runs out as an error of that call,
// not as a kill; and an execve whose descriptor table, shared with
// another process, finds no memory for its copy ends in SIGSEGV past the
// point of no return (fs/exec.c begin_new_exec, unshare_files). Runs in
// Cocoon only: natively it would exhaust the host.
// Usage: oomkill MODE
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <unistd.h>

static long ram(void) {
	struct sysinfo si;
	sysinfo(&si);
	return (long)si.totalram * si.mem_unit;
}

// touch maps and writes n bytes, a page at a time.
static void touch(long n) {
	char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		printf("mmap: %s\n", strerror(errno));
		_exit(2);
	}
	for (long i = 0; i < n; i += 4096)
		p[i] = 1;
}

static void setadj(const char *v) {
	int fd = open("/proc/self/oom_score_adj", O_WRONLY);
	if (fd < 0 || write(fd, v, strlen(v)) < 0)
		printf("oom_score_adj %s: %s\n", v, strerror(errno));
	close(fd);
}

static long score(pid_t pid) {
	char path[64], buf[32] = {0};
	snprintf(path, sizeof path, "/proc/%d/oom_score", pid);
	int fd = open(path, O_RDONLY);
	read(fd, buf, sizeof buf - 1);
	close(fd);
	return atol(buf);
}

// sitter forks a child that sets adj, touches n bytes, says so on the
// pipe and waits to be killed.
static pid_t sitter(const char *adj, long n, int ready) {
	pid_t c = fork();
	if (c < 0) {
		printf("fork: %s\n", strerror(errno));
		exit(3);
	}
	if (c == 0) {
		setadj(adj);
		touch(n);
		write(ready, "r", 1);
		for (;;)
			pause();
	}
	char x;
	read(ready - 1, &x, 1);
	return c;
}

static const char *how(int st) {
	static char b[4][32];
	static int i;
	char *s = b[i++ % 4];
	if (WIFEXITED(st))
		snprintf(s, 32, "exit %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(s, 32, "killed by signal %d", WTERMSIG(st));
	else
		snprintf(s, 32, "status %#x", st);
	return s;
}

// alive reports how c ended, or "alive" (then kills it).
static const char *alive(pid_t c) {
	int st;
	if (waitpid(c, &st, WNOHANG) == c)
		return how(st);
	kill(c, SIGKILL);
	waitpid(c, &st, 0);
	return "alive";
}

static pid_t faulter(long n) {
	pid_t c = fork();
	if (c < 0) {
		printf("fork: %s\n", strerror(errno));
		exit(3);
	}
	if (c == 0) {
		touch(n);
		_exit(0);
	}
	return c;
}

static long freeram(void) {
	struct sysinfo si;
	sysinfo(&si);
	return (long)si.freeram * si.mem_unit;
}

// exectable: a table with room for 2^20 descriptors (16 MiB to copy),
// shared (share) with the parent or not, and memory filled until less than
// the kernel's reserve (an eighth of RAM) and 4 MiB is free; then execve.
static void exectable(int share) {
	struct rlimit rl = {1 << 20, 1 << 20};
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || dup2(0, (1 << 20) - 1) < 0) {
		printf("exectable: a big table: %s\n", strerror(errno));
		return;
	}
	pid_t c = syscall(SYS_clone, (share ? CLONE_FILES : 0) | SIGCHLD, 0, 0, 0, 0);
	if (c < 0) {
		printf("exectable: clone: %s\n", strerror(errno));
		return;
	}
	if (c == 0) {
		long limit = ram() / 8 + 4 * (1L << 20);
		while (freeram() > limit)
			touch(1L << 20);
		char *argv[] = {"oomkill", "execd", NULL};
		execve("/proc/self/exe", argv, NULL);
		printf("exectable: execve: %s\n", strerror(errno));
		_exit(1);
	}
	int st;
	waitpid(c, &st, 0);
	close((1 << 20) - 1);
	printf("exectable: %s table: the child %s\n", share ? "shared" : "own", how(st));
}

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IONBF, 0);
	const char *mode = argc > 1 ? argv[1] : "";
	int p[2];
	if (pipe(p) != 0 || p[1] != p[0] + 1)
		return 1;
	long r = ram();
	int st;
	if (strcmp(mode, "largest") == 0) {
		// A big idle process and a small one that faults until memory is
		// gone: the big one dies and the faulter gets its memory.
		pid_t small = sitter("0", r / 64, p[1]);
		pid_t big = sitter("0", r * 45 / 100, p[1]);
		printf("largest: big's oom_score above small's: %d\n", score(big) > score(small));
		pid_t f = faulter(r * 50 / 100);
		waitpid(f, &st, 0);
		printf("largest: faulter %s, big %s, small %s\n", how(st), alive(big), alive(small));
	} else if (strcmp(mode, "adj") == 0) {
		// The big one is immune (-1000), a small one volunteers (1000):
		// the volunteer goes first, then the faulter itself, the largest
		// left that may be killed.
		pid_t big = sitter("-1000", r * 45 / 100, p[1]);
		pid_t vol = sitter("1000", r / 64, p[1]);
		printf("adj: immune's oom_score %ld, volunteer's above 1000: %d\n", score(big), score(vol) > 1000);
		pid_t f = faulter(r * 50 / 100);
		waitpid(f, &st, 0);
		printf("adj: faulter %s, volunteer %s, immune %s\n", how(st), alive(vol), alive(big));
	} else if (strcmp(mode, "pipes") == 0) {
		// A big idle process; another fills pipes until the kernel says
		// no; a third then faults a little: only the pipe writes fail.
		pid_t big = sitter("0", r * 40 / 100, p[1]);
		// The filler says it is done by a signal, not on the pipe: with
		// the buffers spent, a write to a pipe whose idle buffer the
		// kernel took back fails ENOMEM too, and this would wait forever.
		sigset_t usr1;
		sigemptyset(&usr1);
		sigaddset(&usr1, SIGUSR1);
		sigprocmask(SIG_BLOCK, &usr1, NULL);
		pid_t filler = fork();
		if (filler == 0) {
			// Pipes of 1 MiB (F_SETPIPE_SZ), each filled.
			static char buf[1 << 20];
			for (;;) {
				int q[2];
				if (pipe2(q, O_NONBLOCK) < 0) {
					printf("pipes: pipe2: %s (%s)\n", errno == EMFILE || errno == ENFILE || errno == ENOMEM ? "refused" : "", strerror(errno));
					break;
				}
				if (fcntl(q[1], F_SETPIPE_SZ, sizeof buf) < 0) {
					printf("pipes: F_SETPIPE_SZ: %s (%s)\n", errno == ENOMEM || errno == EPERM ? "refused" : "", strerror(errno));
					break;
				}
				if (write(q[1], buf, sizeof buf) < 0) {
					printf("pipes: write: %s (%s)\n", errno == ENOMEM ? "refused" : "", strerror(errno));
					break;
				}
			}
			kill(getppid(), SIGUSR1);
			for (;;)
				pause();
		}
		sigwaitinfo(&usr1, NULL);
		pid_t f = faulter(r / 64);
		waitpid(f, &st, 0);
		printf("pipes: faulter %s, big %s, filler %s\n", how(st), alive(big), alive(filler));
	} else if (strcmp(mode, "idlepipes") == 0) {
		// Pipes that carried 64 KiB each and were read empty, until the
		// memory for data buffers runs out; then a process needs most of
		// the memory: the emptied pipes' buffers are given back (Linux
		// frees a pipe's pages once read), no one is killed, and the
		// pipes still carry data.
		struct rlimit rl = {16384, 16384};
		setrlimit(RLIMIT_NOFILE, &rl);
		static int q[8000][2];
		static char buf[65536];
		int n = 0, most = ram() / 65536 * 5 / 8;
		while (n < 8000 && n < most) {
			if (pipe2(q[n], O_NONBLOCK) < 0)
				break;
			n++;
			if (write(q[n - 1][1], buf, sizeof buf) != sizeof buf)
				break;
			read(q[n - 1][0], buf, sizeof buf);
		}
		pid_t f = faulter(ram() / 2);
		waitpid(f, &st, 0);
		int work = 1;
		for (int i = 0; i < n; i++) {
			memset(buf, i, sizeof buf);
			if (write(q[i][1], buf, sizeof buf) != sizeof buf || read(q[i][0], buf, sizeof buf) != sizeof buf ||
				buf[sizeof buf - 1] != (char)i)
				work = 0;
			close(q[i][0]);
			close(q[i][1]);
		}
		printf("idlepipes: %s pipes emptied, the faulter %s, the pipes carry data: %d\n",
			(long)n * 65536 > ram() / 2 ? "more than half of RAM in" : "few", how(st), work);
	} else if (strcmp(mode, "exectable") == 0) {
		exectable(0);
		exectable(1);
	} else if (strcmp(mode, "execd") == 0) {
		printf("execd: ran\n");
	} else {
		printf("usage: oomkill largest|adj|pipes|idlepipes|exectable\n");
		return 2;
	}
	return 0;
}
