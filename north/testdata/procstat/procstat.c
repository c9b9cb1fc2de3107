// procstat: /proc/self/status, stat, statm and limits as ps, top,
// monitoring agents and runtimes parse them: the names of status's lines
// in order (a live process and a zombie), the values that do not depend
// on the machine, and how the sizes agree with each other. Every state it
// prints is set up here (umask, the descriptor table's room, the limits),
// not inherited from whoever started it.
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <signal.h>
#include <errno.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

static char buf[1 << 16];

static char *slurp(const char *path) {
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		printf("FAIL open %s\n", path);
		exit(1);
	}
	size_t n = 0;
	ssize_t r;
	while ((r = read(fd, buf + n, sizeof buf - 1 - n)) > 0)
		n += r;
	buf[n] = 0;
	close(fd);
	return buf;
}

// field returns the text after "name:\t" in status text s, up to the
// line's end, in out.
static const char *field(const char *s, const char *name, char *out, size_t len) {
	char key[64];
	snprintf(key, sizeof key, "\n%s:\t", name);
	const char *p = strstr(s, key);
	if (p == NULL && strncmp(s, key + 1, strlen(key + 1)) == 0)
		p = s - 1;
	if (p == NULL) {
		snprintf(out, len, "(missing)");
		return out;
	}
	p += strlen(key);
	size_t i = 0;
	while (p[i] && p[i] != '\n' && i < len - 1) {
		out[i] = p[i];
		i++;
	}
	out[i] = 0;
	return out;
}

static unsigned long kb(const char *s, const char *name) {
	char v[64];
	return strtoul(field(s, name, v, sizeof v), NULL, 10);
}

// names prints the names of status text s's lines, in order.
static void names(const char *what, const char *s) {
	printf("%s:", what);
	for (const char *p = s; *p;) {
		const char *colon = strchr(p, ':'), *nl = strchr(p, '\n');
		if (colon == NULL || nl == NULL)
			break;
		printf(" %.*s", (int)(colon - p), p);
		p = nl + 1;
	}
	printf("\n");
}

static const int lims[][3] = {
	{RLIMIT_CPU, 1000, 2000},
	{RLIMIT_FSIZE, 1 << 30, 1 << 30},
	{RLIMIT_CORE, 0, 0},
	{RLIMIT_STACK, 8 << 20, 16 << 20},
	{RLIMIT_NPROC, 500, 600},
	{RLIMIT_NOFILE, 1000, 1000},
	{RLIMIT_MEMLOCK, 65536, 65536},
	{RLIMIT_LOCKS, 100, 200},
	{RLIMIT_SIGPENDING, 700, 800},
	{RLIMIT_MSGQUEUE, 8192, 8192},
	{RLIMIT_NICE, 0, 0},
	{RLIMIT_RTPRIO, 0, 0},
	{RLIMIT_RTTIME, 5000, 6000},
};

int main(int argc, char **argv) {
	char v[4096];
	umask(027);
	// SigIgn: no signal ignored but what this program ignores, whatever
	// the caller ignored (nohup's SIGHUP, a runner's own), which execve
	// passes on. Raw rt_sigaction: glibc refuses 32 and 33.
	for (int sig = 1; sig <= 64; sig++) {
		struct { void *handler; unsigned long flags; void *restorer; unsigned long mask; } act;
		if (syscall(SYS_rt_sigaction, sig, NULL, &act, 8) == 0 && act.handler == SIG_IGN) {
			act.handler = SIG_DFL;
			syscall(SYS_rt_sigaction, sig, &act, NULL, 8);
		}
	}
	// The table's room: 512 once a descriptor past 256 is open, whatever
	// the caller left open below it.
	if (dup2(1, 300) != 300)
		printf("FAIL dup2\n");
	for (size_t i = 0; i < sizeof lims / sizeof lims[0]; i++) {
		struct rlimit r = {lims[i][1], lims[i][2]};
		if (setrlimit(lims[i][0], &r) != 0)
			printf("FAIL setrlimit %d\n", lims[i][0]);
	}
	struct rlimit inf = {RLIM_INFINITY, RLIM_INFINITY};
	setrlimit(RLIMIT_DATA, &inf);
	setrlimit(RLIMIT_AS, &inf);
	setrlimit(RLIMIT_RSS, &inf);

	// VmPeak keeps the size before an munmap.
	size_t big = 64 << 20;
	void *m = mmap(NULL, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(m, big);

	// VmLck counts what mlock, mlock2(MLOCK_ONFAULT), MAP_LOCKED and
	// mlockall(MCL_FUTURE) lock, until munlock, munlockall or munmap.
	long pg = getpagesize();
	char *l = mmap(NULL, 16 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf("VmLck at the start: %lu\n", kb(slurp("/proc/self/status"), "VmLck"));
	mlock(l + pg, 3 * pg);
	printf("VmLck after mlock of 3 pages: %lu\n", kb(slurp("/proc/self/status"), "VmLck"));
	mlock(l + 2 * pg, 3 * pg);
	printf("VmLck after mlock of 3 pages, 2 of them locked: %lu\n", kb(slurp("/proc/self/status"), "VmLck"));
	munlock(l + 3 * pg, pg);
	printf("VmLck after munlock of 1: %lu\n", kb(slurp("/proc/self/status"), "VmLck"));
	mlock2(l + 10 * pg, 2 * pg, MLOCK_ONFAULT);
	printf("VmLck after mlock2 ONFAULT of 2: %lu\n", kb(slurp("/proc/self/status"), "VmLck"));
	munmap(l, 16 * pg);
	printf("VmLck after munmap: %lu\n", kb(slurp("/proc/self/status"), "VmLck"));
	l = mmap(NULL, 4 * pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
	printf("VmLck after MAP_LOCKED of 4: %lu\n", kb(slurp("/proc/self/status"), "VmLck"));
	mlockall(MCL_FUTURE);
	char *l2 = mmap(NULL, 2 * pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf("VmLck after MCL_FUTURE and a mapping of 2: %lu\n", kb(slurp("/proc/self/status"), "VmLck"));
	munlockall();
	printf("VmLck after munlockall: %lu\n", kb(slurp("/proc/self/status"), "VmLck"));
	// mlockall(MCL_CURRENT) as root locks every mapping and makes the
	// accessible pages present, whatever RLIMIT_MEMLOCK says.
	printf("mlockall(MCL_CURRENT): %d\n", mlockall(MCL_CURRENT) == 0 ? 0 : errno);
	printf("VmLck after MCL_CURRENT covers the mappings: %d\n",
	       kb(slurp("/proc/self/status"), "VmLck") >= 6 * pg / 1024);
	munlockall();
	munmap(l, 4 * pg);
	munmap(l2, 2 * pg);

	// Without CAP_IPC_LOCK, RLIMIT_MEMLOCK (16 pages here) bounds what
	// is locked: mlock ENOMEM past it, EPERM with a limit of 0, and a
	// MAP_LOCKED mapping EAGAIN.
	struct __user_cap_header_struct { unsigned version; int pid; } ch = {0x20080522, 0};
	struct __user_cap_data_struct { unsigned effective, permitted, inheritable; } cd[2];
	syscall(SYS_capget, &ch, cd);
	unsigned saved = cd[0].effective;
	cd[0].effective &= ~(1u << 14);
	if (syscall(SYS_capset, &ch, cd) != 0)
		printf("FAIL capset\n");
	l = mmap(NULL, 20 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf("mlock of 12 pages: %d\n", mlock(l, 12 * pg) == 0 ? 0 : errno);
	printf("mlock of 6 more pages: %d\n", mlock(l + 12 * pg, 6 * pg) == 0 ? 0 : errno);
	printf("mlock of 4 more pages, 2 of them locked: %d\n", mlock(l + 10 * pg, 4 * pg) == 0 ? 0 : errno);
	void *ml = mmap(NULL, 4 * pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
	printf("MAP_LOCKED of 4 pages past the limit: %d\n", ml == MAP_FAILED ? errno : 0);
	printf("mlockall(MCL_CURRENT) past the limit: %d\n", mlockall(MCL_CURRENT) == 0 ? 0 : errno);
	printf("VmLck: %lu\n", kb(slurp("/proc/self/status"), "VmLck"));
	struct rlimit zero = {0, 65536};
	setrlimit(RLIMIT_MEMLOCK, &zero);
	printf("mlock with a limit of 0: %d\n", mlock(l + 15 * pg, pg) == 0 ? 0 : errno);
	zero.rlim_cur = 65536;
	setrlimit(RLIMIT_MEMLOCK, &zero);
	munmap(l, 20 * pg);
	cd[0].effective = saved;
	syscall(SYS_capset, &ch, cd);

	char *s = strdup(slurp("/proc/self/status"));
	names("status", s);
	const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	printf("Name is the program's: %d\n", strncmp(field(s, "Name", v, sizeof v), base, 15) == 0);
	const char *same[] = {"Umask", "State", "Ngid", "TracerPid", "FDSize", "Kthread", "VmLck",
		"VmPin", "VmSwap", "HugetlbPages", "CoreDumping", "untag_mask", "Threads", "SigPnd",
		"ShdPnd", "SigBlk", "SigIgn", "SigCgt", "NoNewPrivs", "Seccomp", "Seccomp_filters",
		"Mems_allowed_list"};
	for (size_t i = 0; i < sizeof same / sizeof same[0]; i++)
		printf("%s: %s\n", same[i], field(s, same[i], v, sizeof v));
	// SigQ counts the signals queued to the user's every process: only
	// the limit is this process's.
	printf("SigQ's limit: %s\n", strchr(field(s, "SigQ", v, sizeof v), '/'));
	printf("Tgid and Pid are getpid: %d %d\n", atoi(field(s, "Tgid", v, sizeof v)) == getpid(),
		atoi(field(s, "Pid", v, sizeof v)) == getpid());
	printf("PPid is getppid: %d\n", atoi(field(s, "PPid", v, sizeof v)) == getppid());
	printf("NStgid NSpid NSpgid NSsid: %d %d %d %d\n", atoi(field(s, "NStgid", v, sizeof v)) == getpid(),
		atoi(field(s, "NSpid", v, sizeof v)) == getpid(), atoi(field(s, "NSpgid", v, sizeof v)) == getpgrp(),
		atoi(field(s, "NSsid", v, sizeof v)) == getsid(0));
	unsigned long size = kb(s, "VmSize"), peak = kb(s, "VmPeak");
	printf("VmPeak >= VmSize + the unmapped 64 MiB: %d\n", peak >= size + (big >> 10));
	printf("VmHWM >= VmRSS > 0: %d\n", kb(s, "VmHWM") >= kb(s, "VmRSS") && kb(s, "VmRSS") > 0);
	printf("RssAnon + RssFile + RssShmem = VmRSS: %d\n",
		kb(s, "RssAnon") + kb(s, "RssFile") + kb(s, "RssShmem") == kb(s, "VmRSS"));
	printf("VmData VmStk VmExe VmPTE > 0: %d %d %d %d\n", kb(s, "VmData") > 0, kb(s, "VmStk") > 0,
		kb(s, "VmExe") > 0, kb(s, "VmPTE") > 0);
	printf("VmExe + VmLib + VmData + VmStk <= VmSize: %d\n",
		kb(s, "VmExe") + kb(s, "VmLib") + kb(s, "VmData") + kb(s, "VmStk") <= size);
	printf("Cpus_allowed_list names CPU 0: %d\n", field(s, "Cpus_allowed_list", v, sizeof v)[0] == '0');

	// statm, in pages, as status counts them.
	unsigned long st[7];
	slurp("/proc/self/statm");
	int n = sscanf(buf, "%lu %lu %lu %lu %lu %lu %lu", &st[0], &st[1], &st[2], &st[3], &st[4], &st[5], &st[6]);
	unsigned long pk = getpagesize() / 1024;
	s = strdup(slurp("/proc/self/status"));
	printf("statm: %d fields, lib %lu dt %lu\n", n, st[4], st[6]);
	printf("statm size = VmSize, text = VmExe, data = VmData + VmStk: %d %d %d\n", st[0] * pk == kb(s, "VmSize"),
		st[3] * pk == kb(s, "VmExe"), st[5] * pk == kb(s, "VmData") + kb(s, "VmStk"));
	printf("statm shared <= resident: %d\n", st[2] <= st[1]);

	// stat: 52 fields; the sizes and addresses agree with status's.
	slurp("/proc/self/stat");
	char *p = strrchr(buf, ')') + 2;
	unsigned long f[64] = {0};
	int nf = 2;
	for (char *tok = strtok(p, " \n"); tok != NULL; tok = strtok(NULL, " \n")) {
		nf++;
		if (nf < 64)
			f[nf] = strtoul(tok, NULL, 10);
	}
	printf("stat: %d fields\n", nf);
	printf("stat vsize = VmSize: %d\n", f[23] / 1024 == kb(s, "VmSize"));
	printf("stat rss > 0, rsslim unlimited: %d %d\n", f[24] > 0, f[25] == (unsigned long)-1);
	printf("stat startcode <= main < endcode: %d\n", f[26] <= (unsigned long)main && (unsigned long)main < f[27]);
	printf("stat startstack is where argc was: %d\n", f[28] + 8 == (unsigned long)argv);
	printf("stat kstkesp kstkeip: %lu %lu\n", f[29], f[30]);
	printf("stat arg_start is argv[0], arg_end ends argv[argc-1], env_start is arg_end, env_end >= env_start: %d %d %d %d\n",
		f[48] == (unsigned long)argv[0], f[49] == (unsigned long)argv[argc - 1] + strlen(argv[argc - 1]) + 1,
		f[50] == f[49], f[51] >= f[50]);

	slurp("/proc/self/limits");
	printf("%s", buf);

	// io: the reads and writes counted between two reads of it (the
	// first read of it counted in the second).
	{
		char path[4096];
		snprintf(path, sizeof path, "%s/procstat-io", argc > 1 ? argv[1] : "/tmp");
		static char data[10000];
		int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
		long io1[4], io2[4];
		const char *keys[] = {"rchar: ", "wchar: ", "syscr: ", "syscw: "};
		slurp("/proc/self/io");
		for (int i = 0; i < 4; i++)
			io1[i] = atol(strstr(buf, keys[i]) + strlen(keys[i]));
		size_t iolen = strlen(buf);
		ssize_t w = write(fd, data, sizeof data);
		w += pwrite(fd, data, 100, 50);
		lseek(fd, 0, SEEK_SET);
		ssize_t r = 0, got;
		while ((got = read(fd, data, 4096)) > 0)
			r += got;
		r += pread(fd, data, 10, 9995);
		read(-1, data, 1); // EBADF: not counted
		slurp("/proc/self/io");
		for (int i = 0; i < 4; i++)
			io2[i] = atol(strstr(buf, keys[i]) + strlen(keys[i]));
		printf("io: rchar less io's text +%ld (read %zd) wchar +%ld (wrote %zd) syscr +%ld syscw +%ld\n",
			io2[0] - io1[0] - (long)iolen, r, io2[1] - io1[1], w, io2[2] - io1[2], io2[3] - io1[3]);
		names("io", buf);
		close(fd);
		unlink(path);
	}

	// A zombie has no umask, descriptors or memory.
	pid_t c = fork();
	if (c == 0)
		_exit(3);
	siginfo_t si;
	waitid(P_PID, c, &si, WEXITED | WNOWAIT);
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/status", c);
	s = strdup(slurp(path));
	names("zombie status", s);
	printf("zombie State FDSize: %s %s\n", field(s, "State", v, sizeof v), field(s, "FDSize", v + 100, 100));
	snprintf(path, sizeof path, "/proc/%d/statm", c);
	printf("zombie statm: %s", slurp(path));
	waitpid(c, NULL, 0);
	printf("procstat: done\n");
	return 0;
}
