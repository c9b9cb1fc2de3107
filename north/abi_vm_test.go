package north_test

import "testing"

// TestVMABIDifferentialC runs abidiff (extended attributes, openat2,
// memfd seals, mremap with old_len 0, real-time signal queueing,
// F_SETOWN/SIGIO, /proc/self, unshare, credentials) natively and inside Cocoon:
// the outputs must be identical.
func TestVMABIDifferentialC(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/abidiff/abidiff.c"), "abidiff: done")
}
