package linuxguest

import (
	"strings"
	"testing"
)

// linuxConsole is what a boot prints: kernel messages and sysbench's
// lines, with the "\r\n" line ends of a Linux tty.
const linuxConsole = "[    0.276429] PCI: Fatal: No config space access function found\r\n" +
	"sysbench: main reached\r\n" +
	"sysbench: getpid 464.7 ns/call (200000 calls)\r\n" +
	"sysbench: getpid_syscall 798.9 ns/call (200000 calls)\r\n" +
	"sysbench: clock_gettime 170.3 ns/call (200000 calls)\r\n" +
	"[    1.431650] reboot: Power down\r\n"

func TestParseFigures(t *testing.T) {
	got, err := ParseFigures(linuxConsole)
	want := Figures{Getpid: 464.7, GetpidSyscall: 798.9, ClockGettime: 170.3}
	if err != nil || got != want {
		t.Errorf("ParseFigures(linux console) = %+v, %v; want %+v, nil", got, err, want)
	}

	// Cocoon's console: plain "\n", no kernel messages, no call counts.
	cocoon := "sysbench: main reached\nsysbench: getpid 90 ns/call\nsysbench: getpid_syscall 1e2 ns/call\nsysbench: clock_gettime 25.5 ns/call\n" +
		"sysbench: fork_exec_wait 3e6 ns/call\nsysbench: shell_pipeline 1.5e7 ns/call (10 calls)\n"
	got, err = ParseFigures(cocoon)
	want = Figures{Getpid: 90, GetpidSyscall: 100, ClockGettime: 25.5, ForkExecWait: 3e6, ShellPipeline: 1.5e7}
	if err != nil || got != want {
		t.Errorf("ParseFigures(cocoon console) = %+v, %v; want %+v, nil", got, err, want)
	}
}

func TestParseFiguresErrors(t *testing.T) {
	for _, tt := range []struct {
		name, console, wantErr string
	}{
		{"empty", "", "no \"sysbench: getpid <ns> ns/call\" line"},
		{"missing clock", "sysbench: getpid 1 ns/call\nsysbench: getpid_syscall 2 ns/call\n", "clock_gettime"},
		{"twice", linuxConsole + "sysbench: getpid 5 ns/call\n", "getpid printed twice"},
		{"zero", strings.Replace(linuxConsole, "464.7", "0", 1), "not a positive number"},
		{"negative", strings.Replace(linuxConsole, "464.7", "-3", 1), "not a positive number"},
		{"NaN", strings.Replace(linuxConsole, "464.7", "NaN", 1), "not a positive number"},
		{"Inf", strings.Replace(linuxConsole, "464.7", "+Inf", 1), "not a positive number"},
		{"garbage", strings.Replace(linuxConsole, "464.7", "fast", 1), "not a positive number"},
	} {
		_, err := ParseFigures(tt.console)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: ParseFigures() = %v, want an error containing %q", tt.name, err, tt.wantErr)
		}
	}
}
