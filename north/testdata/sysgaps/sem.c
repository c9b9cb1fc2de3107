// sem: System V semaphores: semget's keys and errors, semctl's commands,
// semop's all-or-nothing operations, waits (woken by another process,
// timed out, interrupted, the set removed), SEM_UNDO given back when the
// last thread of a process exits, another user's EACCES and EPERM; every
// result printed, for comparison with Linux's.
#define _GNU_SOURCE
#include <errno.h>
#include <linux/kcmp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define R(x)                                                                               \
	do {                                                                               \
		errno = 0;                                                                 \
		long r_ = (long)(x);                                                       \
		printf("%-64s = %ld %s\n", #x, r_, r_ < 0 ? strerrorname_np(errno) : ""); \
		fflush(stdout);                                                            \
	} while (0)

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
	struct seminfo *info;
};

static long sc(long id, long num, long cmd, void *arg) { return syscall(SYS_semctl, id, num, cmd, arg); }
static long scv(long id, long num, long cmd, long val) { return syscall(SYS_semctl, id, num, cmd, val); }
static long op1(int id, int num, int op, int flg) {
	struct sembuf b = {num, op, flg};
	return syscall(SYS_semop, id, &b, 1);
}

static void pause_ms(int ms) {
	struct timespec t = {ms / 1000, ms % 1000 * 1000000L};
	nanosleep(&t, NULL);
}

// until waits for semaphore num of id to have n waiters of kind cmd.
static void until(int id, int num, int cmd, int n) {
	for (int i = 0; i < 500 && scv(id, num, cmd, 0) != n; i++)
		pause_ms(10);
	printf("waiters (%s) of %d: %ld\n", cmd == GETNCNT ? "ncnt" : "zcnt", num, scv(id, num, cmd, 0));
}

static void onsig(int s) { (void)s; }

// reap waits for child c and prints how its one operation went.
static void reap(pid_t c) {
	int st;
	waitpid(c, &st, 0);
	printf("child's operation: %s\n", WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "ok" : "failed");
}

static int tid_id;
static void *undo_thread(void *a) {
	(void)a;
	R(op1(tid_id, 0, 3, SEM_UNDO));
	// A thread shares its creator's undo list (pthreads: CLONE_SYSVSEM).
	R(syscall(SYS_kcmp, getpid(), syscall(SYS_gettid), KCMP_SYSVSEM, 0, 0));
	return NULL;
}

int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	key_t key = 0x5e3a0000 | (getpid() & 0xffff);
	struct semid_ds ds;
	struct seminfo info;

	// semget.
	R(semget(IPC_PRIVATE, -1, 0600));
	R(semget(IPC_PRIVATE, 32001, 0600));
	R(semget(IPC_PRIVATE, 0, 0600));
	R(semget(key, 3, 0600));
	int id = semget(key, 3, IPC_CREAT | 0640);
	printf("created: %d\n", id >= 0);
	R(semget(key, 3, 0) == id);
	R(semget(key, 0, 0) == id);
	R(semget(key, 4, 0));
	R(semget(key, 3, IPC_CREAT | IPC_EXCL | 0600));
	R(semget(key, 2, IPC_CREAT) == id);
	int priv = semget(IPC_PRIVATE, 1, 0600), priv2 = semget(IPC_PRIVATE, 1, 0600);
	printf("private sets differ: %d\n", priv >= 0 && priv2 >= 0 && priv != priv2);

	// semctl.
	R(sc(id, 0, IPC_STAT, &ds));
	printf("stat: mode %o nsems %ld uid %d cuid %d gid %d otime %ld ctime set %d key ok %d\n", ds.sem_perm.mode,
	       (long)ds.sem_nsems, ds.sem_perm.uid == geteuid(), ds.sem_perm.cuid == geteuid(), ds.sem_perm.gid == getegid(),
	       (long)ds.sem_otime, ds.sem_ctime > 0, ds.sem_perm.__key == key);
	R(sc(id, 0, IPC_STAT | 0x100, &ds));
	R(sc(id, 0, IPC_STAT, (void *)8));
	R(sc(-1, 0, IPC_STAT, &ds));
	R(sc(id + 1000, 0, IPC_STAT, &ds));
	R(sc(id, 0, 99, &ds));
	R(sc(id % 32768, 0, SEM_STAT, &ds) == id);
	R(sc(id % 32768, 0, SEM_STAT_ANY, &ds) == id);
	R(sc(id, 0, IPC_INFO, &info) >= 0);
	printf("info: semmsl %d semopm %d semvmx %d semaem %d semusz %d semmni %d semume %d\n", info.semmsl, info.semopm,
	       info.semvmx, info.semaem, info.semusz, info.semmni, info.semume);
	R(sc(id, 0, SEM_INFO, &info) >= 0);
	R(sc(id, 0, IPC_INFO, (void *)8));
	R(scv(id, 0, GETVAL, 0));
	R(scv(id, 1, SETVAL, 5));
	R(scv(id, 1, GETVAL, 0));
	R(scv(id, 1, GETPID, 0) == getpid());
	R(scv(id, 2, GETPID, 0));
	R(scv(id, 3, GETVAL, 0));
	R(scv(id, -1, GETVAL, 0));
	R(scv(id, 3, SETVAL, 1));
	R(scv(id, 0, SETVAL, -1));
	R(scv(id, 0, SETVAL, 32768));
	R(scv(id, 0, SETVAL, 32767));
	R(scv(-5, 0, SETVAL, 1));
	unsigned short vals[3] = {7, 8, 9}, got[3];
	R(sc(id, 0, SETALL, vals));
	R(sc(id, 0, GETALL, got));
	printf("all: %d %d %d\n", got[0], got[1], got[2]);
	unsigned short big[3] = {1, 40000, 1};
	R(sc(id, 0, SETALL, big));
	R(sc(id, 0, SETALL, (void *)8));
	R(sc(id, 0, GETALL, (void *)8));
	R(scv(id, 0, GETNCNT, 0));
	R(scv(id, 0, GETZCNT, 0));
	ds.sem_perm.mode = 0660;
	R(sc(id, 0, IPC_SET, &ds));
	R(sc(id, 0, IPC_STAT, &ds));
	printf("mode after IPC_SET: %o\n", ds.sem_perm.mode);
	R(sc(id, 0, IPC_SET, (void *)8));

	// semop.
	struct sembuf ops[2];
	R(syscall(SYS_semop, id, ops, 0));
	R(syscall(SYS_semop, id, ops, 501));
	R(syscall(SYS_semop, id, (void *)8, 1));
	R(syscall(SYS_semop, -1, ops, 1));
	R(op1(id, 3, 1, 0));
	R(op1(id + 1000, 0, 1, 0));
	R(op1(id, 0, -8, IPC_NOWAIT));
	R(op1(id, 0, 0, IPC_NOWAIT));
	R(op1(id, 0, -7, 0));
	R(op1(id, 0, 0, 0));
	R(op1(id, 0, 32767, 0));
	R(op1(id, 0, 32767, IPC_NOWAIT));
	R(scv(id, 0, GETVAL, 0));
	R(scv(id, 0, SETVAL, 0));
	// All or nothing: the second cannot be done, so neither is.
	ops[0] = (struct sembuf){1, 1, 0};
	ops[1] = (struct sembuf){2, -20, IPC_NOWAIT};
	R(syscall(SYS_semop, id, ops, 2));
	R(scv(id, 1, GETVAL, 0));
	// The same semaphore twice: one after the other.
	ops[0] = (struct sembuf){2, 5, 0};
	ops[1] = (struct sembuf){2, -14, IPC_NOWAIT};
	R(syscall(SYS_semop, id, ops, 2));
	R(scv(id, 2, GETVAL, 0));
	ops[1] = (struct sembuf){2, -13, IPC_NOWAIT};
	R(syscall(SYS_semop, id, ops, 2));
	R(scv(id, 2, GETVAL, 0));
	R(sc(id, 0, IPC_STAT, &ds));
	printf("otime set: %d\n", ds.sem_otime > 0);

	// semtimedop.
	struct timespec ts = {0, 50000000}, bad = {0, 1000000000};
	struct sembuf dec = {0, -1, 0};
	R(syscall(SYS_semtimedop, id, &dec, 1, &ts));
	R(syscall(SYS_semtimedop, id, &dec, 1, &bad));
	R(syscall(SYS_semtimedop, id, &dec, 1, (void *)8));
	R(syscall(SYS_semtimedop, id, &dec, 0, (void *)8));

	// A wait another process ends.
	pid_t c = fork();
	if (c == 0) {
		until(id, 0, GETNCNT, 1);
		_exit(op1(id, 0, 2, 0) != 0);
	}
	long r = op1(id, 0, -2, 0);
	reap(c);
	printf("woken: %ld\n", r);
	R(scv(id, 0, GETPID, 0) == c);
	// Waiting for zero.
	R(scv(id, 1, SETVAL, 1));
	c = fork();
	if (c == 0) {
		until(id, 1, GETZCNT, 1);
		_exit(op1(id, 1, -1, 0) != 0);
	}
	r = op1(id, 1, 0, 0);
	reap(c);
	printf("woken at zero: %ld\n", r);

	// A signal ends a wait, with SA_RESTART too.
	struct sigaction sa = {0};
	sa.sa_handler = onsig;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	c = fork();
	if (c == 0) {
		until(id, 0, GETNCNT, 1);
		kill(getppid(), SIGUSR1);
		_exit(0);
	}
	R(op1(id, 0, -1, 0));
	waitpid(c, NULL, 0);
	R(scv(id, 0, GETNCNT, 0));

	// SEM_UNDO: given back when the process exits.
	R(scv(id, 0, SETVAL, 0));
	c = fork();
	if (c == 0) {
		R(syscall(SYS_kcmp, getpid(), getppid(), KCMP_SYSVSEM, 0, 0));
		R(op1(id, 0, 4, SEM_UNDO));
		R(syscall(SYS_kcmp, getpid(), getppid(), KCMP_SYSVSEM, 0, 0) != 0);
		R(op1(id, 0, -1, SEM_UNDO));
		R(scv(id, 0, GETVAL, 0));
		_exit(0);
	}
	waitpid(c, NULL, 0);
	R(scv(id, 0, GETVAL, 0));
	R(scv(id, 0, GETPID, 0) == c);
	// Never below 0: the undo of a +2 after someone took 1 of it.
	c = fork();
	if (c == 0) {
		R(op1(id, 0, 2, SEM_UNDO));
		R(op1(id, 0, -1, 0));
		_exit(0);
	}
	waitpid(c, NULL, 0);
	R(scv(id, 0, GETVAL, 0));
	// SETVAL clears the adjustments.
	c = fork();
	if (c == 0) {
		R(op1(id, 0, 5, SEM_UNDO));
		R(scv(id, 0, SETVAL, 2));
		_exit(0);
	}
	waitpid(c, NULL, 0);
	R(scv(id, 0, GETVAL, 0));
	// An adjustment beyond SEMAEM.
	R(scv(id, 0, SETVAL, 32767));
	c = fork();
	if (c == 0) {
		R(op1(id, 0, -32767, SEM_UNDO));
		R(scv(id, 0, SETVAL, 32767));
		R(op1(id, 0, -1, SEM_UNDO));
		R(op1(id, 0, -1, 0));
		_exit(0);
	}
	waitpid(c, NULL, 0);
	R(scv(id, 0, GETVAL, 0));
	// Threads share the list: a thread's exit gives nothing back; the
	// process's does.
	R(scv(id, 0, SETVAL, 0));
	tid_id = id;
	c = fork();
	if (c == 0) {
		pthread_t th;
		pthread_create(&th, NULL, undo_thread, NULL);
		pthread_join(th, NULL);
		R(scv(id, 0, GETVAL, 0));
		_exit(0);
	}
	waitpid(c, NULL, 0);
	R(scv(id, 0, GETVAL, 0));
	// unshare(CLONE_SYSVSEM) gives it back at once.
	c = fork();
	if (c == 0) {
		R(op1(id, 0, 6, SEM_UNDO));
		R(unshare(CLONE_SYSVSEM));
		R(scv(id, 0, GETVAL, 0));
		_exit(0);
	}
	waitpid(c, NULL, 0);

	// Another user.
	c = fork();
	if (c == 0) {
		setresgid(1000, 1000, 1000);
		setresuid(1000, 1000, 1000);
		R(semget(key, 3, 0) == id);
		R(semget(key, 3, 0600));
		R(semget(key, 3, 0060));
		R(semget(key, 3, 0006));
		R(scv(id, 0, GETVAL, 0));
		R(op1(id, 0, 1, IPC_NOWAIT));
		R(op1(id, 0, 0, IPC_NOWAIT));
		R(scv(id, 0, SETVAL, 1));
		R(sc(id, 0, IPC_STAT, &ds));
		R(sc(id % 32768, 0, SEM_STAT_ANY, &ds) == id);
		R(sc(id, 0, IPC_RMID, NULL));
		R(sc(id, 0, IPC_SET, &ds));
		_exit(0);
	}
	waitpid(c, NULL, 0);

	// Removal ends a wait with EIDRM.
	c = fork();
	if (c == 0) {
		until(id, 2, GETNCNT, 1);
		_exit(sc(id, 0, IPC_RMID, NULL) != 0);
	}
	errno = 0;
	r = op1(id, 2, -100, 0);
	int e = errno;
	reap(c);
	printf("removed while waiting: %ld %s\n", r, strerrorname_np(e));
	R(scv(id, 0, GETVAL, 0));
	R(semget(key, 3, 0));
	R(sc(priv, 0, IPC_RMID, NULL));
	R(sc(priv, 0, IPC_RMID, NULL));
	R(sc(priv2, 0, IPC_RMID, NULL));
	printf("sem: done\n");
	return 0;
}
