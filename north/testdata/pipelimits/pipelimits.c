// pipelimits: what bounds the memory pipes take, as Linux's fs/pipe.c:
// F_SETPIPE_SZ's rounding and its limits (pipe-max-size without
// CAP_SYS_RESOURCE, EINVAL past 2 GiB, EBUSY below what the pipe holds),
// a large pipe filled and read back, and an unprivileged user's pipes
// past /proc/sys/fs/pipe-user-pages-soft (16384 pages): new pipes and
// FIFOs get two pages, F_SETPIPE_SZ may shrink but not grow them, and
// closing pipes gives the pages back. Run as root; the capability-
// dependent results are checked against the process's own capabilities.
// Usage: pipelimits [scratch-dir]
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

static const char *en(int e) {
	switch (e) {
	case 0: return "0";
	case EPERM: return "EPERM";
	case EINVAL: return "EINVAL";
	case EBUSY: return "EBUSY";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EMFILE: return "EMFILE";
	}
	static char b[32];
	snprintf(b, sizeof b, "errno %d", e);
	return b;
}

// setsz is F_SETPIPE_SZ: the size set, or the errno's name.
static const char *setsz(int fd, unsigned long n) {
	static char b[4][32];
	static int i;
	char *s = b[i++ % 4];
	long r = fcntl(fd, F_SETPIPE_SZ, n);
	if (r < 0)
		snprintf(s, 32, "%s", en(errno));
	else
		snprintf(s, 32, "%ld", r);
	return s;
}

static long getsz(int fd) { return fcntl(fd, F_GETPIPE_SZ); }

// hasCap reports whether capability n is effective (CapEff in
// /proc/self/status).
static int hasCap(int n) {
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	unsigned long long eff = 0;
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	if (f)
		fclose(f);
	return (eff >> n) & 1;
}

static char chunk[65536];

// fill writes 64 KiB chunks to non-blocking fd until EAGAIN; the bytes
// taken, each byte its offset's pattern.
static long fill(int fd) {
	long total = 0;
	for (;;) {
		for (int i = 0; i < (int)sizeof chunk; i++)
			chunk[i] = (char)((total + i) * 7 + 3);
		ssize_t n = write(fd, chunk, sizeof chunk);
		if (n < 0) {
			if (errno != EAGAIN)
				printf("fill: write: %s\n", en(errno));
			return total;
		}
		total += n;
	}
}

// drain reads fd to empty and reports whether every byte was its
// pattern; *got is the count.
static int drain(int fd, long *got) {
	long total = 0;
	int ok = 1;
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof chunk);
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			if (chunk[i] != (char)((total + i) * 7 + 3))
				ok = 0;
		total += n;
	}
	*got = total;
	return ok;
}

static void sysctl(const char *name) {
	char path[128], b[64] = "";
	snprintf(path, sizeof path, "/proc/sys/fs/%s", name);
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, b, sizeof b - 1);
	if (fd >= 0)
		close(fd);
	if (n > 0 && b[n - 1] == '\n')
		b[n - 1] = 0;
	printf("%s: %s\n", name, n < 0 ? "unreadable" : b);
}

static void privileged(void) {
	int p[2];
	pipe2(p, O_NONBLOCK);
	printf("default size: %ld\n", getsz(p[0]));
	const char *a = setsz(p[1], 0), *b = setsz(p[1], 4095), *c = setsz(p[1], 5000), *d = setsz(p[1], 65537);
	printf("F_SETPIPE_SZ 0: %s, 4095: %s, 5000: %s, 65537: %s\n", a, b, c, d);
	a = setsz(p[1], (1ul << 32) + 4096), b = setsz(p[1], (1ul << 31) + 1), c = setsz(p[1], 1 << 20);
	printf("F_SETPIPE_SZ 4 GiB + 4096 (an unsigned int): %s, 2 GiB + 1: %s, 1 MiB: %s\n", a, b, c);
	long got;
	long n = fill(p[1]);
	int nread;
	ioctl(p[0], FIONREAD, &nread);
	printf("1 MiB pipe: took %ld, FIONREAD %d\n", n, nread);
	printf("shrink below its bytes: %s\n", setsz(p[0], 65536));
	int ok = drain(p[0], &got);
	printf("read back %ld, %s; shrink empty: %s\n", got, ok ? "intact" : "CORRUPT", setsz(p[0], 65536));
	// Half full, then moved to a smaller and a larger size: the bytes stay.
	char msg[40000];
	for (int i = 0; i < (int)sizeof msg; i++)
		msg[i] = (char)(i * 13);
	write(p[1], msg, 30000);
	read(p[0], msg, 20000);
	write(p[1], msg, 30000);
	a = setsz(p[0], 131072), b = setsz(p[0], 65536), c = setsz(p[0], 32768);
	ioctl(p[0], FIONREAD, &nread);
	printf("40000 bytes across the ring's end: to 128 KiB %s, to 64 KiB %s, to 32 KiB %s, FIONREAD ", a, b, c);
	char back[40000];
	ssize_t r1 = read(p[0], back, 10000), r2 = read(p[0], back + 10000, 30000);
	int same = r1 == 10000 && r2 == 30000;
	for (int i = 0; same && i < 10000; i++)
		same = back[i] == (char)((i + 20000) * 13);
	for (int i = 0; same && i < 30000; i++)
		same = back[10000 + i] == (char)(i * 13);
	printf("%d, %s\n", nread, same ? "intact" : "CORRUPT");

	// Past pipe-max-size: CAP_SYS_RESOURCE's.
	int res = hasCap(24);
	const char *big = setsz(p[1], 16 << 20);
	int bigok = res ? strcmp(big, "16777216") == 0 : strcmp(big, "EPERM") == 0;
	if (bigok && res) {
		n = fill(p[1]);
		bigok = n == 16 << 20 && drain(p[0], &got) && got == n;
	}
	printf("F_SETPIPE_SZ 16 MiB, filled and read back: %s\n", bigok ? "as CAP_SYS_RESOURCE says" : big);
	close(p[0]);
	close(p[1]);
}

// unprivileged runs as user 12345 without capabilities.
static void unprivileged(const char *fifo) {
	int p[2];
	pipe2(p, O_NONBLOCK);
	const char *a = setsz(p[1], 2 << 20), *b = setsz(p[1], 1 << 20);
	printf("unprivileged: F_SETPIPE_SZ 2 MiB: %s, 1 MiB: %s\n", a, b);
	close(p[0]);
	close(p[1]);
	static int ends[2 * 1100];
	int n = 0, full = 0;
	long small = 0;
	while (n < 1100) {
		if (pipe2(ends + 2 * n, O_NONBLOCK) != 0) {
			printf("pipe %d: %s\n", n + 1, en(errno));
			break;
		}
		long sz = getsz(ends[2 * n]);
		n++;
		if (sz != 65536) {
			small = sz;
			break;
		}
		full++;
	}
	printf("pipes of 64 KiB: %d, then one of %ld\n", full, small);
	int s = ends[2 * n - 1];
	long took = fill(s);
	a = setsz(s, 65536), b = setsz(s, 8192);
	long took2 = fill(s);
	const char *c = setsz(s, 4096), *d = setsz(s, 8192);
	printf("the small one: takes %ld; grow to 64 KiB: %s, set 8 KiB: %s, takes %ld more; shrink to 4 KiB: %s, grow to 8 KiB: %s\n",
		took, a, b, took2, c, d);
	int f = open(fifo, O_RDONLY | O_NONBLOCK);
	int fw = open(fifo, O_WRONLY | O_NONBLOCK);
	printf("a FIFO opened now: %ld, takes %ld\n", f < 0 ? -1L : getsz(f), fw < 0 ? -1L : fill(fw));
	close(f);
	close(fw);
	for (int i = 0; i < 8; i++)
		close(ends[i]);
	int q[2];
	pipe2(q, O_NONBLOCK);
	long sz = getsz(q[0]);
	printf("after closing four: a new pipe of %ld; grow it to 128 KiB: %s\n", sz, setsz(q[0], 131072));
	for (int i = 8; i < 2 * n; i++)
		close(ends[i]);
	close(q[0]);
	close(q[1]);
	pipe2(q, 0);
	sz = getsz(q[0]);
	printf("after closing all: %ld, grow to 1 MiB: %s\n", sz, setsz(q[0], 1 << 20));
}

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IONBF, 0);
	const char *dir = argc > 1 ? argv[1] : "/tmp";
	sysctl("pipe-max-size");
	sysctl("pipe-user-pages-soft");
	sysctl("pipe-user-pages-hard");
	privileged();

	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_max < 2400) {
		rl.rlim_max = 2400;
	}
	rl.rlim_cur = rl.rlim_max > 4096 ? 4096 : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		printf("setrlimit: %s\n", en(errno));
	char fifo[256];
	snprintf(fifo, sizeof fifo, "%s/pipelimits-fifo", dir);
	chmod(dir, 0755);
	unlink(fifo);
	if (mkfifo(fifo, 0666) != 0 || chmod(fifo, 0666) != 0)
		printf("mkfifo: %s\n", en(errno));
	pid_t c = fork();
	if (c == 0) {
		if (setgroups(0, NULL) != 0 || setresgid(12345, 12345, 12345) != 0 ||
			setresuid(12345, 12345, 12345) != 0) {
			printf("dropping root: %s\n", en(errno));
			_exit(1);
		}
		unprivileged(fifo);
		_exit(0);
	}
	int st;
	waitpid(c, &st, 0);
	unlink(fifo);
	printf("pipelimits: done\n");
	return 0;
}
