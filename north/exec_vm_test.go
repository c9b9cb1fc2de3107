package north_test

import "testing"

// TestVMProcessesGo runs Go's os/exec natively and inside Cocoon: exit
// codes, stdout, stderr and stdin pipes, extra files, environment and
// working directory, failing execs and their errors, signals and
// CommandContext cancellation killing the child, a crashing child, and
// many children one after another and at once.
func TestVMProcessesGo(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildGo(t, "./north/testdata/procgo"), "procgo: done")
}
