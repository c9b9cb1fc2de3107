package inet

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sort"

	"gvisor.dev/gvisor/pkg/tcpip"
)

// The files of /proc/PID/net (and /proc/net, a link to self/net) that
// the stack's state gives truly: the interfaces' counters (dev), their
// IPv6 addresses (if_inet6), the IPv4 routes (route) and the IPv4 MIB's
// counters (snmp, procsnmp.go) and its Linux extensions' (netstat,
// procnetstat.go). Programs read
// these where they do not speak rtnetlink: gopsutil's net.IOCounters,
// default-gateway lookups, ifconfig and route of busybox and net-tools.

// ProcNetFiles are the names of those files.
var ProcNetFiles = []string{"dev", "if_inet6", "route", "snmp", "netstat"}

// ProcNetFile returns the text of the file name of ProcNetFiles, made
// now.
func (st *Stack) ProcNetFile(name string) []byte {
	switch name {
	case "dev":
		return st.procDev()
	case "if_inet6":
		return st.procIfInet6()
	case "route":
		return st.procRoute()
	case "snmp":
		return st.procSnmp()
	case "netstat":
		return st.procNetstat()
	}
	return nil
}

// procDev is /proc/net/dev (net/core/net-procfs.c dev_seq_show and
// dev_seq_printf_stats): two header lines, then each interface's
// counters, those of struct rtnl_link_stats64 (linkStats) as Linux sums
// them into its columns.
func (st *Stack) procDev() []byte {
	b := bytes.NewBufferString("Inter-|   Receive                                                |  Transmit\n" +
		" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n")
	ids, info := st.nics()
	for _, id := range ids {
		n := info[id]
		s := linkStats(n.Stats)
		fmt.Fprintf(b, "%6s: %7d %7d %4d %4d %4d %5d %10d %9d %8d %7d %4d %4d %4d %5d %7d %10d\n",
			n.Name, s[2], s[0], s[4], s[6]+s[15], s[14], s[10]+s[11]+s[12]+s[13], s[21], s[8],
			s[3], s[1], s[5], s[7], s[18], s[9], s[17]+s[16]+s[20]+s[19], s[22])
	}
	return b.Bytes()
}

// procIfInet6 is /proc/net/if_inet6 (net/ipv6/addrconf.c if6_seq_show):
// each IPv6 address as 32 hex digits, the interface's index, the prefix
// length, the scope (IFA_HOST 0x10 for loopback, IFA_LINK 0x20 for
// link-local, 0 global) and the flags (IFA_F_PERMANENT, as RTM_GETADDR
// gives), then the interface's name.
func (st *Stack) procIfInet6() []byte {
	var b bytes.Buffer
	ids, info := st.nics()
	for _, id := range ids {
		n := info[id]
		for _, pa := range n.ProtocolAddresses {
			a := pa.AddressWithPrefix.Address
			if a.Len() != 16 {
				continue
			}
			scope := 0
			switch {
			case a.Unspecified():
				continue
			case a == tcpip.AddrFrom16([16]byte{15: 1}):
				scope = 0x10
			case a.As16()[0] == 0xfe && a.As16()[1]&0xc0 == 0x80:
				scope = 0x20
			}
			fmt.Fprintf(&b, "%x %02x %02x %02x %02x %8s\n", a.AsSlice(), uint32(id), pa.AddressWithPrefix.PrefixLen, scope, 0x80, n.Name)
		}
	}
	return b.Bytes()
}

// procRoute is /proc/net/route (net/ipv4/fib_trie.c fib_route_seq_show):
// the IPv4 routes of the main table, each line padded to 127 columns;
// addresses and masks are the network-order words printed as the
// little-endian integers they are in memory; flags RTF_UP, with
// RTF_GATEWAY for a route through a gateway. Loopback's routes are in
// Linux's local table, not here.
func (st *Stack) procRoute() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%-127s\n", "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT")
	_, info := st.nics()
	var routes []tcpip.Route
	for _, r := range st.s.GetRouteTable() {
		if n, ok := info[r.NIC]; ok && !n.Flags.Loopback && r.Destination.ID().Len() == 4 {
			routes = append(routes, r)
		}
	}
	sort.SliceStable(routes, func(i, j int) bool {
		a, c := routes[i].Destination.ID().As4(), routes[j].Destination.ID().As4()
		if x, y := binary.BigEndian.Uint32(a[:]), binary.BigEndian.Uint32(c[:]); x != y {
			return x < y
		}
		return routes[i].Destination.Prefix() > routes[j].Destination.Prefix()
	})
	word := func(a tcpip.Address) uint32 {
		if a.Len() != 4 {
			return 0
		}
		return binary.LittleEndian.Uint32(a.AsSlice())
	}
	for _, r := range routes {
		n := info[r.NIC]
		flags := 0x1 // RTF_UP
		if r.Gateway.Len() == 4 && !r.Gateway.Unspecified() {
			flags |= 0x2 // RTF_GATEWAY
		}
		line := fmt.Sprintf("%s\t%08X\t%08X\t%04X\t%d\t%d\t%d\t%08X\t%d\t%d\t%d",
			n.Name, word(r.Destination.ID()), word(r.Gateway), flags, 0, 0, 0, mask(r.Destination), 0, 0, 0)
		fmt.Fprintf(&b, "%-127s\n", line)
	}
	return b.Bytes()
}

// mask is an IPv4 subnet's mask as procRoute prints it.
func mask(s tcpip.Subnet) uint32 {
	m := s.Mask()
	return binary.LittleEndian.Uint32(m.AsSlice())
}
