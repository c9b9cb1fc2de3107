package north_test

import (
	"strings"
	"testing"
)

// TestVMNetLoopback runs images/nettest inside Cocoon: a Go net/http
// server and client over 127.0.0.1 and [::1] through gVisor's netstack,
// UDP echo, Linux's errors for a refused connection and a port in use,
// and AF_UNIX sockets (a socket pair passing a pipe, a listener on a
// path).
func TestVMNetLoopback(t *testing.T) {
	cocoonKernel(t)
	app := packELF(t, buildGo(t, "./images/nettest"))
	console, err := runApp(t, app, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"http-ipv4", "http-ipv6", "udp-echo", "tcp-refused", "tcp-addrinuse", "unix-pass-fd", "unix-stream-listener"} {
		if !strings.Contains(console, "nettest: "+c+": ok") {
			t.Errorf("check %s did not pass", c)
		}
	}
	if !strings.Contains(console, "nettest: PASS") {
		t.Error("nettest did not pass")
	}
}
