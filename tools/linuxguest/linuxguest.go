// Package linuxguest boots a static linux/amd64 binary as /init of a
// minimal Linux guest under QEMU: the baseline Cocoon's benchmarks compare
// against. The guest is Debian's cloud kernel (KernelPackage) with an
// initramfs holding only the binary and /dev/console, on the same QEMU
// machine profiles as Cocoon (package qemu).
//
// Run boots images/sysbench this way and returns, per boot, the time
// from starting QEMU to the binary's main and the per-call costs it
// measured.
package linuxguest

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cocoon-vm/cocoon/qemu"
)

// SysbenchPackage is the Go package of the benchmark binary Run expects.
const SysbenchPackage = "github.com/cocoon-vm/cocoon/images/sysbench"

// Options describe the boots of Run. Only Binary is required.
type Options struct {
	// Binary is a static linux/amd64 executable that prints sysbench's
	// lines (see images/sysbench and BuildStatic); it becomes /init.
	Binary string
	// Args are its arguments, passed on the kernel command line after
	// "--". They may not contain white space or double quotes.
	Args []string
	// Files are further executables for the initramfs (sysbench's shell
	// pipeline runs /bin/busybox).
	Files []File

	// Profile is the QEMU machine; default qemu.Microvm.
	Profile qemu.Profile
	// Runs is the number of boots; default 1.
	Runs int
	// MemoryMiB is guest RAM; default qemu.DefaultMemoryMiB.
	MemoryMiB int
	// Timeout bounds each boot; default qemu.DefaultTimeout.
	Timeout time.Duration

	// Kernel is the vmlinuz to boot; default the one Kernel(CacheDir)
	// finds or fetches.
	Kernel string
	// CacheDir is where fetched kernels are kept; default
	// DefaultCacheDir.
	CacheDir string

	// Console, if set, receives every boot's console output.
	Console io.Writer
	// Log, if set, receives every QEMU command line.
	Log io.Writer
}

// Boot is what one boot measured.
type Boot struct {
	// ToMain is the time from starting QEMU to the arrival of the
	// MainReached line on the console.
	ToMain time.Duration
	// Wall is the time from starting QEMU to its exit, after the guest
	// powered off.
	Wall time.Duration
	// Figures are the costs the binary measured in the guest.
	Figures Figures
	// Console is everything the guest wrote to the console.
	Console string
	// Command is the QEMU command line.
	Command []string
}

// Result is what Run measured.
type Result struct {
	// Kernel is the vmlinuz that was booted.
	Kernel string
	// Boots has one entry per run, in order.
	Boots []Boot
}

// Median returns a Boot whose durations and figures are each the median
// over r.Boots (so they may come from different boots); Console and
// Command are those of the first boot.
func (r Result) Median() Boot {
	if len(r.Boots) == 0 {
		return Boot{}
	}
	pick := func(f func(Boot) float64) float64 {
		xs := make([]float64, len(r.Boots))
		for i, b := range r.Boots {
			xs[i] = f(b)
		}
		return Median(xs)
	}
	return Boot{
		ToMain: time.Duration(pick(func(b Boot) float64 { return float64(b.ToMain) })),
		Wall:   time.Duration(pick(func(b Boot) float64 { return float64(b.Wall) })),
		Figures: Figures{
			Getpid:         pick(func(b Boot) float64 { return b.Figures.Getpid }),
			GetpidSyscall:  pick(func(b Boot) float64 { return b.Figures.GetpidSyscall }),
			ClockGettime:   pick(func(b Boot) float64 { return b.Figures.ClockGettime }),
			LoopbackTCP64K: pick(func(b Boot) float64 { return b.Figures.LoopbackTCP64K }),
			ForkExitWait:   pick(func(b Boot) float64 { return b.Figures.ForkExitWait }),
			ForkExecWait:   pick(func(b Boot) float64 { return b.Figures.ForkExecWait }),
			ShellPipeline:  pick(func(b Boot) float64 { return b.Figures.ShellPipeline }),
		},
		Console: r.Boots[0].Console,
		Command: r.Boots[0].Command,
	}
}

// Median returns the median of xs: the middle element, or the mean of
// the two middle ones. It is the zero value if xs is empty.
func Median[T ~int64 | ~float64](xs []T) T {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.SortFunc(s, cmp.Compare)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Run boots o.Binary as /init of Debian's cloud kernel o.Runs times and
// returns what each boot measured. A boot fails unless the binary
// reached main, printed all the figures and the guest powered off.
func Run(ctx context.Context, o Options) (Result, error) {
	if o.Binary == "" {
		return Result{}, errors.New("linuxguest: Options.Binary is empty: build images/sysbench with BuildStatic")
	}
	if o.Runs == 0 {
		o.Runs = 1
	}
	cmdline, err := commandLine(o.Args, tscKHz())
	if err != nil {
		return Result{}, err
	}
	if o.Kernel == "" {
		if o.Kernel, err = Kernel(ctx, o.CacheDir); err != nil {
			return Result{}, err
		}
	}

	dir, err := os.MkdirTemp("", "cocoon-linuxguest-")
	if err != nil {
		return Result{}, fmt.Errorf("linuxguest: %w", err)
	}
	defer os.RemoveAll(dir)
	initrd := filepath.Join(dir, "initramfs.cpio")
	if err := BuildInitramfs(o.Binary, initrd, o.Files...); err != nil {
		return Result{}, err
	}

	cfg := qemu.Config{
		Profile:   o.Profile,
		Kernel:    o.Kernel,
		Initrd:    initrd,
		Append:    cmdline,
		MemoryMiB: o.MemoryMiB,
		Timeout:   o.Timeout,
		Log:       o.Log,
	}
	res := Result{Kernel: o.Kernel}
	for i := range o.Runs {
		b, err := boot(ctx, cfg, o.Console)
		if err != nil {
			return res, fmt.Errorf("linuxguest: boot %d of %d: %w", i+1, o.Runs, err)
		}
		res.Boots = append(res.Boots, b)
	}
	return res, nil
}

// The kernel command line, before the binary's arguments:
//   - console=ttyS0: the kernel's and init's console is COM1, which
//     QEMU copies to its standard output;
//   - quiet: no boot messages, which cost time on an emulated UART;
//   - panic=-1: reboot at once on a panic (init failing or exiting),
//     which ends QEMU under -no-reboot instead of hanging.
//
// The words after "--" are init's arguments.
const baseCommandLine = "console=ttyS0 quiet panic=-1"

// commandLine returns the kernel command line that passes args to init.
// khz, if not 0, is the TSC frequency to give the kernel as
// tsc_early_khz: microvm has no PIT channel 2 gate (port 0x61), HPET or
// ACPI PM timer, so the kernel calibrates its TSC against the PIT only by
// luck under TCG, and on a busy host it gives up, marks the TSC unstable
// and then waits forever for a timer interrupt in calibrate_delay.
func commandLine(args []string, khz int64) (string, error) {
	words := []string{baseCommandLine}
	if khz > 0 {
		words = append(words, "tsc_early_khz="+strconv.FormatInt(khz, 10))
	}
	if len(args) > 0 {
		words = append(words, "--")
	}
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n\"") {
			return "", fmt.Errorf("linuxguest: argument %q cannot pass through the kernel command line: it must be non-empty, without white space or double quotes", a)
		}
		words = append(words, a)
	}
	return strings.Join(words, " "), nil
}

// tscKHz is hostTSCkHz, measured once per process.
var tscKHz = sync.OnceValue(hostTSCkHz)

// boot runs one guest and measures it.
func boot(ctx context.Context, cfg qemu.Config, console io.Writer) (Boot, error) {
	mw := &markWriter{marker: []byte(MainReached), w: console}
	cfg.Console = mw
	mw.start = time.Now()
	res, err := qemu.Run(ctx, cfg)
	wall := time.Since(mw.start)
	if res == nil {
		return Boot{}, err
	}
	b := Boot{ToMain: mw.reached(), Wall: wall, Console: res.Console, Command: res.Command}
	// Linux powering off ends QEMU with status 0, no guest status.
	if err != nil && !errors.Is(err, qemu.ErrNoExitStatus) {
		return b, err
	}
	if strings.Contains(res.Console, "Kernel panic") {
		return b, fmt.Errorf("the guest kernel panicked\n%s", tail(res.Console))
	}
	if b.ToMain == 0 {
		return b, fmt.Errorf("the guest stopped without printing %q\n%s", MainReached, tail(res.Console))
	}
	if b.Figures, err = ParseFigures(res.Console); err != nil {
		return b, fmt.Errorf("%w\n%s", err, tail(res.Console))
	}
	return b, nil
}

// tailLines is how many console lines an error quotes.
const tailLines = 15

// tail quotes the last tailLines lines of console for an error.
func tail(console string) string {
	lines := strings.Split(strings.TrimRight(console, "\r\n"), "\n")
	if len(lines) > tailLines {
		lines = lines[len(lines)-tailLines:]
	}
	for i, l := range lines {
		lines[i] = "\t" + strings.TrimRight(l, "\r")
	}
	return "console:\n" + strings.Join(lines, "\n")
}

// markWriter timestamps the first arrival of a marker in a byte stream
// and passes the bytes on to w, if set. qemu.Run writes to it from one
// goroutine while the console is open; reached is read after Run returns.
type markWriter struct {
	mu     sync.Mutex
	marker []byte
	w      io.Writer
	start  time.Time
	buf    []byte // the stream so far, until the marker arrives
	at     time.Duration
}

func (m *markWriter) Write(p []byte) (int, error) {
	now := time.Now()
	m.mu.Lock()
	if m.at == 0 {
		m.buf = append(m.buf, p...)
		if bytes.Contains(m.buf, m.marker) {
			m.at, m.buf = now.Sub(m.start), nil
		}
	}
	m.mu.Unlock()
	if m.w != nil {
		return m.w.Write(p)
	}
	return len(p), nil
}

// reached returns when the marker arrived, 0 if it has not.
func (m *markWriter) reached() time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.at
}

// BuildStatic builds the Go package pkg (SysbenchPackage, say) into out as
// a static linux/amd64 executable. It runs the go command of PATH in the
// current directory, which must lie inside the module that provides pkg.
func BuildStatic(ctx context.Context, pkg, out string) error {
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0")
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("linuxguest: go build %s: %v: %s", pkg, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}
