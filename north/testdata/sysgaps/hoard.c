// hoard: System V IPC objects made until the kernel refuses (argument
// "sem": semaphore sets of SEMMSL semaphores, each with a SEM_UNDO
// array; "msg": messages in queues whose limit root raised). Each ends
// in ENOMEM, or in the out-of-memory kill, as on Linux, whose semaphore
// arrays and messages are memory charged to the process; the kernel
// lives. Not for a native run: it would take gigabytes there.
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	int sets = 0, e = 0;
	int sem = argc > 1 && strcmp(argv[1], "sem") == 0;
	for (; sem;) {
		int id = semget(IPC_PRIVATE, 32000, 0600);
		if (id < 0) {
			e = errno;
			break;
		}
		struct sembuf op = {31999, 1, SEM_UNDO};
		if (semop(id, &op, 1) < 0) {
			e = errno;
			break;
		}
		sets++;
	}
	if (sem) {
		printf("semaphore sets: %s after some %d\n", strerrorname_np(e), sets > 10);
		printf("hoard: done\n");
		return 0;
	}
	long msgs = 0;
	static struct {
		long type;
		char text[8192];
	} m = {1, {0}};
	for (int q = 0; q < 32000; q++) {
		int id = msgget(IPC_PRIVATE, 0600);
		if (id < 0) {
			e = errno;
			break;
		}
		struct msqid_ds ds;
		msgctl(id, IPC_STAT, &ds);
		ds.msg_qbytes = 1 << 30;
		msgctl(id, IPC_SET, &ds);
		int i;
		for (i = 0; i < 100000; i++) {
			if (msgsnd(id, &m, sizeof m.text, IPC_NOWAIT) < 0)
				break;
			msgs++;
		}
		if (i < 100000) {
			e = errno;
			break;
		}
	}
	printf("messages: %s after some %d\n", strerrorname_np(e), msgs > 10);
	printf("hoard: done\n");
	return 0;
}
