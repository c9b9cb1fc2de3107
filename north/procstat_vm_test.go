package north_test

import "testing"

// TestVMProcStatusDifferential runs procstat natively and inside Cocoon:
// /proc/self/status must have Linux's lines in Linux's order (a live
// process and a zombie), the same values where they do not depend on the
// machine (umask, FDSize, the signal masks, ...), and sizes that agree
// with statm's and stat's (52 fields) as Linux's do; VmLck must follow
// mlock, munlock, MAP_LOCKED and mlockall as Linux's does;
// /proc/self/limits must read the same after the program set every
// limit, and /proc/self/io count the same reads and writes.
func TestVMProcStatusDifferential(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/procstat/procstat.c"), "procstat: done")
}
