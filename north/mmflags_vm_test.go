package north_test

import "testing"

// TestVMMmFlagsDifferentialC runs mmflags natively and in Cocoon: madvise
// of locked memory (EINVAL, MADV_DONTNEED_LOCKED), a locked mapping
// through mremap (VmLck, RLIMIT_MEMLOCK's EAGAIN), MAP_SHARED_VALIDATE's
// checks, MAP_DROPPABLE, and mprotect's PROT_GROWSDOWN and PROT_GROWSUP,
// as Linux's mm/.
func TestVMMmFlagsDifferentialC(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/mmflags/mmflags.c"), "mmflags: done")
}
