package north_test

import "testing"

// TestVMPidfdDifferentialC runs pidfddiff (pidfd_open, pidfd_send_signal,
// CLONE_PIDFD, waitid P_PIDFD, poll and epoll on a pidfd) natively and
// inside Cocoon: the outputs must be identical.
func TestVMPidfdDifferentialC(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/pidfddiff/pidfddiff.c"), "pidfddiff: done")
}
