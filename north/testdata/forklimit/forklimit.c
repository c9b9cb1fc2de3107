// forklimit: forks children that wait until fork fails or 100 exist,
// reports how many it made and the errno, ends and reaps them, and forks
// once more. Inside Cocoon the kernel's address spaces run out first
// (EAGAIN); north/procs_vm_test.go checks that the guest goes on.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	pid_t kids[100];
	int n = 0, err = 0;
	for (; n < 100; n++) {
		pid_t c = fork();
		if (c < 0) {
			err = errno;
			break;
		}
		if (c == 0) {
			for (;;)
				pause();
		}
		kids[n] = c;
	}
	printf("forklimit: forked %d, then %s\n", n, err ? strerrorname_np(err) : "no error");
	for (int i = 0; i < n; i++)
		kill(kids[i], SIGKILL);
	int reaped = 0;
	while (wait(NULL) > 0)
		reaped++;
	printf("forklimit: reaped %d\n", reaped);
	pid_t c = fork();
	if (c == 0)
		_exit(7);
	int st = 0;
	waitpid(c, &st, 0);
	printf("forklimit: fork after reaping: %s\n", c > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 7 ? "ok" : "FAIL");
	return 0;
}
