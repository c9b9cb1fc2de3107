package north_test

import "testing"

// TestVMMapCountDifferentialC: the limit on an address space's mappings,
// vm.max_map_count, as Linux's: mprotect cutting a mapping one page at a
// time up to it (65,530 regions, past the fixed table of 1,024 this kernel
// had), then mprotect, munmap and mmap that would cut one at the limit
// (ENOMEM), the one more mmap may make, a fork's child with them all
// (north/testdata/mapcount).
func TestVMMapCountDifferentialC(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/mapcount/mapcount.c"), "mapcount: done")
}
