package north_test

import "testing"

// TestVMUnixCredDifferentialC runs unixcred (AF_UNIX credentials carried
// by write, sendfile and splice from another process, messages sent
// before SO_PASSCRED, stream reads across writers, MSG_PEEK,
// SO_PASSCRED's autobind, control-message truncation) natively and inside
// Cocoon: the outputs must be identical.
func TestVMUnixCredDifferentialC(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/unixcred/unixcred.c"), "unixcred: done")
}
