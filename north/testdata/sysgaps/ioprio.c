// ioprio: ioprio_get and ioprio_set (I/O scheduling class and level per
// thread, by thread, process group and user; what nice values and
// policies imply while none is set; inheritance across fork, threads and
// CLONE_IO; kcmp KCMP_IO; the errors); every result printed, for
// comparison with Linux's.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <linux/kcmp.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
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

enum { WHO_PROCESS = 1, WHO_PGRP, WHO_USER };
#define PRIO(class, data) ((class) << 13 | (data))
enum { NONE, RT, BE, IDLE };

static long get(int which, int who) { return syscall(SYS_ioprio_get, which, who); }
static long set(int which, int who, int prio) { return syscall(SYS_ioprio_set, which, who, prio); }

static void *thread(void *a) {
	(void)a;
	R(get(WHO_PROCESS, 0));
	R(syscall(SYS_kcmp, getpid(), syscall(SYS_gettid), KCMP_IO, 0, 0) != 0);
	R(set(WHO_PROCESS, 0, PRIO(IDLE, 0)));
	R(get(WHO_PROCESS, 0));
	return NULL;
}

static int io_child(void *a) {
	(void)a;
	R(syscall(SYS_kcmp, getpid(), getppid(), KCMP_IO, 0, 0));
	R(set(WHO_PROCESS, 0, PRIO(BE, 0)));
	return 0;
}

int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	pid_t me = getpid();
	// Whatever the caller left: class none (an I/O context now, as for
	// every set).
	R(set(WHO_PROCESS, 0, PRIO(NONE, 0)));
	R(get(WHO_PROCESS, 0));
	R(get(WHO_PROCESS, me));
	R(get(0, 0));
	R(get(4, 0));
	R(get(WHO_PROCESS, -1));
	R(get(WHO_PROCESS, 999999));
	R(get(WHO_PGRP, 999999));
	R(get(WHO_USER, 4242));
	R(get(WHO_USER, -1));
	// What the nice value implies while no class is set.
	setpriority(PRIO_PROCESS, 0, 7);
	R(get(WHO_PROCESS, 0));
	setpriority(PRIO_PROCESS, 0, 0);
	struct sched_param sp = {0};
	R(sched_setscheduler(0, SCHED_IDLE, &sp));
	R(get(WHO_PROCESS, 0));
	R(sched_setscheduler(0, SCHED_OTHER, &sp));
	// Setting.
	R(set(WHO_PROCESS, 0, PRIO(NONE, 0)));
	R(get(WHO_PROCESS, 0));
	R(syscall(SYS_kcmp, me, me, KCMP_IO, 0, 0));
	R(set(WHO_PROCESS, 0, PRIO(NONE, 1)));
	R(set(WHO_PROCESS, 0, PRIO(BE, 7)));
	R(get(WHO_PROCESS, 0));
	R(set(WHO_PROCESS, 0, PRIO(BE, 8)));
	R(set(WHO_PROCESS, 0, PRIO(BE, 0x3f8 | 2)));
	R(get(WHO_PROCESS, 0));
	R(set(WHO_PROCESS, 0, PRIO(IDLE, 5)));
	R(get(WHO_PROCESS, 0));
	R(set(WHO_PROCESS, 0, PRIO(RT, 3)));
	R(get(WHO_PROCESS, 0));
	R(set(WHO_PROCESS, 0, PRIO(4, 0)));
	R(set(WHO_PROCESS, 0, PRIO(7, 0)));
	R(set(WHO_PROCESS, 0, 1 << 16));
	R(set(WHO_PROCESS, 0, -1));
	R(set(0, 0, PRIO(BE, 1)));
	R(set(WHO_PROCESS, 999999, PRIO(BE, 1)));
	R(set(WHO_PROCESS, -1, PRIO(BE, 1)));
	R(set(WHO_PROCESS, 0, PRIO(BE, 2)));
	// Threads and children.
	pthread_t th;
	pthread_create(&th, NULL, thread, NULL);
	pthread_join(th, NULL);
	R(get(WHO_PROCESS, 0));
	pid_t c = fork();
	if (c == 0) {
		R(get(WHO_PROCESS, 0));
		R(syscall(SYS_kcmp, getpid(), getppid(), KCMP_IO, 0, 0) != 0);
		R(set(WHO_PROCESS, getppid(), PRIO(BE, 5)));
		_exit(0);
	}
	waitpid(c, NULL, 0);
	R(get(WHO_PROCESS, 0));
	// A process group of its own: the best of its threads' effective
	// priorities (class none follows the nice value and policy).
	c = fork();
	if (c == 0) {
		setpgid(0, 0);
		R(set(WHO_PROCESS, 0, PRIO(NONE, 0)));
		R(get(WHO_PGRP, 0));
		setpriority(PRIO_PROCESS, 0, 12);
		R(get(WHO_PGRP, 0));
		R(get(WHO_PGRP, getpid()));
		int p[2];
		pipe(p);
		pid_t g = fork();
		if (g == 0) {
			R(set(WHO_PROCESS, 0, PRIO(IDLE, 2)));
			write(p[1], "x", 1);
			pause();
			_exit(0);
		}
		char x;
		read(p[0], &x, 1);
		R(get(WHO_PGRP, 0));
		R(set(WHO_PROCESS, 0, PRIO(BE, 6)));
		R(get(WHO_PGRP, 0));
		R(set(WHO_PGRP, 0, PRIO(BE, 1)));
		R(get(WHO_PROCESS, g));
		R(get(WHO_PGRP, 0));
		R(sched_setscheduler(0, SCHED_IDLE, &sp));
		R(set(WHO_PROCESS, 0, PRIO(NONE, 0)));
		R(get(WHO_PGRP, 0));
		kill(g, SIGKILL);
		waitpid(g, NULL, 0);
		R(get(WHO_PGRP, 0));
		_exit(0);
	}
	waitpid(c, NULL, 0);
	// CLONE_IO shares the context: kcmp says so.
	static char stack[65536];
	c = clone(io_child, stack + sizeof stack, CLONE_IO | SIGCHLD, NULL);
	waitpid(c, NULL, 0);
	R(get(WHO_PROCESS, 0));
	// Another user.
	c = fork();
	if (c == 0) {
		setresuid(1000, 1000, 1000);
		R(set(WHO_PROCESS, getppid(), PRIO(BE, 4)));
		R(get(WHO_PROCESS, getppid()));
		R(set(WHO_PROCESS, 0, PRIO(RT, 0)));
		R(set(WHO_PROCESS, 0, PRIO(IDLE, 0)));
		R(get(WHO_PROCESS, 0));
		_exit(0);
	}
	waitpid(c, NULL, 0);
	printf("ioprio: done\n");
	return 0;
}
