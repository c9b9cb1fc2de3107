package north_test

import "testing"

// TestVMProcMem: /proc/PID/mem of the process itself and of a child, read
// and written at addresses through and past the mappings' protections,
// as on Linux (testdata/procmem).
func TestVMProcMem(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/procmem/procmem.c"), "procmem: done")
}
