package north_test

import "testing"

// TestVMRseqDifferentialC runs rseq (glibc's registration at every thread
// start and AT_RSEQ_FEATURE_SIZE/AT_RSEQ_ALIGN; rseq(2)'s EBUSY, EPERM,
// EINVAL and EFAULT cases; the IDs written at registration and after a
// signal; a critical section aborted by a signal and by preemption; the
// SIGSEGV of bad descriptors and of an area the kernel cannot write;
// fork, vfork, new threads and execve) natively and inside Cocoon: the
// outputs must match.
func TestVMRseqDifferentialC(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/rseq/rseq.c"), "rseq: done")
}
