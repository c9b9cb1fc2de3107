package qemu

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// defaultBinary is the QEMU looked up in PATH when neither Config.QEMU nor
// $COCOON_QEMU names one.
const defaultBinary = "qemu-system-x86_64"

// ErrNotFound means the QEMU binary could not be found. Run's error wraps
// it with what to install.
var ErrNotFound = errors.New("qemu-system-x86_64 not found")

// tailLines is how many console lines a timeout error quotes.
const tailLines = 10

// Result is what Run observed of one QEMU run.
type Result struct {
	// Console is everything the guest wrote to COM1.
	Console string
	// Wall is the time from starting QEMU until it exited.
	Wall time.Duration
	// ExitCode is QEMU's exit code, or -1 if it was killed by a signal.
	ExitCode int
	// Command is the binary and arguments QEMU ran with.
	Command []string
}

// Run boots the guest cfg describes and waits for it to stop, for at most
// cfg.Timeout or until ctx is done.
//
// The error is nil if the guest reported exit status 0, an *ExitError for
// any other status, ErrNoExitStatus (wrapped) if it stopped without one,
// and wraps context.DeadlineExceeded, quoting the last console lines, if
// it timed out. The Result is non-nil whenever QEMU was started, whatever
// the error.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg = cfg.withDefaults()
	if err := checkMemory(cfg); err != nil {
		return nil, err
	}
	bin, err := cfg.binary()
	if err != nil {
		return nil, err
	}

	var stdio *stdioServer
	accel := cfg.Accel
	if accel == Auto {
		accel = TCG
		if KVMWorks(ctx, bin) {
			accel = KVM
		}
	}

	if cfg.Stdio != nil {
		if cfg.Disk != "" {
			return nil, errors.New("qemu: Config.Stdio needs a kernel command line to name the streams on: give Kernel, not Disk")
		}
		srv, extra, err := startStdio(*cfg.Stdio, cfg.Profile)
		if err != nil {
			return nil, err
		}
		defer srv.stop()
		cfg.Extra = append(append([]string(nil), cfg.Extra...), extra...)
		cfg.Append = withStdioWord(cfg.Append)
		stdio = srv
	}

	var dir string
	if cfg.Profile == OVMF {
		if dir, err = os.MkdirTemp("", "cocoon-ovmf-"); err != nil {
			return nil, fmt.Errorf("qemu: %w", err)
		}
		defer os.RemoveAll(dir)
	}
	a, err := args(cfg, accel, dir)
	if err != nil {
		return nil, err
	}
	if cfg.Profile == OVMF {
		if err := prepareOVMF(cfg, dir); err != nil {
			return nil, err
		}
	}
	res := &Result{Command: append([]string{bin}, a...)}
	if cfg.Log != nil {
		fmt.Fprintln(cfg.Log, shellQuote(res.Command))
	}

	runCtx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	var console, stderr bytes.Buffer
	cmd := exec.CommandContext(runCtx, bin, a...)
	cmd.Stdout = &console
	if cfg.Console != nil {
		cmd.Stdout = io.MultiWriter(&console, cfg.Console)
	}
	var fw *firmwareWatch
	if cfg.Profile == OVMF {
		fw = &firmwareWatch{stop: cancel}
		cmd.Stdout = io.MultiWriter(cmd.Stdout, fw)
	}
	cmd.Stderr = &stderr
	// QEMU holds no pipe past its exit, but do not let a stray
	// descendant keep Wait from returning.
	cmd.WaitDelay = time.Second

	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("qemu: start %s: %w", bin, err)
	}
	waitErr := cmd.Wait()
	res.Wall = time.Since(start)
	var stdioErr error
	if stdio != nil {
		stdioErr = stdio.finish()
	}
	res.Console = console.String()
	res.ExitCode = cmd.ProcessState.ExitCode()

	if cmd.ProcessState.Exited() {
		err := guestResult(res.ExitCode, stderr.String(), filepath.Base(bin))
		if res.ExitCode&1 == 1 {
			err = consoleStatus(err, res.Console)
		}
		if err == nil && stdioErr != nil {
			err = fmt.Errorf("qemu: the guest exited with status 0, but %w", stdioErr)
		}
		return res, err
	}
	// Killed by a signal: ours when the context ended, else someone's.
	if fw != nil {
		if gaveUp, failed := fw.result(); gaveUp != "" {
			return res, fmt.Errorf("qemu: the firmware (OVMF) did not start the image: %q%s\n"+
				"with -m %d the firmware, the image and its initrd may not fit: give it more memory (hello's .efi needs 88 MiB)",
				gaveUp, failed, cfg.MemoryMiB)
		}
	}
	switch {
	case ctx.Err() != nil:
		return res, fmt.Errorf("qemu stopped: %w\n%s", ctx.Err(), consoleTail(res.Console))
	case runCtx.Err() != nil:
		return res, fmt.Errorf("guest timed out after %v (%w)\n%s", cfg.Timeout, runCtx.Err(), consoleTail(res.Console))
	}
	return res, fmt.Errorf("%w (%v): %s", ErrCrashed, waitErr, strings.TrimSpace(stderr.String()))
}

// ErrCrashed is the error Run wraps when QEMU itself died of a signal
// nobody sent it: a crash of the emulator (QEMU 7.2's TCG aborts or
// faults on a few undefined encodings user code can execute), not a
// failure of the guest.
var ErrCrashed = errors.New("qemu-system-x86_64 died")

// binary returns the path of the QEMU to run.
func (c Config) binary() (string, error) {
	name, from := c.QEMU, "Config.QEMU"
	if name == "" {
		name, from = os.Getenv(BinaryEnv), "$"+BinaryEnv
	}
	if name == "" {
		name, from = defaultBinary, ""
	}
	path, err := exec.LookPath(name)
	if err == nil {
		return path, nil
	}
	if from != "" {
		return "", fmt.Errorf("%w: %s is %q (%v): fix it or unset it to use %s from the qemu-system-x86 package",
			ErrNotFound, from, name, err, defaultBinary)
	}
	return "", fmt.Errorf("%w: install the qemu-system-x86 package (apt-get install qemu-system-x86)", ErrNotFound)
}

// consoleTail quotes the last tailLines lines of console for an error.
func consoleTail(console string) string {
	console = strings.TrimRight(console, "\r\n")
	if console == "" {
		return "the guest wrote nothing to the console"
	}
	lines := strings.Split(console, "\n")
	if len(lines) > tailLines {
		lines = lines[len(lines)-tailLines:]
	}
	for i, l := range lines {
		lines[i] = "\t" + strings.TrimRight(l, "\r")
	}
	return fmt.Sprintf("last %d console lines:\n%s", len(lines), strings.Join(lines, "\n"))
}
