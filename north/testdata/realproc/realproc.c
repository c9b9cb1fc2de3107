// realproc: the /proc files programs read about themselves and the
// system beyond /proc/PID/stat and status: /proc/PID/environ (its own,
// rewritten in place, a child's view of its parent's, its mode) and the
// /proc/sys values language runtimes and services read
// (net/core/somaxconn, which Go's net package takes as the listen
// backlog; kernel/ostype; kernel/random/uuid and boot_id). The program
// runs itself again with an environment of its own, so the host's does
// not show. Compared line for line with a native run.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

// slurp reads path into buf (NUL-terminated) and returns its length, or
// -errno.
static int slurp(const char *path, char *buf, int size) {
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	int n = 0, k;
	while (n < size - 1 && (k = read(fd, buf + n, size - 1 - n)) > 0)
		n += k;
	close(fd);
	buf[n] = 0;
	return n;
}

// show prints the NUL-separated strings of buf[:n].
static void show(const char *tag, const char *buf, int n) {
	printf("%s: %d bytes:", tag, n);
	for (int i = 0; i < n; i += strlen(buf + i) + 1)
		printf(" [%s]", buf + i);
	printf("\n");
}

int main(int argc, char **argv) {
	setvbuf(stdout, 0, _IOLBF, 0);
	if (argc < 3) {
		char *env[] = {"A=1", "PATH=/nowhere", "EMPTY=", "LONG=" "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 0};
		char *args[] = {argv[0], argc > 1 ? argv[1] : "/tmp", "again", 0};
		execve("/proc/self/exe", args, env);
		printf("FAIL execve: %s\n", strerror(errno));
		return 1;
	}
	char buf[8192], path[64];
	int n = slurp("/proc/self/environ", buf, sizeof buf);
	show("environ", buf, n);
	// setenv copies to the heap: the strings in place do not change.
	setenv("B", "2", 1);
	n = slurp("/proc/self/environ", buf, sizeof buf);
	show("after setenv", buf, n);
	// A program that rewrites its strings in place (setproctitle) shows.
	environ[0][0] = 'Z';
	n = slurp("/proc/self/environ", buf, sizeof buf);
	show("rewritten", buf, n);
	struct stat st;
	stat("/proc/self/environ", &st);
	printf("mode %o\n", st.st_mode);
	int fd = open("/proc/self/environ", O_RDONLY);
	char small[5] = "";
	printf("read 4: %zd", read(fd, small, 4));
	printf(" [%.4s]", small);
	printf(" lseek %ld", (long)lseek(fd, 10, SEEK_SET));
	printf(" read %zd\n", read(fd, small, 4));
	close(fd);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		snprintf(path, sizeof path, "/proc/%d/environ", parent);
		n = slurp(path, buf, sizeof buf);
		show("parent's, from a child", buf, n);
		_exit(0);
	}
	waitpid(pid, 0, 0);
	// A zombie's is empty.
	pid = fork();
	if (pid == 0)
		_exit(0);
	usleep(1000);
	for (int i = 0; i < 100000; i++) {
		snprintf(path, sizeof path, "/proc/%d/stat", pid);
		n = slurp(path, buf, sizeof buf);
		if (n > 0 && strstr(buf, ") Z "))
			break;
		usleep(1000);
	}
	snprintf(path, sizeof path, "/proc/%d/environ", pid);
	printf("zombie's: %d\n", slurp(path, buf, sizeof buf));
	waitpid(pid, 0, 0);

	n = slurp("/proc/sys/net/core/somaxconn", buf, sizeof buf);
	printf("somaxconn: %s", n > 0 ? buf : "missing\n");
	n = slurp("/proc/sys/kernel/ostype", buf, sizeof buf);
	printf("ostype: %s", n > 0 ? buf : "missing\n");
	char u1[64], u2[64], b1[64], b2[64];
	int l1 = slurp("/proc/sys/kernel/random/uuid", u1, sizeof u1);
	int l2 = slurp("/proc/sys/kernel/random/uuid", u2, sizeof u2);
	int k1 = slurp("/proc/sys/kernel/random/boot_id", b1, sizeof b1);
	int k2 = slurp("/proc/sys/kernel/random/boot_id", b2, sizeof b2);
	// A version 4 UUID: 8-4-4-4-12 hex digits, '4' and one of 89ab.
	int form = l1 == 37 && u1[8] == '-' && u1[13] == '-' && u1[14] == '4' && strchr("89ab", u1[19]) && u1[36] == '\n';
	printf("uuid: %d bytes, form %d, fresh each read %d\n", l1, form, l1 == l2 && strcmp(u1, u2) != 0);
	printf("boot_id: %d bytes, the same each read %d, not a uuid read %d\n", k1, k1 == k2 && strcmp(b1, b2) == 0, strcmp(b1, u1) != 0);
	printf("realproc: done\n");
	return 0;
}
