// sigretstack: rt_sigreturn applies the alternate stack saved in the
// frame's uc_stack through sigaltstack(2)'s checks (Linux's
// restore_altstack calling do_sigaltstack, kernel/signal.c) and ignores
// their errors. Each case runs in a child that registers stack A, lets a
// handler rewrite uc_stack and return, and prints the stack it ends with;
// the parent prints how the child ended (waitpid). Built with gcc -static
// and run natively and inside Cocoon (north/sigretstack_vm_test.go): both
// runs must print the same lines. Addresses print as names, never numbers.
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif

static char stackA[65536] __attribute__((aligned(16)));
static char stackB[65536] __attribute__((aligned(16)));

struct edit {
	const char *name;
	int onstack;      // run the handler on A (SA_ONSTACK)
	int nested;       // the handler rewrites uc_stack in a nested signal
	void *sp;         // new uc_stack: ss_sp (NULL: keep), ss_flags, ss_size
	unsigned flags;
	size_t size;
	int setflags, setsize, then; // then: raise SIGUSR2 on the result
};

static const struct edit *cur;
static char nestedSeen[128];

static const char *where(void *p) {
	if (p == stackA) return "A";
	if (p == stackB) return "B";
	if (p == NULL) return "NULL";
	return "other";
}

static void describe(char *buf, size_t n) {
	stack_t o;
	if (sigaltstack(NULL, &o) != 0) {
		snprintf(buf, n, "sigaltstack failed");
		return;
	}
	snprintf(buf, n, "sp=%s flags=%#x size=%zu", where(o.ss_sp), (unsigned)o.ss_flags, o.ss_size);
}

static void rewrite(ucontext_t *uc) {
	if (cur->sp) uc->uc_stack.ss_sp = cur->sp;
	if (cur->setflags) uc->uc_stack.ss_flags = cur->flags;
	if (cur->setsize) uc->uc_stack.ss_size = cur->size;
}

static void onUsr2(int sig, siginfo_t *si, void *ctx) {
	(void)sig; (void)si;
	if (cur->nested) rewrite(ctx);
}

static void onUsr1(int sig, siginfo_t *si, void *ctx) {
	(void)sig; (void)si;
	if (cur->nested) {
		raise(SIGUSR2);
		describe(nestedSeen, sizeof nestedSeen);
		return;
	}
	rewrite(ctx);
}

static void child(const struct edit *e) {
	cur = e;
	stack_t ss = {.ss_sp = stackA, .ss_size = sizeof stackA, .ss_flags = 0};
	if (sigaltstack(&ss, NULL) != 0) {
		printf("  sigaltstack A failed\n");
		exit(3);
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = onUsr1;
	sa.sa_flags = SA_SIGINFO | (e->onstack ? SA_ONSTACK : 0);
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_sigaction = onUsr2;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
	sigaction(SIGUSR2, &sa, NULL);
	raise(SIGUSR1);
	char buf[128];
	describe(buf, sizeof buf);
	if (e->nested) printf("  in the handler after the nested return: %s\n", nestedSeen);
	printf("  after sigreturn: %s\n", buf);
	fflush(stdout);
	if (e->then) raise(SIGUSR2); // delivered on the stack now registered
	exit(0);
}

static void run(const struct edit *e) {
	printf("%s\n", e->name);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) child(e);
	int st;
	if (waitpid(pid, &st, 0) != pid) {
		printf("  waitpid failed\n");
		return;
	}
	if (WIFEXITED(st)) printf("  child exited %d\n", WEXITSTATUS(st));
	else if (WIFSIGNALED(st)) printf("  child killed by %s\n", strsignal(WTERMSIG(st)));
	fflush(stdout);
}

int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	static const struct edit edits[] = {
		{.name = "uc_stack unchanged"},
		{.name = "unchanged, handler on A", .onstack = 1},
		{.name = "flags 0x100 (invalid)", .setflags = 1, .flags = 0x100},
		{.name = "flags SS_ONSTACK|SS_DISABLE (invalid)", .setflags = 1, .flags = SS_ONSTACK | SS_DISABLE},
		{.name = "size 100 (below MINSIGSTKSZ)", .setsize = 1, .size = 100},
		{.name = "B, size 2047", .sp = stackB, .setsize = 1, .size = 2047},
		{.name = "B, size 2048", .sp = stackB, .setsize = 1, .size = 2048},
		{.name = "SS_DISABLE, size 100", .setflags = 1, .flags = SS_DISABLE, .setsize = 1, .size = 100},
		{.name = "SS_DISABLE|SS_AUTODISARM", .setflags = 1, .flags = SS_DISABLE | SS_AUTODISARM},
		{.name = "B, SS_ONSTACK", .sp = stackB, .setflags = 1, .flags = SS_ONSTACK},
		{.name = "B, SS_AUTODISARM", .sp = stackB, .setflags = 1, .flags = SS_AUTODISARM},
		{.name = "SS_AUTODISARM, handler on A", .onstack = 1, .setflags = 1, .flags = SS_AUTODISARM},
		{.name = "B, handler on A", .onstack = 1, .sp = stackB},
		{.name = "B from a nested handler while on A", .onstack = 1, .nested = 1, .sp = stackB},
		{.name = "unmapped stack, then a signal on it", .sp = (void *)0x10000, .then = 1},
	};
	for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) run(&edits[i]);

	// sigaltstack(2) itself takes SS_ONSTACK as "enable" and reports 0.
	stack_t ss = {.ss_sp = stackB, .ss_size = sizeof stackB, .ss_flags = SS_ONSTACK};
	int r = sigaltstack(&ss, NULL);
	char buf[128];
	describe(buf, sizeof buf);
	printf("sigaltstack(SS_ONSTACK) = %d: %s\n", r, buf);
	printf("sigretstack: done\n");
	return 0;
}
