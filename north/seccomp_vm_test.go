package north_test

import "testing"

// TestVMSeccompDifferential runs seccomp (strict mode, filters returning
// each action, their precedence when stacked, the checks of a program,
// the path-length limit, inheritance across fork and execve, TSYNC,
// /proc/self/status's Seccomp lines, SECCOMP_GET_ACTION_AVAIL)
// natively and inside Cocoon: the outputs must be identical. Natively
// it needs root (a child drops to an unprivileged user for EACCES).
func TestVMSeccompDifferential(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/seccomp/seccomp.c"), "seccomp: done")
}
