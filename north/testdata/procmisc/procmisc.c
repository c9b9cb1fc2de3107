// procmisc: files of /proc that container tools, init systems and
// runtimes read beyond status and maps: /proc/PID/root (where it leads,
// a zombie's), uid_map, gid_map, projid_map and setgroups of the
// initial user namespace (their text, modes and what writes do),
// personality, /proc/swaps's header, and /proc/sys's limits (file-nr,
// the watch limits, tcp_rmem and tcp_wmem). Every result printed, for
// comparison with Linux's. Run as root in the host's initial namespaces.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <elf.h>
#include <link.h>
#include <sys/auxv.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char buf[4096];

static const char *err(long r) { return r < 0 ? strerrorname_np(errno) : "ok"; }

static void cat(const char *path) {
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		printf("%s: %s\n", path, strerrorname_np(errno));
		return;
	}
	long n = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[n < 0 ? 0 : n] = 0;
	printf("%s: %s[%ld bytes]\n", path, n < 0 ? strerrorname_np(errno) : buf, n);
}

static void writeto(const char *path, const char *s) {
	int fd = open(path, O_WRONLY);
	if (fd < 0) {
		printf("write %s: open %s\n", path, strerrorname_np(errno));
		return;
	}
	long n = write(fd, s, strlen(s));
	printf("write %s %s: %s\n", path, s, n < 0 ? strerrorname_np(errno) : n == (long)strlen(s) ? "all" : "part");
	close(fd);
}

// segments checks stat's startcode, endcode, start_data and end_data
// (fields 26, 27, 45, 46) against the program's headers, as
// fs/binfmt_elf.c load_elf_binary computes them.
static void segments(void) {
	const ElfW(Phdr) *ph = (const void *)getauxval(AT_PHDR);
	unsigned long n = getauxval(AT_PHNUM), bias = 0;
	for (unsigned long i = 0; i < n; i++)
		if (ph[i].p_type == PT_PHDR)
			bias = (unsigned long)ph - ph[i].p_vaddr;
	unsigned long sc = ~0UL, ec = 0, sd = 0, ed = 0;
	for (unsigned long i = 0; i < n; i++) {
		if (ph[i].p_type != PT_LOAD)
			continue;
		unsigned long k = ph[i].p_vaddr;
		if ((ph[i].p_flags & PF_X) && k < sc)
			sc = k;
		if (sd < k)
			sd = k;
		k += ph[i].p_filesz;
		if ((ph[i].p_flags & PF_X) && ec < k)
			ec = k;
		if (ed < k)
			ed = k;
	}
	unsigned long want[] = {sc + bias, ec + bias, sd + bias, ed + bias}, got[4] = {0};
	int fd = open("/proc/self/stat", O_RDONLY);
	long r = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[r < 0 ? 0 : r] = 0;
	char *p = strrchr(buf, ')') + 2;
	for (int f = 3, j = 0; f <= 46 && p; f++) {
		if (f == 26 || f == 27 || f == 45 || f == 46)
			got[j++] = strtoul(p, NULL, 10);
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	const char *names[] = {"startcode", "endcode", "start_data", "end_data"};
	for (int j = 0; j < 4; j++)
		printf("stat %s: %s\n", names[j], got[j] == want[j] ? "the program's" : "differs");
}

// readsys reads /proc/sys/NAME into buf; its length, or -1.
static long readsys(const char *name) {
	char path[96];
	snprintf(path, sizeof path, "/proc/sys/%s", name);
	int fd = open(path, O_RDONLY);
	long n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
	if (fd >= 0)
		close(fd);
	buf[n < 0 ? 0 : n] = 0;
	if (n < 0)
		printf("/proc/sys/%s: %s\n", name, strerrorname_np(errno));
	return n;
}

// number reads /proc/sys/NAME as one decimal and a newline (the
// proc_dointvec format); -1 and a line saying so if it is not.
static long long number(const char *name) {
	if (readsys(name) < 0)
		return -1;
	long long v;
	int end = 0;
	if (sscanf(buf, "%lld\n%n", &v, &end) != 1 || end == 0 || buf[end] != 0 || buf[end - 1] != '\n' || v < 0) {
		printf("/proc/sys/%s: not one number: [%s]\n", name, buf);
		return -1;
	}
	return v;
}

// sysfiles: the /proc/sys files of limits that node_exporter, gopsutil
// and client_golang read, in Linux's formats (fs/file_table.c
// proc_nr_files, proc_dointvec and proc_doulongvec_minmax): what must
// agree whatever the machine (file-nr's free field 0, its count within
// file-max, nr_open above RLIMIT_NOFILE's hard limit, Linux's defaults
// of tcp_rmem and tcp_wmem's min and default) printed as it is, what
// the machine sizes (file-max, the watch limits, the buffers' max) only
// as its relation to the rest.
static void sysfiles(void) {
	unsigned long long nr, nfree, fmax;
	int end = 0;
	if (readsys("fs/file-nr") >= 0) {
		if (sscanf(buf, "%llu\t%llu\t%llu\n%n", &nr, &nfree, &fmax, &end) != 3 || end == 0 || buf[end] != 0 || buf[end - 1] != '\n')
			printf("file-nr: not three numbers: [%s]\n", buf);
		else
			printf("file-nr: free %llu, allocated %s, max %s\n", nfree, nr > 0 && nr <= fmax ? "in (0, max]" : "out of (0, max]",
				(unsigned long long)number("fs/file-max") == fmax ? "file-max's" : "not file-max's");
	}
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	long long v = number("fs/nr_open");
	printf("nr_open: %s\n", v >= 1048576 && (unsigned long long)v >= rl.rlim_max ? ">= 1048576 and RLIMIT_NOFILE's hard limit" : "too small");
	v = number("fs/epoll/max_user_watches");
	printf("epoll/max_user_watches: %s\n", v > 0 ? "positive" : "not positive");
	v = number("fs/inotify/max_user_watches");
	printf("inotify/max_user_watches: %s\n", v >= 8192 ? ">= 8192" : "< 8192");
	v = number("fs/inotify/max_user_instances");
	printf("inotify/max_user_instances: %s\n", v > 0 ? "positive" : "not positive");
	v = number("fs/inotify/max_queued_events");
	printf("inotify/max_queued_events: %s\n", v > 0 ? "positive" : "not positive");
	for (const char *const *f = (const char *const[]){"net/ipv4/tcp_rmem", "net/ipv4/tcp_wmem", NULL}; *f; f++) {
		if (readsys(*f) < 0)
			continue;
		unsigned long long lo, def, hi;
		end = 0;
		if (sscanf(buf, "%llu\t%llu\t%llu\n%n", &lo, &def, &hi, &end) != 3 || end == 0 || buf[end] != 0 || buf[end - 1] != '\n')
			printf("%s: not three numbers: [%s]\n", *f, buf);
		else
			printf("%s: %llu %llu, max %s\n", *f, lo, def, hi >= def ? ">= default" : "< default");
	}
}

static void mode(const char *path) {
	struct stat st;
	long r = lstat(path, &st);
	printf("%s: lstat %s mode %o\n", path, err(r), r ? 0 : st.st_mode);
}

int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	char link[256];
	long n = readlink("/proc/self/root", link, sizeof link - 1);
	link[n < 0 ? 0 : n] = 0;
	printf("readlink /proc/self/root: %s %s\n", err(n), link);
	mode("/proc/self/root");
	struct stat a, b;
	stat("/", &a);
	long r = stat("/proc/self/root", &b);
	printf("stat /proc/self/root: %s, %s\n", err(r), a.st_ino == b.st_ino && a.st_dev == b.st_dev ? "the root" : "not the root");
	r = stat("/proc/self/root/proc/self/root", &b);
	printf("stat /proc/self/root/proc/self/root: %s\n", err(r));
	snprintf(link, sizeof link, "/proc/self/task/%d/root", getpid());
	n = readlink(link, buf, sizeof buf);
	printf("readlink /proc/self/task/TID/root: %s\n", err(n));
	for (const char *const *f = (const char *const[]){"uid_map", "gid_map", "projid_map", "setgroups", NULL}; *f; f++) {
		char path[64];
		snprintf(path, sizeof path, "/proc/self/%s", *f);
		cat(path);
		mode(path);
	}
	writeto("/proc/self/uid_map", "0 0 1\n");
	writeto("/proc/self/gid_map", "0 0 1\n");
	writeto("/proc/self/setgroups", "allow\n");
	writeto("/proc/self/setgroups", "allow");
	writeto("/proc/self/setgroups", "deny");
	writeto("/proc/self/setgroups", "maybe");
	writeto("/proc/self/setgroups", "allowx");
	personality(PER_LINUX);
	cat("/proc/self/personality");
	mode("/proc/self/personality");
	personality(PER_LINUX | ADDR_NO_RANDOMIZE);
	cat("/proc/self/personality");
	personality(PER_LINUX);
	// Only the header: the host may have swap.
	int sw = open("/proc/swaps", O_RDONLY);
	n = read(sw, buf, sizeof buf - 1);
	close(sw);
	buf[n < 0 ? 0 : n] = 0;
	*strchrnul(buf, '\n') = 0;
	printf("/proc/swaps: %s\n", buf);
	mode("/proc/swaps");
	segments();
	sysfiles();
	// A zombie has no root, but still its maps.
	int c = fork();
	if (c == 0)
		_exit(0);
	siginfo_t si;
	waitid(P_PID, c, &si, WEXITED | WNOWAIT);
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/root", c);
	n = readlink(path, link, sizeof link);
	printf("zombie's root: readlink %s", err(n));
	printf(" stat %s\n", err(stat(path, &b)));
	snprintf(path, sizeof path, "/proc/%d/uid_map", c);
	int fd = open(path, O_RDONLY);
	n = fd < 0 ? -1 : read(fd, buf, sizeof buf);
	printf("zombie's uid_map: %s\n", err(n));
	snprintf(path, sizeof path, "/proc/%d/personality", c);
	fd = open(path, O_RDONLY);
	n = fd < 0 ? -1 : read(fd, buf, sizeof buf);
	printf("zombie's personality: %s\n", err(n));
	waitpid(c, NULL, 0);
	printf("procmisc: done\n");
	return 0;
}
