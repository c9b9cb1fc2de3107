package north_test

// The in-guest adversarial fuzzer (images/hostile) against the kernel: a
// few short seeded runs here, long ones from make fuzz
// (COCOON_HOSTILE_SEEDS, COCOON_HOSTILE_OPS). The application may be
// killed; the kernel must never report a fault or panic.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cocoon-vm/cocoon/internal/testenv"
	"github.com/cocoon-vm/cocoon/kernel"
	"github.com/cocoon-vm/cocoon/qemu"
)

var (
	hostileOnce sync.Once
	hostilePath string
	hostileErr  error
)

// hostileProgram builds images/hostile/hostile.c: freestanding, no C
// library, so the build is the same wherever gcc is.
func hostileProgram(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		testenv.Missing(t, "gcc not found: install gcc to build the in-guest fuzzer images/hostile")
	}
	hostileOnce.Do(func() {
		dir, err := os.MkdirTemp("", "north-hostile")
		if err != nil {
			hostileErr = err
			return
		}
		hostilePath = filepath.Join(dir, "hostile")
		out, err := exec.Command("gcc", "-O1", "-static", "-nostdlib", "-ffreestanding", "-fno-stack-protector",
			"-fno-pie", "-no-pie", "-fno-asynchronous-unwind-tables", "-Wall", "-Werror",
			"-o", hostilePath, "../images/hostile/hostile.c").CombinedOutput()
		if err != nil {
			hostileErr = fmt.Errorf("gcc images/hostile/hostile.c: %v\n%s", err, out)
		}
	})
	if hostileErr != nil {
		t.Fatal(hostileErr)
	}
	return hostilePath
}

// kernelFailures are what the kernel prints when it, not the
// application, fails (kernel/trap.go, kernel/fatal.go, the Go runtime).
var kernelFailures = []string{"kernel fault", "Cocoon kernel bug", "panic:", "fatal error:", "goroutine "}

// runHostile boots the fuzzer for one seed and checks the kernel
// survived it. It returns the console.
func runHostile(t *testing.T, app string, seed, ops int, timeout time.Duration) string {
	t.Helper()
	res, err := qemu.Run(context.Background(), qemu.Config{
		Profile: qemu.Microvm, Kernel: cocoonKernel(t), Initrd: app,
		Append: strings.TrimSpace(fmt.Sprintf("%s %d %d %s", os.Getenv("COCOON_HOSTILE_CMDLINE"), seed, ops, os.Getenv("COCOON_HOSTILE_VERBOSE"))), MemoryMiB: 256, Timeout: timeout,
	})
	if res == nil {
		t.Fatalf("qemu: %v", err)
	}
	console := strings.ReplaceAll(res.Console, "\r", "")
	if os.Getenv("COCOON_HOSTILE_VERBOSE") != "" {
		t.Logf("seed %d: %v\n%s", seed, err, console)
	}
	replay := fmt.Sprintf("replay: COCOON_HOSTILE_SEEDS=%d-%d COCOON_HOSTILE_OPS=%d COCOON_HOSTILE_VERBOSE=v go test -run '^TestVMHostileFuzz$' ./north (v logs every operation)", seed, seed, ops)
	for _, bad := range kernelFailures {
		if strings.Contains(console, bad) {
			t.Errorf("seed %d: the kernel failed (%q on the console); %s\n%s", seed, bad, replay, tail(console, 60))
			return console
		}
	}
	st := status(err)
	var ee *qemu.ExitError
	switch {
	case st == kernel.ExitKernelFault:
		t.Errorf("seed %d: exit status %d (kernel fault); %s\n%s", seed, st, replay, tail(console, 60))
	case err != nil && !errors.As(err, &ee):
		t.Errorf("seed %d: %v (a hang or a reset is a kernel failure too); %s\n%s", seed, err, replay, tail(console, 60))
	case st >= 128:
		// The application may be killed; the kernel must say so.
		if !strings.Contains(console, "cocoon: application killed by") {
			t.Errorf("seed %d: exit status %d without the kernel reporting the kill\n%s", seed, st, tail(console, 30))
		}
		t.Logf("seed %d: application killed (status %d), kernel alive\n%s", seed, st, tail(console, 20))
	case st != 0:
		t.Errorf("seed %d: exit status %d; %s\n%s", seed, st, replay, tail(console, 60))
	case !strings.Contains(console, fmt.Sprintf("hostile: done seed=%d ops=%d ", seed, ops)):
		t.Errorf("seed %d: status 0 but no completion line\n%s", seed, tail(console, 30))
	}
	return console
}

func tail(s string, lines int) string {
	l := strings.Split(s, "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}

// TestVMHostileFuzz runs the fuzzer briefly for a few seeds. make fuzz runs
// it long: COCOON_HOSTILE_SEEDS=first-last and COCOON_HOSTILE_OPS=n.
// COCOON_HOSTILE_VERBOSE=v logs every operation (to replay a failure),
// COCOON_HOSTILE_CMDLINE adds kernel options (cocoon.trace=syscalls).
func TestVMHostileFuzz(t *testing.T) {
	cocoonKernel(t)
	app := packELF(t, hostileProgram(t))
	first, last, ops := 1, 3, 20000
	if s := os.Getenv("COCOON_HOSTILE_SEEDS"); s != "" {
		a, b, _ := strings.Cut(s, "-")
		var err1, err2 error
		first, err1 = strconv.Atoi(a)
		last, err2 = strconv.Atoi(b)
		if err1 != nil || err2 != nil || last < first {
			t.Fatalf("COCOON_HOSTILE_SEEDS=%q: want first-last, e.g. 1-100", s)
		}
	}
	if s := os.Getenv("COCOON_HOSTILE_OPS"); s != "" {
		var err error
		if ops, err = strconv.Atoi(s); err != nil || ops <= 0 {
			t.Fatalf("COCOON_HOSTILE_OPS=%q: want a positive number", s)
		}
	}
	// TCG runs the fuzzer at one to two thousand operations a second on
	// a loaded machine; allow a few times that, and boot time.
	timeout := 2*time.Minute + 3*time.Duration(ops)*time.Millisecond
	for seed := first; seed <= last; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel() // one QEMU per CPU
			start := time.Now()
			console := runHostile(t, app, seed, ops, timeout)
			t.Logf("seed %d: %d operations in %v; %s; %s", seed, ops, time.Since(start).Round(time.Second), lastLine(console, "hostile: signals"), lastLine(console, "hostile: done"))
		})
	}
}

func lastLine(s, prefix string) string {
	i := strings.LastIndex(s, prefix)
	if i < 0 {
		return ""
	}
	line, _, _ := strings.Cut(s[i:], "\n")
	return line
}
