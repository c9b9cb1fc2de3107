package north_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Differential tests: one program built once, run natively on the host
// and inside Cocoon; the lines it prints must be the same. The programs
// print outcomes (errors, counts, comparisons), never timings.

// buildC builds a C source of testdata as a static executable.
func buildC(t *testing.T, src string) string {
	t.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		missing(t, "gcc not found: install gcc and libc6-dev to run the C differential tests")
	}
	out := filepath.Join(t.TempDir(), strings.TrimSuffix(filepath.Base(src), ".c"))
	if b, err := exec.Command(gcc, "-static", "-O1", "-o", out, src, "-lpthread").CombinedOutput(); err != nil {
		missing(t, "gcc -static "+src+": "+err.Error()+" (install libc6-dev for the static C library)\n"+string(b))
	}
	return out
}

// missing skips a test whose prerequisite is missing, or fails it under
// CI=true, where every prerequisite must be there.
func missing(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(why)
	}
	t.Skip(why)
}

// programLines keeps the lines the program printed: those from the first
// line starting with prefix to the one that ends with "done".
func programLines(out, prefix string) []string {
	var lines []string
	on := false
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimRight(l, "\r")
		if strings.HasPrefix(l, prefix+" start") {
			on = true
		}
		if on && !strings.HasPrefix(l, "cocoon:") {
			lines = append(lines, l)
		}
		if strings.HasPrefix(l, prefix+" done") {
			break
		}
	}
	return lines
}

// differential runs bin natively and inside Cocoon and compares the lines.
func differential(t *testing.T, bin, prefix string) {
	t.Helper()
	nat, err := exec.Command(bin).CombinedOutput()
	if err != nil {
		t.Fatalf("native run: %v\n%s", err, nat)
	}
	want := programLines(string(nat), prefix)
	if len(want) < 3 || want[len(want)-1] != prefix+" done" {
		t.Fatalf("native run printed no complete report:\n%s", nat)
	}
	console, err := runApp(t, packELF(t, bin), "")
	if err != nil {
		t.Fatalf("inside Cocoon: %v", err)
	}
	got := programLines(console, prefix)
	for i := 0; i < max(len(want), len(got)); i++ {
		var w, g string
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		if w != g {
			t.Errorf("line %d:\n native: %q\n cocoon: %q", i+1, w, g)
		}
	}
}

// TestVMTimersC: setitimer, alarm and pause; CPU-time clocks, times and
// getrusage; POSIX timers with overruns; timerfd with epoll, poll and
// select; select and pselect6 — a static C program.
func TestVMTimersC(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/timers.c"), "timers:")
}
