package qemu

import (
	"errors"
	"fmt"
	"strings"
)

// ExitError is a guest's non-zero exit status, reported through
// isa-debug-exit. QEMU's exit code carries only 7 bits of it: a guest
// that writes v exits with ((v<<1)|1) & 0xff. Cocoon's kernel also prints
// "cocoon: exit status N" on the console before it powers off; when that
// line agrees with the low 7 bits, Status is the full N (so a process
// killed by SIGSEGV reads as 139, not 11).
type ExitError struct {
	Status int
}

func (e *ExitError) Error() string {
	return fmt.Sprintf("guest exited with status %d", e.Status)
}

// ErrNoExitStatus means QEMU stopped cleanly but the guest never wrote an
// exit status: it reset (a triple fault, with -no-reboot) or powered off.
var ErrNoExitStatus = errors.New("guest stopped without reporting an exit status")

// guestResult maps how QEMU exited to the guest's result. code is QEMU's
// exit code and stderr what it printed there; prog is the name QEMU
// prefixes its own messages with (the base name of its argv[0]).
//
// isa-debug-exit makes QEMU exit with (v<<1)|1, so an odd code carries a
// guest status. But QEMU also exits with 1 when it fails (a bad option,
// a missing file), which reads as status 0. The two are told apart by
// stderr: a failing QEMU prints an error line, "prog: message" or
// "qemu: message"; warnings ("prog: warning: ...") do not count.
func guestResult(code int, stderr, prog string) error {
	switch {
	case code == 1 && qemuFailed(stderr, prog):
		return qemuError(code, stderr)
	case code&1 == 1:
		if v := code >> 1; v != 0 {
			return &ExitError{Status: v}
		}
		return nil
	case code == 0:
		return fmt.Errorf("%w: it reset (e.g. a triple fault) or powered off; "+
			"add -d int,cpu_reset -D qemu.log to Extra to see why", ErrNoExitStatus)
	default:
		return qemuError(code, stderr)
	}
}

// consoleStatus refines a 7-bit status with the last "cocoon: exit
// status N" line on the console, if N agrees with it.
func consoleStatus(err error, console string) error {
	var ee *ExitError
	if !errors.As(err, &ee) && err != nil {
		return err
	}
	low := 0
	if ee != nil {
		low = ee.Status
	}
	i := strings.LastIndex(console, "cocoon: exit status ")
	if i < 0 {
		return err
	}
	var n int
	if _, e := fmt.Sscanf(console[i:], "cocoon: exit status %d", &n); e != nil || n&0x7f != low || n < 0 || n > 255 {
		return err
	}
	if n == 0 {
		return nil
	}
	return &ExitError{Status: n}
}

// qemuFailed reports whether stderr holds one of QEMU's error messages.
func qemuFailed(stderr, prog string) bool {
	for line := range strings.Lines(stderr) {
		for _, p := range []string{prog + ": ", "qemu: "} {
			msg, ok := strings.CutPrefix(line, p)
			if ok && !strings.HasPrefix(msg, "warning: ") && !strings.HasPrefix(msg, "info: ") {
				return true
			}
		}
	}
	return false
}

func qemuError(code int, stderr string) error {
	msg := strings.TrimSpace(stderr)
	if msg == "" {
		msg = "no message"
	}
	return fmt.Errorf("qemu-system-x86_64 failed with exit status %d: %s", code, msg)
}
