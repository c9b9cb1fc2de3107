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
	"sort"
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

// hostileSilence is how long a guest may print nothing before it counts
// as hung: the fuzzer prints a line every 10000 operations, which takes
// seconds on an idle core and a few minutes at a load of 30.
const hostileSilence = 10 * time.Minute

// hostileRun is what one seed's guest did.
type hostileRun struct {
	ops      int           // operations run to the end: the done line's count, 0 if none
	killed   bool          // the application was killed (the kernel reporting it)
	failed   bool          // the kernel failed: a fault, a panic, a hang
	emulator bool          // QEMU itself crashed (qemu.ErrCrashed)
	wall     time.Duration // QEMU's wall-clock time, boot included
}

// silenceWriter cancels the run when nothing arrives for hostileSilence.
type silenceWriter struct{ timer *time.Timer }

func (w silenceWriter) Write(b []byte) (int, error) {
	w.timer.Reset(hostileSilence)
	return len(b), nil
}

// runHostile boots the fuzzer for one seed and checks the kernel
// survived it. It returns the console and what the run did.
// verbose is the fuzzer's logging argument ("", "v" or "vN").
func runHostile(t *testing.T, app string, seed, ops int, verbose string, timeout time.Duration) (string, hostileRun) {
	t.Helper()
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	silence := time.AfterFunc(hostileSilence, func() {
		cancel(fmt.Errorf("the guest printed nothing for %v", hostileSilence))
	})
	defer silence.Stop()
	res, err := qemu.Run(ctx, qemu.Config{
		Profile: qemu.Microvm, Kernel: cocoonKernel(t), Initrd: app,
		Append:    strings.TrimSpace(fmt.Sprintf("%s %d %d %s", os.Getenv("COCOON_HOSTILE_CMDLINE"), seed, ops, verbose)),
		MemoryMiB: 256, Timeout: timeout, Console: silenceWriter{silence},
	})
	if res == nil {
		t.Fatalf("qemu: %v", err)
	}
	if c := context.Cause(ctx); c != nil {
		err = fmt.Errorf("%w: %v", c, err)
	}
	run := hostileRun{wall: res.Wall}
	console := strings.ReplaceAll(res.Console, "\r", "")
	if verbose != "" {
		t.Logf("seed %d: %v\n%s", seed, err, console)
	}
	// The replay logs every operation from the last progress line on.
	from := 0
	if l := lastLine(console, fmt.Sprintf("hostile: seed %d op ", seed)); l != "" {
		from, _ = strconv.Atoi(l[strings.LastIndexByte(l, ' ')+1:])
	}
	replay := fmt.Sprintf("replay: COCOON_HOSTILE_SEEDS=%d-%d COCOON_HOSTILE_OPS=%d COCOON_HOSTILE_VERBOSE=v%d go test -run '^TestVMHostileFuzz$' ./north (vN logs every operation from the Nth)", seed, seed, ops, from)
	fail := func(format string, args ...any) {
		run.failed = true
		t.Errorf("KERNEL FAILURE: seed %d: %s; %s\n%s", seed, fmt.Sprintf(format, args...), replay, tail(console, 60))
	}
	for _, bad := range kernelFailures {
		if strings.Contains(console, bad) {
			fail("%q on the console", bad)
			return console, run
		}
	}
	st := status(err)
	var ee *qemu.ExitError
	done := fmt.Sprintf("hostile: done seed=%d ops=%d ", seed, ops)
	switch {
	case st == kernel.ExitKernelFault:
		fail("exit status %d (kernel fault)", st)
	case errors.Is(err, qemu.ErrCrashed):
		// The emulator, not the kernel: the run is still not clean.
		run.emulator = true
		last := lastLine(console, "hostile: op ") // with COCOON_HOSTILE_VERBOSE
		if last == "" {
			last = lastLine(console, fmt.Sprintf("hostile: seed %d op ", seed))
		}
		t.Errorf("EMULATOR FAILURE: seed %d: %v: QEMU itself crashed, not the guest's kernel (under KVM or SEV-SNP the CPU runs the operation); last operation logged: %q; %s\n%s",
			seed, err, last, replay, tail(console, 30))
	case err != nil && !errors.As(err, &ee):
		fail("%v (a hang or a reset is a kernel failure too)", err)
	case st >= 128:
		// The application may be killed; the kernel must say so.
		if !strings.Contains(console, "cocoon: application killed by") {
			t.Errorf("seed %d: exit status %d without the kernel reporting the kill\n%s", seed, st, tail(console, 30))
		}
		run.killed = true
		t.Logf("seed %d: application killed (status %d), kernel alive: %s; after %q; %s", seed, st,
			lastLine(console, "cocoon: application killed"), lastLine(console, fmt.Sprintf("hostile: seed %d op ", seed)), lastLine(console, "hostile: "))
	case st != 0:
		t.Errorf("seed %d: exit status %d; %s\n%s", seed, st, replay, tail(console, 60))
	case !strings.Contains(console, done):
		t.Errorf("seed %d: status 0 but no completion line\n%s", seed, tail(console, 30))
	default:
		run.ops = ops
	}
	return console, run
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
// COCOON_HOSTILE_VERBOSE=v logs every operation, vN those from the Nth
// on (to replay a failure),
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
	// TCG runs the fuzzer at two to four thousand operations a second
	// on an idle core, a few hundred at a load of 30: allow 20 ms an
	// operation, and boot time. A guest that prints nothing for
	// hostileSilence is stopped sooner.
	timeout := 2*time.Minute + 20*time.Duration(ops)*time.Millisecond
	var (
		mu                    sync.Mutex
		total, ran, completed int
		killed, failed        []int
		crashed               []int // QEMU itself crashed
	)
	start := time.Now()
	// The totals, once every seed's guest has stopped: what make fuzz
	// reports.
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		sort.Ints(killed)
		sort.Ints(failed)
		elapsed := time.Since(start)
		verdict := "no kernel fault"
		if len(failed) > 0 {
			verdict = fmt.Sprintf("KERNEL FAILED in seeds %v", failed)
		}
		if len(crashed) > 0 {
			sort.Ints(crashed)
			verdict += fmt.Sprintf(", QEMU CRASHED (the emulator, not the kernel) in seeds %v", crashed)
		}
		kills := "none"
		if len(killed) > 0 {
			kills = fmt.Sprint(killed)
		}
		t.Logf("hostile: total %d operations, seeds %d-%d (%d ran, %d to the end, application killed in %s), %s, %v, %.0f operations/s",
			total, first, last, ran, completed, kills, verdict, elapsed.Round(time.Second), float64(total)/elapsed.Seconds())
	})
	for seed := first; seed <= last; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel() // one QEMU per CPU (go test -parallel)
			console, run := runHostile(t, app, seed, ops, os.Getenv("COCOON_HOSTILE_VERBOSE"), timeout)
			mu.Lock()
			ran++
			total += run.ops
			if run.ops > 0 {
				completed++
			}
			if run.killed {
				killed = append(killed, seed)
			}
			if run.failed {
				failed = append(failed, seed)
			}
			if run.emulator {
				crashed = append(crashed, seed)
			}
			mu.Unlock()
			t.Logf("seed %d: %d operations in %v; %s; %s", seed, run.ops, run.wall.Round(time.Second), lastLine(console, "hostile: signals"), lastLine(console, "hostile: done"))
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

// TestVMHostileEmulatorCrash replays the operation of seed 1294 that made
// QEMU 7.2's TCG abort ("tcg fatal error") in a 10-million-operation run:
// random bytes F0 2E 0F BB EA, LOCK BTC with a register operand, which the
// CPU answers with #UD. The fuzzer now turns the 0F into a NOP
// (avoid_emulator_crashes in images/hostile); without that QEMU dies and
// the run is an EMULATOR FAILURE. The logged operation shows the seed still
// reaches those bytes, so the test cannot pass by drawing other ones.
func TestVMHostileEmulatorCrash(t *testing.T) {
	cocoonKernel(t)
	app := packELF(t, hostileProgram(t))
	const seed, op = 1294, 10113
	console, run := runHostile(t, app, seed, op+1, fmt.Sprintf("v%d", op), 5*time.Minute+20*op*time.Millisecond)
	line := lastLine(console, fmt.Sprintf("hostile: op %d ", op))
	if !strings.Contains(line, "random bytes") || !strings.Contains(line, "f0 2e 90 bb ea") {
		t.Errorf("seed %d operation %d: want random bytes f0 2e 90 bb ea (LOCK BTC EDX, EBP with its 0F made a NOP), got %q", seed, op, line)
	}
	if run.ops != op+1 {
		t.Errorf("seed %d did not run its %d operations to the end", seed, op+1)
	}
}
