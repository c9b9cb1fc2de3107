package qemu

import (
	"errors"
	"strings"
	"testing"
)

func TestGuestResult(t *testing.T) {
	const prog = "qemu-system-x86_64"
	for _, tt := range []struct {
		name   string
		code   int
		stderr string
		status int    // want an *ExitError with this status; 0: none
		isNo   bool   // want ErrNoExitStatus
		msg    string // want an error containing this; "": nil or the above
	}{
		{name: "status 0", code: 1},
		{name: "status 0 with a warning", code: 1, stderr: prog + ": warning: host doesn't support requested feature: CPUID.01H:ECX.pni [bit 0]\n"},
		{name: "status 0 with -d log on stderr", code: 1, stderr: "CPU Reset (CPU 0)\nEAX=00000000\n"},
		{name: "status 1", code: 3, status: 1},
		{name: "status 3", code: 7, status: 3},
		{name: "status 5", code: 11, status: 5},
		{name: "status 127", code: 255, status: 127},
		{name: "odd code with stderr is still a status", code: 11, stderr: prog + ": something\n", status: 5},
		{name: "reset", code: 0, isNo: true, msg: "-d int,cpu_reset"},
		{name: "bad option", code: 1, stderr: prog + ": -bogus: invalid option\n", msg: "-bogus: invalid option"},
		{name: "bad property", code: 1, stderr: prog + ": Property 'microvm-machine.foo' not found\n", msg: "microvm-machine.foo"},
		{name: "missing kernel", code: 1, stderr: "qemu: could not open kernel file '/x': No such file or directory\n", msg: "could not open kernel file"},
		{name: "even code", code: 2, stderr: "oops\n", msg: "exit status 2: oops"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := guestResult(tt.code, tt.stderr, prog)
			var ee *ExitError
			switch {
			case tt.status != 0:
				if !errors.As(err, &ee) || ee.Status != tt.status {
					t.Errorf("guestResult(%d, %q) = %v, want ExitError{%d}", tt.code, tt.stderr, err, tt.status)
				}
			case tt.msg == "":
				if err != nil {
					t.Errorf("guestResult(%d, %q) = %v, want nil", tt.code, tt.stderr, err)
				}
			default:
				if err == nil || !strings.Contains(err.Error(), tt.msg) {
					t.Errorf("guestResult(%d, %q) = %v, want an error containing %q", tt.code, tt.stderr, err, tt.msg)
				}
				if errors.As(err, &ee) {
					t.Errorf("guestResult(%d, %q) = %v, an ExitError, want another error", tt.code, tt.stderr, err)
				}
				if got := errors.Is(err, ErrNoExitStatus); got != tt.isNo {
					t.Errorf("errors.Is(guestResult(%d, %q), ErrNoExitStatus) = %t, want %t", tt.code, tt.stderr, got, tt.isNo)
				}
			}
		})
	}
}

func TestExitErrorMessage(t *testing.T) {
	if got, want := (&ExitError{Status: 3}).Error(), "guest exited with status 3"; got != want {
		t.Errorf("ExitError{3}.Error() = %q, want %q", got, want)
	}
}

func TestConsoleTail(t *testing.T) {
	var b strings.Builder
	for i := range 15 {
		b.WriteString("line " + string(rune('a'+i)) + "\r\n")
	}
	got := consoleTail(b.String())
	if !strings.HasPrefix(got, "last 10 console lines:\n\tline f\n") || !strings.HasSuffix(got, "\tline o") {
		t.Errorf("consoleTail(15 lines) = %q, want lines f to o", got)
	}
	if got := consoleTail(""); !strings.Contains(got, "nothing") {
		t.Errorf("consoleTail(\"\") = %q, want it to say the guest wrote nothing", got)
	}
}

func TestConsoleStatusRestoresHighBits(t *testing.T) {
	for _, c := range []struct {
		low     int
		console string
		want    int
	}{
		{11, "x\ncocoon: exit status 139\n", 139},
		{11, "cocoon: exit status 11\n", 11},
		{11, "cocoon: exit status 12\n", 11}, // disagrees: keep QEMU's
		{11, "no line\n", 11},
		{0, "cocoon: exit status 128\n", 128},
		{0, "cocoon: exit status 0\n", 0},
	} {
		var in error
		if c.low != 0 {
			in = &ExitError{Status: c.low}
		}
		got := 0
		var ee *ExitError
		if err := consoleStatus(in, c.console); errors.As(err, &ee) {
			got = ee.Status
		}
		if got != c.want {
			t.Errorf("consoleStatus(%d, %q) = %d, want %d", c.low, c.console, got, c.want)
		}
	}
}
