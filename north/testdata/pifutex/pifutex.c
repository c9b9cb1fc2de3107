// pifutex: priority-inheritance futexes (FUTEX_LOCK_PI, FUTEX_UNLOCK_PI,
// FUTEX_TRYLOCK_PI, FUTEX_LOCK_PI2) raw and through glibc's
// PTHREAD_PRIO_INHERIT and robust mutexes; run natively and in Cocoon,
// the output must match. Thread ids are printed as names (owner, other).
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef FUTEX_LOCK_PI2
#define FUTEX_LOCK_PI2 13
#endif

static long fx(uint32_t *w, int op, const struct timespec *ts) {
	long r = syscall(SYS_futex, w, op, 0, ts, 0, 0);
	return r < 0 ? -errno : r;
}

static const char *en(long r) {
	switch (-r) {
	case 0: return "0";
	case EDEADLK: return "EDEADLK";
	case EAGAIN: return "EAGAIN";
	case EPERM: return "EPERM";
	case ESRCH: return "ESRCH";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EINTR: return "EINTR";
	case EINVAL: return "EINVAL";
	case ENOSYS: return "ENOSYS";
	case EBUSY: return "EBUSY";
	case EOWNERDEAD: return "EOWNERDEAD";
	case EFAULT: return "EFAULT";
	}
	static char b[32];
	snprintf(b, sizeof b, "errno %ld", -r);
	return b;
}

static pid_t tid(void) { return syscall(SYS_gettid); }

// word names the futex word's owner and flags.
static const char *word(uint32_t v, pid_t a, pid_t b) {
	static char s[80];
	uint32_t t = v & FUTEX_TID_MASK;
	snprintf(s, sizeof s, "%s%s%s", t == 0 ? "0" : t == (uint32_t)a ? "owner" : t == (uint32_t)b ? "other" : "stranger",
		v & FUTEX_WAITERS ? "|WAITERS" : "", v & FUTEX_OWNER_DIED ? "|OWNER_DIED" : "");
	return s;
}

static uint32_t w;

// SHOW prints a call's result and then the word it left.
#define SHOW(label, call, a, b) do { \
	long r_ = (call); \
	printf("%s: %s word %s\n", label, en(r_), word(w, a, b)); \
} while (0)
static pid_t mainTID, otherTID;
static volatile int handled;

static void *other(void *arg) {
	otherTID = tid();
	long mode = (long)arg;
	if (mode == 0) {
		printf("other trylock: %s\n", en(fx(&w, FUTEX_TRYLOCK_PI, 0)));
		printf("other unlock: %s\n", en(fx(&w, FUTEX_UNLOCK_PI, 0)));
		return 0;
	}
	// mode 1: block until handed the lock, then report the word.
	long r = fx(&w, FUTEX_LOCK_PI, 0);
	SHOW("other lock", r, mainTID, otherTID);
	SHOW("other unlock", fx(&w, FUTEX_UNLOCK_PI, 0), mainTID, otherTID);
	return 0;
}

static volatile int held, release;

static void *holder(void *arg) {
	(void)arg;
	otherTID = tid();
	w = 0;
	fx(&w, FUTEX_LOCK_PI, 0);
	held = 1;
	while (!release)
		usleep(1000);
	printf("holder unlock: %s\n", en(fx(&w, FUTEX_UNLOCK_PI, 0)));
	return 0;
}

static void onusr1(int s) { (void)s; handled = 1; }

static void waitWaiters(void) {
	while (!(__atomic_load_n(&w, __ATOMIC_SEQ_CST) & FUTEX_WAITERS))
		usleep(1000);
}

static void raw(void) {
	pthread_t th;
	mainTID = tid();
	w = 0;
	SHOW("lock free", fx(&w, FUTEX_LOCK_PI | FUTEX_PRIVATE_FLAG, 0), mainTID, 0);
	printf("relock: %s\n", en(fx(&w, FUTEX_LOCK_PI, 0)));
	printf("self trylock: %s\n", en(fx(&w, FUTEX_TRYLOCK_PI, 0)));
	pthread_create(&th, 0, other, (void *)0);
	pthread_join(th, 0);
	printf("after other: word %s\n", word(w, mainTID, otherTID));
	SHOW("unlock", fx(&w, FUTEX_UNLOCK_PI, 0), mainTID, 0);
	printf("unlock again: %s\n", en(fx(&w, FUTEX_UNLOCK_PI, 0)));
	SHOW("trylock free", fx(&w, FUTEX_TRYLOCK_PI, 0), mainTID, 0);
	fx(&w, FUTEX_UNLOCK_PI, 0);

	// An owner that does not exist; one that died (robust cleanup left
	// OWNER_DIED and no TID).
	w = 0x3ffffff0;
	printf("dead owner: %s\n", en(fx(&w, FUTEX_LOCK_PI, 0)));
	printf("dead owner trylock: %s\n", en(fx(&w, FUTEX_TRYLOCK_PI, 0)));
	w = FUTEX_OWNER_DIED;
	SHOW("owner died", fx(&w, FUTEX_LOCK_PI, 0), mainTID, 0);
	SHOW("unlock", fx(&w, FUTEX_UNLOCK_PI, 0), mainTID, 0);
	uint32_t odd[2] = {0, 0};
	printf("misaligned: %s\n", en(fx((uint32_t *)((char *)odd + 1), FUTEX_LOCK_PI, 0)));
	printf("bad address: %s\n", en(fx((uint32_t *)8, FUTEX_LOCK_PI, 0)));

	// Hand-over to a blocked waiter, which a signal does not interrupt.
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = onusr1; // no SA_RESTART
	sigaction(SIGUSR1, &sa, 0);
	w = 0;
	fx(&w, FUTEX_LOCK_PI, 0);
	pthread_create(&th, 0, other, (void *)1);
	waitWaiters();
	printf("waiting: word %s\n", word(w, mainTID, otherTID));
	pthread_kill(th, SIGUSR1);
	while (!handled)
		usleep(1000);
	usleep(20000);
	printf("handler ran\n");
	printf("unlock to waiter: %s\n", en(fx(&w, FUTEX_UNLOCK_PI, 0)));
	pthread_join(th, 0);

	// Timeouts: LOCK_PI's is absolute CLOCK_REALTIME, LOCK_PI2's
	// CLOCK_MONOTONIC unless FUTEX_CLOCK_REALTIME. The other thread holds
	// the lock meanwhile.
	pthread_create(&th, 0, holder, 0);
	while (!held)
		usleep(1000);
	struct { int op; clockid_t c; const char *name; } cases[] = {
		{FUTEX_LOCK_PI, CLOCK_REALTIME, "LOCK_PI"},
		{FUTEX_LOCK_PI2, CLOCK_MONOTONIC, "LOCK_PI2"},
		{FUTEX_LOCK_PI2 | FUTEX_CLOCK_REALTIME, CLOCK_REALTIME, "LOCK_PI2|CLOCK_REALTIME"},
	};
	for (int i = 0; i < 3; i++) {
		struct timespec ts;
		clock_gettime(cases[i].c, &ts);
		ts.tv_nsec += 30 * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		long r = fx(&w, cases[i].op, &ts);
		printf("%s timed: %s word %s\n", cases[i].name, en(r), word(w, mainTID, otherTID));
	}
	struct timespec past = {1, 0};
	printf("LOCK_PI past deadline: %s\n", en(fx(&w, FUTEX_LOCK_PI, &past)));
	struct timespec bad = {0, 1000000000};
	printf("LOCK_PI bad timespec: %s\n", en(fx(&w, FUTEX_LOCK_PI, &bad)));
	release = 1;
	pthread_join(th, 0);
	printf("after holder: word %s\n", word(w, mainTID, otherTID));
}

// Through glibc: a PTHREAD_PRIO_INHERIT mutex under contention, an
// error-checking one relocked, trylock, a timed lock that times out, and
// a robust one whose owner thread exits holding it.
static pthread_mutex_t pm;
static long counter;

static void *adder(void *arg) {
	(void)arg;
	for (int i = 0; i < 3000; i++) {
		pthread_mutex_lock(&pm);
		long c = counter;
		if (i % 500 == 0)
			sched_yield();
		counter = c + 1;
		pthread_mutex_unlock(&pm);
	}
	return 0;
}

static void *trylocker(void *arg) {
	(void)arg;
	printf("trylock held: %s\n", en(-pthread_mutex_trylock(&pm)));
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += 30 * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	printf("timedlock held: %s\n", en(-pthread_mutex_timedlock(&pm, &ts)));
	return 0;
}

static void *dier(void *arg) {
	printf("dier lock: %s\n", en(-pthread_mutex_lock(&pm)));
	if (arg)
		usleep(100000); // the main thread is blocked by then, or not: the same either way
	return 0; // exits holding the robust mutex
}

static void mutexes(void) {
	pthread_mutexattr_t a;
	pthread_t th[4];
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT);
	pthread_mutex_init(&pm, &a);
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], 0, adder, 0);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], 0);
	printf("pi counter: %ld\n", counter);
	pthread_mutex_destroy(&pm);

	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
	pthread_mutex_init(&pm, &a);
	printf("errorcheck lock: %s\n", en(-pthread_mutex_lock(&pm)));
	printf("errorcheck relock: %s\n", en(-pthread_mutex_lock(&pm)));
	printf("errorcheck trylock: %s\n", en(-pthread_mutex_trylock(&pm)));
	pthread_create(&th[0], 0, trylocker, 0);
	pthread_join(th[0], 0);
	printf("errorcheck unlock: %s\n", en(-pthread_mutex_unlock(&pm)));
	printf("errorcheck unlock again: %s\n", en(-pthread_mutex_unlock(&pm)));
	pthread_mutex_destroy(&pm);

	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	for (long blocked = 0; blocked < 2; blocked++) {
		pthread_mutex_init(&pm, &a);
		pthread_create(&th[0], 0, dier, (void *)blocked);
		if (blocked)
			usleep(20000);
		else
			pthread_join(th[0], 0);
		printf("robust lock after owner exit: %s\n", en(-pthread_mutex_lock(&pm)));
		printf("consistent: %s\n", en(-pthread_mutex_consistent(&pm)));
		printf("unlock: %s\n", en(-pthread_mutex_unlock(&pm)));
		printf("relock: %s\n", en(-pthread_mutex_lock(&pm)));
		printf("unlock: %s\n", en(-pthread_mutex_unlock(&pm)));
		if (blocked)
			pthread_join(th[0], 0);
		pthread_mutex_destroy(&pm);
	}
}

// A plain robust mutex whose owner thread exits, and a robust PI one in a
// shared page whose owner process exits holding it.
static void robustExits(void) {
	pthread_mutexattr_t a;
	pthread_t th;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&pm, &a);
	pthread_create(&th, 0, dier, (void *)0);
	pthread_join(th, 0);
	printf("plain robust lock after owner exit: %s\n", en(-pthread_mutex_lock(&pm)));
	printf("consistent: %s\n", en(-pthread_mutex_consistent(&pm)));
	printf("unlock: %s\n", en(-pthread_mutex_unlock(&pm)));
	pthread_mutex_destroy(&pm);

	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT);
	pthread_mutex_t *sm = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pthread_mutex_init(sm, &a);
	pid_t child = fork();
	if (child == 0) {
		pthread_mutex_lock(sm);
		_exit(0); // exit_group holding it
	}
	waitpid(child, 0, 0);
	printf("shared robust PI lock after owner process exit: %s\n", en(-pthread_mutex_lock(sm)));
	printf("consistent: %s\n", en(-pthread_mutex_consistent(sm)));
	printf("unlock: %s\n", en(-pthread_mutex_unlock(sm)));

	// execve releases the robust list too: the owner lives on, asleep.
	child = fork();
	if (child == 0) {
		pthread_mutex_lock(sm);
		*(volatile int *)(sm + 1) = 1;
		execl("/proc/self/exe", "pifutex", "sleep", (char *)0);
		_exit(1);
	}
	while (!*(volatile int *)(sm + 1))
		usleep(1000);
	printf("shared robust PI lock after owner execve: %s\n", en(-pthread_mutex_lock(sm)));
	printf("consistent: %s\n", en(-pthread_mutex_consistent(sm)));
	printf("unlock: %s\n", en(-pthread_mutex_unlock(sm)));
	kill(child, SIGKILL);
	waitpid(child, 0, 0);
}

int main(int argc, char **argv) {
	if (argc > 1 && strcmp(argv[1], "sleep") == 0) {
		for (;;)
			pause();
	}
	setvbuf(stdout, 0, _IONBF, 0);
	raw();
	mutexes();
	robustExits();
	printf("pifutex: done\n");
	return 0;
}
