package north_test

import "testing"

// TestVMSigreturnAltStack runs sigretstack (rt_sigreturn applying a
// handler's rewritten uc_stack through sigaltstack(2)'s checks, ignoring
// their errors as Linux's restore_altstack does) natively and inside
// Cocoon: the outputs must be identical.
func TestVMSigreturnAltStack(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/sigretstack/sigretstack.c"), "sigretstack: done")
}
