package north_test

// Differential tests of memory mappings: the same static programs (C and
// Go) run natively on the host and inside Cocoon and must print the same.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cocoon-vm/cocoon/internal/testenv"
)

// buildC compiles a C file with gcc -static, with gccArgs (include
// directories, libraries) after the source and libpthread last.
func buildC(t *testing.T, src string, gccArgs ...string) string {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		testenv.Missing(t, "gcc not found: install gcc and libc6-dev to run the C differential tests")
	}
	out := filepath.Join(t.TempDir(), strings.TrimSuffix(filepath.Base(src), ".c"))
	args := append([]string{"-static", "-O1", "-Wall", "-Werror", "-o", out, src}, gccArgs...)
	if b, err := exec.Command("gcc", append(args, "-lpthread")...).CombinedOutput(); err != nil {
		t.Fatalf("gcc -static %s: %v\n%s", src, err, b)
	}
	return out
}

// native runs prog on the host with a scratch directory as its argument:
// on tmpfs (/dev/shm) when the host has it, like Cocoon's /tmp.
func native(t *testing.T, prog string) string {
	t.Helper()
	dir, err := os.MkdirTemp("/dev/shm", "cocoon-native")
	if err != nil {
		dir = t.TempDir()
	} else {
		t.Cleanup(func() { os.RemoveAll(dir) })
	}
	// A program that hangs natively fails its own test, with what it
	// printed, instead of the package's timeout ending every test.
	ctx, cancel := context.WithTimeout(context.Background(), nativeLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, dir)
	cmd.WaitDelay = 10 * time.Second // children left holding the output
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("%s natively: still running after %v, killed; its output:\n%s", prog, nativeLimit, out)
	}
	if err != nil {
		t.Fatalf("%s natively: %v\n%s", prog, err, out)
	}
	return string(out)
}

// nativeLimit bounds a differential program's native run: they take
// seconds; only a hang reaches it.
const nativeLimit = 5 * time.Minute

// appOutput is the application's lines of a Cocoon console: without the
// kernel's own (cocoon: ...).
func appOutput(console string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(console, "\n") {
		if !strings.HasPrefix(l, "cocoon: ") && l != "" {
			b.WriteString(l)
		}
	}
	return b.String()
}

func differential(t *testing.T, prog, doneLine string) {
	differentialImage(t, prog, packELF(t, prog), doneLine)
}

// differentialImage is differential with initrd, an archive whose /init
// is prog, for the run inside Cocoon.
func differentialImage(t *testing.T, prog, initrd, doneLine string) {
	want := native(t, prog)
	if !strings.Contains(want, doneLine) || strings.Contains(want, "FAIL") {
		t.Fatalf("natively the program fails:\n%s", want)
	}
	console, got := cocoonRun(t, initrd)
	// Linux is the oracle, and on a loaded machine Linux itself can print
	// a different line of a timing-dependent check (a timer that overran
	// once more): ask it again before blaming Cocoon.
	for try := 0; got != want && try < 2; try++ {
		if again := native(t, prog); again == got {
			t.Logf("Linux printed this only on its run %d (the machine is loaded):\n%s", try+2, lineDiff(want, "first run", again, "this run"))
			want = again
		}
	}
	// The same holds for Cocoon: a host that stops the VM for a second
	// between two reads of a clock changes a windowed check (a 10 s timer
	// with more than 9 s left). A difference must show twice to count; the
	// first one stays in the log.
	if got != want {
		t.Logf("Cocoon's first run differs from Linux's; running it again:\n%s", lineDiff(got, "Cocoon", want, "Linux"))
		console, got = cocoonRun(t, initrd)
	}
	if got != want {
		t.Errorf("output differs from Linux's:\n%s--- Cocoon's console, in full:\n%s--- Linux, in full:\n%s", lineDiff(got, "Cocoon", want, "Linux"), console, want)
	}
}

// cocoonRun boots initrd's /init with /tmp as its argument and returns the
// console and the application's lines of it.
func cocoonRun(t *testing.T, initrd string) (console, app string) {
	t.Helper()
	console, err := runAppQuiet(t, initrd, "/tmp")
	if err != nil {
		t.Fatalf("in Cocoon: %v\n%s", err, console)
	}
	return console, appOutput(console)
}

// lineDiff lists the lines where got and want differ, by line number, so a
// failure names the difference even when a log shows only its start.
func lineDiff(got, gotName, want, wantName string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	var b strings.Builder
	for i := 0; i < max(len(g), len(w)); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			fmt.Fprintf(&b, "line %d:\n  %s: %q\n  %s: %q\n", i+1, gotName, gl, wantName, wl)
		}
	}
	return b.String()
}

func TestVMMmapDifferentialC(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/mmapdiff/mmapdiff.c"), "mmapdiff: done")
}

func TestVMMmapDifferentialGo(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildGo(t, "./north/testdata/mmapgo"), "mmapgo: done")
}
