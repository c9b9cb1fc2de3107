package north_test

import "testing"

// TestVMSchedDifferentialC runs testdata/sysgaps/sched.c (nice values
// per thread and process group, the sched_* calls, getcpu, membarrier
// and its registrations across fork and execve, personality and uname,
// sync, syncfs, readahead, the old getdents, preadv2 and pwritev2 with
// their flags) natively and inside Cocoon: the outputs must be identical.
func TestVMSchedDifferentialC(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/sysgaps/sched.c"), "sched: done")
}
