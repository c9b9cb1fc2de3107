package north_test

import "testing"

// TestVMProcLeaderZombieDifferential runs testdata/procleader (what
// /proc shows of a process whose main thread exited while another
// lives: /proc/PID/task lists the leader, a zombie, whose stat and
// status say Z and whose memory, files and mounts are gone, and the
// live thread's files still show them) natively and inside Cocoon: the
// outputs must be identical.
func TestVMProcLeaderZombieDifferential(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/procleader/procleader.c"), "procleader: done")
}
