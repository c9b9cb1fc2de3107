package linuxguest

import (
	"strings"
	"testing"
	"time"
)

func TestCommandLine(t *testing.T) {
	for _, tt := range []struct {
		args []string
		khz  int64
		want string
	}{
		{nil, 0, "console=ttyS0 quiet panic=-1"},
		{[]string{"-n=1000"}, 0, "console=ttyS0 quiet panic=-1 -- -n=1000"},
		{[]string{"-n", "5"}, 2596122, "console=ttyS0 quiet panic=-1 tsc_early_khz=2596122 -- -n 5"},
	} {
		if got, err := commandLine(tt.args, tt.khz); err != nil || got != tt.want {
			t.Errorf("commandLine(%q, %d) = %q, %v; want %q, nil", tt.args, tt.khz, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "two words", `a"b`, "tab\there"} {
		if got, err := commandLine([]string{bad}, 0); err == nil {
			t.Errorf("commandLine([%q]) = %q, nil; want an error", bad, got)
		}
	}
}

func TestMedian(t *testing.T) {
	if got := Median([]float64{3, 1, 2}); got != 2 {
		t.Errorf("Median(3, 1, 2) = %v, want 2", got)
	}
	if got := Median([]float64{4, 1, 3, 2}); got != 2.5 {
		t.Errorf("Median(4, 1, 3, 2) = %v, want 2.5", got)
	}
	if got := Median([]time.Duration{5 * time.Second}); got != 5*time.Second {
		t.Errorf("Median(5s) = %v, want 5s", got)
	}
	if got := Median[float64](nil); got != 0 {
		t.Errorf("Median() = %v, want 0", got)
	}
	xs := []float64{3, 1, 2}
	Median(xs)
	if xs[0] != 3 || xs[1] != 1 {
		t.Errorf("Median sorted its argument: %v", xs)
	}
}

func TestResultMedian(t *testing.T) {
	r := Result{Boots: []Boot{
		{ToMain: 3, Wall: 30, Figures: Figures{Getpid: 1, GetpidSyscall: 9, ClockGettime: 5}, Console: "first"},
		{ToMain: 1, Wall: 10, Figures: Figures{Getpid: 3, GetpidSyscall: 8, ClockGettime: 4}},
		{ToMain: 2, Wall: 20, Figures: Figures{Getpid: 2, GetpidSyscall: 7, ClockGettime: 6}},
	}}
	got := r.Median()
	want := Boot{ToMain: 2, Wall: 20, Figures: Figures{Getpid: 2, GetpidSyscall: 8, ClockGettime: 5}, Console: "first"}
	if got.ToMain != want.ToMain || got.Wall != want.Wall || got.Figures != want.Figures || got.Console != want.Console {
		t.Errorf("Median() = %+v, want %+v", got, want)
	}
	if got := (Result{}).Median(); got.ToMain != 0 || got.Figures != (Figures{}) {
		t.Errorf("Result{}.Median() = %+v, want the zero Boot", got)
	}
}

func TestMarkWriter(t *testing.T) {
	var out strings.Builder
	m := &markWriter{marker: []byte(MainReached), w: &out, start: time.Now().Add(-time.Second)}
	write := func(s string) {
		t.Helper()
		if n, err := m.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write(%q) = %d, %v; want %d, nil", s, n, err, len(s))
		}
	}
	// The marker arrives split across writes, as a pipe may deliver it.
	write("[ 0.1] boot\r\nsysbench: ma")
	if got := m.reached(); got != 0 {
		t.Errorf("reached() = %v before the marker was complete, want 0", got)
	}
	write("in reached\r\n")
	at := m.reached()
	if at < time.Second {
		t.Errorf("reached() = %v, want at least the 1s since start", at)
	}
	write("sysbench: getpid 1 ns/call\r\n")
	if got := m.reached(); got != at {
		t.Errorf("reached() = %v after more output, want it kept at %v", got, at)
	}
	if want := "[ 0.1] boot\r\nsysbench: main reached\r\nsysbench: getpid 1 ns/call\r\n"; out.String() != want {
		t.Errorf("passed on %q, want %q", out.String(), want)
	}
}
