// msg: System V message queues: msgget's keys and errors, msgsnd and
// msgrcv by type (any, equal, lowest up to, except, MSG_COPY's index),
// their waits (woken by another process, interrupted, the queue
// removed), E2BIG and MSG_NOERROR, msgctl's commands, another user's
// EACCES and EPERM; every result printed, for comparison with Linux's.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
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

#ifndef MSG_COPY
#define MSG_COPY 040000
#endif

struct m {
	long type;
	char text[9000];
};
static struct m in, out;

static long snd(int id, long type, const char *text, long n, int flg) {
	out.type = type;
	memcpy(out.text, text, n);
	return syscall(SYS_msgsnd, id, &out, n, flg);
}
static long rcv(int id, long n, long type, int flg) {
	memset(&in, 0, sizeof in);
	long r = syscall(SYS_msgrcv, id, &in, n, type, flg);
	if (r >= 0)
		printf("  got type %ld '%.*s'\n", in.type, (int)(r < 20 ? r : 20), in.text);
	return r;
}
static void pause_ms(int ms) {
	struct timespec t = {0, ms * 1000000L};
	nanosleep(&t, NULL);
}
static void onsig(int s) { (void)s; }
static void reap(pid_t c) {
	int st;
	waitpid(c, &st, 0);
	printf("child: %s\n", WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "ok" : "failed");
}
static void stat(int id) {
	struct msqid_ds ds;
	long r = msgctl(id, IPC_STAT, &ds);
	printf("stat %ld: mode %o qnum %ld cbytes %ld qbytes %ld lspid me %d lrpid me %d stime %d rtime %d ctime %d uid %d\n",
	       r, ds.msg_perm.mode, (long)ds.msg_qnum, (long)ds.__msg_cbytes, (long)ds.msg_qbytes, ds.msg_lspid == getpid(),
	       ds.msg_lrpid == getpid(), ds.msg_stime > 0, ds.msg_rtime > 0, ds.msg_ctime > 0, ds.msg_perm.uid == geteuid());
}

int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	key_t key = 0x3e3a0000 | (getpid() & 0xffff);
	R(msgget(key, 0600));
	int id = msgget(key, IPC_CREAT | 0640);
	printf("created: %d\n", id >= 0);
	R(msgget(key, 0) == id);
	R(msgget(key, IPC_CREAT | IPC_EXCL));
	R(msgget(key, IPC_CREAT) == id);
	stat(id);
	R(msgctl(id, IPC_STAT | 0x100, NULL));
	R(msgctl(id, IPC_STAT, (void *)8));
	R(msgctl(-1, IPC_STAT, NULL));
	R(msgctl(id, -1, NULL));
	R(msgctl(id, 99, NULL));
	struct msginfo info;
	R(msgctl(id, IPC_INFO, (void *)&info) >= 0);
	printf("info: pool %d map %d max %d mnb %d mni %d ssz %d tql %d seg %d\n", info.msgpool, info.msgmap,
	       info.msgmax, info.msgmnb, info.msgmni, info.msgssz, info.msgtql, info.msgseg);
	R(msgctl(id, IPC_INFO, (void *)8));
	struct msqid_ds ds;
	R(msgctl(id % 32768, MSG_STAT, &ds) == id);
	R(msgctl(id % 32768, MSG_STAT_ANY, &ds) == id);

	// Sending.
	R(snd(id, 0, "x", 1, 0));
	R(snd(id, -3, "x", 1, 0));
	R(snd(id, 1, "x", 8193, 0));
	R(syscall(SYS_msgsnd, id, (void *)8, 1, 0));
	R(snd(-1, 1, "x", 1, 0));
	R(snd(id + 1000, 1, "x", 1, 0));
	R(snd(id, 3, "three", 5, 0));
	R(snd(id, 1, "one", 3, 0));
	R(snd(id, 2, "two", 3, 0));
	R(snd(id, 1, "uno", 3, 0));
	R(snd(id, 5, "", 0, 0));
	stat(id);
	// Receiving by type.
	R(rcv(id, 100, 2, 0));
	R(rcv(id, 100, -2, 0));
	R(rcv(id, 100, 1, MSG_EXCEPT));
	R(rcv(id, 100, 7, IPC_NOWAIT));
	R(rcv(id, 100, 1, MSG_COPY | IPC_NOWAIT));
	R(rcv(id, 100, 1, MSG_COPY | IPC_NOWAIT | MSG_EXCEPT));
	R(rcv(id, 100, 0, MSG_COPY));
	R(rcv(id, 100, 5, MSG_COPY | IPC_NOWAIT));
	R(rcv(id, 2, 0, 0));
	R(rcv(id, 2, 0, MSG_NOERROR));
	R(rcv(id, 100, 0, 0));
	R(rcv(id, 100, 0, IPC_NOWAIT));
	R(rcv(id, -1, 0, IPC_NOWAIT));
	R(syscall(SYS_msgrcv, -1, &in, 10, 0, 0));
	R(syscall(SYS_msgrcv, id + 1000, &in, 10, 0, 0));
	R(snd(id, 4, "four", 4, 0));
	R(syscall(SYS_msgrcv, id, (void *)8, 10, 0, 0));
	stat(id);
	// A full queue: 16384 bytes.
	static char big[8192];
	memset(big, 'b', sizeof big);
	R(snd(id, 1, big, 8192, 0));
	R(snd(id, 1, big, 8192, 0));
	R(snd(id, 1, "x", 1, IPC_NOWAIT));
	R(snd(id, 1, "", 0, IPC_NOWAIT));
	// A sender waits for room.
	pid_t c = fork();
	if (c == 0) {
		pause_ms(100);
		_exit(syscall(SYS_msgrcv, id, &in, 9000, 0, 0) != 8192);
	}
	R(snd(id, 1, "late", 4, 0));
	reap(c);
	R(rcv(id, 9000, 0, 0) == 8192);
	R(rcv(id, 100, 0, 0));
	// A receiver waits for a message of its type.
	c = fork();
	if (c == 0) {
		pause_ms(100);
		snd(id, 8, "other", 5, 0);
		_exit(snd(id, 9, "mine", 4, 0) != 0);
	}
	R(rcv(id, 100, 9, 0));
	reap(c);
	R(rcv(id, 100, 0, IPC_NOWAIT));
	// A waiting receiver whose buffer is too small: E2BIG, the message
	// stays.
	c = fork();
	if (c == 0) {
		pause_ms(100);
		_exit(snd(id, 6, "too long", 8, 0) != 0);
	}
	R(rcv(id, 3, 6, 0));
	reap(c);
	R(rcv(id, 100, 0, IPC_NOWAIT));
	R(rcv(id, 100, 0, IPC_NOWAIT));
	// Interrupted by a signal, SA_RESTART or not.
	struct sigaction sa = {0};
	sa.sa_handler = onsig;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	c = fork();
	if (c == 0) {
		pause_ms(100);
		kill(getppid(), SIGUSR1);
		_exit(0);
	}
	R(rcv(id, 100, 0, 0));
	reap(c);
	stat(id);

	// msgctl IPC_SET: a smaller queue.
	msgctl(id, IPC_STAT, &ds);
	ds.msg_perm.mode = 0666;
	ds.msg_qbytes = 100;
	R(msgctl(id, IPC_SET, &ds));
	stat(id);
	R(snd(id, 1, big, 60, IPC_NOWAIT));
	R(snd(id, 1, big, 60, IPC_NOWAIT));
	R(rcv(id, 100, 0, 0));
	R(msgctl(id, IPC_SET, (void *)8));
	ds.msg_perm.uid = -1;
	R(msgctl(id, IPC_SET, &ds));
	ds.msg_perm.uid = geteuid();
	ds.msg_perm.mode = 0600;
	ds.msg_qbytes = 16384;
	R(msgctl(id, IPC_SET, &ds));

	// Another user.
	c = fork();
	if (c == 0) {
		setresgid(1000, 1000, 1000);
		setresuid(1000, 1000, 1000);
		R(msgget(key, 0) == id);
		R(msgget(key, 0400));
		R(snd(id, 1, "x", 1, IPC_NOWAIT));
		R(rcv(id, 100, 0, IPC_NOWAIT));
		R(msgctl(id, IPC_STAT, &ds));
		R(msgctl(id % 32768, MSG_STAT_ANY, &ds) == id);
		R(msgctl(id, IPC_RMID, NULL));
		R(msgctl(id, IPC_SET, &ds));
		_exit(0);
	}
	waitpid(c, NULL, 0);

	// Removal ends a wait with EIDRM.
	c = fork();
	if (c == 0) {
		pause_ms(100);
		_exit(msgctl(id, IPC_RMID, NULL) != 0);
	}
	R(rcv(id, 100, 0, 0));
	reap(c);
	R(msgctl(id, IPC_STAT, &ds));
	R(msgget(key, 0));
	printf("msg: done\n");
	return 0;
}
