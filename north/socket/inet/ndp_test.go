package inet

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

func TestParseStatic6(t *testing.T) {
	c, err := ParseStatic6("fec0::15/64,fe80::2")
	if err != nil || c.Addr != netip.MustParsePrefix("fec0::15/64") || c.Gateway != netip.MustParseAddr("fe80::2") {
		t.Errorf("ParseStatic6 = %+v, %v", c, err)
	}
	if c, err := ParseStatic6("2001:db8::1/48"); err != nil || c.Gateway.IsValid() {
		t.Errorf("without a gateway: %+v, %v", c, err)
	}
	for _, bad := range []string{"", "10.0.2.15/24", "fec0::15", "fec0::15/64,10.0.2.2", "fec0::15/64,fe80::2,fe80::3", "::ffff:10.0.2.15/120", "fec0::15/0"} {
		if _, err := ParseStatic6(bad); err == nil || !strings.Contains(err.Error(), "cocoon.ip6=") {
			t.Errorf("ParseStatic6(%q) = %v", bad, err)
		}
	}
}

// hasRoute waits (generously: the dispatcher's goroutine applies the
// change) until the route table has r or not, as want says.
func hasRoute(t *testing.T, st *Stack, r tcpip.Route, want bool) {
	t.Helper()
	for end := time.Now().Add(time.Minute); ; time.Sleep(time.Millisecond) {
		found := false
		for _, o := range st.s.GetRouteTable() {
			found = found || sameRoute(o, r)
		}
		if found == want {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("route %v present %v, want %v; table %v", r, found, want, st.s.GetRouteTable())
		}
	}
}

// TestNDPRoutes: what router advertisements teach (an on-link prefix, a
// default router) becomes routes, once, and goes when invalidated.
func TestNDPRoutes(t *testing.T) {
	st, err := New(0)
	if err != nil {
		t.Fatal(err)
	}
	prefix := tcpip.AddressWithPrefix{Address: tcpip.AddrFrom16([16]byte{0: 0xfe, 1: 0xc0}), PrefixLen: 64}.Subnet()
	router := tcpip.AddrFrom16([16]byte{0: 0xfe, 1: 0x80, 15: 2})
	onLink := tcpip.Route{Destination: prefix, NIC: EthernetNIC}
	def := tcpip.Route{Destination: header.IPv6EmptySubnet, Gateway: router, NIC: EthernetNIC}
	st.ndp.OnOnLinkPrefixDiscovered(EthernetNIC, prefix)
	st.ndp.OnOffLinkRouteUpdated(EthernetNIC, header.IPv6EmptySubnet, router, header.MediumRoutePreference)
	st.ndp.OnOffLinkRouteUpdated(EthernetNIC, header.IPv6EmptySubnet, router, header.HighRoutePreference)
	hasRoute(t, st, onLink, true)
	hasRoute(t, st, def, true)
	n := 0
	for _, o := range st.s.GetRouteTable() {
		if sameRoute(o, def) {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the default route is in the table %d times after two updates", n)
	}
	st.ndp.OnOffLinkRouteInvalidated(EthernetNIC, header.IPv6EmptySubnet, router)
	st.ndp.OnOnLinkPrefixInvalidated(EthernetNIC, prefix)
	hasRoute(t, st, def, false)
	hasRoute(t, st, onLink, false)
}

// sinkDevice is an Ethernet device on an empty link.
type sinkDevice struct{}

func (sinkDevice) MAC() [6]byte                            { return testMAC }
func (sinkDevice) Send([]byte) error                       { return nil }
func (sinkDevice) Receive(func(frame []byte)) (int, error) { return 0, nil }

// TestConfigure6 gives an Ethernet interface a static IPv6 address: it
// is the NIC's, with its subnet's route and the default route.
func TestConfigure6(t *testing.T) {
	st, err := New(0)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AddNIC(sinkDevice{}, func(string) {}); err != nil {
		t.Fatal(err)
	}
	c, _ := ParseStatic6("2001:db8::15/64,fe80::1")
	if err := st.Configure6(c); err != nil {
		t.Fatal(err)
	}
	a := tcpip.AddrFrom16(netip.MustParseAddr("2001:db8::15").As16())
	// The address is tentative until duplicate address detection (one
	// probe, 1 s) finds no one else has it.
	for end := time.Now().Add(time.Minute); st.s.CheckLocalAddress(EthernetNIC, header.IPv6ProtocolNumber, a) != EthernetNIC; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("the static address never became the interface's")
		}
	}
	sub := tcpip.AddressWithPrefix{Address: a, PrefixLen: 64}.Subnet()
	hasRoute(t, st, tcpip.Route{Destination: sub, NIC: EthernetNIC}, true)
	hasRoute(t, st, tcpip.Route{Destination: header.IPv6EmptySubnet, Gateway: tcpip.AddrFrom16(netip.MustParseAddr("fe80::1").As16()), NIC: EthernetNIC}, true)
	hasRoute(t, st, tcpip.Route{Destination: linkLocal, NIC: EthernetNIC}, true)
}

// TestLoopbackIPv6AtOnce: ::1 is usable as soon as the stack exists, as
// on Linux, where loopback has no duplicate address detection (a static
// C program binds [::1] first thing).
func TestLoopbackIPv6AtOnce(t *testing.T) {
	st, err := New(0)
	if err != nil {
		t.Fatal(err)
	}
	if st.s.CheckLocalAddress(LoopbackNIC, header.IPv6ProtocolNumber, tcpip.AddrFrom16([16]byte{15: 1})) != LoopbackNIC {
		t.Error("::1 is not yet the loopback interface's (tentative?)")
	}
}

// TestRDNSS: DNS servers from router advertisements are listed in the
// order first advertised, refreshed by each advertisement, withdrawn by
// a lifetime of 0 and dropped when they expire; the listener hears of
// changes only.
func TestRDNSS(t *testing.T) {
	d := newNDPRoutes()
	var calls [][]netip.Addr
	d.onDNS = func(l []netip.Addr) { calls = append(calls, l) }
	a, b := netip.MustParseAddr("fec0::3"), netip.MustParseAddr("2001:db8::53")
	t0 := time.Unix(1000, 0)
	check := func(step string, want ...netip.Addr) {
		t.Helper()
		if len(calls) == 0 {
			t.Fatalf("%s: no change reported", step)
		}
		if got := calls[len(calls)-1]; !slices.Equal(got, want) {
			t.Errorf("%s: servers %v, want %v", step, got, want)
		}
		calls = nil
	}
	d.updateDNS([]netip.Addr{a, b}, 10*time.Second, t0)
	check("advertised", a, b)
	d.updateDNS([]netip.Addr{b}, 0, t0.Add(time.Second))
	check("withdrawn", a)
	d.updateDNS([]netip.Addr{a}, 10*time.Second, t0.Add(5*time.Second))
	if calls != nil {
		t.Errorf("a refresh reported %v", calls)
	}
	d.updateDNS(nil, 0, t0.Add(14*time.Second))
	if calls != nil {
		t.Errorf("before the refreshed lifetime ended: %v", calls)
	}
	d.updateDNS(nil, 0, t0.Add(16*time.Second))
	check("expired")
	if d.timer != nil {
		d.timer.Stop()
	}
}
