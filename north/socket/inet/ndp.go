package inet

import (
	"net/netip"
	"sync"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// IPv6 on Ethernet: a link-local address from the MAC (RFC 4291,
// appendix A), and stateless address autoconfiguration from router
// advertisements (RFC 4862, SLAAC), both done by gVisor's NDP. gVisor
// leaves the routes a router advertises to the integrator: ndpRoutes
// turns them into route table entries, the on-link prefix (RFC 4861,
// 6.3.4) and the default router.

// ndpConfig is the NDP behaviour of Ethernet interfaces: solicit routers,
// take their advertisements (Cocoon never forwards), discover default
// routers and on-link prefixes, and form SLAAC addresses.
func ndpConfig() ipv6.NDPConfigurations {
	c := ipv6.DefaultNDPConfigurations()
	c.HandleRAs = ipv6.HandlingRAsAlwaysEnabled
	c.DiscoverDefaultRouters = true
	c.DiscoverOnLinkPrefixes = true
	c.AutoGenGlobalAddresses = true
	return c
}

// linkLocal is fe80::/64 (RFC 4291, 2.5.6).
var linkLocal = tcpip.AddressWithPrefix{Address: tcpip.AddrFrom16([16]byte{0: 0xfe, 1: 0x80}), PrefixLen: 64}.Subnet()

// ndpRoutes is the NDP dispatcher. Its methods must not call into the
// stack, so they queue the route changes, which a goroutine applies.
type ndpRoutes struct {
	mu      sync.Mutex
	pending []func(*stack.Stack)
	wake    chan struct{}
	addrs   []netip.Prefix // SLAAC addresses formed, for the log
}

func newNDPRoutes() *ndpRoutes { return &ndpRoutes{wake: make(chan struct{}, 1)} }

// run applies the queued changes to s until the process ends.
func (d *ndpRoutes) run(s *stack.Stack) {
	for range d.wake {
		d.mu.Lock()
		todo := d.pending
		d.pending = nil
		d.mu.Unlock()
		for _, f := range todo {
			f(s)
		}
	}
}

func (d *ndpRoutes) queue(f func(*stack.Stack)) {
	d.mu.Lock()
	d.pending = append(d.pending, f)
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// sameRoute compares the fields NDP sets (tcpip.Route also holds its
// list links).
func sameRoute(a, b tcpip.Route) bool {
	return a.Destination.Equal(b.Destination) && a.Gateway == b.Gateway && a.NIC == b.NIC
}

// setRoute replaces any route to dest through gw on nic with one.
func setRoute(s *stack.Stack, r tcpip.Route) {
	s.RemoveRoutes(func(o tcpip.Route) bool { return sameRoute(o, r) })
	s.AddRoute(r)
}

func (d *ndpRoutes) OnOffLinkRouteUpdated(nic tcpip.NICID, dest tcpip.Subnet, router tcpip.Address, _ header.NDPRoutePreference) {
	d.queue(func(s *stack.Stack) { setRoute(s, tcpip.Route{Destination: dest, Gateway: router, NIC: nic}) })
}

func (d *ndpRoutes) OnOffLinkRouteInvalidated(nic tcpip.NICID, dest tcpip.Subnet, router tcpip.Address) {
	r := tcpip.Route{Destination: dest, Gateway: router, NIC: nic}
	d.queue(func(s *stack.Stack) { s.RemoveRoutes(func(o tcpip.Route) bool { return sameRoute(o, r) }) })
}

func (d *ndpRoutes) OnOnLinkPrefixDiscovered(nic tcpip.NICID, prefix tcpip.Subnet) {
	d.queue(func(s *stack.Stack) { setRoute(s, tcpip.Route{Destination: prefix, NIC: nic}) })
}

func (d *ndpRoutes) OnOnLinkPrefixInvalidated(nic tcpip.NICID, prefix tcpip.Subnet) {
	r := tcpip.Route{Destination: prefix, NIC: nic}
	d.queue(func(s *stack.Stack) { s.RemoveRoutes(func(o tcpip.Route) bool { return sameRoute(o, r) }) })
}

func (d *ndpRoutes) OnAutoGenAddress(_ tcpip.NICID, a tcpip.AddressWithPrefix) stack.AddressDispatcher {
	d.mu.Lock()
	d.addrs = append(d.addrs, netip.PrefixFrom(netip.AddrFrom16(a.Address.As16()), a.PrefixLen))
	d.mu.Unlock()
	return nil
}

// The remaining events change no route: addresses come and go in the
// stack itself, and DNS servers come from DHCPv4 or the command line.
func (d *ndpRoutes) OnDuplicateAddressDetectionResult(tcpip.NICID, tcpip.Address, stack.DADResult) {
}
func (d *ndpRoutes) OnAutoGenAddressDeprecated(tcpip.NICID, tcpip.AddressWithPrefix)        {}
func (d *ndpRoutes) OnAutoGenAddressInvalidated(tcpip.NICID, tcpip.AddressWithPrefix)       {}
func (d *ndpRoutes) OnRecursiveDNSServerOption(tcpip.NICID, []tcpip.Address, time.Duration) {}
func (d *ndpRoutes) OnDNSSearchListOption(tcpip.NICID, []string, time.Duration)             {}
func (d *ndpRoutes) OnDHCPv6Configuration(tcpip.NICID, ipv6.DHCPv6ConfigurationFromNDPRA)   {}
