package north_test

import "testing"

// TestVMProcABIDifferential runs procabi (writes of /proc/PID/comm,
// init's signals, timed waits across a stop, execveat's checks, file
// permissions against the caller's IDs, memfd modes, pending-signal
// counts) natively and inside Cocoon: the outputs must be identical.
func TestVMProcABIDifferential(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/procabi/procabi.c"), "procabi: done")
}
