package north_test

import (
	"os/exec"
	"testing"
)

// TestVMProcABIDifferential runs procabi (writes of /proc/PID/comm,
// init's signals, timed waits across a stop, execveat's checks, file
// permissions against the caller's IDs, connect's write permission on a
// socket file, protected hard links, lock waits restarted under
// SA_RESTART, memfd modes, pending-signal counts) natively and inside Cocoon: the outputs must be identical.
// Natively the part that must be init runs as pid 1 of a new PID
// namespace, which needs root.
func TestVMProcABIDifferential(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/procabi/procabi.c"), "procabi: done")
}

// TestVMInitFault runs procabi's fault mode: init (pid 1) blocks and
// ignores SIGSEGV and then faults, and still dies of it, natively (in a
// new PID namespace) and inside Cocoon, where the guest then ends with
// status 139.
func TestVMInitFault(t *testing.T) {
	cocoonKernel(t)
	prog := buildC(t, "testdata/procabi/procabi.c")
	cmd := exec.Command(prog, t.TempDir(), "fault")
	want, err := cmd.CombinedOutput()
	if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 139 {
		t.Fatalf("natively: %v, want exit status 139:\n%s", err, want)
	}
	console, err := runApp(t, packELF(t, prog), "/tmp fault")
	if st := status(err); st != 139 {
		t.Fatalf("in Cocoon: exit status %d (%v), want 139", st, err)
	}
	if got := appOutput(console); got != string(want) {
		t.Errorf("output differs from Linux's:\n%s", lineDiff(got, "Cocoon", string(want), "Linux"))
	}
}
