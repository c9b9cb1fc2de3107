// sched: scheduling attributes (getpriority, setpriority, sched_*,
// getcpu), membarrier, personality, sethostname and setdomainname,
// adjtimex and clock_adjtime, sync
// and syncfs, readahead, the old
// getdents, preadv2 and pwritev2; every result printed, for comparison
// with Linux's. Run with a scratch directory on tmpfs as argument.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timex.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

struct sched_attr {
	uint32_t size, policy;
	uint64_t flags;
	int32_t nice;
	uint32_t prio;
	uint64_t runtime, deadline, period;
	uint32_t umin, umax;
};

#define R(x)                                                                               \
	do {                                                                               \
		errno = 0;                                                                 \
		long r_ = (long)(x);                                                       \
		printf("%-64s = %ld %s\n", #x, r_, r_ < 0 ? strerrorname_np(errno) : ""); \
		fflush(stdout);                                                            \
	} while (0)

// statNice is /proc/self/task/TID/stat's priority and nice and policy.
static void statNice(const char *what, pid_t tid) {
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
	int fd = open(path, O_RDONLY);
	long n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0) {
		printf("%s: stat: FAIL\n", what);
		return;
	}
	buf[n] = 0;
	char *p = strrchr(buf, ')') + 2; // field 3
	long f[64];
	int i = 3;
	for (char *tok = strtok(p + 2, " "); tok && i < 64; tok = strtok(NULL, " "))
		f[++i] = atol(tok);
	printf("%s: stat priority %ld nice %ld policy %ld\n", what, f[18], f[19], f[41]);
}

static pid_t gettid_(void) { return syscall(SYS_gettid); }

static volatile int threadNiceSet;
static pid_t threadTid;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

static void *thread(void *arg) {
	(void)arg;
	pthread_mutex_lock(&mu);
	threadTid = gettid_();
	pthread_cond_broadcast(&cv);
	while (!threadNiceSet)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	printf("thread: getpriority(self) = %ld\n", syscall(SYS_getpriority, PRIO_PROCESS, 0));
	fflush(stdout);
	return NULL;
}

static void priorities(void) {
	// The runner's nice value is not ours to depend on.
	R(syscall(SYS_setpriority, PRIO_PROCESS, 0, 0));
	R(syscall(SYS_getpriority, PRIO_PROCESS, 0));
	R(syscall(SYS_getpriority, PRIO_PROCESS, getpid()));
	R(syscall(SYS_getpriority, 3, 0));
	R(syscall(SYS_getpriority, -1, 0));
	R(syscall(SYS_getpriority, PRIO_PROCESS, 999999));
	R(syscall(SYS_getpriority, PRIO_PROCESS, -5));
	R(syscall(SYS_getpriority, PRIO_PGRP, 999999));
	R(syscall(SYS_setpriority, PRIO_PROCESS, 0, 5));
	R(syscall(SYS_getpriority, PRIO_PROCESS, 0));
	statNice("nice 5", gettid_());
	R(getpriority(PRIO_PROCESS, 0));
	R(syscall(SYS_setpriority, PRIO_PROCESS, 0, 100));
	R(syscall(SYS_getpriority, PRIO_PROCESS, 0));
	R(syscall(SYS_setpriority, PRIO_PROCESS, 0, -100));
	R(syscall(SYS_getpriority, PRIO_PROCESS, 0));
	statNice("nice -20", gettid_());
	R(syscall(SYS_setpriority, PRIO_PROCESS, 0, 0));
	R(syscall(SYS_setpriority, 7, 0, 0));
	R(syscall(SYS_setpriority, PRIO_PROCESS, 999999, 0));

	// A thread's nice value is its own.
	pthread_t th;
	pthread_mutex_lock(&mu);
	pthread_create(&th, NULL, thread, NULL);
	while (!threadTid)
		pthread_cond_wait(&cv, &mu);
	R(syscall(SYS_setpriority, PRIO_PROCESS, threadTid, 9));
	R(syscall(SYS_getpriority, PRIO_PROCESS, threadTid) - syscall(SYS_getpriority, PRIO_PROCESS, 0));
	statNice("thread at nice 9", threadTid);
	threadNiceSet = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	pthread_join(th, NULL);

	// A thread starts with its creator's nice value; so does a child.
	R(syscall(SYS_setpriority, PRIO_PROCESS, 0, 3));
	threadTid = 0;
	threadNiceSet = 1;
	pthread_create(&th, NULL, thread, NULL);
	pthread_join(th, NULL);

	// A process group in a child of its own.
	pid_t c = fork();
	if (c == 0) {
		setpgid(0, 0);
		R(syscall(SYS_getpriority, PRIO_PROCESS, 0));
		R(syscall(SYS_getpriority, PRIO_PGRP, 0));
		R(syscall(SYS_setpriority, PRIO_PGRP, 0, 11));
		R(syscall(SYS_getpriority, PRIO_PGRP, getpgrp()));
		R(syscall(SYS_getpriority, PRIO_PROCESS, 0));
		// An unprivileged user may raise its nice value, not lower it,
		// nor touch another user's process.
		R(setresuid(1000, 1000, 1000));
		R(syscall(SYS_setpriority, PRIO_PROCESS, 0, 15));
		R(syscall(SYS_setpriority, PRIO_PROCESS, 0, 12));
		R(syscall(SYS_getpriority, PRIO_PROCESS, 0));
		R(syscall(SYS_setpriority, PRIO_PROCESS, getppid(), 15));
		struct sched_param sp = {0};
		R(sched_setscheduler(0, SCHED_FIFO, &(struct sched_param){.sched_priority = 1}));
		R(sched_setscheduler(getppid(), SCHED_BATCH, &sp));
		struct sched_attr at = {.size = sizeof at, .nice = 13};
		R(syscall(SYS_sched_setattr, 0, &at, 0));
		at.nice = 19;
		R(syscall(SYS_sched_setattr, 0, &at, 0));
		R(syscall(SYS_getpriority, PRIO_PROCESS, 0));
		fflush(stdout);
		_exit(0);
	}
	waitpid(c, NULL, 0);
	R(syscall(SYS_getpriority, PRIO_PROCESS, 0));
	R(syscall(SYS_setpriority, PRIO_PROCESS, 0, 0));
}

static void policies(void) {
	struct sched_param sp = {0};
	R(sched_setscheduler(0, SCHED_OTHER, &sp));
	R(sched_getscheduler(0));
	R(sched_getscheduler(-1));
	R(sched_getscheduler(999999));
	for (int p = 0; p <= 6; p++) {
		printf("policy %d: ", p);
		R(sched_get_priority_max(p));
		printf("policy %d: ", p);
		R(sched_get_priority_min(p));
	}
	R(sched_get_priority_max(-1));
	R(sched_getparam(0, &sp));
	printf("priority %d\n", sp.sched_priority);
	R(sched_getparam(0, NULL));
	R(sched_getparam(-1, &sp));
	R(sched_getparam(999999, &sp));
	R(syscall(SYS_sched_getparam, 0, (void *)8));
	R(syscall(SYS_sched_setscheduler, 0, SCHED_BATCH, &sp));
	R(sched_getscheduler(0));
	statNice("batch", gettid_());
	R(syscall(SYS_sched_setscheduler, 0, SCHED_IDLE, &sp));
	R(sched_getscheduler(0));
	R(syscall(SYS_sched_setscheduler, 0, SCHED_OTHER | SCHED_RESET_ON_FORK, &sp));
	R(sched_getscheduler(0));
	R(syscall(SYS_sched_setparam, 0, &sp));
	R(sched_getscheduler(0));
	R(syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, &sp));
	R(syscall(SYS_sched_setscheduler, 0, 4, &sp));
	R(syscall(SYS_sched_setscheduler, 0, -1, &sp));
	R(syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, NULL));
	R(syscall(SYS_sched_setscheduler, -1, SCHED_OTHER, &sp));
	R(syscall(SYS_sched_setscheduler, 999999, SCHED_OTHER, &sp));
	R(syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, (void *)8));
	sp.sched_priority = 5;
	R(syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, &sp));
	R(syscall(SYS_sched_setparam, 0, &sp));
	sp.sched_priority = 100;
	R(syscall(SYS_sched_setscheduler, 0, SCHED_FIFO, &sp));
	sp.sched_priority = 0;
	R(syscall(SYS_sched_setscheduler, 0, SCHED_FIFO, &sp));
	R(syscall(SYS_sched_setscheduler, 0, SCHED_DEADLINE, &sp));
	R(syscall(SYS_sched_setparam, 0, &sp));
	R(sched_getscheduler(0));

	struct timespec ts = {7, 7};
	R(sched_rr_get_interval(0, &ts));
	printf("rr interval: %ld s, under 0.1 s: %d\n", (long)ts.tv_sec, ts.tv_nsec < 100000000);
	R(sched_rr_get_interval(-1, &ts));
	R(sched_rr_get_interval(999999, &ts));
	R(syscall(SYS_sched_rr_get_interval, 0, (void *)8));

	struct sched_attr at;
	memset(&at, 0xff, sizeof at);
	R(syscall(SYS_sched_getattr, 0, &at, sizeof at, 0));
	printf("attr: size %u policy %u flags %lu nice %d prio %u runtime>0 %d deadline %lu period %lu\n", at.size,
	       at.policy, (unsigned long)at.flags, at.nice, at.prio, at.runtime > 0, (unsigned long)at.deadline,
	       (unsigned long)at.period);
	memset(&at, 0xff, sizeof at);
	R(syscall(SYS_sched_getattr, 0, &at, 48, 0));
	printf("attr at 48: size %u umin %#x\n", at.size, at.umin);
	R(syscall(SYS_sched_getattr, 0, &at, 47, 0));
	R(syscall(SYS_sched_getattr, 0, &at, 4097, 0));
	R(syscall(SYS_sched_getattr, 0, &at, sizeof at, 1));
	R(syscall(SYS_sched_getattr, 0, NULL, sizeof at, 0));
	R(syscall(SYS_sched_getattr, -1, &at, sizeof at, 0));
	R(syscall(SYS_sched_getattr, 999999, &at, sizeof at, 0));

	memset(&at, 0, sizeof at);
	at.size = 48;
	at.nice = 3;
	R(syscall(SYS_sched_setattr, 0, &at, 0));
	R(syscall(SYS_getpriority, PRIO_PROCESS, 0));
	at.size = 0;
	at.nice = -2;
	R(syscall(SYS_sched_setattr, 0, &at, 0));
	R(syscall(SYS_getpriority, PRIO_PROCESS, 0));
	at.nice = 40;
	R(syscall(SYS_sched_setattr, 0, &at, 0));
	R(syscall(SYS_getpriority, PRIO_PROCESS, 0));
	at.size = 13;
	R(syscall(SYS_sched_setattr, 0, &at, 0));
	printf("size written back: %u\n", at.size);
	char big[128] = {0};
	memcpy(big, &at, sizeof at);
	((struct sched_attr *)big)->size = sizeof big;
	((struct sched_attr *)big)->nice = 1;
	R(syscall(SYS_sched_setattr, 0, big, 0));
	R(syscall(SYS_getpriority, PRIO_PROCESS, 0));
	big[100] = 1;
	R(syscall(SYS_sched_setattr, 0, big, 0));
	printf("size written back: %u\n", ((struct sched_attr *)big)->size);
	memset(&at, 0, sizeof at);
	at.size = sizeof at;
	at.policy = SCHED_BATCH;
	at.flags = 0x10; // SCHED_FLAG_KEEP_PARAMS
	at.nice = -10;
	R(syscall(SYS_sched_setattr, 0, &at, 0));
	R(sched_getscheduler(0));
	R(syscall(SYS_getpriority, PRIO_PROCESS, 0));
	at.flags = 0x08 | 0x01; // SCHED_FLAG_KEEP_POLICY | SCHED_FLAG_RESET_ON_FORK
	at.policy = 77;
	at.nice = -4;
	R(syscall(SYS_sched_setattr, 0, &at, 0));
	R(sched_getscheduler(0));
	R(syscall(SYS_getpriority, PRIO_PROCESS, 0));
	memset(&at, 0xff, sizeof at);
	R(syscall(SYS_sched_getattr, 0, &at, sizeof at, 0));
	printf("attr: size %u policy %u flags %lu nice %d prio %u\n", at.size, at.policy, (unsigned long)at.flags,
	       at.nice, at.prio);
	// The child of a SCHED_RESET_ON_FORK thread at nice -4 starts at nice
	// 0 without the flag, in the same fair policy.
	pid_t c = fork();
	if (c == 0) {
		R(syscall(SYS_getpriority, PRIO_PROCESS, 0));
		R(sched_getscheduler(0));
		_exit(0);
	}
	waitpid(c, NULL, 0);
	memset(&at, 0, sizeof at);
	at.size = sizeof at;
	at.flags = 0x80;
	R(syscall(SYS_sched_setattr, 0, &at, 0));
	at.flags = 0;
	at.policy = 9;
	R(syscall(SYS_sched_setattr, 0, &at, 0));
	at.policy = SCHED_OTHER;
	R(syscall(SYS_sched_setattr, 0, &at, 1));
	R(syscall(SYS_sched_setattr, 0, NULL, 0));
	R(syscall(SYS_sched_setattr, 0, (void *)8, 0));
	at.policy = SCHED_DEADLINE;
	R(syscall(SYS_sched_setattr, 0, &at, 0));
	at.policy = SCHED_OTHER;
	R(syscall(SYS_sched_setattr, 0, &at, 0));
	R(sched_getscheduler(0));
	R(syscall(SYS_getpriority, PRIO_PROCESS, 0));

	unsigned cpu = 77, node = 77;
	R(syscall(SYS_getcpu, &cpu, &node, NULL));
	printf("getcpu: node %u, cpu below CPUs %d\n", node, cpu < (unsigned)sysconf(_SC_NPROCESSORS_ONLN));
	R(syscall(SYS_getcpu, NULL, NULL, NULL));
	R(syscall(SYS_getcpu, (void *)8, NULL, NULL));
	R(sched_getcpu() >= 0);
}

static void membarriers(void) {
	// A process of its own registered for SYNC_CORE only: the plain
	// private registration shows, its barrier is not ready.
	pid_t s = fork();
	if (s == 0) {
		R(syscall(SYS_membarrier, 64, 0, 0));
		R(syscall(SYS_membarrier, 512, 0, 0));
		R(syscall(SYS_membarrier, 8, 0, 0));
		R(syscall(SYS_membarrier, 32, 0, 0));
		R(syscall(SYS_membarrier, 16, 0, 0));
		R(syscall(SYS_membarrier, 8, 0, 0));
		R(syscall(SYS_membarrier, 512, 0, 0));
		fflush(stdout);
		_exit(0);
	}
	waitpid(s, NULL, 0);
	R(syscall(SYS_membarrier, 0, 0, 0));
	R(syscall(SYS_membarrier, 0, 1, 0));
	R(syscall(SYS_membarrier, 512, 0, 0));
	R(syscall(SYS_membarrier, 8, 0, 0));
	R(syscall(SYS_membarrier, 32, 0, 0));
	R(syscall(SYS_membarrier, 1, 0, 0));
	R(syscall(SYS_membarrier, 2, 0, 0));
	R(syscall(SYS_membarrier, 16, 0, 0));
	R(syscall(SYS_membarrier, 8, 0, 0));
	R(syscall(SYS_membarrier, 64, 0, 0));
	R(syscall(SYS_membarrier, 32, 0, 0));
	R(syscall(SYS_membarrier, 4, 0, 0));
	R(syscall(SYS_membarrier, 512, 0, 0));
	R(syscall(SYS_membarrier, 1 << 12, 0, 0));
	R(syscall(SYS_membarrier, 3, 0, 0));
	R(syscall(SYS_membarrier, -1, 0, 0));
	R(syscall(SYS_membarrier, 8, 2, 0));
	R(syscall(SYS_membarrier, 128, 2, 0));
	pid_t c = fork();
	if (c == 0) {
		R(syscall(SYS_membarrier, 512, 0, 0));
		R(syscall(SYS_membarrier, 8, 0, 0));
		fflush(stdout);
		execl("/proc/self/exe", "sched", "/", "exec", NULL);
		_exit(1);
	}
	waitpid(c, NULL, 0);
}

static void personalities(void) {
	struct utsname u;
	R(syscall(SYS_personality, 0xffffffff));
	R(syscall(SYS_personality, 0x0040000));
	R(syscall(SYS_personality, 0xffffffff));
	R(syscall(SYS_personality, 0x0040008));
	uname(&u);
	printf("machine %s\n", u.machine);
	pid_t c = fork();
	if (c == 0) {
		R(syscall(SYS_personality, 0xffffffff));
		fflush(stdout);
		execl("/proc/self/exe", "sched", "/", "persona", NULL);
		_exit(1);
	}
	waitpid(c, NULL, 0);
	R(syscall(SYS_personality, 0));
	uname(&u);
	printf("machine %s\n", u.machine);
	R(syscall(SYS_personality, 0xffffffff));
}

// names sets the host and domain names, in a child and (natively) in a
// UTS namespace of its own: the host's are not the test's to change.
static void names(void) {
	pid_t c = fork();
	if (c == 0) {
		unshare(CLONE_NEWUTS); // Cocoon has one UTS namespace: EINVAL there, and it is the guest's
		struct utsname u;
		R(sethostname("gaps-host", 9));
		R(setdomainname("gaps.example", 12));
		uname(&u);
		printf("nodename %s domainname %s\n", u.nodename, u.domainname);
		R(sethostname("a\0b", 3));
		uname(&u);
		printf("nodename %s\n", u.nodename);
		char long65[65];
		memset(long65, 'x', sizeof long65);
		R(sethostname(long65, 65));
		R(sethostname(long65, 64));
		uname(&u);
		printf("nodename length %zu\n", strlen(u.nodename));
		R(syscall(SYS_sethostname, long65, -1));
		R(syscall(SYS_sethostname, (char *)8, 4));
		R(setresuid(1000, 1000, 1000));
		R(sethostname("user", 4));
		R(setdomainname("user", 4));
		fflush(stdout);
		_exit(0);
	}
	waitpid(c, NULL, 0);
}

// ntp reads the kernel's NTP state: only what no NTP daemon on the host
// changes is printed (a synchronized host reports TIME_OK, Cocoon never
// is); setting it is refused, as to a caller without CAP_SYS_TIME in
// Cocoon and to the unprivileged user on both.
static void ntp(void) {
	struct timex tx;
	memset(&tx, 0, sizeof tx);
	int r = adjtimex(&tx);
	printf("adjtimex: state known %d, precision %ld, tolerance %ld, tick %ld, time set %d\n", r >= 0 && r <= 5,
	       tx.precision, tx.tolerance, tx.tick, tx.time.tv_sec > 0);
	memset(&tx, 0, sizeof tx);
	tx.modes = ADJ_OFFSET_SS_READ;
	r = adjtimex(&tx);
	printf("adjtimex ADJ_OFFSET_SS_READ: state known %d, modes %#x, offset %ld\n", r >= 0 && r <= 5, tx.modes,
	       tx.offset);
	memset(&tx, 0, sizeof tx);
	r = syscall(SYS_clock_adjtime, CLOCK_REALTIME, &tx);
	printf("clock_adjtime(CLOCK_REALTIME): state known %d, tolerance %ld\n", r >= 0 && r <= 5, tx.tolerance);
	tx.modes = 0x8000; // ADJ_ADJTIME without ADJ_OFFSET_SINGLESHOT
	R(adjtimex(&tx));
	R(syscall(SYS_clock_adjtime, CLOCK_MONOTONIC, &tx));
	R(syscall(SYS_clock_adjtime, CLOCK_BOOTTIME, &tx));
	R(syscall(SYS_clock_adjtime, 99, &tx));
	R(syscall(SYS_clock_adjtime, CLOCK_REALTIME, (void *)8));
	R(adjtimex((struct timex *)8));
	pid_t c = fork();
	if (c == 0) {
		setresuid(1000, 1000, 1000);
		memset(&tx, 0, sizeof tx);
		tx.modes = ADJ_FREQUENCY;
		R(adjtimex(&tx));
		fflush(stdout);
		_exit(0);
	}
	waitpid(c, NULL, 0);
}

static void files(const char *dir) {
	if (chdir(dir) < 0) {
		printf("chdir: FAIL\n");
		return;
	}
	int fd = open("f", O_CREAT | O_RDWR | O_TRUNC, 0644);
	write(fd, "hello world", 11);
	int p[2];
	pipe(p);
	int dfd = open(".", O_RDONLY | O_DIRECTORY);
	int wo = open("f", O_WRONLY);
	R(syscall(SYS_sync));
	R(syscall(SYS_syncfs, fd));
	R(syscall(SYS_syncfs, p[0]));
	R(syscall(SYS_syncfs, dfd));
	R(syscall(SYS_syncfs, -1));
	R(syscall(SYS_syncfs, 999));
	R(syscall(SYS_readahead, fd, 0, 10));
	R(syscall(SYS_readahead, fd, -1, 10));
	R(syscall(SYS_readahead, p[0], 0, 10));
	R(syscall(SYS_readahead, dfd, 0, 10));
	R(syscall(SYS_readahead, wo, 0, 10));
	R(syscall(SYS_readahead, -1, 0, 10));

	char b[64];
	struct iovec iov = {b, 5};
	R(syscall(SYS_preadv2, fd, &iov, 1, 0, 0, 0));
	R(lseek(fd, 2, SEEK_SET));
	R(syscall(SYS_preadv2, fd, &iov, 1, (long)-1, 0, 0));
	b[5] = 0;
	printf("read: %s\n", b);
	R(lseek(fd, 0, SEEK_CUR));
	R(syscall(SYS_preadv2, fd, &iov, 1, (long)-2, 0, 0));
	R(syscall(SYS_preadv2, fd, &iov, 0, 0, 0, 0x400));
	for (int f = 1; f <= 0x400; f <<= 1) {
		printf("read flag %#x: ", f);
		R(syscall(SYS_preadv2, fd, &iov, 1, 6, 0, f));
	}
	for (int f = 1; f <= 0x400; f <<= 1) {
		printf("write flag %#x: ", f);
		R(syscall(SYS_pwritev2, fd, &iov, 1, 0, 0, f));
	}
	R(lseek(fd, 0, SEEK_CUR));
	R(syscall(SYS_preadv2, p[0], &iov, 1, 0, 0, 0));
	R(syscall(SYS_preadv2, p[0], &iov, 1, (long)-1, 0, 8));
	R(syscall(SYS_pwritev2, p[1], &iov, 1, (long)-1, 0, 8));
	R(syscall(SYS_preadv2, p[0], &iov, 1, (long)-1, 0, 8));
	R(syscall(SYS_pwritev2, p[1], &iov, 1, 0, 0, 0));
	struct iovec w = {"XY", 2};
	R(syscall(SYS_pwritev2, fd, &w, 1, 0, 0, 0x10));
	R(lseek(fd, 0, SEEK_CUR));
	R(lseek(fd, 0, SEEK_END));
	R(lseek(fd, 0, SEEK_SET));
	R(syscall(SYS_pwritev2, fd, &w, 1, (long)-1, 0, 0x10));
	R(lseek(fd, 0, SEEK_CUR));
	int ap = open("f", O_WRONLY | O_APPEND);
	R(syscall(SYS_pwritev2, ap, &w, 1, 0, 0, 0x20));
	R(syscall(SYS_pwritev2, ap, &w, 1, 0, 0, 0x30));
	R(syscall(SYS_pwritev2, ap, &w, 1, 3, 0, 0));
	R(pread(fd, b, 40, 0));
	b[40] = 0;
	printf("file: %s\n", b);
	R(syscall(SYS_pwritev2, -1, &w, 1, 0, 0, 0));
	R(syscall(SYS_preadv2, wo, &iov, 1, 0, 0, 0));
	R(syscall(SYS_pwritev2, p[0], &w, 1, (long)-1, 0, 0));
	R(syscall(SYS_preadv2, fd, (void *)8, 1, 0, 0, 0));
	// SIGPIPE unless RWF_NOSIGNAL (blocked here, so it stays pending).
	sigset_t set, pending;
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigprocmask(SIG_BLOCK, &set, NULL);
	close(p[0]);
	R(syscall(SYS_pwritev2, p[1], &w, 1, (long)-1, 0, 0x100));
	sigpending(&pending);
	printf("SIGPIPE pending after RWF_NOSIGNAL: %d\n", sigismember(&pending, SIGPIPE));
	R(syscall(SYS_pwritev2, p[1], &w, 1, (long)-1, 0, 0));
	sigpending(&pending);
	printf("SIGPIPE pending after no flag: %d\n", sigismember(&pending, SIGPIPE));
	int sig;
	sigwait(&set, &sig);

	mkdir("d", 0755);
	close(open("d/aa", O_CREAT | O_WRONLY, 0644));
	mkdir("d/sub", 0755);
	symlink("aa", "d/ln");
	int dd = open("d", O_RDONLY | O_DIRECTORY);
	char db[512];
	long n = syscall(SYS_getdents, dd, db, sizeof db);
	printf("getdents: %ld bytes\n", n);
	char seen[5][80];
	int k = 0;
	for (long off = 0; off < n && k < 5;) {
		unsigned long ino = *(unsigned long *)(db + off);
		long doff = *(long *)(db + off + 8);
		unsigned short rl = *(unsigned short *)(db + off + 16);
		snprintf(seen[k++], sizeof seen[0], "%s ino>0 %d off!=0 %d reclen %u type %d", db + off + 18, ino > 0,
			 doff != 0, rl, db[off + rl - 1]);
		off += rl;
	}
	qsort(seen, k, sizeof seen[0], (int (*)(const void *, const void *))strcmp);
	for (int i = 0; i < k; i++)
		printf("  %s\n", seen[i]);
	R(syscall(SYS_getdents, dd, db, sizeof db));
	R(lseek(dd, 0, SEEK_SET));
	R(syscall(SYS_getdents, dd, db, 10));
	R(syscall(SYS_getdents, dd, db, 24));
	R(syscall(SYS_getdents, dd, db, 25));
	R(syscall(SYS_getdents, fd, db, 512));
	R(syscall(SYS_getdents, -1, db, 512));
	R(syscall(SYS_getdents, dd, 0, 512));
}

int main(int argc, char **argv) {
	if (argc > 2 && strcmp(argv[2], "exec") == 0) {
		R(syscall(SYS_membarrier, 512, 0, 0));
		R(syscall(SYS_membarrier, 8, 0, 0));
		return 0;
	}
	if (argc > 2 && strcmp(argv[2], "persona") == 0) {
		struct utsname u;
		uname(&u);
		R(syscall(SYS_personality, 0xffffffff));
		printf("after exec: machine %s\n", u.machine);
		return 0;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: sched DIR\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	priorities();
	policies();
	membarriers();
	personalities();
	names();
	ntp();
	files(argv[1]);
	printf("sched: done\n");
	return 0;
}
