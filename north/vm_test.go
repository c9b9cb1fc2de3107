package north_test

// QEMU integration tests of the Linux personality: unmodified static
// programs packed as the initrd of the cocoon kernel.

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cocoon-vm/cocoon/internal/testenv"
	"github.com/cocoon-vm/cocoon/internal/timeline"
	"github.com/cocoon-vm/cocoon/kernel"
	"github.com/cocoon-vm/cocoon/qemu"
	"github.com/cocoon-vm/cocoon/tools/kbuild"
	"github.com/u-root/u-root/pkg/cpio"
)

// kernels are the kernel images built for these tests, once each: the
// one with network and, for TestVMNoNetwork, the one without
// (kbuild.Options.NoNetwork).
var kernels [2]struct {
	once sync.Once
	path string
	err  error
}

func cocoonKernel(t *testing.T) string { return variantKernel(t, false) }

// variantKernel returns the cocoon kernel with network, or without.
func variantKernel(t *testing.T, noNetwork bool) string {
	t.Helper()
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		testenv.Missing(t, "qemu-system-x86_64 not found: install the qemu-system-x86 package to run VM tests")
	}
	k := &kernels[0]
	name := "cocoon.elf"
	if noNetwork {
		k, name = &kernels[1], "cocoon-nonet.elf"
	}
	k.once.Do(func() {
		dir, err := os.MkdirTemp("", "north-vm")
		if err != nil {
			k.err = err
			return
		}
		k.path = filepath.Join(dir, name)
		k.err = kbuild.Kernel(context.Background(), "./north/cocoon", k.path, kbuild.Options{Dir: "..", NoNetwork: noNetwork})
	})
	if k.err != nil {
		t.Fatalf("building the cocoon kernel %s: %v", name, k.err)
	}
	return k.path
}

// packELF writes a cpio archive with the static executable at /init.
func packELF(t *testing.T, elf string) string {
	t.Helper()
	data, err := os.ReadFile(elf)
	if err != nil {
		t.Fatal(err)
	}
	return packRecords(t, "app.cpio", []cpio.Record{cpio.Directory("tmp", 0o1777), cpio.StaticFile("init", string(data), 0o755)})
}

// packRecords writes recs as a cpio archive named name in a temporary
// directory and returns its path.
func packRecords(t *testing.T, name string, recs []cpio.Record) string {
	t.Helper()
	var buf bytes.Buffer
	w := cpio.Newc.Writer(&buf)
	if err := cpio.WriteRecordsAndDirs(w, recs); err != nil {
		t.Fatal(err)
	}
	if err := cpio.WriteTrailer(w); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// appletDir returns a directory of links to busybox bb, one per applet,
// for a native run's PATH.
func appletDir(t *testing.T, bb string, applets []string) string {
	t.Helper()
	bin := t.TempDir()
	for _, a := range applets {
		if err := os.Symlink(bb, filepath.Join(bin, a)); err != nil {
			t.Fatal(err)
		}
	}
	return bin
}

// buildGo builds a Go main package as a static executable.
func buildGo(t *testing.T, pkg string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

func runApp(t *testing.T, initrd, cmdline string) (string, error) {
	t.Helper()
	console, err := runAppQuiet(t, initrd, cmdline)
	t.Logf("%q: %v\n%s", cmdline, err, console)
	return console, err
}

// runAppQuiet is runApp without logging the console, for callers that
// report it themselves (a CI log keeps only the start and end of a
// failure, so what matters must come first).
func runAppQuiet(t *testing.T, initrd, cmdline string) (string, error) {
	t.Helper()
	res, err := qemu.Run(context.Background(), qemu.Config{
		Profile: qemu.Microvm, Kernel: cocoonKernel(t), Initrd: initrd, Append: cmdline,
		MemoryMiB: 256, Timeout: 5 * time.Minute,
	})
	if res == nil {
		t.Fatalf("qemu: %v", err)
	}
	return strings.ReplaceAll(res.Console, "\r", ""), err
}

func status(err error) int {
	var ee *qemu.ExitError
	if errors.As(err, &ee) {
		return ee.Status
	}
	if err == nil {
		return 0
	}
	return -1
}

func TestVMHello(t *testing.T) {
	cocoonKernel(t)
	app := packELF(t, buildGo(t, "./images/hello"))
	console, err := runApp(t, app, "one two GREETING=hi")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`hello from /init: args=["one" "two"]`, `hello: env=["PATH=/sbin:/usr/sbin:/bin:/usr/bin" "HOME=/" "TERM=linux" "GREETING=hi"]`} {
		if !strings.Contains(console, want) {
			t.Errorf("console lacks %q", want)
		}
	}
}

func TestVMEscapeAttemptsAreKilled(t *testing.T) {
	cocoonKernel(t)
	app := packELF(t, buildGo(t, "./images/escape"))
	for _, attempt := range []string{"read", "write", "hlt", "wrmsr", "cr3"} {
		t.Run(attempt, func(t *testing.T) {
			console, err := runApp(t, app, attempt)
			if st := status(err); st != 139 {
				t.Fatalf("exit status %d (%v), want 139 (SIGSEGV)", st, err)
			}
			if !strings.Contains(console, "cocoon: application killed by SIGSEGV") {
				t.Error("the kernel did not report the kill")
			}
			if strings.Contains(console, "escape: read") && attempt == "read" && strings.Contains(console, "from the kernel!") {
				t.Error("the application read kernel memory")
			}
		})
	}
}

// TestVMStress runs a Go program that uses goroutines, the GC, timers,
// files under /tmp and recovers from a nil dereference (a SIGSEGV turned
// into a panic by the Go runtime through Cocoon's signal frames).
func TestVMStress(t *testing.T) {
	cocoonKernel(t)
	app := packELF(t, buildGo(t, "./images/stress"))
	console, err := runApp(t, app, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"stress: nil dereference: ok", "stress: files: ok", "stress: PASS"} {
		if !strings.Contains(console, want) {
			t.Errorf("console lacks %q", want)
		}
	}
}

// TestVMTraceSyscalls checks cocoon.trace=syscalls prints each call.
func TestVMTraceSyscalls(t *testing.T) {
	cocoonKernel(t)
	app := packELF(t, buildGo(t, "./images/hello"))
	console, err := runApp(t, app, "cocoon.trace=syscalls")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"] arch_prctl(0x1002", "] write(0x1,", "] exit_group(0x0"} {
		if !strings.Contains(console, want) {
			t.Errorf("trace lacks %q", want)
		}
	}
}

// TestVMExtendedState runs images/fpcheck: threads keep their own values
// in every XMM/YMM and two x87 registers across thousands of system
// calls while the kernel switches between them (the lazy extended-state
// scheme in kernel/lazyfp.go must never lose or leak any of it).
func TestVMExtendedState(t *testing.T) {
	cocoonKernel(t)
	app := packELF(t, buildGo(t, "./images/fpcheck"))
	console, err := runApp(t, app, "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(console, "fpcheck: PASS") {
		t.Error("fpcheck did not pass")
	}
}

// TestVMTimeline: cocoon.timeline=1 prints the boot timeline line, with
// every phase of kernel/timeline.go, in boot order, never going back
// (internal/timeline.Parse refuses a phase earlier than the one before).
// The times themselves are not asserted.
func TestVMTimeline(t *testing.T) {
	cocoonKernel(t)
	app := packELF(t, buildGo(t, "./images/hello"))
	console, err := runApp(t, app, "one "+timeline.CmdlineWord)
	if err != nil {
		t.Fatal(err)
	}
	tl, err := timeline.Find(console)
	if err != nil {
		t.Fatal(err)
	}
	if len(tl.Points) != len(kernel.PhaseNames) {
		t.Fatalf("timeline %+v: want the %d phases %v", tl.Points, len(kernel.PhaseNames), kernel.PhaseNames)
	}
	for i, p := range tl.Points {
		if p.Name != kernel.PhaseNames[i] {
			t.Errorf("phase %d is %q, want %q", i, p.Name, kernel.PhaseNames[i])
		}
	}
	if tl.Points[0].At != 0 {
		t.Errorf("the first phase is at %v, want 0 (times count from it)", tl.Points[0].At)
	}
	if i, j := strings.Index(console, timeline.Prefix), strings.Index(console, "hello from /init"); j >= 0 && j < i {
		t.Errorf("the application wrote before the timeline was printed at its first write:\n%s", console)
	}
	// Without the word, no timeline.
	console, err = runApp(t, app, "one")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(console, timeline.Prefix) {
		t.Errorf("timeline printed without %s:\n%s", timeline.CmdlineWord, console)
	}
}
