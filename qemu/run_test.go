package qemu

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// fakeQEMU writes a shell script standing in for qemu-system-x86_64 and
// returns its path.
func fakeQEMU(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "qemu-system-x86_64")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRunNotFound(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv(BinaryEnv, "")
	_, err := Run(context.Background(), Config{Kernel: "k.elf"})
	want := "qemu-system-x86_64 not found: install the qemu-system-x86 package (apt-get install qemu-system-x86)"
	if err == nil || err.Error() != want || !errors.Is(err, ErrNotFound) {
		t.Errorf("Run without QEMU: error = %v, want %q", err, want)
	}

	t.Setenv(BinaryEnv, "/nonexistent/qemu")
	_, err = Run(context.Background(), Config{Kernel: "k.elf"})
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "$"+BinaryEnv) {
		t.Errorf("Run with %s=/nonexistent/qemu: error = %v, want ErrNotFound naming %s", BinaryEnv, err, BinaryEnv)
	}
}

func TestRunMapsExitAndCapturesConsole(t *testing.T) {
	// Status 5 is exit code (5<<1)|1 = 11.
	bin := fakeQEMU(t, `printf 'booting\nhello\n'; exit 11`)
	var console, log strings.Builder
	res, err := Run(context.Background(), Config{
		Kernel:  "k.elf",
		Append:  "console=ttyS0 quiet",
		QEMU:    bin,
		Console: &console,
		Log:     &log,
	})
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Status != 5 {
		t.Fatalf("Run = %v, want ExitError{5}", err)
	}
	if res == nil {
		t.Fatal("Run returned a nil Result with an ExitError")
	}
	const want = "booting\nhello\n"
	if res.Console != want || console.String() != want {
		t.Errorf("Result.Console = %q, Config.Console got %q, want %q", res.Console, console.String(), want)
	}
	if res.ExitCode != 11 {
		t.Errorf("Result.ExitCode = %d, want 11", res.ExitCode)
	}
	if res.Command[0] != bin {
		t.Errorf("Result.Command[0] = %q, want %q", res.Command[0], bin)
	}
	if got, want := log.String(), shellQuote(res.Command)+"\n"; got != want {
		t.Errorf("Config.Log got %q, want %q", got, want)
	}
	if !strings.Contains(log.String(), "-append 'console=ttyS0 quiet'") {
		t.Errorf("Config.Log got %q, want the -append quoted", log.String())
	}
}

func TestRunBinaryFromEnv(t *testing.T) {
	t.Setenv(BinaryEnv, fakeQEMU(t, "exit 1"))
	if _, err := Run(context.Background(), Config{Kernel: "k.elf"}); err != nil {
		t.Errorf("Run with %s set to a QEMU that exits 1 = %v, want nil", BinaryEnv, err)
	}
}

func TestRunTimeout(t *testing.T) {
	bin := fakeQEMU(t, `printf 'first\nlast words\n'; exec sleep 60`)
	res, err := Run(context.Background(), Config{Kernel: "k.elf", QEMU: bin, Timeout: 200 * time.Millisecond})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run of a guest that never exits = %v, want context.DeadlineExceeded", err)
	}
	for _, want := range []string{"timed out after 200ms", "last words"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Run timeout error = %q, want it to contain %q", err, want)
		}
	}
	if res == nil || res.ExitCode != -1 {
		t.Errorf("Run timeout Result = %+v, want ExitCode -1", res)
	}
}

func TestRunCanceled(t *testing.T) {
	bin := fakeQEMU(t, `exec sleep 60`)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	_, err := Run(ctx, Config{Kernel: "k.elf", QEMU: bin})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run with a canceled context = %v, want context.Canceled", err)
	}
}

func TestRunQEMUFailure(t *testing.T) {
	bin := fakeQEMU(t, `echo "qemu-system-x86_64: -bogus: invalid option" >&2; exit 1`)
	_, err := Run(context.Background(), Config{Kernel: "k.elf", QEMU: bin})
	if err == nil || !strings.Contains(err.Error(), "-bogus: invalid option") {
		t.Errorf("Run of a failing QEMU = %v, want its stderr in the error", err)
	}
}

func TestRunAutoAccel(t *testing.T) {
	// The fake QEMU "boots" anything to status 0, so the probe succeeds
	// exactly when /dev/kvm opens.
	bin := fakeQEMU(t, "exit 1")
	res, err := Run(context.Background(), Config{Kernel: "k.elf", QEMU: bin, Accel: Auto})
	if err != nil {
		t.Fatalf("Run(Accel: Auto) = %v, want nil", err)
	}
	want := TCG
	if f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0); err == nil {
		f.Close()
		want = KVM
	}
	if i := slices.Index(res.Command, "-accel"); i < 0 || res.Command[i+1] != string(want) {
		t.Errorf("Run(Accel: Auto).Command = %q, want -accel %s", res.Command, want)
	}
}

// TestRunRefusesTooLittleMemory checks that a guest whose kernel lies
// past the end of its RAM is refused before QEMU starts, naming the
// minimum, which is computed from the ELF's load addresses and the
// initrd's size.
func TestRunRefusesTooLittleMemory(t *testing.T) {
	dir := t.TempDir()
	// A PVH-style ELF whose one segment ends at 70 MiB + 1 byte (with
	// bss), and a 1 MiB initrd without /init: 72 MiB, of which the 32
	// below the image, the MiB above it and the initrd's remainder hold
	// the kernel's reserve and runtime.
	kernel := filepath.Join(dir, "k.elf")
	writeELF(t, kernel, 0x2000000, 70<<20+1-0x2000000)
	initrd := filepath.Join(dir, "app.cpio")
	if err := os.WriteFile(initrd, make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := MinMemoryMiB(kernel, initrd, ""); err != nil || got != 72 {
		t.Errorf("MinMemoryMiB = %d, %v; want 72", got, err)
	}
	_, err := Run(context.Background(), Config{Kernel: kernel, Initrd: initrd, MemoryMiB: 16, QEMU: "/nonexistent/qemu"})
	if err == nil || !strings.Contains(err.Error(), "at least 72 MiB") {
		t.Errorf("-m 16: %v, want a refusal naming 72 MiB", err)
	}
	if err := checkMemory(Config{Kernel: kernel, Initrd: initrd, MemoryMiB: 72}); err != nil {
		t.Errorf("-m 72: %v", err)
	}
}

// writeELF writes a minimal ELF64 executable with one PT_LOAD segment at
// physical address paddr of memsz bytes (no file bytes).
func writeELF(t *testing.T, path string, paddr, memsz uint64) {
	t.Helper()
	if err := os.WriteFile(path, elfBytes(paddr, memsz), 0o644); err != nil {
		t.Fatal(err)
	}
}
