// futexops: the futex(2) operations beyond wait and wake, raw: the counts
// of FUTEX_WAKE and the requeues, FUTEX_WAKE_OP's encoding (signed
// fields, the shift, unknown ops and comparisons) and its atomicity
// against another process, plain and PI waiters mixed on one word, and
// the requeue-PI protocol (FUTEX_WAIT_REQUEUE_PI, FUTEX_CMP_REQUEUE_PI),
// the PI state's owner, the words' keys and pages, robust lists, the
// futex2 calls and restarts after a handler; run natively and in
// Cocoon, the output must match. Thread ids are
// printed as names. Waiters are known to be queued by what the futex
// calls answer, never by time.
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long fx(uint32_t *w, int op, uint32_t val, unsigned long val2, uint32_t *w2, uint32_t val3) {
	long r = syscall(SYS_futex, w, op, val, val2, w2, val3);
	return r < 0 ? -errno : r;
}

static const char *en(long r) {
	switch (-r) {
	case EDEADLK: return "EDEADLK";
	case EAGAIN: return "EAGAIN";
	case EPERM: return "EPERM";
	case ESRCH: return "ESRCH";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EINTR: return "EINTR";
	case EINVAL: return "EINVAL";
	case ENOSYS: return "ENOSYS";
	case EFAULT: return "EFAULT";
	}
	static char b[32];
	snprintf(b, sizeof b, "%ld", r);
	return b;
}

static pid_t tid(void) { return syscall(SYS_gettid); }

// SHOWW prints a call's result, then the word it left.
#define SHOWW(label, call, w) do { \
	long r_ = (call); \
	printf("%s: %s, word %s\n", label, en(r_), word(w)); \
} while (0)

static uint32_t cond, mutex, plain;
static pid_t mainTID;

// word names a PI word's owner and flags.
static const char *word(uint32_t v) {
	static char s[80];
	uint32_t t = v & FUTEX_TID_MASK;
	snprintf(s, sizeof s, "%s%s%s", t == 0 ? "0" : t == (uint32_t)tid() ? "self" : t == (uint32_t)mainTID ? "main" : "other",
		v & FUTEX_WAITERS ? "|WAITERS" : "", v & FUTEX_OWNER_DIED ? "|OWNER_DIED" : "");
	return s;
}

static void *plainWaiter(void *arg) {
	fx(arg, FUTEX_WAIT_PRIVATE, 0, 0, 0, 0);
	return 0;
}

// counts: how many FUTEX_WAKE and the requeues wake or move.
static void counts(void) {
	pthread_t th[4];
	uint32_t other = 0;
	plain = 0;
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], 0, plainWaiter, &plain);
	// A requeue onto the word itself counts its waiters and keeps them.
	long n = 0;
	while ((n = fx(&plain, FUTEX_CMP_REQUEUE_PRIVATE, 0, INT_MAX, &plain, 0)) < 4)
		usleep(1000);
	printf("requeue to itself: %ld\n", n);
	printf("requeue nothing: %s\n", en(fx(&plain, FUTEX_CMP_REQUEUE_PRIVATE, 0, 0, &other, 0)));
	printf("requeue negative count: %s\n", en(fx(&plain, FUTEX_CMP_REQUEUE_PRIVATE, 0, -1, &other, 0)));
	printf("requeue negative wake: %s\n", en(fx(&plain, FUTEX_REQUEUE_PRIVATE, -1, 1, &other, 0)));
	printf("requeue value differs: %s\n", en(fx(&plain, FUTEX_CMP_REQUEUE_PRIVATE, 0, 1, &other, 7)));
	printf("requeue unaligned target: %s\n", en(fx(&plain, FUTEX_CMP_REQUEUE_PRIVATE, 0, 1, (uint32_t *)((char *)&other + 1), 0)));
	printf("requeue 1 of them: %s\n", en(fx(&plain, FUTEX_CMP_REQUEUE_PRIVATE, 0, 1, &other, 0)));
	printf("wake 0 (wakes one): %s\n", en(fx(&plain, FUTEX_WAKE_PRIVATE, 0, 0, 0, 0)));
	printf("wake -1 (wakes one): %s\n", en(fx(&plain, FUTEX_WAKE_PRIVATE, -1, 0, 0, 0)));
	printf("wake the moved one: %s\n", en(fx(&other, FUTEX_WAKE_PRIVATE, INT_MAX, 0, 0, 0)));
	printf("wake the rest: %s\n", en(fx(&plain, FUTEX_WAKE_PRIVATE, INT_MAX, 0, 0, 0)));
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], 0);
	printf("wake shared, bad address: %s\n", en(fx((uint32_t *)8, FUTEX_WAKE, 1, 0, 0, 0)));
	printf("wake private, bad address: %s\n", en(fx((uint32_t *)8, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0)));
	printf("requeue shared, bad target: %s\n", en(fx(&plain, FUTEX_CMP_REQUEUE, 1, 1, (uint32_t *)8, 0)));
	printf("requeue private, bad target: %s\n", en(fx(&plain, FUTEX_CMP_REQUEUE_PRIVATE, 1, 1, (uint32_t *)8, 0)));
	printf("wake_op shared, bad first word: %s\n", en(fx((uint32_t *)8, FUTEX_WAKE_OP, 1, 1, &other, 0)));
	// A private word's key is its address, which must still be a user
	// one (get_futex_key's access_ok).
	uint32_t *high = (uint32_t *)(1UL << 47), *kern = (uint32_t *)0xffffffff81000000UL;
	printf("wake private, past user space: %s\n", en(fx(high, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0)));
	printf("wake private, kernel address: %s\n", en(fx(kern, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0)));
	printf("wake_bitset private, past user space: %s\n", en(fx(high, FUTEX_WAKE_BITSET_PRIVATE, 1, 0, 0, 1)));
	printf("wait private, past user space: %s\n", en(fx(high, FUTEX_WAIT_PRIVATE, 0, 0, 0, 0)));
	printf("requeue private, target past user space: %s\n", en(fx(&plain, FUTEX_CMP_REQUEUE_PRIVATE, 1, 1, high, 0)));
	printf("requeue private, source past user space: %s\n", en(fx(kern, FUTEX_REQUEUE_PRIVATE, 1, 1, &other, 0)));
	printf("wake_op private, first word past user space: %s\n", en(fx(high, FUTEX_WAKE_OP_PRIVATE, 1, 1, &other, 0)));
	printf("wake_op private, second word past user space: %s\n", en(fx(&other, FUTEX_WAKE_OP_PRIVATE, 1, 1, kern, 0)));
	printf("cmp_requeue_pi private, mutex past user space: %s\n", en(fx(&plain, FUTEX_CMP_REQUEUE_PI_PRIVATE, 1, 0, high, 0)));
	printf("wait_requeue_pi private, mutex past user space: %s\n", en(fx(&plain, FUTEX_WAIT_REQUEUE_PI_PRIVATE, 1, 0, high, 0)));
	printf("lock_pi private, past user space: %s\n", en(fx(high, FUTEX_LOCK_PI_PRIVATE, 0, 0, 0, 0)));
	printf("unlock_pi private, past user space: %s\n", en(fx(high, FUTEX_UNLOCK_PI_PRIVATE, 0, 0, 0, 0)));
	// The operation is an int: the register's upper half is ignored.
	{
		long r = syscall(SYS_futex, &plain, (1L << 32) | FUTEX_WAKE_PRIVATE, 1, 0, 0, 0);
		printf("op with upper bits set: %s\n", en(r < 0 ? -errno : r));
	}
	// A word to be written (WAKE_OP's second, the requeue-PI mutex)
	// must be writable when shared (FUTEX_WRITE).
	uint32_t *rosh = mmap(0, 4096, PROT_READ, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	printf("wake_op shared, read-only second word, unknown op: %s\n", en(fx(&other, FUTEX_WAKE_OP, 1, 1, rosh, FUTEX_OP(6, 0, 0, 0))));
	printf("wake_op shared, read-only first word: %s\n", en(fx(rosh, FUTEX_WAKE_OP, 1, 1, &other, FUTEX_OP(FUTEX_OP_ADD, 0, 0, 0))));
	printf("wake_op private, read-only second word, unknown op: %s\n", en(fx(&other, FUTEX_WAKE_OP_PRIVATE, 1, 1, rosh, FUTEX_OP(6, 0, 0, 0))));
	printf("cmp_requeue_pi shared, read-only mutex: %s\n", en(fx(&plain, FUTEX_CMP_REQUEUE_PI, 1, 0, rosh, 0)));
	printf("wait_requeue_pi shared, read-only mutex: %s\n", en(fx(&plain, FUTEX_WAIT_REQUEUE_PI, 1, 0, rosh, 0)));
	printf("cmp_requeue shared, read-only target: %s\n", en(fx(&plain, FUTEX_CMP_REQUEUE, 1, 1, rosh, 0)));
	printf("wake shared, read-only word: %s\n", en(fx(rosh, FUTEX_WAKE, 1, 0, 0, 0)));
	munmap(rosh, 4096);
	printf("FUTEX_WAIT|CLOCK_REALTIME: %s\n", en(fx(&plain, FUTEX_WAIT | FUTEX_CLOCK_REALTIME, 1, 0, 0, 0)));
	printf("FUTEX_WAKE|CLOCK_REALTIME: %s\n", en(fx(&plain, FUTEX_WAKE | FUTEX_CLOCK_REALTIME, 1, 0, 0, 0)));
	printf("FUTEX_LOCK_PI|CLOCK_REALTIME: %s\n", en(fx(&plain, FUTEX_LOCK_PI | FUTEX_CLOCK_REALTIME, 0, 0, 0, 0)));
	struct timespec bad = {0, 1000000000};
	printf("bad timeout: %s\n", en(fx(&plain, FUTEX_WAIT_BITSET, 0, (unsigned long)&bad, 0, FUTEX_BITSET_MATCH_ANY)));
	printf("unknown op: %s\n", en(fx(&plain, 14, 0, 0, 0, 0)));
}

// wakeop: FUTEX_WAKE_OP's encoding, one case per line.
static void wakeop(void) {
	static const struct { const char *name; int op, oparg, cmp, cmparg; uint32_t before; } cases[] = {
		{"set 7", FUTEX_OP_SET, 7, FUTEX_OP_CMP_EQ, 5, 5},
		{"add -1 (oparg sign-extended)", FUTEX_OP_ADD, 0xfff, FUTEX_OP_CMP_EQ, 0, 5},
		{"or 0x800", FUTEX_OP_OR, 0x800, FUTEX_OP_CMP_NE, 5, 5},
		{"andn 1", FUTEX_OP_ANDN, 1, FUTEX_OP_CMP_LT, 0xfff, 5},
		{"xor 3", FUTEX_OP_XOR, 3, FUTEX_OP_CMP_LE, 5, 5},
		{"shift set 1<<9", FUTEX_OP_SET | FUTEX_OP_OPARG_SHIFT, 9, FUTEX_OP_CMP_GT, 4, 5},
		{"shift 40 (masked to 8)", FUTEX_OP_SET | FUTEX_OP_OPARG_SHIFT, 40, FUTEX_OP_CMP_GE, 6, 5},
		{"cmp lt signed", FUTEX_OP_ADD, 0, FUTEX_OP_CMP_LT, 0, 0xffffffff},
		{"cmp gt cmparg -2", FUTEX_OP_ADD, 0, FUTEX_OP_CMP_GT, 0xffe, 0xffffffff},
		{"unknown op 5", 5, 1, FUTEX_OP_CMP_EQ, 0, 5},
		{"unknown op 7", 7, 1, FUTEX_OP_CMP_EQ, 0, 5},
		{"unknown cmp 6 (op done)", FUTEX_OP_ADD, 1, 6, 0, 5},
		{"unknown cmp 15", FUTEX_OP_ADD, 1, 15, 0, 5},
		{"shift -1 (masked to 31)", FUTEX_OP_SET | FUTEX_OP_OPARG_SHIFT, 0xfff, FUTEX_OP_CMP_EQ, 5, 5},
		{"shift 32 (masked to 0)", FUTEX_OP_OR | FUTEX_OP_OPARG_SHIFT, 32, FUTEX_OP_CMP_EQ, 5, 4},
	};
	uint32_t a = 0, b;
	for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		pthread_t th;
		plain = 0;
		pthread_create(&th, 0, plainWaiter, &plain);
		while (fx(&plain, FUTEX_CMP_REQUEUE_PRIVATE, 0, INT_MAX, &plain, 0) < 1)
			usleep(1000);
		b = cases[i].before;
		long r = fx(&a, FUTEX_WAKE_OP_PRIVATE, 1, 1, &b,
			FUTEX_OP(cases[i].op, cases[i].oparg, cases[i].cmp, cases[i].cmparg));
		// uaddr2 is b, not the waiter's word: the waiter is woken by
		// the wake of plain below only.
		printf("wake_op %s: %s, word %#x\n", cases[i].name, en(r), b);
		fx(&plain, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0);
		pthread_join(th, 0);
	}
	// The second word is woken when the comparison holds.
	pthread_t th;
	plain = 0;
	pthread_create(&th, 0, plainWaiter, &plain);
	while (fx(&plain, FUTEX_CMP_REQUEUE_PRIVATE, 0, INT_MAX, &plain, 0) < 1)
		usleep(1000);
	printf("wake_op cmp false: %s\n", en(fx(&a, FUTEX_WAKE_OP_PRIVATE, 1, 1, &plain, FUTEX_OP(FUTEX_OP_ADD, 0, FUTEX_OP_CMP_NE, 0))));
	printf("wake_op cmp true: %s\n", en(fx(&a, FUTEX_WAKE_OP_PRIVATE, 1, 1, &plain, FUTEX_OP(FUTEX_OP_ADD, 0, FUTEX_OP_CMP_EQ, 0))));
	pthread_join(th, 0);
	// An unknown op fails before the word is touched: ENOSYS for an
	// unmapped private word as for a read-only one.
	printf("wake_op unknown op, unmapped word: %s\n", en(fx(&a, FUTEX_WAKE_OP_PRIVATE, 1, 1, (uint32_t *)8, FUTEX_OP(6, 1, 0, 0))));
	printf("wake_op bad address: %s\n", en(fx(&a, FUTEX_WAKE_OP_PRIVATE, 1, 1, (uint32_t *)8, FUTEX_OP(FUTEX_OP_ADD, 1, 0, 0))));
	printf("wake_op unaligned: %s\n", en(fx(&a, FUTEX_WAKE_OP_PRIVATE, 1, 1, (uint32_t *)((char *)&b + 1), FUTEX_OP(FUTEX_OP_ADD, 1, 0, 0))));
	static const uint32_t ro = 1;
	printf("wake_op read-only word: %s\n", en(fx(&a, FUTEX_WAKE_OP_PRIVATE, 1, 1, (uint32_t *)&ro, FUTEX_OP(FUTEX_OP_ADD, 1, 0, 0))));

	// Atomic against another process adding to the same shared word
	// with its own atomic instructions: no update may be lost.
	uint32_t *sw = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	enum { rounds = 20000 };
	pid_t pid = fork();
	if (pid == 0) {
		for (int i = 0; i < rounds; i++)
			__atomic_fetch_add(sw, 3, __ATOMIC_SEQ_CST);
		_exit(0);
	}
	long bad = 0;
	for (int i = 0; i < rounds; i++)
		if (fx(&a, FUTEX_WAKE_OP, 1, 1, sw, FUTEX_OP(FUTEX_OP_ADD, 1, 0, 0)) < 0)
			bad++;
	waitpid(pid, 0, 0);
	printf("wake_op against another process: %u of %u, %ld failed\n", *sw, 4 * rounds, bad);
}

static void *piLocker(void *arg) {
	(void)arg;
	fx(&mutex, FUTEX_LOCK_PI_PRIVATE, 0, 0, 0, 0);
	fx(&mutex, FUTEX_UNLOCK_PI_PRIVATE, 0, 0, 0, 0);
	return 0;
}

// mixed: plain operations on a word with PI waiters, PI ones on a word
// with plain waiters.
static void mixed(void) {
	pthread_t th;
	uint32_t other = 0;
	mutex = tid();
	pthread_create(&th, 0, piLocker, 0);
	while (!(__atomic_load_n(&mutex, __ATOMIC_SEQ_CST) & FUTEX_WAITERS))
		usleep(1000);
	// The waiter sets FUTEX_WAITERS before it is queued: wait for the
	// queue (FUTEX_WAKE answers EINVAL from then on).
	long r;
	while ((r = fx(&mutex, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0)) == 0)
		usleep(1000);
	printf("wake on PI waiters: %s\n", en(r));
	printf("wake_op on PI waiters: %s\n", en(fx(&mutex, FUTEX_WAKE_OP_PRIVATE, 1, 1, &other, 0)));
	printf("wake_op second word PI: %s\n", en(fx(&other, FUTEX_WAKE_OP_PRIVATE, 1, 1, &mutex, FUTEX_OP(FUTEX_OP_ADD, 0, FUTEX_OP_CMP_NE, 0))));
	printf("requeue from PI waiters: %s\n", en(fx(&mutex, FUTEX_REQUEUE_PRIVATE, 1, 1, &other, 0)));
	printf("requeue none, PI waiters: %s\n", en(fx(&mutex, FUTEX_REQUEUE_PRIVATE, 0, 0, &other, 0)));
	printf("unlock to waiter: %s\n", en(fx(&mutex, FUTEX_UNLOCK_PI_PRIVATE, 0, 0, 0, 0)));
	pthread_join(th, 0);
	printf("after: word %s\n", word(mutex));

	plain = 0;
	pthread_create(&th, 0, plainWaiter, &plain);
	while (fx(&plain, FUTEX_CMP_REQUEUE_PRIVATE, 0, INT_MAX, &plain, 0) < 1)
		usleep(1000);
	SHOWW("lock_pi on plain waiters", fx(&plain, FUTEX_LOCK_PI_PRIVATE, 0, 0, 0, 0), plain);
	printf("trylock_pi on plain waiters: %s\n", en(fx(&plain, FUTEX_TRYLOCK_PI_PRIVATE, 0, 0, 0, 0)));
	plain = tid();
	printf("unlock_pi on plain waiters: %s\n", en(fx(&plain, FUTEX_UNLOCK_PI_PRIVATE, 0, 0, 0, 0)));
	printf("word kept: %s\n", word(plain));
	plain = 0;
	fx(&plain, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0);
	pthread_join(th, 0);
}

// sleeping waits until thread id sleeps (its state in
// /proc/self/task/ID/stat): blocked in the kernel, not on its way there.
static void sleeping(pid_t id) {
	char path[64], buf[256];
	snprintf(path, sizeof path, "/proc/self/task/%d/stat", id);
	for (;;) {
		FILE *f = fopen(path, "r");
		size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
		if (f)
			fclose(f);
		buf[n] = 0;
		char *p = strrchr(buf, ')');
		if (p && p[1] == ' ' && p[2] == 'S')
			return;
		usleep(1000);
	}
}

struct pistep {
	uint32_t *w;
	int setSelf, op;
	long r;
	char after[80];
};

// piStep runs one PI operation in a thread of its own, having made the
// word name it if asked.
static void *piStep(void *arg) {
	struct pistep *s = arg;
	if (s->setSelf)
		__atomic_store_n(s->w, (uint32_t)tid() | FUTEX_WAITERS, __ATOMIC_SEQ_CST);
	s->r = fx(s->w, s->op, 0, 0, 0, 0);
	snprintf(s->after, sizeof s->after, "%s", word(*s->w));
	return 0;
}

static void stepIn(const char *label, uint32_t *w, int setSelf, int op) {
	pthread_t th;
	struct pistep s = {w, setSelf, op};
	pthread_create(&th, 0, piStep, &s);
	pthread_join(th, 0);
	printf("%s: %s, word %s\n", label, en(s.r), s.after);
}

static uint32_t mutex2;
static pid_t lockerTID;

// chainLocker takes mutex2, then waits for mutex (owned by main).
static void *chainLocker(void *arg) {
	(void)arg;
	lockerTID = tid();
	fx(&mutex2, FUTEX_LOCK_PI_PRIVATE, 0, 0, 0, 0);
	fx(&mutex, FUTEX_LOCK_PI_PRIVATE, 0, 0, 0, 0);
	fx(&mutex, FUTEX_UNLOCK_PI_PRIVATE, 0, 0, 0, 0);
	fx(&mutex2, FUTEX_UNLOCK_PI_PRIVATE, 0, 0, 0, 0);
	return 0;
}

// piState: a PI futex with waiters has an owner the kernel knows; a word
// user space changed behind it is refused (attach_to_pi_state,
// futex_unlock_pi), and a lock that would wait for itself along a chain
// of owners fails EDEADLK.
static void piState(void) {
	pthread_t th;
	uint32_t me = tid();
	mutex = me;
	mutex2 = 0;
	pthread_create(&th, 0, chainLocker, 0);
	while (fx(&mutex, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0) == 0)
		usleep(1000);
	sleeping(lockerTID);
	printf("pi state: mutex %s", word(mutex));
	printf(", mutex2 %s\n", word(mutex2));
	// A timed lock: were the chain not seen, the wait would end.
	struct timespec soon;
	clock_gettime(CLOCK_REALTIME, &soon);
	soon.tv_sec += 2;
	SHOWW("lock_pi closing a circle", fx(&mutex2, FUTEX_LOCK_PI_PRIVATE, 0, (unsigned long)&soon, 0, 0), mutex2);
	mutex = 0;
	SHOWW("trylock, word 0 with waiters", fx(&mutex, FUTEX_TRYLOCK_PI_PRIVATE, 0, 0, 0, 0), mutex);
	SHOWW("lock_pi, word 0 with waiters", fx(&mutex, FUTEX_LOCK_PI_PRIVATE, 0, 0, 0, 0), mutex);
	// The owner finding no one named: its lock succeeds (it holds the
	// rt_mutex: rt_mutex_cleanup_proxy_lock), its trylock fails and
	// makes the word name it again (fixup_pi_owner).
	mutex = FUTEX_OWNER_DIED;
	SHOWW("lock_pi by the owner, word OWNER_DIED", fx(&mutex, FUTEX_LOCK_PI_PRIVATE, 0, 0, 0, 0), mutex);
	mutex = FUTEX_OWNER_DIED;
	SHOWW("trylock by the owner, word OWNER_DIED", fx(&mutex, FUTEX_TRYLOCK_PI_PRIVATE, 0, 0, 0, 0), mutex);
	mutex = FUTEX_OWNER_DIED;
	stepIn("another thread's trylock, word OWNER_DIED", &mutex, 0, FUTEX_TRYLOCK_PI_PRIVATE);
	mutex = 0x3ffffff0 | FUTEX_WAITERS;
	SHOWW("trylock, word names no thread, with waiters", fx(&mutex, FUTEX_TRYLOCK_PI_PRIVATE, 0, 0, 0, 0), mutex);
	mutex = lockerTID | FUTEX_WAITERS;
	SHOWW("trylock, word names a waiter", fx(&mutex, FUTEX_TRYLOCK_PI_PRIVATE, 0, 0, 0, 0), mutex);
	mutex = me;
	stepIn("another thread's trylock, WAITERS cleared", &mutex, 0, FUTEX_TRYLOCK_PI_PRIVATE);
	stepIn("another thread's unlock, word its own", &mutex, 1, FUTEX_UNLOCK_PI_PRIVATE);
	mutex = me | FUTEX_WAITERS;
	stepIn("another thread's trylock", &mutex, 0, FUTEX_TRYLOCK_PI_PRIVATE);
	mutex = me;
	printf("owner unlocks, WAITERS cleared: %s\n", en(fx(&mutex, FUTEX_UNLOCK_PI_PRIVATE, 0, 0, 0, 0)));
	pthread_join(th, 0);
	printf("after: mutex %s", word(mutex));
	printf(", mutex2 %s\n", word(mutex2));

	// Without waiters the word is all there is.
	mutex = 0;
	uint32_t unaligned[2] = {0, 0};
	printf("unlock_pi unaligned, not the owner: %s\n", en(fx((uint32_t *)((char *)unaligned + 1), FUTEX_UNLOCK_PI_PRIVATE, 0, 0, 0, 0)));
	printf("lock_pi unaligned: %s\n", en(fx((uint32_t *)((char *)unaligned + 1), FUTEX_LOCK_PI_PRIVATE, 0, 0, 0, 0)));
	uint32_t *rosh = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	*rosh = me;
	mprotect(rosh, 4096, PROT_READ);
	printf("lock_pi shared read-only, own word: %s\n", en(fx(rosh, FUTEX_LOCK_PI, 0, 0, 0, 0)));
	printf("lock_pi private read-only, own word: %s\n", en(fx(rosh, FUTEX_LOCK_PI_PRIVATE, 0, 0, 0, 0)));
	printf("unlock_pi shared read-only, own word: %s\n", en(fx(rosh, FUTEX_UNLOCK_PI, 0, 0, 0, 0)));
	munmap(rosh, 4096);
}

static long getRobust(long pid, void **head, size_t *len) {
	long r = syscall(SYS_get_robust_list, pid, head, len);
	return r < 0 ? -errno : r;
}

static void *threadHead;
static volatile int threadDone;
static pid_t robustTID;

static void *robustThread(void *arg) {
	(void)arg;
	size_t len;
	getRobust(0, &threadHead, &len);
	robustTID = tid();
	while (!threadDone)
		usleep(1000);
	return 0;
}

// robust: set_robust_list and get_robust_list, for the caller, another
// thread and another process (each thread's head is its own).
static void robust(void) {
	void *mine = 0, *h;
	size_t len = 0;
	long r = getRobust(0, &mine, &len);
	printf("robust get: %s, len %zu, head set %d\n", en(r), len, mine != 0);
	printf("robust set len 23: %s\n", en(syscall(SYS_set_robust_list, mine, 23) < 0 ? -errno : 0));
	pthread_t th;
	pthread_create(&th, 0, robustThread, 0);
	while (!robustTID)
		usleep(1000);
	h = 0;
	r = getRobust(robustTID, &h, &len);
	printf("robust get another thread's: %s, its own head %d\n", en(r), h == threadHead && h != mine);
	h = 0;
	r = getRobust(1L << 32, &h, &len);
	printf("robust get, pid's upper half set: %s, mine %d\n", en(r), h == mine);
	threadDone = 1;
	pthread_join(th, 0);
	printf("robust get, thread gone: %s\n", en(getRobust(robustTID, &h, &len)));
	printf("robust get, negative pid: %s\n", en(getRobust(-1, &h, &len)));
	int p[2], q[2];
	if (pipe(p) != 0 || pipe(q) != 0)
		return;
	pid_t pid = fork();
	if (pid == 0) {
		// glibc's fork has registered the child's list (the kernel's
		// fork starts it with none) by the time fork returns here.
		char c;
		if (write(q[1], "r", 1) != 1 || read(p[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	char c;
	if (read(q[0], &c, 1) != 1)
		return;
	h = 0;
	r = getRobust(pid, &h, &len);
	printf("robust get a child's: %s, same address as mine %d\n", en(r), h == mine);
	h = (void *)0x1234;
	r = getRobust(0, &h, (size_t *)8);
	printf("robust get, bad len pointer: %s, head untouched %d\n", en(r), h == (void *)0x1234);
	printf("robust get, bad head pointer: %s\n", en(getRobust(0, (void **)8, &len)));
	// A head of 0 unregisters; get reports it, the length still 24.
	syscall(SYS_set_robust_list, 0, 24);
	len = 0;
	h = (void *)1;
	r = getRobust(0, &h, &len);
	printf("robust get after unregistering: %s, len %zu, head %p\n", en(r), len, h);
	syscall(SYS_set_robust_list, mine, 24);
	if (write(p[1], "x", 1) != 1)
		return;
	waitpid(pid, 0, 0);
}

static void *sharedWaiter(void *arg) {
	fx(arg, FUTEX_WAIT, 0, 0, 0, 0);
	return 0;
}

// keys: a word of private memory named with and without
// FUTEX_PRIVATE_FLAG is two futexes (FUT_OFF_MMSHARED); without it, a
// read-only anonymous page is no futex (EFAULT), a file's is.
static void keys(void) {
	pthread_t th;
	plain = 0;
	pthread_create(&th, 0, sharedWaiter, &plain);
	while (fx(&plain, FUTEX_CMP_REQUEUE, 0, INT_MAX, &plain, 0) < 1)
		usleep(1000);
	printf("keys: private count of a shared waiter: %ld\n", fx(&plain, FUTEX_CMP_REQUEUE_PRIVATE, 0, INT_MAX, &plain, 0));
	printf("keys: private wake of a shared waiter: %s\n", en(fx(&plain, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0)));
	printf("keys: shared wake_op second word: %s\n", en(fx(&mutex2, FUTEX_WAKE_OP_PRIVATE, 1, 1, &plain, FUTEX_OP(FUTEX_OP_ADD, 0, FUTEX_OP_CMP_EQ, 0))));
	printf("keys: shared wake: %s\n", en(fx(&plain, FUTEX_WAKE, 1, 0, 0, 0)));
	pthread_join(th, 0);
	pthread_create(&th, 0, plainWaiter, &plain);
	while (fx(&plain, FUTEX_CMP_REQUEUE_PRIVATE, 0, INT_MAX, &plain, 0) < 1)
		usleep(1000);
	printf("keys: shared wake of a private waiter: %s\n", en(fx(&plain, FUTEX_WAKE, 1, 0, 0, 0)));
	printf("keys: private wake: %s\n", en(fx(&plain, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0)));
	pthread_join(th, 0);

	uint32_t *ro = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ro[1024] = 0;
	mprotect(ro, 8192, PROT_READ);
	printf("keys: shared wake, read-only anonymous untouched: %s\n", en(fx(ro, FUTEX_WAKE, 1, 0, 0, 0)));
	printf("keys: shared wake, read-only anonymous written: %s\n", en(fx(&ro[1024], FUTEX_WAKE, 1, 0, 0, 0)));
	printf("keys: shared wait, read-only anonymous: %s\n", en(fx(&ro[1024], FUTEX_WAIT, 1, 0, 0, 0)));
	printf("keys: private wake, read-only anonymous: %s\n", en(fx(ro, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0)));
	printf("keys: shared requeue from read-only anonymous: %s\n", en(fx(ro, FUTEX_REQUEUE, 1, 1, &plain, 0)));
	munmap(ro, 8192);
	static const uint32_t rodata = 3;
	printf("keys: shared wake, read-only file page: %s\n", en(fx((uint32_t *)&rodata, FUTEX_WAKE, 1, 0, 0, 0)));
	printf("keys: shared wait, read-only file page: %s\n", en(fx((uint32_t *)&rodata, FUTEX_WAIT, 1, 0, 0, 0)));
	uint32_t *none = mmap(0, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf("keys: shared wake, PROT_NONE: %s\n", en(fx(none, FUTEX_WAKE, 1, 0, 0, 0)));
	printf("keys: private wake, PROT_NONE: %s\n", en(fx(none, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0)));
	munmap(none, 4096);
}

struct rlist {
	struct rlist *next;
};
static struct {
	struct rlist *list;
	long off;
	struct rlist *pending;
} rhead;
static struct {
	struct rlist link;
	uint32_t word;
} __attribute__((aligned(16))) rents[4];
static char rodd[32] __attribute__((aligned(16)));

// robustWalker registers its own robust list and exits owning its words:
// the kernel marks them as it walks, and stops at a word it cannot take.
static void *robustWalker(void *arg) {
	int stop = *(int *)arg;
	uint32_t me = tid();
	rhead.off = (char *)&rents[0].word - (char *)&rents[0].link;
	for (int i = 0; i < 4; i++)
		rents[i].word = me;
	rhead.list = &rents[0].link;
	rents[0].link.next = &rents[1].link;
	if (stop) {
		// An entry whose word is unaligned.
		struct rlist *odd = (struct rlist *)(rodd + 1);
		memcpy(odd, &(struct rlist *){&rents[2].link}, sizeof(void *));
		rents[1].link.next = odd;
	} else
		rents[1].link.next = &rents[2].link;
	rents[2].link.next = (struct rlist *)&rhead;
	rhead.pending = &rents[3].link;
	syscall(SYS_set_robust_list, &rhead, 24);
	return 0;
}

static void robustWalk(void) {
	for (int stop = 0; stop < 2; stop++) {
		pthread_t th;
		pthread_create(&th, 0, robustWalker, &stop);
		pthread_join(th, 0);
		printf("robust walk%s:", stop ? ", unaligned entry" : "");
		for (int i = 0; i < 4; i++)
			printf(" %s", rents[i].word & FUTEX_OWNER_DIED ? "OWNER_DIED" : rents[i].word == 0 ? "0" : "owned");
		printf("\n");
	}
}

static volatile int handled;
static void onusr1(int s) { (void)s; handled = 1; }

struct rq {
	uint32_t val;
	int lockFirst;
	const struct timespec *deadline;
	int clockRealtime;
	long result, unlock;
	char held[32];
	volatile int done;
};

static void *requeueWaiter(void *arg) {
	struct rq *q = arg;
	if (q->lockFirst)
		fx(&mutex, FUTEX_LOCK_PI_PRIVATE, 0, 0, 0, 0);
	q->result = fx(&cond, FUTEX_WAIT_REQUEUE_PI_PRIVATE | (q->clockRealtime ? FUTEX_CLOCK_REALTIME : 0), q->val, (unsigned long)q->deadline, &mutex, 0);
	if (q->result == 0) {
		snprintf(q->held, sizeof q->held, "%s", word(mutex));
		q->unlock = fx(&mutex, FUTEX_UNLOCK_PI_PRIVATE, 0, 0, 0, 0);
	}
	if (q->lockFirst && (mutex & FUTEX_TID_MASK) == (uint32_t)tid())
		fx(&mutex, FUTEX_UNLOCK_PI_PRIVATE, 0, 0, 0, 0);
	q->done = 1;
	return 0;
}

// queued waits until a FUTEX_WAIT_REQUEUE_PI waiter waits on cond: a
// FUTEX_WAKE finds it (EINVAL) or nothing (0).
static void queued(void) {
	while (fx(&cond, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0) != -EINVAL)
		usleep(1000);
}

// requeuePI: FUTEX_WAIT_REQUEUE_PI and FUTEX_CMP_REQUEUE_PI, as a
// condition variable over a PI mutex uses them.
static void requeuePI(void) {
	pthread_t th, th2;
	struct timespec past = {1, 0};
	cond = 0;
	mutex = 0;
	printf("wait_requeue_pi same word: %s\n", en(fx(&cond, FUTEX_WAIT_REQUEUE_PI_PRIVATE, 0, 0, &cond, 0)));
	printf("wait_requeue_pi value differs: %s\n", en(fx(&cond, FUTEX_WAIT_REQUEUE_PI_PRIVATE, 1, 0, &mutex, 0)));
	printf("wait_requeue_pi unaligned mutex: %s\n", en(fx(&cond, FUTEX_WAIT_REQUEUE_PI_PRIVATE, 0, 0, (uint32_t *)((char *)&mutex + 1), 0)));
	printf("wait_requeue_pi past deadline: %s\n", en(fx(&cond, FUTEX_WAIT_REQUEUE_PI_PRIVATE, 0, (unsigned long)&past, &mutex, 0)));
	printf("wait_requeue_pi past realtime deadline: %s\n", en(fx(&cond, FUTEX_WAIT_REQUEUE_PI_PRIVATE | FUTEX_CLOCK_REALTIME, 0, (unsigned long)&past, &mutex, 0)));
	printf("cmp_requeue_pi same word: %s\n", en(fx(&cond, FUTEX_CMP_REQUEUE_PI_PRIVATE, 1, 0, &cond, 0)));
	printf("cmp_requeue_pi wake 2: %s\n", en(fx(&cond, FUTEX_CMP_REQUEUE_PI_PRIVATE, 2, 0, &mutex, 0)));
	printf("cmp_requeue_pi wake 0: %s\n", en(fx(&cond, FUTEX_CMP_REQUEUE_PI_PRIVATE, 0, 0, &mutex, 0)));
	printf("cmp_requeue_pi negative: %s\n", en(fx(&cond, FUTEX_CMP_REQUEUE_PI_PRIVATE, 1, -1, &mutex, 0)));
	printf("cmp_requeue_pi value differs: %s\n", en(fx(&cond, FUTEX_CMP_REQUEUE_PI_PRIVATE, 1, 0, &mutex, 3)));
	SHOWW("cmp_requeue_pi nobody", fx(&cond, FUTEX_CMP_REQUEUE_PI_PRIVATE, 1, 0, &mutex, 0), mutex);

	// Signal with the mutex free: the waiter takes it at once.
	struct rq a = {0};
	pthread_create(&th, 0, requeueWaiter, &a);
	queued();
	printf("wake on a requeue-PI waiter: EINVAL\n");
	printf("cmp_requeue on a requeue-PI waiter: %s\n", en(fx(&cond, FUTEX_CMP_REQUEUE_PRIVATE, 1, 0, &plain, 0)));
	printf("lock_pi on the condition: %s\n", en(fx(&cond, FUTEX_LOCK_PI_PRIVATE, 0, 0, 0, 0)));
	uint32_t elsewhere = 0;
	printf("cmp_requeue_pi to another mutex: %s\n", en(fx(&cond, FUTEX_CMP_REQUEUE_PI_PRIVATE, 1, 0, &elsewhere, 0)));
	printf("cmp_requeue_pi, mutex free: %s\n", en(fx(&cond, FUTEX_CMP_REQUEUE_PI_PRIVATE, 1, 0, &mutex, 0)));
	pthread_join(th, 0);
	printf("waiter: %s, held %s, unlock %s, word after %s\n", en(a.result), a.held, en(a.unlock), word(mutex));

	// Broadcast with the mutex held: both waiters move behind the owner
	// and get it in turn.
	fx(&mutex, FUTEX_LOCK_PI_PRIVATE, 0, 0, 0, 0);
	struct rq b = {0}, c = {0};
	pthread_create(&th, 0, requeueWaiter, &b);
	pthread_create(&th2, 0, requeueWaiter, &c);
	long total = 0;
	while (total < 2) {
		long r = fx(&cond, FUTEX_CMP_REQUEUE_PI_PRIVATE, 1, INT_MAX, &mutex, 0);
		if (r < 0) {
			printf("cmp_requeue_pi: %s\n", en(r));
			break;
		}
		total += r;
		if (total < 2)
			usleep(1000);
	}
	printf("requeued %ld, word %s\n", total, word(mutex));
	printf("wake on the mutex: %s\n", en(fx(&mutex, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0)));
	printf("wake on the condition: %s\n", en(fx(&cond, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0)));
	printf("owner unlocks: %s\n", en(fx(&mutex, FUTEX_UNLOCK_PI_PRIVATE, 0, 0, 0, 0)));
	pthread_join(th, 0);
	pthread_join(th2, 0);
	printf("waiters: %s %s, held %s %s, unlock %s %s, word %s\n", en(b.result), en(c.result), b.held, c.held, en(b.unlock), en(c.unlock), word(mutex));

	// A signal before the requeue restarts the wait; one after it ends
	// the wait EAGAIN.
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = onusr1; // no SA_RESTART
	sigaction(SIGUSR1, &sa, 0);
	fx(&mutex, FUTEX_LOCK_PI_PRIVATE, 0, 0, 0, 0);
	struct rq d = {0};
	pthread_create(&th, 0, requeueWaiter, &d);
	queued();
	handled = 0;
	pthread_kill(th, SIGUSR1);
	while (!handled)
		usleep(1000);
	queued();
	printf("signalled before the requeue: still waiting\n");
	while (fx(&cond, FUTEX_CMP_REQUEUE_PI_PRIVATE, 1, 0, &mutex, 0) != 1)
		usleep(1000);
	printf("requeued behind the owner: word %s\n", word(mutex));
	handled = 0;
	pthread_kill(th, SIGUSR1);
	pthread_join(th, 0);
	printf("signalled after the requeue: %s, word %s\n", en(d.result), word(mutex));
	SHOWW("owner unlocks", fx(&mutex, FUTEX_UNLOCK_PI_PRIVATE, 0, 0, 0, 0), mutex);

	// A deadline, whether it passes before the requeue or after.
	fx(&mutex, FUTEX_LOCK_PI_PRIVATE, 0, 0, 0, 0);
	struct timespec soon;
	clock_gettime(CLOCK_MONOTONIC, &soon);
	soon.tv_nsec += 200000000;
	if (soon.tv_nsec >= 1000000000) {
		soon.tv_sec++;
		soon.tv_nsec -= 1000000000;
	}
	struct rq e = {.deadline = &soon};
	pthread_create(&th, 0, requeueWaiter, &e);
	while (!e.done && fx(&cond, FUTEX_CMP_REQUEUE_PI_PRIVATE, 1, 0, &mutex, 0) != 1)
		usleep(1000);
	pthread_join(th, 0);
	printf("deadline: %s\n", en(e.result));
	fx(&mutex, FUTEX_UNLOCK_PI_PRIVATE, 0, 0, 0, 0);

	// The waiter owns the mutex already: EDEADLK, and it stays on the
	// condition until the condition changes and a signal restarts it.
	struct rq f = {.lockFirst = 1};
	pthread_create(&th, 0, requeueWaiter, &f);
	queued();
	printf("cmp_requeue_pi to the mutex's owner: %s\n", en(fx(&cond, FUTEX_CMP_REQUEUE_PI_PRIVATE, 1, 0, &mutex, 0)));
	cond = 1;
	pthread_kill(th, SIGUSR1);
	pthread_join(th, 0);
	printf("its wait: %s, word %s\n", en(f.result), word(mutex));

	// The mutex's owner does not exist.
	cond = 0;
	mutex = 0x3ffffff0;
	struct rq g = {0};
	pthread_create(&th, 0, requeueWaiter, &g);
	queued();
	printf("cmp_requeue_pi, no owner: %s\n", en(fx(&cond, FUTEX_CMP_REQUEUE_PI_PRIVATE, 1, 0, &mutex, 0)));
	printf("word %#x\n", mutex);
	cond = 1;
	pthread_kill(th, SIGUSR1);
	pthread_join(th, 0);
	printf("its wait: %s\n", en(g.result));

	// A plain waiter on the condition.
	cond = 0;
	mutex = 0;
	pthread_create(&th, 0, plainWaiter, &cond);
	while (fx(&cond, FUTEX_CMP_REQUEUE_PRIVATE, 0, INT_MAX, &cond, 0) < 1)
		usleep(1000);
	SHOWW("cmp_requeue_pi of a plain waiter", fx(&cond, FUTEX_CMP_REQUEUE_PI_PRIVATE, 1, 0, &mutex, 0), mutex);
	fx(&cond, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0);
	pthread_join(th, 0);
}

// futex2: futex_waitv, futex_wake, futex_wait and futex_requeue (Linux
// 5.16 and 6.7): their checks, and waking across them and futex(2).
struct waitv {
	uint64_t val, uaddr;
	uint32_t flags, reserved;
};
#define F2 (0x02 | 128) // FUTEX2_SIZE_U32 | FUTEX2_PRIVATE

static long f2(long nr, long a, long b, long c, long d, long e, long f) {
	long r = syscall(nr, a, b, c, d, e, f);
	return r < 0 ? -errno : r;
}
enum { sysWaitv = 449, sysWake = 454, sysWait = 455, sysRequeue = 456 };

static uint32_t words[4] __attribute__((aligned(16)));
static struct waitv vec[3];
static long waitvResult;

static void *waitvWaiter(void *arg) {
	(void)arg;
	waitvResult = f2(sysWaitv, (long)vec, 3, 0, 0, 0, 0);
	return 0;
}

static void *wait2Waiter(void *arg) {
	f2(sysWait, (long)arg, 0, 0x0f, F2, 0, 0);
	return 0;
}

// count counts the waiters on w without waking them.
static long count(uint32_t *w) { return fx(w, FUTEX_CMP_REQUEUE_PRIVATE, 0, INT_MAX, w, *w); }

static void futex2(void) {
	struct timespec past = {1, 0}, bad = {0, 2000000000};
	uint32_t *w = words;
	memset(words, 0, sizeof words);
	struct { const char *name; long r; } c[96];
	int n = 0;
#define C(label, call) do { c[n].name = label; c[n].r = (call); n++; } while (0)
	C("wait value differs", f2(sysWait, (long)w, 1, ~0u, F2, 0, 0));
	C("wait u8", f2(sysWait, (long)w, 1, ~0u, 0x80, 0, 0));
	C("wait u64", f2(sysWait, (long)w, 1, ~0u, 0x83, 0, 0));
	C("wait value past 32 bits", f2(sysWait, (long)w, 1L << 32, ~0u, F2, 0, 0));
	C("wait mask past 32 bits", f2(sysWait, (long)w, 0, 1L << 32, F2, 0, 0));
	C("wait mask 0", f2(sysWait, (long)w, 0, 0, F2, 0, 0));
	C("wait mask 0, bad timeout", f2(sysWait, (long)w, 0, 0, F2, (long)&bad, CLOCK_MONOTONIC));
	C("wait unknown flag", f2(sysWait, (long)w, 0, ~0u, F2 | 0x10, 0, 0));
	C("wait past, monotonic", f2(sysWait, (long)w, 0, ~0u, F2, (long)&past, CLOCK_MONOTONIC));
	C("wait past, realtime", f2(sysWait, (long)w, 0, ~0u, F2, (long)&past, CLOCK_REALTIME));
	C("wait past, shared", f2(sysWait, (long)w, 0, ~0u, 0x02, (long)&past, CLOCK_MONOTONIC));
	C("wait boottime", f2(sysWait, (long)w, 0, ~0u, F2, (long)&past, CLOCK_BOOTTIME));
	C("wait bad timeout", f2(sysWait, (long)w, 0, ~0u, F2, (long)&bad, CLOCK_MONOTONIC));
	C("wait timeout unreadable", f2(sysWait, (long)w, 0, ~0u, F2, 8, CLOCK_MONOTONIC));
	C("wait unaligned", f2(sysWait, (long)w + 2, 0, ~0u, F2, (long)&past, CLOCK_MONOTONIC));
	C("wait bad address", f2(sysWait, 8, 0, ~0u, F2, 0, 0));
	C("wait mpol", f2(sysWait, (long)w, 0, ~0u, F2 | 0x08, (long)&past, CLOCK_MONOTONIC));
	words[1] = 0xffffffff;
	C("wait numa, value differs", f2(sysWait, (long)w, 1, ~0u, F2 | 0x04, (long)&past, CLOCK_MONOTONIC));
	C("numa node filled in", words[1]);
	words[1] = 5;
	C("wait numa, node 5", f2(sysWait, (long)w, 0, ~0u, F2 | 0x04, (long)&past, CLOCK_MONOTONIC));
	words[1] = 0;
	C("wait numa, node 0", f2(sysWait, (long)w, 0, ~0u, F2 | 0x04, (long)&past, CLOCK_MONOTONIC));
	C("wait numa, 4-aligned", f2(sysWait, (long)&words[1], 0, ~0u, F2 | 0x04, (long)&past, CLOCK_MONOTONIC));
	C("wake nobody", f2(sysWake, (long)w, ~0u, 1, F2, 0, 0));
	C("wake 0", f2(sysWake, (long)w, ~0u, 0, F2, 0, 0));
	C("wake mask 0", f2(sysWake, (long)w, 0, 1, F2, 0, 0));
	C("wake mask past 32 bits", f2(sysWake, (long)w, 1L << 32, 1, F2, 0, 0));
	C("wake u16", f2(sysWake, (long)w, ~0u, 1, 0x81, 0, 0));
	C("wake unaligned", f2(sysWake, (long)w + 1, ~0u, 1, F2, 0, 0));
	C("wake private bad address", f2(sysWake, 8, ~0u, 1, F2, 0, 0));
	C("wake private past user space", f2(sysWake, 1L << 47, ~0u, 1, F2, 0, 0));
	C("wake numa private, node word unmapped", f2(sysWake, (1L << 47) - 4096 - 8, ~0u, 1, F2 | 0x04, 0, 0));
	C("wake shared past user space", f2(sysWake, 1L << 47, ~0u, 1, 0x02, 0, 0));
	struct waitv v[3] = {{0, (uint64_t)&words[0], F2, 0}, {0, (uint64_t)&words[2], F2, 0}, {0, (uint64_t)&words[3], 0x02, 0}};
	C("waitv past", f2(sysWaitv, (long)v, 3, 0, (long)&past, CLOCK_MONOTONIC, 0));
	v[1].val = 9;
	C("waitv value differs", f2(sysWaitv, (long)v, 3, 0, 0, 0, 0));
	v[2].uaddr = 8;
	C("waitv value differs before a bad address", f2(sysWaitv, (long)v, 3, 0, (long)&past, CLOCK_MONOTONIC, 0));
	v[1].val = 0;
	C("waitv bad address", f2(sysWaitv, (long)v, 3, 0, (long)&past, CLOCK_MONOTONIC, 0));
	v[2].uaddr = 1UL << 47;
	C("waitv shared word past user space", f2(sysWaitv, (long)v, 3, 0, (long)&past, CLOCK_MONOTONIC, 0));
	v[2].uaddr = (uint64_t)&words[3] + 2;
	C("waitv unaligned", f2(sysWaitv, (long)v, 3, 0, (long)&past, CLOCK_MONOTONIC, 0));
	v[2].uaddr = (uint64_t)&words[3];
	C("waitv flags", f2(sysWaitv, (long)v, 3, 1, (long)&past, CLOCK_MONOTONIC, 0));
	C("waitv none", f2(sysWaitv, (long)v, 0, 0, (long)&past, CLOCK_MONOTONIC, 0));
	C("waitv 129", f2(sysWaitv, (long)v, 129, 0, (long)&past, CLOCK_MONOTONIC, 0));
	C("waitv NULL", f2(sysWaitv, 0, 1, 0, (long)&past, CLOCK_MONOTONIC, 0));
	C("waitv boottime", f2(sysWaitv, (long)v, 3, 0, (long)&past, CLOCK_BOOTTIME, 0));
	C("waitv bad timeout", f2(sysWaitv, (long)v, 3, 0, (long)&bad, CLOCK_MONOTONIC, 0));
	C("waitv unreadable", f2(sysWaitv, 8, 3, 0, (long)&past, CLOCK_MONOTONIC, 0));
	v[2].reserved = 1;
	C("waitv reserved", f2(sysWaitv, (long)v, 3, 0, (long)&past, CLOCK_MONOTONIC, 0));
	v[2].reserved = 0;
	v[2].flags = 0x83;
	C("waitv u64", f2(sysWaitv, (long)v, 3, 0, (long)&past, CLOCK_MONOTONIC, 0));
	v[2].flags = 0x02;
	v[2].val = 1L << 32;
	C("waitv value past 32 bits", f2(sysWaitv, (long)v, 3, 0, (long)&past, CLOCK_MONOTONIC, 0));
	v[2].val = 0;
	C("requeue nobody", f2(sysRequeue, (long)v, 0, 1, 1, 0, 0));
	C("requeue flags", f2(sysRequeue, (long)v, 1, 1, 1, 0, 0));
	C("requeue NULL", f2(sysRequeue, 0, 0, 1, 1, 0, 0));
	v[0].val = 3;
	C("requeue value differs", f2(sysRequeue, (long)v, 0, 1, 1, 0, 0));
	v[0].val = 0;
	C("requeue negative", f2(sysRequeue, (long)v, 0, -1, 1, 0, 0));
	v[1].reserved = 1;
	C("requeue reserved", f2(sysRequeue, (long)v, 0, 1, 1, 0, 0));
	v[1].reserved = 0;
	// The entries are read and checked one by one: a bad one before
	// the end of the readable memory is EINVAL, not EFAULT.
	char *pages = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(pages + 4096, 4096);
	struct waitv *last = (struct waitv *)(pages + 4096) - 1;
	*last = v[0];
	C("waitv readable entry then unreadable", f2(sysWaitv, (long)last, 2, 0, (long)&past, CLOCK_MONOTONIC, 0));
	C("requeue readable entry then unreadable", f2(sysRequeue, (long)last, 0, 1, 1, 0, 0));
	last->reserved = 1;
	C("waitv bad entry then unreadable", f2(sysWaitv, (long)last, 2, 0, (long)&past, CLOCK_MONOTONIC, 0));
	C("requeue bad entry then unreadable", f2(sysRequeue, (long)last, 0, 1, 1, 0, 0));
	last->reserved = 0;
	last->flags = 0x83;
	C("waitv u64 entry then unreadable", f2(sysWaitv, (long)last, 2, 0, (long)&past, CLOCK_MONOTONIC, 0));
	munmap(pages, 4096);
	for (int i = 0; i < n; i++)
		printf("futex2 %s: %s\n", c[i].name, en(c[i].r));

	// futex_waitv woken through one of its words by futex(2) and by
	// futex_wake; futex_wait woken by FUTEX_WAKE_BITSET.
	pthread_t th, th2;
	memset(words, 0, sizeof words);
	vec[0] = (struct waitv){0, (uint64_t)&words[0], F2, 0};
	vec[1] = (struct waitv){0, (uint64_t)&words[1], F2, 0};
	vec[2] = (struct waitv){0, (uint64_t)&words[2], F2, 0};
	pthread_create(&th, 0, waitvWaiter, 0);
	while (count(&words[2]) < 1)
		usleep(1000);
	printf("futex2 wake waitv's word 1: %s\n", en(fx(&words[1], FUTEX_WAKE_PRIVATE, 1, 0, 0, 0)));
	pthread_join(th, 0);
	printf("futex2 waitv: %s\n", en(waitvResult));
	pthread_create(&th, 0, waitvWaiter, 0);
	while (count(&words[0]) < 1)
		usleep(1000);
	printf("futex2 futex_wake 0 of waitv's word 2: %s\n", en(f2(sysWake, (long)&words[2], ~0u, 0, F2, 0, 0)));
	printf("futex2 futex_wake waitv's word 2: %s\n", en(f2(sysWake, (long)&words[2], ~0u, 1, F2, 0, 0)));
	pthread_join(th, 0);
	printf("futex2 waitv: %s\n", en(waitvResult));
	pthread_create(&th, 0, wait2Waiter, &words[3]);
	while (count(&words[3]) < 1)
		usleep(1000);
	printf("futex2 wake_bitset missing the mask: %s\n", en(fx(&words[3], FUTEX_WAKE_BITSET_PRIVATE, 1, 0, 0, 0x10)));
	printf("futex2 wake_bitset in the mask: %s\n", en(fx(&words[3], FUTEX_WAKE_BITSET_PRIVATE, 1, 0, 0, 0x11)));
	pthread_join(th, 0);

	// futex_requeue moves futex_wait's waiters.
	pthread_create(&th, 0, wait2Waiter, &words[0]);
	pthread_create(&th2, 0, wait2Waiter, &words[0]);
	while (count(&words[0]) < 2)
		usleep(1000);
	struct waitv rq[2] = {{0, (uint64_t)&words[0], F2, 0}, {0, (uint64_t)&words[1], F2, 0}};
	printf("futex2 requeue 1, move 1: %s\n", en(f2(sysRequeue, (long)rq, 0, 1, 1, 0, 0)));
	printf("futex2 wake the moved one: %s\n", en(f2(sysWake, (long)&words[1], ~0u, 5, F2, 0, 0)));
	printf("futex2 wake on the first word: %s\n", en(f2(sysWake, (long)&words[0], ~0u, 5, F2, 0, 0)));
	pthread_join(th, 0);
	pthread_join(th2, 0);
}

static volatile int sigSeen;
static void onSig(int s) {
	(void)s;
	sigSeen = 1;
}

static uint32_t sigWord;
static volatile int sigDone;
static volatile pid_t sigTID;
static long sigResult;
static int sigKind;

// sigWaiter waits on sigWord one way or another (kind), with a deadline
// a minute away where it has one.
static void *sigWaiter(void *arg) {
	(void)arg;
	struct timespec rel = {60, 0}, abs;
	clock_gettime(CLOCK_MONOTONIC, &abs);
	abs.tv_sec += 60;
	struct waitv v = {0, (uint64_t)&sigWord, F2, 0};
	sigTID = tid();
	switch (sigKind) {
	case 0: sigResult = fx(&sigWord, FUTEX_WAIT_PRIVATE, 0, 0, 0, 0); break;
	case 1: sigResult = fx(&sigWord, FUTEX_WAIT_PRIVATE, 0, (unsigned long)&rel, 0, 0); break;
	case 2: sigResult = fx(&sigWord, FUTEX_WAIT_BITSET_PRIVATE, 0, (unsigned long)&abs, 0, ~0u); break;
	case 3: sigResult = f2(sysWait, (long)&sigWord, 0, ~0u, F2, 0, 0); break;
	case 4: sigResult = f2(sysWait, (long)&sigWord, 0, ~0u, F2, (long)&abs, CLOCK_MONOTONIC); break;
	case 5: sigResult = f2(sysWaitv, (long)&v, 1, 0, (long)&abs, CLOCK_MONOTONIC, 0); break;
	}
	sigDone = 1;
	return 0;
}

// interrupted: a handler interrupts each wait: with SA_RESTART the
// untimed FUTEX_WAIT and the futex2 waits start again (ERESTARTSYS), a
// timed FUTEX_WAIT(_BITSET) ends EINTR (ERESTART_RESTARTBLOCK); without
// it every one ends EINTR. A wait still going is then woken.
static void interrupted(void) {
	static const char *names[] = {"wait", "wait timed", "wait_bitset timed", "futex_wait", "futex_wait timed", "futex_waitv timed"};
	for (int restart = 1; restart >= 0; restart--) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = onSig;
		sa.sa_flags = restart ? SA_RESTART : 0;
		sigaction(SIGUSR2, &sa, 0);
		for (int k = 0; k < 6; k++) {
			pthread_t th;
			sigWord = 0;
			sigDone = sigSeen = 0;
			sigTID = 0;
			sigKind = k;
			pthread_create(&th, 0, sigWaiter, 0);
			while (!sigTID || count(&sigWord) < 1)
				usleep(1000);
			pthread_kill(th, SIGUSR2);
			while (!sigSeen)
				usleep(1000);
			int woken = 0;
			while (!sigDone && !woken) {
				woken = fx(&sigWord, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0) == 1;
				if (!woken)
					usleep(1000);
			}
			pthread_join(th, 0);
			printf("interrupted %s%s: %s%s\n", names[k], restart ? ", SA_RESTART" : "", en(sigResult), woken ? ", woken after" : "");
		}
	}
}

int main(void) {
	setvbuf(stdout, 0, _IONBF, 0);
	mainTID = tid();
	counts();
	wakeop();
	mixed();
	piState();
	robust();
	keys();
	robustWalk();
	interrupted();
	requeuePI();
	futex2();
	printf("futexops: done\n");
	return 0;
}
