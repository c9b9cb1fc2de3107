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

// TestVMExecTextCopyOnWrite runs north/testdata/exectext natively and
// inside Cocoon: execve maps the program's pages from its file, and a
// process writing its own text (after mprotect), forked or exec'd,
// changes neither the file, its parent nor the next exec; each exec
// starts with the file's data and a zero bss; a read-only page made
// writable after fork stays the child's own.
func TestVMExecTextCopyOnWrite(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/exectext/exectext.c"), "exectext: done")
}

// TestVMSpliceProcesses splices a 32 MiB stream from a Unix socket to TCP
// between two child processes (splicego, the shape of Go's net
// TestSplice "unix-to-tcp"), natively and inside Cocoon: every byte
// arrives in order and the outputs are the same. A lost wake-up across
// processes shows as splicego's own 4-minute timeout, named.
func TestVMSpliceProcesses(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildGo(t, "./north/testdata/splicego"), "splicego: done")
}

// TestVMTextBusy runs north/testdata/txtbsy natively and inside Cocoon: a
// running program's file cannot be opened for writing or truncated, and
// a file open for writing (by any descriptor, dup or forked copy) cannot
// be executed, both ETXTBSY, until the program exits or the last writer
// closes. Linux 6.11 dropped the exec half and a later release restored
// it; the host's kernel is the oracle.
func TestVMTextBusy(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/txtbsy/txtbsy.c"), "txtbsy: done")
}
