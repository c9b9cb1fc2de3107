// threads: what /proc shows of a process's threads: a thread blocked in
// write(2) to a full pipe is sleeping (S); the process's state is its
// main thread's, whatever the others do (S while it waits in
// pthread_join, though the thread reading is running; Z once it exited);
// once the main thread has exited while another lives, /proc/PID/fd is
// empty and its entries, cwd and exe are ENOENT (exit_files and exit_mm
// took them), while /proc/thread-self still has the live thread's. Every
// result printed, for comparison with Linux's. Nothing waits for a time:
// each state is awaited (at most 30 s), then printed.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int pid, pipefd[2];
static volatile int writer_tid;

static void pause_ms(int ms) {
	struct timespec t = {0, ms * 1000000L};
	nanosleep(&t, NULL);
}

static void ls(const char *what, const char *path) {
	DIR *d = opendir(path);
	if (!d) {
		printf("%s: opendir %s\n", what, strerrorname_np(errno));
		return;
	}
	// The descriptors a test harness leaves open differ: only whether
	// there are any, and the pipe's, are compared.
	int n = 0, has_pipe = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		n += e->d_name[0] != '.';
		has_pipe |= atoi(e->d_name) == pipefd[0] && e->d_name[0] != '.';
	}
	printf("%s: %s, pipe %s\n", what, n ? "entries" : "empty", has_pipe ? "listed" : "not listed");
	closedir(d);
}

static void link_of(const char *what, const char *path) {
	char b[256];
	long n = readlink(path, b, sizeof b);
	printf("readlink %s = %s\n", what, n < 0 ? strerrorname_np(errno) : "ok");
}

// letter returns the state letter of the stat file path, or 0 with
// errno set.
static char letter(const char *path) {
	char b[512];
	int fd = open(path, O_RDONLY);
	long n = fd < 0 ? -1 : read(fd, b, sizeof b - 1);
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return 0;
	b[n] = 0;
	char *p = strrchr(b, ')');
	return p ? p[2] : '?';
}

// state prints the state letter of the stat file path once it is want,
// or what it is after 30 s: on a loaded machine a thread may take a
// while to reach the call it blocks in, natively too.
static void state(const char *what, const char *path, char want) {
	char c = 0;
	for (int i = 0; i < 1500 && (c = letter(path)) != want; i++)
		pause_ms(20);
	if (!c) {
		printf("%s: %s\n", what, strerrorname_np(errno));
		return;
	}
	printf("%s: state %c\n", what, c);
}

// waiter reads the process's state while the main thread waits for it
// in pthread_join.
static void *waiter(void *arg) {
	(void)arg;
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	state("the process, its main thread in pthread_join, read by another", path, 'S');
	return NULL;
}

static void *writer(void *arg) {
	(void)arg;
	writer_tid = syscall(SYS_gettid);
	static char big[4096];
	write(pipefd[1], big, sizeof big); // blocks: the pipe is full
	return NULL;
}

static void *survivor(void *arg) {
	(void)arg;
	char path[64];
	// The main thread exits meanwhile: then the process shows Z
	// (exit_notify, after exit_files).
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	state("the process after its main thread exited", path, 'Z');
	snprintf(path, sizeof path, "/proc/%d/fd", pid);
	ls("/proc/PID/fd after the main thread exited", path);
	ls("/proc/self/fd after the main thread exited", "/proc/self/fd");
	ls("/proc/thread-self/fd", "/proc/thread-self/fd");
	snprintf(path, sizeof path, "/proc/%d/fd/0", pid);
	link_of("/proc/PID/fd/0", path);
	int fd = open(path, O_RDONLY);
	printf("open /proc/PID/fd/0 = %s\n", fd < 0 ? strerrorname_np(errno) : "ok");
	snprintf(path, sizeof path, "/proc/%d/cwd", pid);
	link_of("/proc/PID/cwd", path);
	snprintf(path, sizeof path, "/proc/%d/exe", pid);
	link_of("/proc/PID/exe", path);
	link_of("/proc/thread-self/cwd", "/proc/thread-self/cwd");
	link_of("/proc/thread-self/fd/1", "/proc/thread-self/fd/1");
	printf("threads: done\n");
	fflush(stdout);
	exit(0);
}

int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	pid = getpid();
	// A thread blocked in write(2) sleeps.
	pipe(pipefd);
	fcntl(pipefd[1], F_SETFL, O_NONBLOCK);
	static char fill[4096];
	while (write(pipefd[1], fill, sizeof fill) > 0)
		;
	fcntl(pipefd[1], F_SETFL, 0);
	pthread_t w;
	pthread_create(&w, NULL, writer, NULL);
	while (!writer_tid)
		pause_ms(10);
	char path[64];
	snprintf(path, sizeof path, "/proc/self/task/%d/stat", writer_tid);
	state("a thread blocked writing to a full pipe", path, 'S');
	char b[8192];
	read(pipefd[0], b, sizeof b);
	pthread_join(w, NULL);
	pthread_create(&w, NULL, waiter, NULL);
	pthread_join(w, NULL);
	ls("/proc/PID/fd with the main thread", "/proc/self/fd");
	// The main thread exits; another lives on.
	pthread_t s;
	pthread_create(&s, NULL, survivor, NULL);
	pthread_exit(NULL);
}
