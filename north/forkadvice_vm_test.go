package north_test

import "testing"

// TestVMForkAdviceDifferentialC runs forkadvice natively and in Cocoon:
// MADV_DONTFORK leaves private, shared and SysV ranges out of a forked
// child (and out of the segment's attach count), MADV_WIPEONFORK gives
// it zero pages and keeps the advice for its children, DOFORK and
// KEEPONFORK undo them, the advice moves with mremap and ends with the
// mapping, WIPEONFORK on file or shared mappings is EINVAL and a range
// with a hole ENOMEM, as mm/madvise.c and kernel/fork.c dup_mmap.
func TestVMForkAdviceDifferentialC(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/forkadvice/forkadvice.c"), "forkadvice: done")
}
