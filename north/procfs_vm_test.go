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

// TestVMProcNamespacesDifferential runs testdata/procns (the links of
// /proc/PID/ns: their text, Linux's inode numbers of the initial
// namespaces, the same in every process and thread; what opening one
// gives, a file of nsfs, and setns with it; a zombie's) natively and
// inside Cocoon: the outputs must be identical.
func TestVMProcNamespacesDifferential(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/procns/procns.c"), "procns: done")
}

// TestVMProcSmapsDifferential runs testdata/procsmaps (/proc/self/smaps
// and smaps_rollup: every mapping's fields in Linux's order; Size, Rss,
// Anonymous, Swap, Locked and VmFlags of mappings made and touched
// there, a partial mlock's three mappings, the rollup's sums and header)
// natively and inside Cocoon: the outputs must be identical.
func TestVMProcSmapsDifferential(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/procsmaps/procsmaps.c"), "procsmaps: done")
}

// TestVMProcMiscDifferential runs testdata/procmisc (/proc/PID/root,
// the user namespace's uid_map, gid_map, projid_map and setgroups and
// their writes, personality, /proc/swaps) natively and inside Cocoon:
// the outputs must be identical.
func TestVMProcMiscDifferential(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/procmisc/procmisc.c"), "procmisc: done")
}
