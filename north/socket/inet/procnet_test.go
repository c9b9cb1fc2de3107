package inet

import (
	"strings"
	"testing"
)

// TestProcNet: /proc/net's files of a stack with loopback alone, as
// Linux prints them (net-procfs.c, addrconf.c, fib_trie.c): lo's
// counters under dev's two header lines, ::1 in if_inet6, and a route
// file of the header alone (loopback's routes are in the local table),
// padded to 127 columns.
func TestProcNet(t *testing.T) {
	st, err := New(0)
	if err != nil {
		t.Fatal(err)
	}
	dev := strings.Split(string(st.ProcNetFile("dev")), "\n")
	if len(dev) != 4 || !strings.HasPrefix(dev[0], "Inter-|   Receive ") || !strings.HasPrefix(dev[2], "    lo:       0       0    0") || dev[2] != "    lo:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0" {
		t.Errorf("dev:\n%s", strings.Join(dev, "\n"))
	}
	if got, want := string(st.ProcNetFile("if_inet6")), "00000000000000000000000000000001 01 80 10 80       lo\n"; got != want {
		t.Errorf("if_inet6 = %q, want %q", got, want)
	}
	route := string(st.ProcNetFile("route"))
	if want := "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT"; route != want+strings.Repeat(" ", 127-len(want))+"\n" {
		t.Errorf("route = %q", route)
	}
	if st.ProcNetFile("tcp") != nil {
		t.Error("a file ProcNetFiles does not name has a text")
	}
}
