// realproc: the /proc files programs read about themselves and the
// system beyond /proc/PID/stat and status: /proc/PID/environ (its own,
// rewritten in place, a child's view of its parent's, its mode) and the
// /proc/PID/auxv (its own against getauxval, its child's, a zombie's), the
// /proc/sys values language runtimes and services read
// (net/core/somaxconn, which Go's net package takes as the listen
// backlog; kernel/ostype; kernel/random/uuid and boot_id), and the
// limits there against what the calls enforce: the ephemeral ports
// bind and connect pick, cap_last_cap, ngroups_max, nr_open, pid_max.
// The program runs itself again with an environment of its own, so the host's does
// not show. Compared line for line with a native run.
#define _GNU_SOURCE // setresgid
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cpuid.h>
#include <grp.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/auxv.h>
#include <sys/socket.h>
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

// sysctl reads the first number of /proc/sys/name, -1 if it cannot.
static long sysctl(const char *name, long *second) {
	char path[128], buf[128];
	snprintf(path, sizeof path, "/proc/sys/%s", name);
	if (slurp(path, buf, sizeof buf) <= 0)
		return -1;
	char *end;
	long v = strtol(buf, &end, 10);
	if (second)
		*second = strtol(end, 0, 10);
	return v;
}

// ephemeral returns the local port the system picked for a socket of
// type typ bound to 127.0.0.1:0 (bind) or, for connect, connected
// unbound to the listener at port.
static int ephemeral(int typ, int connect_to) {
	int fd = socket(AF_INET, typ, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	int r;
	if (connect_to) {
		a.sin_port = htons(connect_to);
		r = connect(fd, (struct sockaddr *)&a, sizeof a);
	} else
		r = bind(fd, (struct sockaddr *)&a, sizeof a);
	if (r < 0 || getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
		printf("FAIL ephemeral: %s\n", strerror(errno));
		return -1;
	}
	close(fd);
	return ntohs(a.sin_port);
}

// limits: what /proc/sys says of the system's limits is what its calls
// enforce (programs read these before they reach them).
static void limits(void) {
	long lo, hi;
	lo = sysctl("net/ipv4/ip_local_port_range", &hi);
	int in[3] = {0, 0, 0}, n = 40;
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	bind(l, (struct sockaddr *)&a, sizeof a);
	listen(l, 64);
	getsockname(l, (struct sockaddr *)&a, &len);
	for (int i = 0; i < n; i++) {
		int p[3] = {ephemeral(SOCK_STREAM, 0), ephemeral(SOCK_DGRAM, 0), ephemeral(SOCK_STREAM, ntohs(a.sin_port))};
		for (int k = 0; k < 3; k++)
			in[k] += p[k] >= lo && p[k] <= hi;
		close(accept(l, 0, 0));
	}
	close(l);
	printf("ip_local_port_range: lo < hi %d; ports picked in it: tcp bind %d/%d, udp bind %d/%d, tcp connect %d/%d\n",
	       lo > 0 && lo < hi, in[0], n, in[1], n, in[2], n);

	long last = sysctl("kernel/cap_last_cap", 0);
	int have = prctl(PR_CAPBSET_READ, last, 0, 0, 0);
	errno = 0;
	int next = prctl(PR_CAPBSET_READ, last + 1, 0, 0, 0);
	// Whether it is in the bounding set is the caller's (a container
	// drops some); that PR_CAPBSET_READ answers is the kernel's.
	printf("cap_last_cap: > 30 %d, PR_CAPBSET_READ answers %d, the next is EINVAL %d\n", last > 30, have == 0 || have == 1,
	       next < 0 && errno == EINVAL);

	long ng = sysctl("kernel/ngroups_max", 0);
	printf("ngroups_max: = sysconf %d\n", ng == sysconf(_SC_NGROUPS_MAX));
	long nr = sysctl("fs/nr_open", 0);
	long pm = sysctl("kernel/pid_max", 0);
	printf("pid_max: >= 32768 %d, above this pid %d\n", pm >= 32768, getpid() < pm);
	printf("entropy_avail %ld poolsize %ld\n", sysctl("kernel/random/entropy_avail", 0), sysctl("kernel/random/poolsize", 0));
	pid_t pid = fork();
	if (pid == 0) {
		// Root may raise its limits up to the sysctls, no further.
		gid_t *g = calloc(ng + 1, sizeof *g);
		int many = setgroups(ng, g);
		errno = 0;
		int more = setgroups(ng + 1, g);
		printf("setgroups: ngroups_max groups %d, one more EINVAL %d\n", many == 0, more < 0 && errno == EINVAL);
		struct rlimit r;
		getrlimit(RLIMIT_NOFILE, &r);
		r.rlim_cur = r.rlim_max;
		int at = r.rlim_max <= nr && setrlimit(RLIMIT_NOFILE, &r) == 0;
		r.rlim_max = nr + 1;
		errno = 0;
		int hard = setrlimit(RLIMIT_NOFILE, &r);
		r.rlim_cur = 1024;
		errno = 0;
		int soft = setrlimit(RLIMIT_NOFILE, &r);
		printf("RLIMIT_NOFILE: the hard limit within nr_open %d, one above it EPERM %d, even with a low soft one %d\n",
		       at, hard < 0 && errno == EPERM, soft < 0 && errno == EPERM);
		_exit(0);
	}
	waitpid(pid, 0, 0);
}

// auxv: /proc/PID/auxv is the vector the loader put on the stack, as
// getauxval sees it, of this image (the program ran itself again: its
// AT_EXECFN is the name execve was given), the same in a forked child,
// which its parent reads; a zombie's does not open (ESRCH).
// ids prints what the vector tells of the credentials against the calls.
static void ids(const char *who) {
	printf("auxv %s: AT_UID is getuid %d, AT_EUID geteuid %d, AT_GID getgid %d, AT_EGID getegid %d (%lu), AT_SECURE %lu\n", who,
	       getauxval(AT_UID) == getuid(), getauxval(AT_EUID) == geteuid(), getauxval(AT_GID) == getgid(),
	       getauxval(AT_EGID) == getegid(), getauxval(AT_EGID), getauxval(AT_SECURE));
}

static void auxv(char *self) {
	unsigned long a[128], c[128];
	int n = slurp("/proc/self/auxv", (char *)a, sizeof a);
	int words = n / 8, bad = 0;
	printf("auxv: whole pairs %d, ends with AT_NULL %d, types:", n > 0 && n % 16 == 0, words >= 2 && a[words - 2] == AT_NULL && a[words - 1] == 0);
	for (int i = 0; i + 1 < words; i += 2) {
		printf(" %lu", a[i]);
		// glibc's getauxval answers AT_HWCAP with its own x86 bits
		// (GLRO(dl_hwcap)); the kernel's is CPUID 1 EDX (ELF_HWCAP).
		unsigned int eax, ebx, ecx, edx = 0;
		__get_cpuid(1, &eax, &ebx, &ecx, &edx);
		unsigned long want = a[i] == AT_HWCAP ? edx : getauxval(a[i]);
		if (a[i] != AT_NULL && want != a[i + 1]) {
			printf("(%#lx, want %#lx)", a[i + 1], want);
			bad++;
		}
		if (a[i] == AT_NULL)
			printf(" (NULL at entry %d of %d)", i / 2, words / 2);
	}
	printf("; differ from getauxval %d\n", bad);
	printf("auxv: AT_EXECFN [%s] AT_PLATFORM [%s] AT_PAGESZ %lu AT_ENTRY is main's image %d\n", (char *)getauxval(AT_EXECFN),
	       (char *)getauxval(AT_PLATFORM), getauxval(AT_PAGESZ), getauxval(AT_PHDR) < (unsigned long)&auxv && getauxval(AT_ENTRY) < (unsigned long)&auxv + (1 << 24));
	struct stat st;
	stat("/proc/self/auxv", &st);
	printf("auxv: mode %o\n", st.st_mode);
	// The vDSO AT_SYSINFO_EHDR points at is [vdso] in maps, with its
	// data page(s) [vvar] (Linux 6.13 on adds [vvar_vclock], not
	// compared). Linux has [vvar] below [vdso], Cocoon above: the lines
	// print in one order.
	FILE *f = fopen("/proc/self/maps", "r");
	char l[512], vdso[128] = "maps: no [vdso]\n", vvar[128] = "maps: no [vvar]\n";
	unsigned long ehdr = getauxval(AT_SYSINFO_EHDR);
	while (f && fgets(l, sizeof l, f)) {
		unsigned long lo, hi;
		char perm[8], name[64] = "";
		if (sscanf(l, "%lx-%lx %7s %*s %*s %*s %63s", &lo, &hi, perm, name) < 3)
			continue;
		int vd = strcmp(name, "[vdso]") == 0;
		if (vd || strcmp(name, "[vvar]") == 0)
			snprintf(vd ? vdso : vvar, sizeof vdso, "maps: %s %s, holds AT_SYSINFO_EHDR %d, an ELF there %d\n", name, perm,
				 lo <= ehdr && ehdr < hi, lo <= ehdr && ehdr < hi && memcmp((void *)ehdr, "\177ELF", 4) == 0);
	}
	if (f)
		fclose(f);
	printf("%s%s", vdso, vvar);
	int p[2];
	pipe(p);
	pid_t pid = fork();
	if (pid == 0) {
		char x;
		close(p[1]);
		read(p[0], &x, 1);
		_exit(0);
	}
	close(p[0]);
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/auxv", pid);
	int k = slurp(path, (char *)c, sizeof c);
	printf("auxv: a child's read by its parent: %d bytes, the parent's %d\n", k, k == n && memcmp(a, c, n) == 0);
	close(p[1]);
	for (int i = 0; i < 100000; i++) {
		char s[512];
		snprintf(path, sizeof path, "/proc/%d/stat", pid);
		int m = slurp(path, s, sizeof s);
		if (m > 0 && strstr(s, ") Z "))
			break;
		usleep(1000);
	}
	snprintf(path, sizeof path, "/proc/%d/auxv", pid);
	k = slurp(path, (char *)c, sizeof c);
	printf("auxv: a zombie's: %s\n", k < 0 ? strerror(-k) : "opened");
	waitpid(pid, 0, 0);
	// A program execed with an effective group not its real one runs
	// in libc's secure mode (commoncap.c: __is_setgid).
	ids("root");
	pid = fork();
	if (pid == 0) {
		if (setresgid(0, 100, 0) < 0)
			printf("FAIL setresgid: %s\n", strerror(errno));
		char *args[] = {self, "/tmp", "again", "ids", 0}, *env[] = {0};
		execve("/proc/self/exe", args, env);
		printf("FAIL execve: %s\n", strerror(errno));
		_exit(1);
	}
	waitpid(pid, 0, 0);
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
	if (argc > 3 && strcmp(argv[3], "ids") == 0) {
		ids("egid 100");
		return 0;
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
	limits();
	auxv(argv[0]);
	printf("realproc: done\n");
	return 0;
}
