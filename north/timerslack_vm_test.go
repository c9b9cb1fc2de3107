package north_test

// TestVMTimerSlack: prctl PR_SET_TIMERSLACK and PR_GET_TIMERSLACK per
// thread — set, reset to the default, a thread's and a fork child's
// inherited slack and default, the largest value — and sleeps and polls
// that end with a slack set; a static C program run natively and inside
// Cocoon (differential, mmap_vm_test.go). It prints values it set itself,
// never the slack it started with (the test runner's) nor timings.

import "testing"

func TestVMTimerSlack(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/timerslack/timerslack.c"), "timerslack: done")
}
