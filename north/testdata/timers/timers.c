// Differential test of timers and waiting: built with gcc -static, run
// natively and inside Cocoon; both runs must print the same lines. It
// prints outcomes (errors, counts, comparisons), never timings.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *err(long r) {
	static char buf[32];
	if (r >= 0) {
		snprintf(buf, sizeof buf, "%ld", r);
		return buf;
	}
	switch (errno) {
	case EINVAL: return "EINVAL";
	case EBADF: return "EBADF";
	case EINTR: return "EINTR";
	case EAGAIN: return "EAGAIN";
	case EFAULT: return "EFAULT";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EPERM: return "EPERM";
	case ENOSYS: return "ENOSYS";
	}
	snprintf(buf, sizeof buf, "errno %d", errno);
	return buf;
}

static const char *yes(int b) { return b ? "yes" : "no"; }

static int64_t now(clockid_t c) {
	struct timespec ts;
	if (syscall(SYS_clock_gettime, c, &ts) != 0) return -1;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void burn(int64_t ns, clockid_t c) { // spin until clock c advanced ns
	int64_t end = now(c) + ns, wall = now(CLOCK_MONOTONIC) + 20000000000LL;
	while (now(c) < end && now(CLOCK_MONOTONIC) < wall) {
	}
}

static volatile sig_atomic_t got[65];
static volatile int last_code, last_overrun, last_timerid, last_value, last_tid, last_getoverrun;
static volatile int overrun_timer = -1;

static void handler(int sig, siginfo_t *si, void *uc) {
	got[sig]++;
	last_code = si->si_code;
	last_tid = syscall(SYS_gettid);
	if (si->si_code == SI_TIMER && got[sig] == 1) { // the first since the count was reset
		last_overrun = si->si_overrun;
		last_timerid = si->si_timerid;
		last_value = si->si_value.sival_int;
		if (overrun_timer >= 0) last_getoverrun = syscall(SYS_timer_getoverrun, overrun_timer);
	}
}

static void catch(int sig) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO;
	sigaction(sig, &sa, NULL);
}

static void block(int sig, int how) {
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, sig);
	sigprocmask(how, &s, NULL);
}

// waitsig waits (sigsuspend with nothing blocked) until got[sig] reaches n
// or 20 s pass.
static int waitsig(int sig, int n) {
	sigset_t none;
	sigemptyset(&none);
	int64_t end = now(CLOCK_MONOTONIC) + 20000000000LL;
	while (got[sig] < n && now(CLOCK_MONOTONIC) < end) {
		struct itimerval guard = {{0, 0}, {1, 0}};
		if (sig != SIGALRM) setitimer(ITIMER_REAL, &guard, NULL); // never sleep forever
		sigsuspend(&none);
	}
	struct itimerval off = {{0, 0}, {0, 0}};
	if (sig != SIGALRM) setitimer(ITIMER_REAL, &off, NULL);
	return got[sig] >= n;
}

static void itimers(void) {
	catch(SIGALRM);
	catch(SIGVTALRM);
	catch(SIGPROF);
	// alarm: the previous alarm's seconds, rounded up.
	alarm(5);
	printf("alarm(0) after alarm(5) = %u\n", alarm(0));
	printf("alarm(0) again = %u\n", alarm(0));
	alarm(1);
	long r = syscall(SYS_pause);
	printf("pause = %s, SIGALRM %d, si_code SI_KERNEL %s\n", err(r), got[SIGALRM], yes(last_code == SI_KERNEL));
	// ITIMER_REAL, periodic.
	struct itimerval it = {{0, 10000}, {0, 10000}}, cur;
	got[SIGALRM] = 0;
	printf("setitimer REAL = %s\n", err(setitimer(ITIMER_REAL, &it, NULL)));
	getitimer(ITIMER_REAL, &cur);
	printf("getitimer REAL interval %ld.%06ld, value in (0, 10ms]: %s\n", (long)cur.it_interval.tv_sec,
	       (long)cur.it_interval.tv_usec, yes(cur.it_value.tv_sec == 0 && cur.it_value.tv_usec > 0 && cur.it_value.tv_usec <= 10000));
	printf("5 SIGALRM: %s\n", yes(waitsig(SIGALRM, 5)));
	struct itimerval off = {{0, 0}, {0, 0}}, old;
	setitimer(ITIMER_REAL, &off, &old);
	printf("old interval %ld.%06ld\n", (long)old.it_interval.tv_sec, (long)old.it_interval.tv_usec);
	getitimer(ITIMER_REAL, &cur);
	printf("disarmed: %ld.%06ld %ld.%06ld\n", (long)cur.it_value.tv_sec, (long)cur.it_value.tv_usec,
	       (long)cur.it_interval.tv_sec, (long)cur.it_interval.tv_usec);
	// ITIMER_VIRTUAL and ITIMER_PROF count CPU time: burn it.
	struct itimerval v = {{0, 10000}, {0, 10000}};
	setitimer(ITIMER_VIRTUAL, &v, NULL);
	for (int64_t end = now(CLOCK_MONOTONIC) + 20000000000LL; got[SIGVTALRM] < 3 && now(CLOCK_MONOTONIC) < end;) {
	}
	setitimer(ITIMER_VIRTUAL, &off, NULL);
	printf("3 SIGVTALRM from user time: %s\n", yes(got[SIGVTALRM] >= 3));
	setitimer(ITIMER_PROF, &v, NULL);
	for (int64_t end = now(CLOCK_MONOTONIC) + 20000000000LL; got[SIGPROF] < 3 && now(CLOCK_MONOTONIC) < end;) {
	}
	setitimer(ITIMER_PROF, &off, NULL);
	printf("3 SIGPROF: %s\n", yes(got[SIGPROF] >= 3));
	// Errors.
	printf("setitimer(3) = %s\n", err(setitimer(3, &it, NULL)));
	struct itimerval bad = {{0, 0}, {0, 1000000}};
	printf("setitimer usec 1000000 = %s\n", err(setitimer(ITIMER_REAL, &bad, NULL)));
	printf("getitimer(7) = %s\n", err(getitimer(7, &cur)));
	printf("getitimer bad address = %s\n", err(syscall(SYS_getitimer, ITIMER_REAL, (void *)8)));
}

static volatile int stop_spin;

static void *spinner(void *arg) {
	int64_t end = now(CLOCK_MONOTONIC) + 20000000000LL;
	while (!stop_spin && now(CLOCK_MONOTONIC) < end) {
	}
	return NULL;
}

static void cpuclocks(void) {
	clockid_t pc, tc;
	printf("clock_getcpuclockid(0) = %d\n", clock_getcpuclockid(0, &pc));
	printf("clock_getcpuclockid(getpid()) = %d\n", clock_getcpuclockid(getpid(), &pc));
	printf("pthread_getcpuclockid = %d\n", pthread_getcpuclockid(pthread_self(), &tc));
	// Read in nested order (wall, then process, then thread; the reverse
	// after), so each interval contains the next even when the vCPU is
	// preempted by the host between two reads (a VM counts that time as
	// CPU time: it cannot tell).
	int64_t w0 = now(CLOCK_MONOTONIC), pp0 = now(pc), p0 = now(CLOCK_PROCESS_CPUTIME_ID);
	int64_t tt0 = now(tc), t0 = now(CLOCK_THREAD_CPUTIME_ID);
	burn(30000000, CLOCK_THREAD_CPUTIME_ID);
	int64_t t1 = now(CLOCK_THREAD_CPUTIME_ID), tt1 = now(tc);
	int64_t p1 = now(CLOCK_PROCESS_CPUTIME_ID), pp1 = now(pc), w1 = now(CLOCK_MONOTONIC);
	printf("cpu clocks advance while burning: %s %s %s %s\n", yes(p1 > p0), yes(t1 > t0), yes(pp1 > pp0), yes(tt1 > tt0));
	printf("30 ms of thread CPU time is 30 ms of process CPU time: %s\n", yes(t1 - t0 >= 30000000 && p1 - p0 >= t1 - t0 - 1000000));
	printf("cpu time <= wall time: %s\n", yes(t1 - t0 <= w1 - w0 + 1000000));
	struct timespec ts = {0, 100000000};
	int64_t s0 = now(CLOCK_PROCESS_CPUTIME_ID);
	nanosleep(&ts, NULL);
	printf("sleeping 100 ms costs under 50 ms of CPU: %s\n", yes(now(CLOCK_PROCESS_CPUTIME_ID) - s0 < 50000000));
	struct timespec res;
	printf("clock_getres(PROCESS_CPUTIME) = %s\n", err(syscall(SYS_clock_getres, CLOCK_PROCESS_CPUTIME_ID, &res)));
	printf("clock_gettime(10) = %s\n", err(syscall(SYS_clock_gettime, 10, &ts)));
	printf("clock_gettime(16) = %s\n", err(syscall(SYS_clock_gettime, 16, &ts)));
	printf("clock_gettime(-1) = %s\n", err(syscall(SYS_clock_gettime, -1, &ts)));
	printf("clock_gettime(pid 4000000 cpu) = %s\n", err(syscall(SYS_clock_gettime, (~4000000 << 3) | 2, &ts)));
	printf("clock_gettime(CPUCLOCK_MAX) = %s\n", err(syscall(SYS_clock_gettime, (~0 << 3) | 3, &ts)));
	printf("clock_getres(10) = %s\n", err(syscall(SYS_clock_getres, 10, &res)));
	struct timespec zero = {0, 0};
	printf("clock_nanosleep(MONOTONIC_RAW) = %s\n", err(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC_RAW, 0, &zero, NULL)));
	printf("clock_nanosleep(REALTIME_COARSE) = %s\n", err(syscall(SYS_clock_nanosleep, CLOCK_REALTIME_COARSE, 0, &zero, NULL)));
	printf("clock_nanosleep(THREAD_CPUTIME) = %s\n", err(syscall(SYS_clock_nanosleep, CLOCK_THREAD_CPUTIME_ID, 0, &zero, NULL)));
	printf("clock_nanosleep(thread clock) = %s\n", err(syscall(SYS_clock_nanosleep, tc, 0, &zero, NULL)));
	printf("clock_nanosleep(99) = %s\n", err(syscall(SYS_clock_nanosleep, 99, 0, &zero, NULL)));
	// A sleep on the process clock ends when the process has used 10 ms
	// more, which a spinning thread provides.
	struct timespec tenms = {0, 10000000};
	int64_t c0 = now(CLOCK_PROCESS_CPUTIME_ID);
	pthread_t th;
	pthread_create(&th, NULL, spinner, NULL);
	long r = syscall(SYS_clock_nanosleep, CLOCK_PROCESS_CPUTIME_ID, 0, &tenms, NULL);
	printf("clock_nanosleep(PROCESS_CPUTIME, 10 ms) = %s, process used 10 ms %s\n", err(r),
	       yes(now(CLOCK_PROCESS_CPUTIME_ID) - c0 >= 10000000));
	stop_spin = 1;
	pthread_join(th, NULL);
	struct tms tm;
	clock_t t = times(&tm);
	printf("times: ticks > 0 %s, cpu ticks > 0 %s, children 0 %s\n", yes(t > 0), yes(tm.tms_utime + tm.tms_stime > 0),
	       yes(tm.tms_cutime == 0 && tm.tms_cstime == 0));
	struct rusage self, thread, kids;
	// The thread first: its usage is read before the process's, so it
	// cannot be the larger one.
	int rt = getrusage(RUSAGE_THREAD, &thread), rs = getrusage(RUSAGE_SELF, &self);
	printf("getrusage = %s %s %s\n", err(rs), err(rt), err(getrusage(RUSAGE_CHILDREN, &kids)));
	int64_t su = self.ru_utime.tv_sec * 1000000 + self.ru_utime.tv_usec + self.ru_stime.tv_sec * 1000000 + self.ru_stime.tv_usec;
	int64_t tu = thread.ru_utime.tv_sec * 1000000 + thread.ru_utime.tv_usec + thread.ru_stime.tv_sec * 1000000 + thread.ru_stime.tv_usec;
	printf("rusage self > 10 ms %s, thread <= self %s, children 0 %s\n", yes(su > 10000), yes(tu <= su),
	       yes(kids.ru_utime.tv_sec == 0 && kids.ru_utime.tv_usec == 0));
	printf("getrusage(5) = %s\n", err(syscall(SYS_getrusage, 5, &self)));
}

struct sev { // struct sigevent as the kernel reads it
	union sigval value;
	int signo, notify;
	int tid;
	int pad[11];
};

static int mktimer(clockid_t c, int notify, int sig, int val, int tid) {
	struct sev ev = {.value.sival_int = val, .signo = sig, .notify = notify, .tid = tid};
	int id = -1;
	long r = syscall(SYS_timer_create, c, &ev, &id);
	return r < 0 ? -1 : id;
}

static long settimer(int id, int flags, int64_t value, int64_t interval) {
	struct itimerspec its = {{interval / 1000000000, interval % 1000000000}, {value / 1000000000, value % 1000000000}};
	return syscall(SYS_timer_settime, id, flags, &its, NULL);
}

static volatile int target_tid, target_ready;

static void *target(void *arg) {
	target_tid = syscall(SYS_gettid);
	block(SIGUSR2, SIG_UNBLOCK);
	target_ready = 1;
	int64_t end = now(CLOCK_MONOTONIC) + 20000000000LL;
	while (got[SIGUSR2] == 0 && now(CLOCK_MONOTONIC) < end) {
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static void posixtimers(void) {
	catch(SIGUSR1);
	catch(SIGUSR2);
	int id = mktimer(CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGUSR1, 42, 0);
	printf("timer_create = %s\n", yes(id >= 0));
	printf("timer_settime 20 ms = %s\n", err(settimer(id, 0, 20000000, 0)));
	printf("signal: %s\n", yes(waitsig(SIGUSR1, 1)));
	printf("si_code SI_TIMER %s, si_value %d, si_timerid matches %s, si_overrun %d\n", yes(last_code == SI_TIMER), last_value,
	       yes(last_timerid == id), last_overrun);
	struct itimerspec cur;
	syscall(SYS_timer_gettime, id, &cur);
	printf("after one-shot: %ld.%09ld %ld.%09ld\n", (long)cur.it_value.tv_sec, cur.it_value.tv_nsec, (long)cur.it_interval.tv_sec,
	       cur.it_interval.tv_nsec);
	// Absolute expiry.
	got[SIGUSR1] = 0;
	printf("TIMER_ABSTIME = %s\n", err(settimer(id, TIMER_ABSTIME, now(CLOCK_MONOTONIC) + 20000000, 0)));
	printf("signal: %s\n", yes(waitsig(SIGUSR1, 1)));
	printf("timer_delete = %s\n", err(syscall(SYS_timer_delete, id)));
	printf("timer_delete again = %s\n", err(syscall(SYS_timer_delete, id)));
	printf("timer_settime deleted = %s\n", err(settimer(id, 0, 1000, 0)));
	printf("timer_gettime deleted = %s\n", err(syscall(SYS_timer_gettime, id, &cur)));
	printf("timer_getoverrun deleted = %s\n", err(syscall(SYS_timer_getoverrun, id)));

	// Overrun: a 2 ms periodic timer whose signal stays blocked for 200 ms.
	block(SIGUSR1, SIG_BLOCK);
	id = mktimer(CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGUSR1, 7, 0);
	overrun_timer = id;
	got[SIGUSR1] = 0;
	settimer(id, 0, 2000000, 2000000);
	struct timespec ts = {0, 200000000};
	nanosleep(&ts, NULL);
	block(SIGUSR1, SIG_UNBLOCK);
	waitsig(SIGUSR1, 1);
	settimer(id, 0, 0, 0);
	printf("overrun > 0: %s, timer_getoverrun == si_overrun: %s\n", yes(last_overrun > 0), yes(last_getoverrun == last_overrun));
	syscall(SYS_timer_delete, id);
	overrun_timer = -1;

	// SIGEV_NONE: no signal; timer_gettime counts down.
	id = mktimer(CLOCK_MONOTONIC, SIGEV_NONE, 0, 0, 0);
	settimer(id, 0, 10000000000LL, 1000000000);
	syscall(SYS_timer_gettime, id, &cur);
	printf("SIGEV_NONE: left in (9 s, 10 s] %s, interval %ld.%09ld\n",
	       yes(cur.it_value.tv_sec == 9 || (cur.it_value.tv_sec == 10 && cur.it_value.tv_nsec == 0)), (long)cur.it_interval.tv_sec,
	       cur.it_interval.tv_nsec);
	syscall(SYS_timer_delete, id);

	// SIGEV_THREAD_ID: the signal goes to the named thread.
	block(SIGUSR2, SIG_BLOCK);
	pthread_t th;
	pthread_create(&th, NULL, target, NULL);
	while (!target_ready) {
		struct timespec t1 = {0, 1000000};
		nanosleep(&t1, NULL);
	}
	id = mktimer(CLOCK_MONOTONIC, SIGEV_SIGNAL | SIGEV_THREAD_ID, SIGUSR2, 0, target_tid);
	printf("SIGEV_THREAD_ID timer_create = %s\n", yes(id >= 0));
	settimer(id, 0, 10000000, 0);
	pthread_join(th, NULL);
	printf("delivered to the target thread: %s\n", yes(got[SIGUSR2] == 1 && last_tid == target_tid));
	syscall(SYS_timer_delete, id);
	block(SIGUSR2, SIG_UNBLOCK);

	// A timer on the process CPU-time clock.
	got[SIGUSR1] = 0;
	id = mktimer(CLOCK_PROCESS_CPUTIME_ID, SIGEV_SIGNAL, SIGUSR1, 0, 0);
	settimer(id, 0, 20000000, 0);
	for (int64_t end = now(CLOCK_MONOTONIC) + 20000000000LL; got[SIGUSR1] == 0 && now(CLOCK_MONOTONIC) < end;) {
	}
	printf("CPU-time timer fired: %s\n", yes(got[SIGUSR1] == 1));
	syscall(SYS_timer_delete, id);

	// Errors.
	int tid = 0;
	struct sev ev = {.signo = SIGUSR1, .notify = 99};
	printf("timer_create(99) = %s\n", err(syscall(SYS_timer_create, 99, NULL, &tid)));
	printf("timer_create(MONOTONIC_RAW) = %s\n", err(syscall(SYS_timer_create, CLOCK_MONOTONIC_RAW, NULL, &tid)));
	printf("timer_create notify 99 = %s\n", err(syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &tid)));
	ev.notify = SIGEV_SIGNAL;
	ev.signo = 0;
	printf("timer_create signo 0 = %s\n", err(syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &tid)));
	ev.signo = 65;
	printf("timer_create signo 65 = %s\n", err(syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &tid)));
	ev.signo = SIGUSR1;
	ev.notify = SIGEV_SIGNAL | SIGEV_THREAD_ID;
	ev.tid = 4000000;
	printf("timer_create SIGEV_THREAD_ID to no thread = %s\n", err(syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &tid)));
	id = mktimer(CLOCK_MONOTONIC, SIGEV_NONE, 0, 0, 0);
	struct itimerspec bad = {{0, 0}, {0, 1000000000}};
	printf("timer_settime nsec 1e9 = %s\n", err(syscall(SYS_timer_settime, id, 0, &bad, NULL)));
	printf("timer_settime NULL = %s\n", err(syscall(SYS_timer_settime, id, 0, NULL, NULL)));
	syscall(SYS_timer_delete, id);
}

static void timerfds(void) {
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	printf("timerfd_create = %s, cloexec %s, nonblock %s\n", yes(fd >= 0), yes(fcntl(fd, F_GETFD) & FD_CLOEXEC),
	       yes(fcntl(fd, F_GETFL) & O_NONBLOCK));
	uint64_t n = 0;
	printf("read unarmed = %s\n", err(read(fd, &n, 8)));
	struct itimerspec its = {{0, 10000000}, {0, 10000000}}, cur;
	printf("timerfd_settime = %s\n", err(timerfd_settime(fd, 0, &its, NULL)));
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 77}, out[4];
	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	int k = epoll_wait(ep, out, 4, 20000);
	printf("epoll_wait = %d, data %lu, EPOLLIN %s\n", k, (unsigned long)out[0].data.u64, yes(out[0].events & EPOLLIN));
	long r = read(fd, &n, 8);
	printf("read = %s, expirations >= 1 %s\n", err(r), yes(n >= 1));
	timerfd_gettime(fd, &cur);
	printf("interval %ld.%09ld, value in (0, 10ms] %s\n", (long)cur.it_interval.tv_sec, cur.it_interval.tv_nsec,
	       yes(cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec > 0 && cur.it_value.tv_nsec <= 10000000));
	char small[4];
	printf("read 4 bytes = %s\n", err(read(fd, small, 4)));
	struct timespec ts = {0, 100000000};
	nanosleep(&ts, NULL);
	struct pollfd pfd = {fd, POLLIN, 0};
	k = poll(&pfd, 1, 0);
	printf("poll = %d, POLLIN %s\n", k, yes(pfd.revents & POLLIN));
	fd_set rd;
	FD_ZERO(&rd);
	FD_SET(fd, &rd);
	struct timeval tv = {0, 0};
	k = select(fd + 1, &rd, NULL, NULL, &tv);
	printf("select = %d, set %s\n", k, yes(FD_ISSET(fd, &rd)));
	read(fd, &n, 8);
	printf("100 ms of a 10 ms timer: more than one expiration %s\n", yes(n > 1));
	struct itimerspec off = {{0, 0}, {0, 0}}, old;
	timerfd_settime(fd, 0, &off, &old);
	printf("old interval %ld.%09ld\n", (long)old.it_interval.tv_sec, old.it_interval.tv_nsec);
	timerfd_gettime(fd, &cur);
	printf("disarmed: %ld.%09ld %ld.%09ld\n", (long)cur.it_value.tv_sec, cur.it_value.tv_nsec, (long)cur.it_interval.tv_sec,
	       cur.it_interval.tv_nsec);
	printf("read disarmed = %s\n", err(read(fd, &n, 8)));
	// An absolute time in the past expires at once, once.
	struct itimerspec past = {{0, 0}, {1, 0}};
	printf("TFD_TIMER_ABSTIME past = %s\n", err(timerfd_settime(fd, TFD_TIMER_ABSTIME, &past, NULL)));
	pfd.revents = 0;
	poll(&pfd, 1, 20000);
	n = 0;
	r = read(fd, &n, 8);
	printf("read = %s, expirations %lu\n", err(r), (unsigned long)n);
	close(fd);
	close(ep);
	// A blocking timerfd: read waits for the expiry.
	fd = timerfd_create(CLOCK_REALTIME, 0);
	struct itimerspec once = {{0, 0}, {0, 20000000}};
	timerfd_settime(fd, 0, &once, NULL);
	n = 0;
	r = read(fd, &n, 8);
	printf("blocking read = %s, expirations %lu\n", err(r), (unsigned long)n);
	// Errors.
	int p[2];
	pipe(p);
	printf("timerfd_create(PROCESS_CPUTIME) = %s\n", err(timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0)));
	printf("timerfd_create(MONOTONIC_RAW) = %s\n", err(timerfd_create(CLOCK_MONOTONIC_RAW, 0)));
	printf("timerfd_create bad flags = %s\n", err(timerfd_create(CLOCK_MONOTONIC, 1)));
	printf("timerfd_settime on a pipe = %s\n", err(timerfd_settime(p[0], 0, &once, NULL)));
	printf("timerfd_settime on fd 999 = %s\n", err(timerfd_settime(999, 0, &once, NULL)));
	printf("timerfd_gettime on a pipe = %s\n", err(timerfd_gettime(p[0], &cur)));
	printf("timerfd_settime bad flags = %s\n", err(timerfd_settime(fd, 4, &once, NULL)));
	struct itimerspec bad = {{0, 0}, {0, -1}};
	printf("timerfd_settime nsec -1 = %s\n", err(timerfd_settime(fd, 0, &bad, NULL)));
	printf("write = %s\n", err(write(fd, &n, 8)));
	close(fd);
	close(p[0]);
	close(p[1]);
}

struct sigarg {
	const sigset_t *ss;
	size_t len;
};

static void selects(void) {
	int p[2];
	pipe(p);
	fd_set rd, wr;
	FD_ZERO(&rd);
	FD_SET(p[0], &rd);
	struct timeval tv = {0, 30000};
	int r = select(p[0] + 1, &rd, NULL, NULL, &tv);
	printf("select empty pipe = %d, set cleared %s, timeout written back %ld.%06ld\n", r, yes(!FD_ISSET(p[0], &rd)),
	       (long)tv.tv_sec, (long)tv.tv_usec);
	write(p[1], "x", 1);
	FD_SET(p[0], &rd);
	FD_ZERO(&wr);
	FD_SET(p[1], &wr);
	FD_SET(p[0], &wr); // the read end is never writable
	tv.tv_sec = 0;
	tv.tv_usec = 5000000; // carries into tv_sec
	r = select(p[1] + 1, &rd, &wr, NULL, &tv);
	printf("select ready = %d, read %s, write %s, read end writable %s, tv_sec %ld\n", r, yes(FD_ISSET(p[0], &rd)),
	       yes(FD_ISSET(p[1], &wr)), yes(FD_ISSET(p[0], &wr)), (long)tv.tv_sec);
	// Linux looks at no descriptor past the room of the process's table
	// (max_fds, fs/select.c): a child forked with only low descriptors
	// open has room for 64 and ignores a bit for descriptor 100; once a
	// descriptor past 64 has been open the table has room for 128, and a
	// closed descriptor 100 is EBADF. Both are set up here so that neither
	// depends on the descriptors this program inherited.
	fflush(stdout);
	pid_t child = fork();
	if (child == 0) {
		char line[80];
		FD_ZERO(&rd);
		FD_SET(100, &rd);
		tv.tv_sec = 0;
		tv.tv_usec = 0;
		int n = snprintf(line, sizeof line, "select fd past a new table = %s\n",
				 err(select(101, &rd, NULL, NULL, &tv)));
		write(1, line, n);
		_exit(0);
	}
	waitpid(child, NULL, 0);
	dup2(0, 100);
	close(100);
	FD_ZERO(&rd);
	FD_SET(100, &rd);
	tv.tv_sec = 0;
	tv.tv_usec = 0;
	printf("select closed fd = %s\n", err(select(101, &rd, NULL, NULL, &tv)));
	printf("select nfds -1 = %s\n", err(select(-1, NULL, NULL, NULL, &tv)));
	tv.tv_sec = -1;
	printf("select tv_sec -1 = %s\n", err(select(0, NULL, NULL, NULL, &tv)));
	tv.tv_sec = 0;
	tv.tv_usec = 20000;
	printf("select sleep = %s\n", err(select(0, NULL, NULL, NULL, &tv)));
	FD_ZERO(&rd);
	FD_SET(p[0], &rd);
	tv.tv_usec = 0;
	printf("select nfds 1<<20 = %s\n", err(select(1 << 20, &rd, NULL, NULL, &tv)));
	printf("select bad set address = %s\n", err(select(p[0] + 1, (fd_set *)8, NULL, NULL, &tv)));
	char c;
	read(p[0], &c, 1);

	// Interrupted by SIGALRM (no SA_RESTART): EINTR, time left written back.
	catch(SIGALRM);
	got[SIGALRM] = 0;
	struct itimerval it = {{0, 0}, {0, 20000}};
	setitimer(ITIMER_REAL, &it, NULL);
	FD_ZERO(&rd);
	FD_SET(p[0], &rd);
	tv.tv_sec = 20;
	tv.tv_usec = 0;
	r = select(p[0] + 1, &rd, NULL, NULL, &tv);
	printf("select interrupted = %s, handler %d, time left in (0, 20 s) %s\n", err(r), got[SIGALRM],
	       yes(tv.tv_sec < 20 && (tv.tv_sec > 0 || tv.tv_usec > 0)));

	// pselect6: the mask applies during the call only.
	catch(SIGUSR1);
	got[SIGUSR1] = 0;
	block(SIGUSR1, SIG_BLOCK);
	kill(getpid(), SIGUSR1);
	sigset_t none;
	sigemptyset(&none);
	struct sigarg sa = {&none, 8};
	struct timespec ts = {20, 0};
	FD_ZERO(&rd);
	FD_SET(p[0], &rd);
	long lr = syscall(SYS_pselect6, p[0] + 1, &rd, NULL, NULL, &ts, &sa);
	sigset_t now_mask;
	sigprocmask(SIG_BLOCK, NULL, &now_mask);
	printf("pselect6 with a pending signal unblocked = %s, handler %d, mask restored %s\n", err(lr), got[SIGUSR1],
	       yes(sigismember(&now_mask, SIGUSR1)));
	ts.tv_sec = 0;
	ts.tv_nsec = 30000000;
	lr = syscall(SYS_pselect6, p[0] + 1, &rd, NULL, NULL, &ts, NULL);
	printf("pselect6 timeout = %s, written back %ld.%09ld\n", err(lr), (long)ts.tv_sec, ts.tv_nsec);
	kill(getpid(), SIGUSR1);
	ts.tv_nsec = 30000000;
	sigset_t usr1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	struct sigarg keep = {&usr1, 8};
	lr = syscall(SYS_pselect6, p[0] + 1, &rd, NULL, NULL, &ts, &keep);
	printf("pselect6 keeping it blocked = %s, handler %d\n", err(lr), got[SIGUSR1]);
	struct sigarg badlen = {&none, 7};
	printf("pselect6 sigset size 7 = %s\n", err(syscall(SYS_pselect6, p[0] + 1, &rd, NULL, NULL, &ts, &badlen)));
	ts.tv_nsec = 1000000000;
	printf("pselect6 nsec 1e9 = %s\n", err(syscall(SYS_pselect6, 0, NULL, NULL, NULL, &ts, NULL)));
	block(SIGUSR1, SIG_UNBLOCK);
	printf("handler after unblocking %d\n", got[SIGUSR1]);
	// ppoll with a mask, the same way.
	block(SIGUSR1, SIG_BLOCK);
	kill(getpid(), SIGUSR1);
	struct pollfd pfd = {p[0], POLLIN, 0};
	ts.tv_sec = 20;
	ts.tv_nsec = 0;
	lr = syscall(SYS_ppoll, &pfd, 1, &ts, &none, 8);
	sigprocmask(SIG_BLOCK, NULL, &now_mask);
	printf("ppoll with a pending signal unblocked = %s, handler %d, mask restored %s\n", err(lr), got[SIGUSR1],
	       yes(sigismember(&now_mask, SIGUSR1)));
	block(SIGUSR1, SIG_UNBLOCK);
	close(p[0]);
	close(p[1]);
}

int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("timers: start\n");
	itimers();
	cpuclocks();
	posixtimers();
	timerfds();
	selects();
	printf("timers: done\n");
	return 0;
}
