// procns: /proc/PID/ns: the namespace links, their text and inode
// numbers (the same in every process of a namespace, and the number in
// the text), what opening one gives (a file of nsfs: its inode, mode,
// reads, seeks, the NS_GET_* ioctls) and setns with such a file, for
// each kind. Every result printed, for comparison with Linux's. Run as
// root, in the host's initial namespaces (not in a container: a missing
// prerequisite that fails the comparison), as Cocoon's only ones are:
// the numbers printed are Linux's fixed ones for the initial namespaces
// (include/linux/proc_ns.h PROC_*_INIT_INO).
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define NSIO 0xb7
#define NS_GET_USERNS _IO(NSIO, 0x1)
#define NS_GET_PARENT _IO(NSIO, 0x2)
#define NS_GET_NSTYPE _IO(NSIO, 0x3)
#define NS_GET_OWNER_UID _IO(NSIO, 0x4)

static const char *names[] = {"cgroup", "ipc", "mnt", "net", "pid", "pid_for_children", "time", "time_for_children", "user", "uts"};
#define N (sizeof names / sizeof names[0])

static const char *err(long r) { return r < 0 ? strerrorname_np(errno) : "ok"; }

static void listdir(const char *what, const char *path) {
	DIR *d = opendir(path);
	if (!d) {
		printf("%s: opendir %s\n", what, strerrorname_np(errno));
		return;
	}
	printf("%s:", what);
	struct dirent *e;
	while ((e = readdir(d)))
		printf(" %s(%d)", e->d_name, e->d_type);
	printf("\n");
	closedir(d);
}

static void *thread(void *arg) {
	(void)arg;
	char path[128], a[64], b[64];
	int tid = syscall(SYS_gettid);
	snprintf(path, sizeof path, "/proc/self/task/%d/ns", tid);
	listdir("/proc/self/task/TID/ns", path);
	for (size_t i = 0; i < N; i++) {
		snprintf(path, sizeof path, "/proc/self/task/%d/ns/%s", tid, names[i]);
		long n = readlink(path, a, sizeof a - 1);
		a[n < 0 ? 0 : n] = 0;
		snprintf(path, sizeof path, "/proc/self/ns/%s", names[i]);
		long m = readlink(path, b, sizeof b - 1);
		b[m < 0 ? 0 : m] = 0;
		printf("thread's %s: %s, %s\n", names[i], err(n), n >= 0 && m >= 0 && !strcmp(a, b) ? "the process's" : "differs");
	}
	// With two threads, the time and mount namespaces cannot be joined
	// (timens_install: not single-threaded; mntns_install: the fs_struct
	// is shared).
	int fd = open("/proc/self/ns/time", O_RDONLY);
	printf("two threads: setns(time) %s", err(setns(fd, 0)));
	close(fd);
	fd = open("/proc/self/ns/mnt", O_RDONLY);
	printf(" setns(mnt) %s", err(setns(fd, 0)));
	close(fd);
	fd = open("/proc/self/ns/net", O_RDONLY);
	printf(" setns(net) %s\n", err(setns(fd, 0)));
	close(fd);
	return NULL;
}

int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct stat st;
	long sr = stat("/proc/self/ns", &st);
	printf("stat /proc/self/ns: %s mode %o nlink %ld\n", err(sr), st.st_mode, (long)st.st_nlink);
	listdir("/proc/self/ns", "/proc/self/ns");
	int child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	dev_t nsdev = 0;
	for (size_t i = 0; i < N; i++) {
		char path[128], link[64], other[64];
		snprintf(path, sizeof path, "/proc/self/ns/%s", names[i]);
		long n = readlink(path, link, sizeof link - 1);
		link[n < 0 ? 0 : n] = 0;
		// The initial network and mount namespaces' numbers are fixed
		// only since Linux 6.18: those are not compared.
		char shown[64];
		snprintf(shown, sizeof shown, "%s", link);
		if (!strncmp(link, "net:[", 5) || !strncmp(link, "mnt:[", 5))
			snprintf(shown + 5, sizeof shown - 5, "N]");
		printf("%s: readlink %s %s", names[i], err(n), shown);
		printf(" lstat %s", err(lstat(path, &st)));
		printf(" mode %o size %ld", st.st_mode, (long)st.st_size);
		long r = stat(path, &st);
		char num[32];
		snprintf(num, sizeof num, "[%lu]", (unsigned long)st.st_ino);
		printf(" stat %s mode %o nlink %ld uid %d size %ld ino %s", err(r), st.st_mode, (long)st.st_nlink, st.st_uid, (long)st.st_size, strstr(link, num) ? "the link's number" : "differs");
		if (i == 0)
			nsdev = st.st_dev;
		printf(" dev %s", st.st_dev == nsdev ? "nsfs's" : "differs");
		snprintf(path, sizeof path, "/proc/%d/ns/%s", child, names[i]);
		n = readlink(path, other, sizeof other - 1);
		other[n < 0 ? 0 : n] = 0;
		printf(", child's %s\n", !strcmp(link, other) ? "the same" : other);
		snprintf(path, sizeof path, "/proc/self/ns/%s", names[i]);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			printf("  open: %s\n", strerrorname_np(errno));
			continue;
		}
		struct stat fst;
		fstat(fd, &fst);
		struct statfs sfs;
		fstatfs(fd, &sfs);
		char b[16], fdlink[64];
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		n = readlink(path, fdlink, sizeof fdlink - 1);
		fdlink[n < 0 ? 0 : n] = 0;
		printf("  /proc/self/fd/N: %s\n", !strcmp(fdlink, link) ? "the link's text" : fdlink);
		printf("  open ok: fstat ino %s mode %o; fstatfs magic %lx; read %s",
		       fst.st_ino == st.st_ino ? "the same" : "differs", fst.st_mode, (long)sfs.f_type, err(read(fd, b, sizeof b)));
		printf(" write %s lseek %s\n", err(write(fd, b, 1)), err(lseek(fd, 0, SEEK_SET)));
		printf("  ioctl NS_GET_NSTYPE %lx", (long)ioctl(fd, NS_GET_NSTYPE));
		uid_t uid = 99;
		r = ioctl(fd, NS_GET_OWNER_UID, &uid);
		printf(" NS_GET_OWNER_UID %s %d", err(r), r < 0 ? -1 : (int)uid);
		r = ioctl(fd, NS_GET_PARENT);
		printf(" NS_GET_PARENT %s", err(r));
		if (r >= 0)
			close(r);
		printf(" FIONREAD %s\n", err(ioctl(fd, FIONREAD, &uid)));
		// setns with it: the type given or 0, and another type.
		printf("  setns(fd, 0) %s", err(setns(fd, 0)));
		long type = ioctl(fd, NS_GET_NSTYPE);
		printf(" setns(fd, its type) %s", err(setns(fd, type)));
		printf(" setns(fd, another) %s\n", err(setns(fd, type == CLONE_NEWNET ? CLONE_NEWUTS : CLONE_NEWNET)));
		close(fd);
	}
	// O_PATH: a path, not a file setns takes.
	int fd = open("/proc/self/ns/net", O_PATH);
	printf("O_PATH open %s setns %s\n", err(fd), err(setns(fd, 0)));
	close(fd);
	// A regular file is no namespace.
	fd = open("/proc/self/stat", O_RDONLY);
	printf("setns(a /proc file, 0) %s\n", err(setns(fd, 0)));
	close(fd);
	// A time namespace cannot be joined by a process with threads.
	pthread_t t;
	pthread_create(&t, NULL, thread, NULL);
	pthread_join(t, NULL);
	// A zombie has no namespaces but its pid and user ones.
	kill(child, SIGKILL);
	siginfo_t si;
	waitid(P_PID, child, &si, WEXITED | WNOWAIT);
	for (size_t i = 0; i < N; i++) {
		char path[128], link[64];
		snprintf(path, sizeof path, "/proc/%d/ns/%s", child, names[i]);
		long n = readlink(path, link, sizeof link - 1);
		printf("zombie's %s: readlink %s", names[i], err(n));
		int fd = open(path, O_RDONLY);
		printf(" open %s\n", err(fd));
		if (fd >= 0)
			close(fd);
	}
	waitpid(child, NULL, 0);
	printf("procns: done\n");
	return 0;
}
