// exectext: a program's pages come from its file, copy-on-write. A
// process writing its own text after mprotect, forked or freshly
// exec'd, changes neither the file, its parent, nor the next exec of the
// program; every exec starts with the file's initialised data and a
// zeroed bss (the tail of the data segment's last file page included);
// a read-only page made writable after fork is still the child's own.
// Usage: exectext DIR [check|scribble]
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG 4096UL

// probe sits alone at the start of its page, so that writing to its text
// touches no other code.
__attribute__((noinline, aligned(4096))) int probe(void) { return 1; }

// Called through a volatile pointer, so the compiler cannot know what it
// returns.
static int (*volatile probep)(void) = probe;

int data_word = 41;           // .data, from the file
unsigned char small_bss[64];  // .bss next to .data: its page's tail
unsigned char big_bss[3 * PG]; // .bss pages of their own

static int fails;

static void check(const char *what, long got, long want) {
	printf("%s: %s\n", what, got == want ? "ok" : "FAIL");
	if (got != want) {
		printf("  got %ld want %ld\n", got, want);
		fails++;
	}
}

// filehash is FNV-1a of the program file.
static unsigned long filehash(void) {
	int fd = open("/proc/self/exe", O_RDONLY);
	if (fd < 0)
		return 0;
	unsigned long h = 14695981039346656037UL;
	unsigned char buf[65536];
	ssize_t n;
	while ((n = read(fd, buf, sizeof buf)) > 0)
		for (ssize_t i = 0; i < n; i++)
			h = (h ^ buf[i]) * 1099511628211UL;
	close(fd);
	return h;
}

static long zeros(const unsigned char *p, size_t n) {
	long z = 0;
	for (size_t i = 0; i < n; i++)
		z += p[i] == 0;
	return z;
}

// fresh reports whether this process's text, data and bss are as an
// exec of the file starts them.
static void fresh(const char *who) {
	char what[128];
	snprintf(what, sizeof what, "%s: probe returns the file's 1", who);
	check(what, probep(), 1);
	snprintf(what, sizeof what, "%s: initialised data is the file's", who);
	check(what, data_word, 41);
	snprintf(what, sizeof what, "%s: bss is zero", who);
	check(what, zeros(small_bss, sizeof small_bss) + zeros(big_bss, sizeof big_bss), sizeof small_bss + sizeof big_bss);
}

// scribble writes to this process's text, data and bss.
static void scribble(const char *who) {
	unsigned char *text = (unsigned char *)probe;
	char what[128];
	snprintf(what, sizeof what, "%s: mprotect text writable", who);
	check(what, mprotect((void *)((unsigned long)text & ~(PG - 1)), PG, PROT_READ | PROT_WRITE | PROT_EXEC), 0);
	// probe is "mov $1, %eax; ret" (b8 01 00 00 00 c3): make it return 7.
	snprintf(what, sizeof what, "%s: probe's code is mov $1, %%eax", who);
	check(what, text[0] == 0xb8 && text[1] == 1, 1);
	text[1] = 7;
	snprintf(what, sizeof what, "%s: probe returns 7 after writing its text", who);
	check(what, probep(), 7);
	data_word = 99;
	memset(small_bss, 1, sizeof small_bss);
	memset(big_bss, 1, sizeof big_bss);
}

// written checks that a forked child has its parent's written text.
static void written(const char *who) {
	char what[128];
	snprintf(what, sizeof what, "%s: probe returns the parent's 7", who);
	check(what, probep(), 7);
}

// run forks a child that runs fn, or execs this program in mode if fn is
// NULL, and returns its exit status.
static int run(char **argv, const char *mode, void (*fn)(const char *)) {
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		if (fn) {
			fn("forked child");
			fflush(stdout);
			_exit(fails ? 1 : 0);
		}
		char *args[] = {argv[0], argv[1], (char *)mode, NULL};
		execv("/proc/self/exe", args);
		printf("exec: %s\n", strerror(errno));
		_exit(127);
	}
	int ws;
	if (waitpid(pid, &ws, 0) != pid)
		return -1;
	return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc > 2) {
		if (strcmp(argv[2], "check") == 0)
			fresh("exec'd");
		else
			scribble("exec'd");
		return fails ? 1 : 0;
	}
	unsigned long h0 = filehash();
	check("program file readable", h0 != 0, 1);
	fresh("parent");

	check("forked child writing its text exits 0", run(argv, NULL, scribble), 0);
	fresh("parent after the child wrote");
	for (int i = 0; i < 2; i++) {
		check("exec'd child writing its text exits 0", run(argv, "scribble", NULL), 0);
		check("next exec'd child starts fresh", run(argv, "check", NULL), 0);
	}
	scribble("parent");
	check("exec after the parent wrote its text starts fresh", run(argv, "check", NULL), 0);
	check("forked child sees the parent's written text", run(argv, NULL, written), 0);
	check("program file unchanged", filehash() == h0, 1);

	// A read-only private page, present before fork, made writable in the
	// child: the child's write stays its own.
	unsigned char *ro = mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check("read-only page reads zero", ro[0], 0);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		int ok = mprotect(ro, PG, PROT_READ | PROT_WRITE) == 0;
		if (ok)
			ro[0] = 5;
		_exit(ok && ro[0] == 5 ? 0 : 1);
	}
	int ws;
	waitpid(pid, &ws, 0);
	check("child wrote its read-only page after mprotect", WIFEXITED(ws) ? WEXITSTATUS(ws) : -1, 0);
	check("parent's page unchanged", ro[0], 0);
	printf("exectext: done\n");
	return fails ? 1 : 0;
}
