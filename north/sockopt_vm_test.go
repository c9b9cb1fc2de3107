package north_test

import "testing"

// TestVMSockoptDifferentialC runs sockopt (getsockopt of every SOL_SOCKET
// option and the common TCP, IP and IPv6 ones on inet and AF_UNIX
// sockets, set-then-get round trips, bad lengths and levels, the queue
// and interface ioctls, SO_TIMESTAMP* control messages, SO_RCVLOWAT and
// MSG_OOB) natively and inside Cocoon: the outputs must be identical.
func TestVMSockoptDifferentialC(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/sockopt/sockopt.c"), "sockopt: done")
}
