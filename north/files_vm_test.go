package north_test

import "testing"

// TestVMFilesPerTaskDifferentialC runs filesdiff (clone with and without
// CLONE_FILES and CLONE_FS, threads and processes; unshare in a thread;
// close_range's CLOSE_RANGE_UNSHARE; /proc/thread-self, /proc/self and
// /proc/TID of a thread with a table of its own; record locks owned by a
// table; execve from a thread and from a process sharing its table)
// natively and inside Cocoon: the outputs must be identical.
func TestVMFilesPerTaskDifferentialC(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/filesdiff/filesdiff.c"), "filesdiff: done")
}
