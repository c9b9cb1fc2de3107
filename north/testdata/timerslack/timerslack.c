// Differential test of per-thread timer slack (prctl PR_SET_TIMERSLACK,
// PR_GET_TIMERSLACK, /proc/PID/timerslack_ns): built with gcc -static,
// run natively and inside Cocoon; both runs must print the same lines.
// It prints values, never timings. The slack it starts with is its
// parent's (the test runner's on the host), so it prints only values it
// set itself: a fork or thread's default is its creator's slack then.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long get(void) { return syscall(SYS_prctl, PR_GET_TIMERSLACK, 0, 0, 0, 0); }

static void set(const char *what, unsigned long v, unsigned long arg3) {
	errno = 0;
	long r = syscall(SYS_prctl, PR_SET_TIMERSLACK, v, arg3, 0, 0);
	printf("%s: set %lu -> %ld errno %d, get %ld\n", what, v, r, r < 0 ? errno : 0, get());
}

// procslack reads /proc/self/timerslack_ns: the main thread's, the
// caller's own in a process of one thread (another's needs CAP_SYS_NICE).
static void procslack(const char *what) {
	char buf[64] = "";
	int fd = open("/proc/self/timerslack_ns", O_RDONLY);
	if (fd < 0) {
		printf("%s: open /proc/self/timerslack_ns: %s\n", what, strerror(errno));
		return;
	}
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	printf("%s: /proc/self/timerslack_ns read %zd: %s", what, n, n > 0 ? buf : "\n");
}

static void procwrite(const char *what, const char *v) {
	int fd = open("/proc/self/timerslack_ns", O_WRONLY);
	if (fd < 0) {
		printf("%s: open /proc/self/timerslack_ns for writing: %s\n", what, strerror(errno));
		return;
	}
	ssize_t n = write(fd, v, strlen(v));
	printf("%s: write \"%s\" -> %zd %s, get %ld\n", what, v, n, n < 0 ? strerror(errno) : "", get());
	close(fd);
}

static void *thread(void *arg) {
	printf("thread: inherited %ld\n", get());
	set("thread", 999, 0);
	set("thread reset", 0, 0);
	set("thread", 4242, 0);
	// Sleeps and waits take the slack; they still end, and say so.
	struct timespec ts = {0, 1000};
	printf("thread: nanosleep %d\n", nanosleep(&ts, 0));
	printf("thread: poll %d\n", poll(0, 0, 1));
	return 0;
}

int main(void) {
	setvbuf(stdout, 0, _IOLBF, 0);
	set("main", 123456, 0);
	set("main with arg3", 123457, 1);
	set("main", 123456, 0);

	pthread_t th;
	pthread_create(&th, 0, thread, 0);
	pthread_join(th, 0);
	printf("main after thread: %ld\n", get());

	pid_t pid = fork();
	if (pid == 0) {
		printf("child: inherited %ld\n", get());
		set("child", 1, 0);
		set("child reset", 0, 0);
		set("child", 777, 0);
		procslack("child");
		procwrite("child", "5000");
		procslack("child");
		procwrite("child reset", "0");
		procwrite("child", "+6000\n");
		procwrite("child", "-1");
		procwrite("child", "abc");
		procwrite("child", "12 ");
		procwrite("child", "");
		procwrite("child", "99999999999999999999");
		procwrite("child", "0x10");
		// The largest value: PR_GET_TIMERSLACK returns it as -1, an
		// error to the C library.
		set("child max", (unsigned long)-1, 0);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	printf("main after child: %ld, child status %#x\n", get(), st);
	printf("timerslack: done\n");
	return 0;
}
