package north_test

// Targeted hostile probes (north/testdata/probe): resource exhaustion and
// deadlock from CPL3, beyond the random fuzzer's single operations. The
// kernel survives every one: the probe (pid 1) runs each mode in its own
// process group, reports how it ended, and at the end a fresh fork and
// pipe still work ("probe: kernel alive"). Deterministic modes print the
// same as on Linux; exhaustion modes end with an errno of the class Linux
// gives there, or the program killed and reported.

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// probeKernelAlive runs the probe with modes in one guest and checks the
// kernel neither failed nor stopped serving; it returns the application's
// output.
func probeKernelAlive(t *testing.T, app string, modes ...string) (console, out string) {
	t.Helper()
	console, err := runAppQuiet(t, app, strings.Join(modes, " ")+" /tmp")
	for _, bad := range kernelFailures {
		if strings.Contains(console, bad) {
			t.Fatalf("KERNEL FAILURE: %q on the console running %v:\n%s", bad, modes, console)
		}
	}
	if err != nil {
		t.Fatalf("running %v: %v (the probe, pid 1, must end by itself with status 0)\n%s", modes, err, console)
	}
	out = appOutput(console)
	if !strings.HasSuffix(out, "probe: kernel alive\n") {
		t.Fatalf("the kernel did not serve a fresh fork and pipe after %v:\n%s", modes, console)
	}
	if strings.Contains(out, "WATCHDOG") {
		t.Errorf("a mode was still running after 200 s:\n%s", console)
	}
	return console, out
}

// nativeArgs runs prog on the host with args and returns its output.
func nativeArgs(t *testing.T, prog string, args ...string) string {
	t.Helper()
	out, err := exec.Command(prog, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s natively: %v\n%s", prog, err, out)
	}
	return string(out)
}

// probeDeterministic are the modes whose output is Linux's, line for line.
var probeDeterministic = []string{"epoll", "scmloop", "e2big", "sigrecurse", "altrecurse", "altbad",
	"sigstorm", "spin", "deadlock", "robust", "blocked", "deepdirs"}

// TestVMProbeDeterministic: epoll nesting and cycles (ELOOP), SCM_RIGHTS
// garbage loops, execve and iovec limits (E2BIG, EINVAL), signal-handler
// recursion on the stack and the alternate stack (killed by SIGSEGV),
// signal storms with stops, a busy loop with every signal blocked (only
// SIGKILL ends it), an ABBA futex deadlock, robust lists that loop or
// point nowhere, readers blocked while their peer exits, directories
// nested past PATH_MAX and symbolic-link loops: as Linux.
func TestVMProbeDeterministic(t *testing.T) {
	cocoonKernel(t)
	prog := buildC(t, "testdata/probe/probe.c")
	dir := t.TempDir()
	want := nativeArgs(t, prog, append(probeDeterministic, dir)...)
	_, got := probeKernelAlive(t, packELF(t, prog), probeDeterministic...)
	if got != want {
		t.Errorf("output differs from Linux's:\n%s--- Cocoon:\n%s--- Linux:\n%s", lineDiff(got, "Cocoon", want, "Linux"), got, want)
	}
}

// probeExhaustion are the modes that run a resource out, each with the
// lines it must print: a regular expression that lists the outcomes
// Linux allows (its errno class, never a count).
var probeExhaustion = []struct {
	mode string
	want []string
}{
	{"forkbomb", []string{`forkbomb: fork failed with: (EAGAIN|ENOMEM|EAGAIN ENOMEM)`, `forkbomb: root killed: Killed`}},
	{"threadbomb", []string{`threadbomb: clone failed with: (EAGAIN|ENOMEM)`, `threadbomb: fork after: ok`}},
	{"fdbomb", []string{`fdbomb: dup at the soft limit: EMFILE, table full: yes`,
		`fdbomb: eventfd in 8 processes failed with: (EMFILE|ENFILE|ENOMEM)( (EMFILE|ENFILE|ENOMEM))*( \(some killed\))?`}},
	{"timerstorm", []string{`timerstorm: 500 timerfds firing every nanosecond: read`}},
	{"timerbomb", []string{`timerbomb: timer_create failed with: (EAGAIN|ENOMEM)`}},
	{"sigqueue", []string{`sigqueue: failed with: EAGAIN`, `sigqueue: kill with the queue full: ok`}},
	{"mmapmany", []string{`mmapmany: mmap failed with: ENOMEM`, `mmapmany: split a mapping at the limit: ENOMEM`,
		`mmapmany: fork with every mapping: ok`}},
}

// TestVMProbeExhaustion: fork and thread bombs, descriptors of many
// processes, timers firing every nanosecond and created until refused,
// signals queued until refused, mappings until the map count limit. Each
// mode's outcome is Linux's errno class; the kernel serves on.
func TestVMProbeExhaustion(t *testing.T) {
	cocoonKernel(t)
	app := packELF(t, buildC(t, "testdata/probe/probe.c"))
	var modes []string
	for _, m := range probeExhaustion {
		modes = append(modes, m.mode)
	}
	console, out := probeKernelAlive(t, app, modes...)
	for _, m := range probeExhaustion {
		for _, w := range m.want {
			if !regexp.MustCompile(`(?m)^` + w + `$`).MatchString(out) {
				t.Errorf("%s: no line matches %q", m.mode, w)
			}
		}
		if !strings.Contains(out, "probe "+m.mode+": exit 0\n") {
			t.Errorf("%s: did not end with exit 0", m.mode)
		}
	}
	if t.Failed() {
		t.Logf("console:\n%s", console)
	}
}
