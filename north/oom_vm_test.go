package north_test

// Out of memory, the Linux way: every way a program can run out of
// memory ends with the program getting ENOMEM or ENOSPC, or killed by
// SIGKILL (status 137) with a line saying it ran out of memory; never
// with a kernel fault.

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

// oomModes are north/testdata/oom's ways of running out of memory and
// the outcomes Linux allows for each: the end of what the program
// prints, "killed" for the out-of-memory kill, or "killed after OUTPUT"
// for the kill after printing exactly OUTPUT. A mode may start with
// kernel command-line words.
var oomModes = []struct {
	mode string
	want []string
}{
	{"anon", []string{"killed"}},
	{"bigmap", []string{"bigmap: Cannot allocate memory\nbigmap PROT_NONE reservation: mapped\n"}},
	{"overcommit", []string{"overcommit: policy 0\novercommit: mmap: Cannot allocate memory\n"}},
	// vm.overcommit_memory=1: the mapping is made, and touching it all
	// ends in the out-of-memory kill.
	{"sysctl.vm.overcommit_memory=1 overcommit", []string{"killed after overcommit: policy 1\novercommit: mapped\n"}},
	{"tmpfs", []string{"tmpfs: write: No space left on device\ntmpfs: recovered\n"}},
	{"files", []string{"files: open: No space left on device\nfiles: room after unlinking\n"}},
	{"fallocate", []string{"fallocate: No space left on device\nfallocate: file kept, size 4\nfallocate: room after the failed call\n"}},
	{"filemap", []string{"filemap: SIGBUS: file system full\n", "killed"}},
	{"threads", []string{"killed"}},
	{"rlimit", []string{"rlimit AS: Cannot allocate memory\nrlimit DATA: Cannot allocate memory\n" +
		"rlimit DATA, read-only: mapped\nrlimit DATA, brk: Cannot allocate memory\n"}},
}

// TestVMOutOfMemory runs each mode once (COCOON_OOM_BOOTS=N runs the
// whole set N times in a row, for a longer soak).
func TestVMOutOfMemory(t *testing.T) {
	cocoonKernel(t)
	app := packELF(t, buildC(t, "testdata/oom/oom.c"))
	rounds := 1
	if n, err := strconv.Atoi(os.Getenv("COCOON_OOM_BOOTS")); err == nil && n > 0 {
		rounds = n
	}
	for round := 0; round < rounds; round++ {
		for _, m := range oomModes {
			t.Run(fmt.Sprintf("%s/%d", strings.ReplaceAll(m.mode, " ", "/"), round), func(t *testing.T) {
				console, err := runApp(t, app, m.mode+" /tmp")
				st := status(err)
				if strings.Contains(console, "kernel") && strings.Contains(console, "fault") || st == 126 {
					t.Fatalf("the kernel faulted (status %d)", st)
				}
				got := appOutput(console)
				killed := st == 137
				if killed {
					if !strings.Contains(console, "cocoon: out of memory: killed process") ||
						!strings.Contains(console, "cocoon: application killed by SIGKILL") {
						t.Errorf("killed (137) without the out-of-memory report")
					}
				} else if st != 0 {
					t.Fatalf("exit status %d (%v), want 0 or 137", st, err)
				}
				for _, w := range m.want {
					after, afterOK := strings.CutPrefix(w, "killed after ")
					switch {
					case killed && w == "killed", killed && afterOK && got == after:
						return
					case !killed && !strings.HasPrefix(w, "killed") && strings.HasSuffix(got, w):
						return
					}
				}
				if killed {
					got = "killed after " + got
				}
				t.Errorf("ended with %q, want one of %q", got, m.want)
			})
		}
	}
}
