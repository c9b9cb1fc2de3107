package north_test

// The out-of-memory killer's choice and the kernel memory a system call
// takes, in Cocoon (natively these would exhaust the host), and
// /proc/PID/oom_score_adj, oom_adj and oom_score against Linux.

import (
	"regexp"
	"strings"
	"testing"
)

// TestVMOOMKillChoice: the killer takes the process with the largest
// badness (resident pages, page tables, oom_score_adj), never init or a
// process at -1000, and the faulter goes on with the memory freed; pipe
// buffers run out as the writer's error, with no process killed, and
// the buffers of emptied pipes go back to a process that needs the
// memory (a kernel shrinker) instead of it being killed; an execve that finds no memory to copy a shared descriptor table ends in
// SIGSEGV, one with a table of its own runs.
func TestVMOOMKillChoice(t *testing.T) {
	cocoonKernel(t)
	app := packELF(t, buildC(t, "testdata/oomkill/oomkill.c"))
	for _, c := range []struct {
		mode  string
		want  string // a regular expression for the whole output
		kills int    // "out of memory: killed process" lines on the console
	}{
		{"largest", "largest: big's oom_score above small's: 1\nlargest: faulter exit 0, big killed by signal 9, small alive\n", 1},
		{"adj", "adj: immune's oom_score 0, volunteer's above 1000: 1\n" +
			"adj: faulter killed by signal 9, volunteer killed by signal 9, immune alive\n", 2},
		{"exectable", "execd: ran\nexectable: own table: the child exit 0\nexectable: shared table: the child killed by signal 11\n", 0},
		{"idlepipes", "idlepipes: more than half of RAM in pipes emptied, the faulter exit 0, the pipes carry data: 1\n", 0},
		{"pipes", `pipes: write: refused \(Cannot allocate memory\)\npipes: faulter exit 0, big alive, filler alive\n`, 0},
	} {
		t.Run(c.mode, func(t *testing.T) {
			console, err := runAppQuiet(t, app, c.mode)
			for _, bad := range kernelFailures {
				if strings.Contains(console, bad) {
					t.Fatalf("KERNEL FAILURE: %q on the console:\n%s", bad, console)
				}
			}
			if err != nil {
				t.Fatalf("%v (init must end by itself with status 0)\n%s", err, console)
			}
			got := appOutput(console)
			if !regexp.MustCompile(`^` + c.want + `$`).MatchString(got) {
				t.Errorf("output %q, want %q\n%s", got, c.want, console)
			}
			if n := strings.Count(console, "cocoon: out of memory: killed process"); n != c.kills {
				t.Errorf("%d out-of-memory kills reported, want %d\n%s", n, c.kills, console)
			}
		})
	}
}

// TestVMOOMScoreDifferential: writes of oom_score_adj and oom_adj (the
// numbers taken, errors, scaling, the floor of an unprivileged writer),
// inheritance by fork, another process's files, and oom_score's order,
// as Linux (testdata/oomscore).
func TestVMOOMScoreDifferential(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/oomscore/oomscore.c"), "oomscore: done")
}
