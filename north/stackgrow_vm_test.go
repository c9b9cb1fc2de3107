package north_test

import "testing"

// TestVMStackGrowDifferentialC: the main stack small at exec (VmStk
// about 132 KiB, not RLIMIT_STACK's 8 MiB), grown by a touch below it and
// by read(2) into the page below it, SIGSEGV and EFAULT past
// RLIMIT_STACK, hints kept out of the guard gap, and growth refused with
// an accessible mapping in the gap but not with a PROT_NONE one, vs
// native (north/testdata/stackgrow).
func TestVMStackGrowDifferentialC(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/stackgrow/stackgrow.c"), "stackgrow: done")
}
