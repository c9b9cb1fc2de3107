package north_test

import "testing"

// TestVMFutexOpsDifferentialC runs futexops (FUTEX_WAKE and requeue
// counts, FUTEX_WAKE_OP's encoding and atomicity against another
// process, plain and PI waiters mixed on one word, FUTEX_WAIT_REQUEUE_PI
// and FUTEX_CMP_REQUEUE_PI: taking a free mutex for the waiter, moving
// waiters behind its owner, signals and deadlines before and after the
// requeue, EDEADLK, ESRCH and the EINVAL cases; a PI state's owner
// against a word user space changed, EDEADLK along a chain of owners;
// the keys of a word named with and without FUTEX_PRIVATE_FLAG and the
// pages they may be in; get_robust_list and the robust list's walk at
// exit; the futex2 calls; which waits a handler restarts) natively and
// inside Cocoon: the outputs must match.
func TestVMFutexOpsDifferentialC(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/futexops/futexops.c"), "futexops: done")
}
