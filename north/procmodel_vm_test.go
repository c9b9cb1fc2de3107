package north_test

import "testing"

// TestVMProcModelDifferentialC runs procmodel (clone and clone3 flag
// rules and sharing, CLONE_PARENT, the TID-pointer flags, vfork, execve
// from a non-leader thread, the wait family, SIGCHLD ignored or with
// SA_NOCLDWAIT/SA_NOCLDSTOP, the child subreaper, setsid/setpgid rules,
// job-control stops, kill of a group, exit_group with threads asleep in
// system calls, PR_SET_PDEATHSIG at the parent thread's exit) natively
// and inside Cocoon: the outputs must be identical.
func TestVMProcModelDifferentialC(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/procmodel/procmodel.c"), "procmodel: done")
}
