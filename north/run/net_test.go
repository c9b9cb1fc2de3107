//go:build !nonet

package run

import (
	"net/netip"
	"testing"
)

// TestResolv: /etc/resolv.conf names the DHCP servers first, then those
// router advertisements give, one nameserver line each.
func TestResolv(t *testing.T) {
	v4 := []netip.Addr{netip.MustParseAddr("10.0.2.3")}
	v6 := []netip.Addr{netip.MustParseAddr("fec0::3"), netip.MustParseAddr("2001:db8::53")}
	if got, want := resolv(v4, v6), "nameserver 10.0.2.3\nnameserver fec0::3\nnameserver 2001:db8::53\n"; got != want {
		t.Errorf("resolv = %q, want %q", got, want)
	}
	if got := resolv(v4, nil); got != "nameserver 10.0.2.3\n" {
		t.Errorf("resolv without IPv6 servers = %q", got)
	}
	if got := resolv(nil, nil); got != "" {
		t.Errorf("resolv of no servers = %q", got)
	}
	if len(v4) != 1 {
		t.Error("resolv changed its argument")
	}
}
