package north_test

import "testing"

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
