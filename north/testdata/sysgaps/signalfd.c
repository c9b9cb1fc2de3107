// signalfd: signals read through a signalfd (from kill, sigqueue, tgkill,
// a child's exit, a POSIX timer), its mask changes, readiness for poll
// and epoll, a blocking read woken by another process, and the errors;
// every result printed, for comparison with Linux's.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
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

static pid_t me;

// show prints what a read returned.
static void show(const char *what, const struct signalfd_siginfo *si, long n) {
	printf("-- %s: read %ld%s\n", what, n, n < 0 ? strerrorname_np(errno) : "");
	for (long i = 0; i < n / (long)sizeof *si; i++, si++)
		printf("   signo %u code %d pid %s uid %u fd %d tid %u band %u overrun %u status %d int %d ptr %llu\n",
		       si->ssi_signo, si->ssi_code, si->ssi_pid == (unsigned)me ? "self" : si->ssi_pid ? "other" : "0",
		       si->ssi_uid, si->ssi_fd, si->ssi_tid, si->ssi_band, si->ssi_overrun, si->ssi_status, si->ssi_int,
		       (unsigned long long)si->ssi_ptr);
	fflush(stdout);
}

int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	me = getpid();
	sigset_t all, mask;
	sigemptyset(&all);
	sigaddset(&all, SIGUSR1);
	sigaddset(&all, SIGUSR2);
	sigaddset(&all, SIGCHLD);
	sigaddset(&all, SIGRTMIN);
	sigaddset(&all, SIGRTMIN + 1);
	sigprocmask(SIG_BLOCK, &all, NULL);
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGUSR2);
	int sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	printf("signalfd: %s\n", sfd >= 0 ? "made" : strerror(errno));
	struct signalfd_siginfo si[4];
	long n = read(sfd, si, sizeof si);
	show("nothing pending", si, n);
	kill(me, SIGUSR1);
	n = read(sfd, si, sizeof si);
	show("kill SIGUSR1", si, n);
	kill(me, SIGUSR2);
	kill(me, SIGUSR1);
	n = read(sfd, si, sizeof si[0]);
	show("two pending, room for one", si, n);
	n = read(sfd, si, sizeof si);
	show("the other", si, n);
	R(read(sfd, si, 100));
	syscall(SYS_tgkill, me, syscall(SYS_gettid), SIGUSR2);
	n = read(sfd, si, sizeof si);
	show("tgkill SIGUSR2", si, n);

	// A new mask: SIGRTMIN and SIGCHLD; SIGUSR1 stays pending.
	sigemptyset(&mask);
	sigaddset(&mask, SIGRTMIN);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGKILL);
	R(signalfd(sfd, &mask, 0) == sfd);
	kill(me, SIGUSR1);
	sigqueue(me, SIGRTMIN, (union sigval){.sival_int = 42});
	sigqueue(me, SIGRTMIN, (union sigval){.sival_int = 43});
	n = read(sfd, si, sizeof si);
	show("sigqueue SIGRTMIN twice (SIGUSR1 not in the mask)", si, n);
	pid_t c = fork();
	if (c == 0)
		_exit(7);
	waitpid(c, NULL, __WALL);
	n = read(sfd, si, sizeof si);
	show("a child's exit", si, n);

	// Readiness.
	struct pollfd p = {sfd, POLLIN, 0};
	R(poll(&p, 1, 0));
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN};
	R(epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev));
	R(epoll_wait(ep, &ev, 1, 0));
	sigqueue(me, SIGRTMIN, (union sigval){.sival_int = 1});
	R(poll(&p, 1, 0));
	printf("revents %#x\n", p.revents);
	R(epoll_wait(ep, &ev, 1, 0));
	n = read(sfd, si, sizeof si);
	show("after poll", si, n);
	R(epoll_wait(ep, &ev, 1, 0));

	// A POSIX timer's signal.
	sigemptyset(&mask);
	sigaddset(&mask, SIGRTMIN + 1);
	R(signalfd(sfd, &mask, 0) == sfd);
	timer_t tid;
	struct sigevent sev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGRTMIN + 1};
	sev.sigev_value.sival_int = 7;
	timer_create(CLOCK_MONOTONIC, &sev, &tid);
	struct itimerspec its = {{0, 0}, {0, 1000000}};
	timer_settime(tid, 0, &its, NULL);
	R(poll(&p, 1, -1));
	n = read(sfd, si, sizeof si);
	printf("timer id matches: %d\n", n > 0 && si[0].ssi_tid == (unsigned)(long)tid);
	si[0].ssi_tid = 0;
	show("a timer's expiry", si, n);

	// A blocking signalfd: the read waits for another process's kill.
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR2);
	int bfd = signalfd(-1, &mask, 0);
	c = fork();
	if (c == 0) {
		struct timespec t = {0, 100000000};
		nanosleep(&t, NULL);
		kill(getppid(), SIGUSR2);
		_exit(0);
	}
	n = read(bfd, si, sizeof si);
	si[0].ssi_pid = si[0].ssi_pid == (unsigned)c ? (unsigned)me : 0; // the child: shown as self
	show("blocking read, woken", si, n);
	waitpid(c, NULL, 0);
	n = read(sfd, si, sizeof si);
	show("the child's SIGCHLD is not in the mask", si, n);

	// Errors and the file.
	R(syscall(SYS_signalfd4, -1, &mask, 4, 0));
	R(syscall(SYS_signalfd4, -1, (void *)8, 8, 0));
	R(syscall(SYS_signalfd4, -1, &mask, 8, 1));
	R(syscall(SYS_signalfd4, 0, &mask, 8, 0));
	R(syscall(SYS_signalfd4, -5, &mask, 8, 0));
	R(syscall(SYS_signalfd4, 999, &mask, 8, 0));
	R(syscall(SYS_signalfd, -1, &mask, 8) > 0);
	R(write(sfd, si, sizeof si[0]));
	R(lseek(sfd, 0, SEEK_SET));
	R(fcntl(sfd, F_GETFL) & (O_ACCMODE | O_NONBLOCK));
	R(fcntl(sfd, F_GETFD));
	R(fcntl(bfd, F_GETFL) & (O_ACCMODE | O_NONBLOCK));
	char link[64] = {0}, path[32];
	snprintf(path, sizeof path, "/proc/self/fd/%d", sfd);
	readlink(path, link, sizeof link - 1);
	printf("fd link %s\n", link);
	struct stat st;
	R(fstat(sfd, &st));
	printf("mode %o\n", st.st_mode & 07777);
	printf("signalfd: done\n");
	return 0;
}
