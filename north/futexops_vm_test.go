package north_test

import "testing"

// TestVMFutexOpsDifferentialC runs futexops (FUTEX_WAKE and requeue
// counts, FUTEX_WAKE_OP's encoding and atomicity against another
// process, plain and PI waiters mixed on one word, FUTEX_WAIT_REQUEUE_PI
// and FUTEX_CMP_REQUEUE_PI: taking a free mutex for the waiter, moving
// waiters behind its owner, signals and deadlines before and after the
// requeue, EDEADLK, ESRCH and the EINVAL cases) natively and inside
// Cocoon: the outputs must match.
func TestVMFutexOpsDifferentialC(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/futexops/futexops.c"), "futexops: done")
}
