package north_test

import "testing"

// TestVMKmemLimitsDifferentialC runs kmemlimits natively and in Cocoon:
// the bounds on kernel objects a program makes. AF_UNIX sockets in flight
// that only the queues of such sockets hold (a socket sent over itself,
// two over each other, a listener in the queue of a connection to it) are
// collected with the files they hold, those an open socket holds are not,
// and 2000 such garbage sockets of 128 KiB each pass in a 256 MiB guest
// (net/unix/garbage.c); an unprivileged user's files in flight past its
// RLIMIT_NOFILE are ETOOMANYREFS (too_many_unix_fds); forks and threads
// of a user past RLIMIT_NPROC are EAGAIN, root's not (copy_process).
func TestVMKmemLimitsDifferentialC(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/kmemlimits/kmemlimits.c"), "kmemlimits: done")
}
