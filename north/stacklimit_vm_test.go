package north_test

import "testing"

// TestVMStackLimitDifferentialC runs stacklimit natively and in Cocoon:
// an execed program's stack is as deep as RLIMIT_STACK at the execve
// (8 MiB, 32 MiB, 1 MiB), and its arguments may take a quarter of it, at
// least ARG_MAX and at most 6 MiB (E2BIG past), as fs/exec.c.
func TestVMStackLimitDifferentialC(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/stacklimit/stacklimit.c"), "stacklimit: done")
}
