// setns: setns(2) with a pidfd of one's own process or a child (the
// same namespaces): each namespace's checks, a mount namespace's move to
// its root, a thread's EINVAL and EUSERS, another user's EPERM, the
// errors; every result printed, for comparison with Linux's.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define R(x)                                                                               \
	do {                                                                               \
		errno = 0;                                                                 \
		long r_ = (long)(x);                                                       \
		printf("%-64s = %ld %s\n", #x, r_, r_ < 0 ? strerrorname_np(errno) : ""); \
		fflush(stdout);                                                            \
	} while (0)

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x80
#endif

static int self;
static volatile int stop;
static void *spin(void *a) {
	(void)a;
	while (!stop)
		usleep(1000);
	return NULL;
}

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	self = syscall(SYS_pidfd_open, getpid(), 0);
	int file = open("/proc/self/status", O_RDONLY);
	R(setns(-1, 0));
	R(setns(999, 0));
	R(setns(file, 0));
	R(setns(file, CLONE_NEWNET));
	R(setns(self, 0));
	R(setns(self, CLONE_VM));
	R(setns(self, CLONE_NEWUSER));
	R(setns(self, CLONE_NEWUTS));
	R(setns(self, CLONE_NEWIPC));
	R(setns(self, CLONE_NEWNET));
	R(setns(self, CLONE_NEWPID));
	R(setns(self, CLONE_NEWCGROUP));
	R(setns(self, CLONE_NEWTIME));
	R(setns(self, CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET));
	// A mount namespace's root becomes the working directory.
	chdir(argc > 1 ? argv[1] : "/tmp");
	R(setns(self, CLONE_NEWNS));
	char cwd[256];
	printf("cwd: %s\n", getcwd(cwd, sizeof cwd));
	// A child's namespaces are ours.
	pid_t c = fork();
	if (c == 0) {
		pause();
		_exit(0);
	}
	int child = syscall(SYS_pidfd_open, c, 0);
	R(setns(child, CLONE_NEWNET | CLONE_NEWUTS));
	// With a second thread: the mount and time namespaces refuse.
	pthread_t th;
	pthread_create(&th, NULL, spin, NULL);
	R(setns(self, CLONE_NEWNS));
	R(setns(self, CLONE_NEWTIME));
	R(setns(self, CLONE_NEWNET));
	stop = 1;
	pthread_join(th, NULL);
	// Another user.
	pid_t u = fork();
	if (u == 0) {
		setresuid(1000, 1000, 1000);
		R(setns(self, CLONE_NEWNET));
		R(setns(child, CLONE_NEWNET));
		R(setns(self, CLONE_NEWUSER));
		R(setns(self, CLONE_NEWTIME));
		_exit(0);
	}
	waitpid(u, NULL, 0);
	kill(c, SIGKILL);
	siginfo_t si;
	waitid(P_PID, c, &si, WEXITED | WNOWAIT);
	R(setns(child, CLONE_NEWNET));
	waitpid(c, NULL, 0);
	R(setns(child, CLONE_NEWNET));
	printf("setns: done\n");
	return 0;
}
