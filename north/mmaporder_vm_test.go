package north_test

import "testing"

// TestVMMmapOrderDifferentialC: where mmap puts a mapping without
// MAP_FIXED, as x86-64 Linux's top-down layout does (each below the
// last, under the stack's gap; holes reused from the top; hints;
// MAP_32BIT in the second gigabyte), and a new program's layout with
// RLIMIT_STACK unlimited (still top-down) and with ADDR_COMPAT_LAYOUT
// (bottom-up) (north/testdata/mmaporder).
func TestVMMmapOrderDifferentialC(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/mmaporder/mmaporder.c"), "mmaporder: done")
}
