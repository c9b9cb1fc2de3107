package north_test

import (
	"strings"
	"testing"
)

// TestVMZeroPage: a program reads 384 MiB of untouched private anonymous
// memory in a 256 MiB guest, half of it in user mode and half through
// write(2) to a tmpfs file, as Linux serves from its shared zero page
// (before Cocoon had one, each page read got a frame of its own and the
// program was killed out of memory: fuzzer seed 1387); then every path
// that writes user memory or changes mappings must see zero pages right
// (north/testdata/zeropage). Natively the program prints the same.
func TestVMZeroPage(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/zeropage/zeropage.c"), "zeropage: done")
}

// TestVMZeroPageHugePopulate: MAP_POPULATE of a terabyte of read-only
// private memory, and mlock and MADV_POPULATE_READ of a gigabyte of it,
// finish at once: pages that would map the zero page are left to their
// first touch, not walked one by one (Linux does, for minutes).
func TestVMZeroPageHugePopulate(t *testing.T) {
	cocoonKernel(t)
	console, err := runApp(t, packELF(t, buildC(t, "testdata/zeropage/zeropage.c")), "populate")
	if err != nil {
		t.Fatalf("in Cocoon: %v", err)
	}
	if got := appOutput(console); strings.Contains(got, "FAIL") || !strings.HasSuffix(got, "zeropage: done\n") {
		t.Errorf("output:\n%s", got)
	}
}
