package north_test

import "testing"

// TestVMPipeLimitsDifferentialC runs pipelimits natively and in Cocoon:
// F_SETPIPE_SZ's rounding and limits (pipe-max-size without
// CAP_SYS_RESOURCE, EINVAL past 2 GiB, EBUSY), pipes filled and read
// back across a resize, and an unprivileged user's pipes and FIFOs past
// pipe-user-pages-soft (two pages, no growing, pages given back at
// close), as fs/pipe.c.
func TestVMPipeLimitsDifferentialC(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/pipelimits/pipelimits.c"), "pipelimits: done")
}
