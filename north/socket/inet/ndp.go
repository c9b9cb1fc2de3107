package inet

import (
	"net/netip"
	"slices"
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
	// DNS servers from router advertisements (RDNSS, RFC 8106): each
	// with when it expires, in the order they were first advertised;
	// onDNS is told the list whenever it changes. Both belong to the
	// goroutine that runs the queue.
	dns   []dnsServer
	onDNS func([]netip.Addr)
	timer *time.Timer
}

type dnsServer struct {
	addr    netip.Addr
	expires time.Time
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

// OnRecursiveDNSServerOption takes the DNS servers of a router
// advertisement's RDNSS option (RFC 8106, 5.1): each is used for its
// lifetime, and a lifetime of 0 withdraws it.
func (d *ndpRoutes) OnRecursiveDNSServerOption(_ tcpip.NICID, addrs []tcpip.Address, lifetime time.Duration) {
	as := make([]netip.Addr, 0, len(addrs))
	for _, a := range addrs {
		if a.Len() == 16 {
			as = append(as, netip.AddrFrom16(a.As16()))
		}
	}
	d.queue(func(*stack.Stack) { d.updateDNS(as, lifetime, time.Now()) })
}

// updateDNS records the servers as advertised at now with lifetime,
// drops the expired ones and tells onDNS of a change. It runs on the
// queue's goroutine.
func (d *ndpRoutes) updateDNS(as []netip.Addr, lifetime time.Duration, now time.Time) {
	before := d.dnsList()
	for _, a := range as {
		i := 0
		for i < len(d.dns) && d.dns[i].addr != a {
			i++
		}
		if i == len(d.dns) {
			d.dns = append(d.dns, dnsServer{addr: a})
		}
		d.dns[i].expires = now.Add(lifetime)
	}
	var next time.Time
	kept := d.dns[:0]
	for _, s := range d.dns {
		if s.expires.After(now) {
			kept = append(kept, s)
			if next.IsZero() || s.expires.Before(next) {
				next = s.expires
			}
		}
	}
	d.dns = kept
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	if !next.IsZero() && next.Sub(now) < 1<<40 { // not "infinity" (0xffffffff s)
		d.timer = time.AfterFunc(next.Sub(now), func() {
			d.queue(func(*stack.Stack) { d.updateDNS(nil, 0, time.Now()) })
		})
	}
	if after := d.dnsList(); d.onDNS != nil && !slices.Equal(before, after) {
		d.onDNS(after)
	}
}

func (d *ndpRoutes) dnsList() []netip.Addr {
	l := make([]netip.Addr, len(d.dns))
	for i, s := range d.dns {
		l[i] = s.addr
	}
	return l
}

// OnIPv6DNS has f told the DNS servers routers advertise whenever they
// change (to none, when the last one expires). f runs on a goroutine of
// the stack's and must not block for long.
func (st *Stack) OnIPv6DNS(f func([]netip.Addr)) {
	st.ndp.queue(func(*stack.Stack) {
		st.ndp.onDNS = f
		if len(st.ndp.dns) > 0 {
			f(st.ndp.dnsList())
		}
	})
}

// The remaining events change no route: addresses come and go in the
// stack itself.
func (d *ndpRoutes) OnDuplicateAddressDetectionResult(tcpip.NICID, tcpip.Address, stack.DADResult) {
}
func (d *ndpRoutes) OnAutoGenAddressDeprecated(tcpip.NICID, tcpip.AddressWithPrefix)      {}
func (d *ndpRoutes) OnAutoGenAddressInvalidated(tcpip.NICID, tcpip.AddressWithPrefix)     {}
func (d *ndpRoutes) OnDNSSearchListOption(tcpip.NICID, []string, time.Duration)           {}
func (d *ndpRoutes) OnDHCPv6Configuration(tcpip.NICID, ipv6.DHCPv6ConfigurationFromNDPRA) {}
