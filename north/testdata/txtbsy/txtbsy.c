// txtbsy: which of writing a running program and running a program open
// for writing fail with ETXTBSY (execve(2), open(2)). Linux decides by
// the file's count of writers and executors (deny_write_access): the
// answers changed in Linux 6.11 and the differential test asks the host.
// Usage: txtbsy DIR [child|exit]
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *ename(int e) {
	switch (e) {
	case 0: return "ok";
	case ETXTBSY: return "ETXTBSY";
	case EACCES: return "EACCES";
	case ENOENT: return "ENOENT";
	case EPERM: return "EPERM";
	default: return strerror(e);
	}
}

// copyself writes this program's file to path through fd (left open) and
// returns fd.
static int copyself(const char *path) {
	int in = open("/proc/self/exe", O_RDONLY);
	int out = open(path, O_RDWR | O_CREAT | O_TRUNC, 0755);
	if (in < 0 || out < 0) {
		printf("copy to %s: FAIL %s\n", path, ename(errno));
		exit(1);
	}
	char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof buf)) > 0)
		if (write(out, buf, n) != n) {
			printf("copy: FAIL short write\n");
			exit(1);
		}
	close(in);
	return out;
}

static int result(int r) { return r < 0 ? errno : 0; }

// execwhilerunning runs path as "path DIR child" and, while it runs,
// opens it for writing. The child says it runs with a byte on fd 10 and
// exits when the parent closes the other end of fd 11.
static void execwhilerunning(const char *dir, const char *path) {
	int ready[2], hold[2];
	if (pipe(ready) || pipe(hold)) {
		printf("pipe: FAIL\n");
		exit(1);
	}
	pid_t pid = fork();
	if (pid == 0) {
		close(ready[0]);
		close(hold[1]);
		dup2(ready[1], 10);
		dup2(hold[0], 11);
		execl(path, path, dir, "child", (char *)NULL);
		_exit(127);
	}
	close(ready[1]);
	close(hold[0]);
	char c;
	if (read(ready[0], &c, 1) != 1) {
		printf("child did not start: FAIL\n");
		exit(1);
	}
	int fd = open(path, O_WRONLY);
	printf("open O_WRONLY of a running program: %s\n", ename(result(fd)));
	if (fd >= 0)
		close(fd);
	fd = open(path, O_RDWR);
	printf("open O_RDWR of a running program: %s\n", ename(result(fd)));
	if (fd >= 0)
		close(fd);
	fd = open(path, O_RDONLY);
	printf("open O_RDONLY of a running program: %s\n", ename(result(fd)));
	if (fd >= 0)
		close(fd);
	int r = truncate(path, 0);
	printf("truncate of a running program: %s\n", ename(result(r)));
	close(hold[1]);
	int st;
	waitpid(pid, &st, 0);
	printf("child exit: %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	// Once it exits, the file is writable again.
	fd = open(path, O_WRONLY);
	printf("open O_WRONLY after the program exits: %s\n", ename(result(fd)));
	if (fd >= 0)
		close(fd);
}

// tryexec forks a child that execs path and reports what execve returned
// (or that the exec succeeded: the new program exits 0 at once).
static void tryexec(const char *what, const char *dir, const char *path) {
	int p[2];
	if (pipe2(p, O_CLOEXEC)) {
		printf("pipe: FAIL\n");
		exit(1);
	}
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		execl(path, path, dir, "exit", (char *)NULL);
		int e = errno;
		if (write(p[1], &e, sizeof e) != sizeof e)
			_exit(126);
		_exit(127);
	}
	close(p[1]);
	int e = 0;
	ssize_t n = read(p[0], &e, sizeof e);
	close(p[0]);
	int st;
	waitpid(pid, &st, 0);
	printf("%s: %s (exit %d)\n", what, n == sizeof e ? ename(e) : "ok",
	       WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc < 2) {
		fprintf(stderr, "usage: txtbsy DIR\n");
		return 2;
	}
	const char *dir = argv[1];
	if (argc > 2 && strcmp(argv[2], "exit") == 0)
		return 0;
	if (argc > 2 && strcmp(argv[2], "child") == 0) {
		char c = 1, d;
		if (write(10, &c, 1) != 1)
			return 3;
		close(10);
		// Wait for the parent to close its end of the hold pipe.
		while (read(11, &d, 1) > 0)
			;
		return 0;
	}
	char a[4096], b[4096];
	snprintf(a, sizeof a, "%s/txtbsy-a", dir);
	snprintf(b, sizeof b, "%s/txtbsy-b", dir);

	// (a) Writing a running program.
	close(copyself(a));
	execwhilerunning(dir, a);

	// (b) Running a program still open for writing.
	int fd = copyself(b);
	tryexec("execve of a file open for writing", dir, b);
	int ro = open(b, O_RDONLY);
	tryexec("execve with a writer and a reader open", dir, b);
	close(ro);
	// A writer in a child (inherited by fork) counts the same.
	pid_t pid = fork();
	if (pid == 0) {
		close(fd);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	tryexec("execve after a child closes its copy of the writer", dir, b);
	int fd2 = dup(fd);
	close(fd);
	tryexec("execve with a dup of the writer open", dir, b);

	// (c) The same with every writer closed.
	close(fd2);
	tryexec("execve after the writer closes", dir, b);

	printf("txtbsy: done\n");
	return 0;
}
