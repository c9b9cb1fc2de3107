// The limit on the mappings of an address space, vm.max_map_count: a
// mapping cut in two by mprotect, munmap or mmap is one more, refused with
// ENOMEM at the limit (mm/vma.c split_vma, vms_gather_munmap_vmas), and
// mmap refuses a new one once there are more than it (do_mmap). Prints
// relations, not counts, so that a host with another limit prints the same.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static char buf[1 << 16];

// mappings counts the lines of /proc/self/maps but [vsyscall], which is no
// mapping of the address space (gate_vma).
static long mappings(void) {
	FILE *f = fopen("/proc/self/maps", "r");
	if (!f) {
		printf("FAIL open maps: %s\n", strerror(errno));
		exit(1);
	}
	long n = 0;
	while (fgets(buf, sizeof buf, f))
		if (!strstr(buf, "[vsyscall]"))
			n++;
	fclose(f);
	return n;
}

static const char *err(int r) { return r == 0 ? "ok" : strerror(errno); }

int main(void) {
	FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
	long max = 0;
	if (!f || fscanf(f, "%ld", &max) != 1 || max < 1000) {
		printf("FAIL reading /proc/sys/vm/max_map_count\n");
		return 1;
	}
	fclose(f);
	long pg = sysconf(_SC_PAGESIZE), n = max + 100;
	char *base = mmap(NULL, n * pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED) {
		printf("FAIL mmap: %s\n", strerror(errno));
		return 1;
	}
	long before = mappings(), i;
	// Page i of the rest of the mapping gets a protection unlike its
	// neighbours': one cut, one more mapping each time.
	int r = 0;
	for (i = 0; i < n - 4; i++)
		if ((r = mprotect(base + i * pg, pg, i % 2 ? PROT_READ | PROT_EXEC : PROT_NONE)) != 0)
			break;
	long at = mappings();
	printf("mprotect cutting a mapping at the limit: %s\n", err(r));
	printf("mappings then == max_map_count: %s\n", at == max ? "yes" : "no");
	printf("each cut made one: %s\n", at == before + i ? "yes" : "no");
	// Changing a page whose protection stays, or that joins its
	// neighbour, cuts nothing.
	printf("mprotect to the same protection: %s\n", err(mprotect(base + (i - 1) * pg, pg, (i - 1) % 2 ? PROT_READ | PROT_EXEC : PROT_NONE)));
	printf("mprotect joining the page before: %s\n", err(mprotect(base + i * pg, pg, (i - 1) % 2 ? PROT_READ | PROT_EXEC : PROT_NONE)));
	printf("mprotect joining back: %s\n", err(mprotect(base + i * pg, pg, PROT_READ)));
	// munmap of a page inside the rest: a cut.
	printf("munmap cutting a mapping at the limit: %s\n", err(munmap(base + (i + 2) * pg, pg)));
	printf("munmap of a whole mapping: %s\n", err(munmap(base + (i - 1) * pg, pg)));
	printf("mmap MAP_FIXED cutting a mapping at the limit - 1: %s\n",
	       err(mmap(base + (i + 2) * pg, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED));
	printf("mappings == max_map_count + 1: %s\n", mappings() == max + 1 ? "yes" : "no");
	printf("mmap beyond the limit: %s\n", err(mmap(NULL, pg, PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED));
	printf("munmap of that mapping: %s\n", err(munmap(base + (i + 2) * pg, pg)));
	// One more mapping may be made at the limit, none beyond.
	void *a = mmap(NULL, pg, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf("mmap at the limit: %s\n", err(a == MAP_FAILED));
	printf("mmap beyond it: %s\n", err(mmap(NULL, pg, PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED));
	printf("mappings == max_map_count + 1: %s\n", mappings() == max + 1 ? "yes" : "no");
	// A child has them all.
	long parent = mappings();
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		printf("child has the parent's mappings: %s\n", mappings() == parent ? "yes" : "no");
		fflush(stdout);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	printf("child: %s\n", WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "exited 0" : "FAIL");
	munmap(a, pg);
	printf("munmap of it all: %s\n", err(munmap(base, n * pg)));
	printf("mappings back: %s\n", mappings() == before - 1 ? "yes" : "no");
	printf("mapcount: done\n");
	return 0;
}
