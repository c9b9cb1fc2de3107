package north_test

// Hostile entries into the kernel from user mode, one static C program
// (testdata/entry.c) per class: RFLAGS bits set with popfq before a
// system call or page fault, int3, int $n for every n, TF single-step, an
// application blocked forever. Each class runs natively on this Linux
// host and under Cocoon; what the program prints and how it ends must be
// the same, and under Cocoon the kernel must report the application's
// end, never a kernel fault.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cocoon-vm/cocoon/internal/testenv"
	"github.com/cocoon-vm/cocoon/kernel"
)

var (
	entryOnce sync.Once
	entryPath string
	entryErr  error
)

// entryProgram builds testdata/entry.c as a static executable.
func entryProgram(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		testenv.Missing(t, "gcc not found: install gcc and libc6-dev to run the hostile-entry tests")
	}
	entryOnce.Do(func() {
		dir, err := os.MkdirTemp("", "north-entry")
		if err != nil {
			entryErr = err
			return
		}
		entryPath = filepath.Join(dir, "entry")
		out, err := exec.Command("gcc", "-static", "-O1", "-Wall", "-Werror", "-o", entryPath, "testdata/entry.c").CombinedOutput()
		if err != nil {
			entryErr = errors.New("gcc -static testdata/entry.c: " + err.Error() + "\n" + string(out) +
				"(static linking needs libc6-dev)")
		}
	})
	if entryErr != nil {
		t.Fatal(entryErr)
	}
	return entryPath
}

// entryLines keeps the program's own lines ("entry: ...").
func entryLines(out string) []string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if i := strings.Index(l, "entry: "); i >= 0 {
			lines = append(lines, l[i:])
		}
	}
	return lines
}

// runNative runs the program on this host and returns its lines and its
// status as Cocoon reports it: the exit code, or 128+signal.
func runNative(t *testing.T, prog, class string) ([]string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, class)
	var out bytes.Buffer
	cmd.Stdout = &out
	err := cmd.Run()
	st := cmd.ProcessState
	if st == nil {
		t.Fatalf("native %s: %v", class, err)
	}
	if ctx.Err() != nil {
		return entryLines(out.String()), -1 // still running when the time ran out
	}
	ws := st.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return entryLines(out.String()), 128 + int(ws.Signal())
	}
	return entryLines(out.String()), ws.ExitStatus()
}

// TestVMHostileEntry compares each class with Linux.
func TestVMHostileEntry(t *testing.T) {
	cocoonKernel(t)
	prog := entryProgram(t)
	app := packELF(t, prog)
	for _, class := range []string{"flags", "int3", "intn", "tf", "int3kill", "mapfixed", "mxcsr"} {
		t.Run(class, func(t *testing.T) {
			want, wantStatus := runNative(t, prog, class)
			if len(want) == 0 || wantStatus < 0 {
				t.Fatalf("native run printed %d lines, status %d", len(want), wantStatus)
			}
			console, err := runApp(t, app, class)
			if st := status(err); st != wantStatus {
				t.Errorf("exit status %d (%v), Linux %d", st, err, wantStatus)
			}
			for _, bad := range []string{"kernel fault", "Cocoon kernel bug", "fatal error"} {
				if strings.Contains(console, bad) {
					t.Errorf("console says %q: the application took the kernel down", bad)
				}
			}
			got := entryLines(console)
			if class == "intn" {
				got = tcgIntErr(got)
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("Cocoon printed\n%s\nLinux printed\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if wantStatus >= 128 && !strings.Contains(console, "cocoon: application killed by") {
				t.Error("the kernel did not report the kill")
			}
		})
	}
}

// tcgIntErr undoes a QEMU TCG quirk: an INT n through a gate of higher
// privilege raises #GP with error code n*16+2 (do_interrupt64 indexes the
// 16-byte 64-bit IDT entries), where the CPU pushes n*8+2, the IDT
// selector-format error code (AMD APM vol. 2, 8.4.1). Cocoon passes the
// error code on as it gets it, so the test maps TCG's to the hardware's.
func tcgIntErr(lines []string) []string {
	out := make([]string, len(lines))
	n := -1
	for i, l := range lines {
		out[i] = l
		var v int
		if _, err := fmt.Sscanf(l, "entry: int $%d:", &v); err == nil {
			n = v
			continue
		}
		if n >= 0 {
			tcg := fmt.Sprintf("trapno 13 err %#x", n*16+2)
			if strings.HasSuffix(l, tcg) {
				out[i] = strings.TrimSuffix(l, tcg) + fmt.Sprintf("trapno 13 err %#x", n*8+2)
			}
		}
	}
	return out
}

// TestVMBlockedForever runs an application that blocks forever (a write
// to a full pipe nobody reads): on Linux it never ends; Cocoon reports
// which call each thread is blocked in and powers off with ExitDeadlock,
// never the kernel runtime's own deadlock error.
// The second class has two threads: one reading a pipe nobody writes,
// the main thread joining it (a futex wait).
func TestVMBlockedForever(t *testing.T) {
	cocoonKernel(t)
	prog := entryProgram(t)
	app := packELF(t, prog)
	for class, wants := range map[string][]string{
		"blocked":  {"entry: filling a pipe nobody reads", "tid 1 blocked in write"},
		"blocked2": {"entry: joining a thread", "tid 1 blocked in futex", "tid 2 blocked in read"},
	} {
		t.Run(class, func(t *testing.T) {
			if _, st := runNative(t, prog, class); st != -1 {
				t.Fatalf("natively the program ended with status %d; want it blocked until the timeout", st)
			}
			console, err := runApp(t, app, class)
			if st := status(err); st != kernel.ExitDeadlock {
				t.Errorf("exit status %d (%v), want ExitDeadlock %d", st, err, kernel.ExitDeadlock)
			}
			for _, want := range append(wants, "cocoon: application deadlock") {
				if !strings.Contains(console, want) {
					t.Errorf("console lacks %q", want)
				}
			}
			for _, bad := range []string{"fatal error", "goroutine ", "Cocoon kernel bug"} {
				if strings.Contains(console, bad) {
					t.Errorf("console says %q", bad)
				}
			}
		})
	}
}
