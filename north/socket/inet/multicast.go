package inet

import (
	"encoding/binary"

	"github.com/cocoon-vm/cocoon/north/socket"
	"github.com/cocoon-vm/cocoon/north/vfs"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// Multicast group membership and the interface multicast leaves by:
// IP_ADD_MEMBERSHIP, IP_DROP_MEMBERSHIP, MCAST_JOIN_GROUP,
// MCAST_LEAVE_GROUP, IP_MULTICAST_IF (net/ipv4/igmp.c ip_mc_join_group,
// ip_mc_leave_group; net/ipv4/ip_sockglue.c) and IPV6_ADD_MEMBERSHIP,
// IPV6_DROP_MEMBERSHIP (net/ipv6/mcast.c ipv6_sock_mc_join,
// ipv6_sock_mc_drop), carried out by netstack's joins.

// Option numbers (include/uapi/linux/in.h, in6.h).
const (
	ipAddMembership  = 35
	ipDropMembership = 36
	mcastJoinGroup   = 42
	mcastLeaveGroup  = 45
	ipv6AddMember    = 20
	ipv6DropMember   = 21
	ipUnblockSource  = 37
	ipBlockSource    = 38
	ipAddSourceMemb  = 39
	ipDropSourceMemb = 40
	ipMsfilter       = 41
	mcastBlockSource = 43
	mcastUnblockSrc  = 44
	mcastJoinSrcGrp  = 46
	mcastLeaveSrcGrp = 47
	mcastMsfilter    = 48
	igmpMaxMembers   = 20  // net.ipv4.igmp_max_memberships' default
	groupReqSize     = 136 // struct group_req: gr_interface, padding, a struct sockaddr_storage
)

// ipMembership serves IP_ADD_MEMBERSHIP and IP_DROP_MEMBERSHIP (a struct
// ip_mreq or ip_mreqn) and MCAST_JOIN_GROUP and MCAST_LEAVE_GROUP (a
// struct group_req) at the IP level.
func (s *sock) ipMembership(name int, val []byte) error {
	var group, ifaddr tcpip.Address
	var idx int32
	join := name == ipAddMembership || name == mcastJoinGroup
	le := binary.LittleEndian
	if name == ipAddMembership || name == ipDropMembership {
		if s.typ == socket.SockStream {
			return eproto // not a connection's
		}
		if len(val) < 8 {
			return vfs.EINVAL
		}
		group = tcpip.AddrFrom4([4]byte(val[:4]))
		ifaddr = tcpip.AddrFrom4([4]byte(val[4:8]))
		if len(val) >= 12 {
			idx = int32(le.Uint32(val[8:]))
		}
	} else {
		if len(val) < groupReqSize {
			return vfs.EINVAL
		}
		idx = int32(le.Uint32(val))
		g := val[8:]
		if int(le.Uint16(g)) != socket.AFInet {
			return vfs.EINVAL
		}
		group = tcpip.AddrFrom4([4]byte(g[4:8]))
	}
	if !header.IsV4MulticastAddress(group) {
		return vfs.EINVAL
	}
	if s.family != socket.AFInet && s.typ != socket.SockStream {
		// An IPv6 socket's IPv4 group: netstack's dual-stack
		// endpoint joins IPv6 groups only.
		return socket.ENOPROTOOPT
	}
	nic, err := s.mcDevice(idx, ifaddr, group, header.IPv4ProtocolNumber)
	if err != nil {
		// Leaving through an interface named but not there: no
		// such membership.
		if !join && (idx != 0 || !ifaddr.Unspecified()) {
			return socket.EADDRNOTAVAIL
		}
		return err
	}
	return s.membership(join, nic, group)
}

// ip6GroupReq serves MCAST_JOIN_GROUP and MCAST_LEAVE_GROUP at the IPv6
// level: a struct group_req of an IPv6 group (EADDRNOTAVAIL otherwise).
func (s *sock) ip6GroupReq(join bool, val []byte) error {
	if len(val) < groupReqSize {
		return vfs.EINVAL
	}
	le := binary.LittleEndian
	if int(le.Uint16(val[8:])) != socket.AFInet6 {
		return socket.EADDRNOTAVAIL
	}
	return s.ip6Membership(join, int32(le.Uint32(val)), tcpip.AddrFrom16([16]byte(val[16:32])))
}

// eproto is EPROTO: IP_ADD_MEMBERSHIP and IPV6_ADD_MEMBERSHIP refuse a
// TCP socket (MCAST_JOIN_GROUP does not).
var eproto = vfs.Errno(71)

// ip6Membership serves MCAST_JOIN_GROUP and MCAST_LEAVE_GROUP of an IPv6
// group, and IPV6_ADD_MEMBERSHIP and IPV6_DROP_MEMBERSHIP, which refuse
// TCP sockets.
func (s *sock) ip6Membership(join bool, idx int32, group tcpip.Address) error {
	if !header.IsV6MulticastAddress(group) {
		return vfs.EINVAL
	}
	nic, err := s.mcDevice(idx, tcpip.Address{}, group, header.IPv6ProtocolNumber)
	if err != nil {
		if join {
			return err
		}
		return socket.EADDRNOTAVAIL
	}
	return s.membership(join, nic, group)
}

// mcDevice finds the interface of a membership: by index, by address,
// else the route to the group's (ip_mc_find_dev; ENODEV).
func (s *sock) mcDevice(idx int32, addr, group tcpip.Address, proto tcpip.NetworkProtocolNumber) (tcpip.NICID, error) {
	switch {
	case idx != 0:
		if _, ok := s.st.s.NICInfo()[tcpip.NICID(idx)]; !ok || idx < 0 {
			return 0, vfs.ENODEV
		}
		return tcpip.NICID(idx), nil
	case addr.Len() > 0 && !addr.Unspecified():
		if nic := s.st.s.CheckLocalAddress(0, proto, addr); nic != 0 {
			return nic, nil
		}
		return 0, vfs.ENODEV
	}
	r, err := s.st.s.FindRoute(0, tcpip.Address{}, group, proto, false)
	if err != nil {
		return 0, vfs.ENODEV
	}
	defer r.Release()
	return r.NICID(), nil
}

// membership joins or leaves group on nic: EADDRINUSE joining twice,
// EADDRNOTAVAIL leaving a group not joined, ENOBUFS past
// net.ipv4.igmp_max_memberships.
func (s *sock) membership(join bool, nic tcpip.NICID, group tcpip.Address) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.typ == socket.SockStream {
		// A TCP socket's membership (MCAST_JOIN_GROUP) receives
		// nothing; netstack's TCP keeps none, so it is kept here.
		k := tcpip.AddMembershipOption{NIC: nic, MulticastAddr: group}
		switch {
		case join && s.opts.tcpGroups[k]:
			return socket.EADDRINUSE
		case join && group.Len() == 4 && s.opts.mcGroups >= igmpMaxMembers:
			return socket.ENOBUFS
		case join:
			if s.opts.tcpGroups == nil {
				s.opts.tcpGroups = map[tcpip.AddMembershipOption]bool{}
			}
			s.opts.tcpGroups[k] = true
		case !s.opts.tcpGroups[k]:
			return socket.EADDRNOTAVAIL
		default:
			delete(s.opts.tcpGroups, k)
		}
		return nil
	}
	if join {
		if group.Len() == 4 && s.opts.mcGroups >= igmpMaxMembers {
			return socket.ENOBUFS
		}
		o := tcpip.AddMembershipOption{NIC: nic, MulticastAddr: group}
		if err := s.ep.SetSockOpt(&o); err != nil {
			if _, ok := err.(*tcpip.ErrPortInUse); ok {
				return socket.EADDRINUSE
			}
			return errnoOf(err)
		}
		if group.Len() == 4 {
			s.opts.mcGroups++
		}
		return nil
	}
	o := tcpip.RemoveMembershipOption{NIC: nic, MulticastAddr: group}
	if err := s.ep.SetSockOpt(&o); err != nil {
		return socket.EADDRNOTAVAIL
	}
	if group.Len() == 4 {
		s.opts.mcGroups--
	}
	return nil
}

// setMulticastIf serves IP_MULTICAST_IF: a struct ip_mreqn, ip_mreq or
// in_addr naming the interface by index or address; INADDR_ANY for the
// route's.
func (s *sock) setMulticastIf(val []byte) error {
	if s.typ == socket.SockStream || len(val) < 4 {
		return vfs.EINVAL
	}
	var addr [4]byte
	var idx int32
	switch {
	case len(val) >= 12:
		addr, idx = [4]byte(val[4:8]), int32(binary.LittleEndian.Uint32(val[8:]))
	case len(val) >= 8:
		addr = [4]byte(val[4:8])
	default:
		addr = [4]byte(val[:4])
	}
	a := tcpip.AddrFrom4(addr)
	var nic tcpip.NICID
	if idx == 0 {
		if addr == [4]byte{} {
			return s.storeMulticastIf(0, tcpip.Address{}, addr)
		}
		nic = s.st.s.CheckLocalAddress(0, header.IPv4ProtocolNumber, a)
	} else if _, ok := s.st.s.NICInfo()[tcpip.NICID(idx)]; ok && idx > 0 {
		nic = tcpip.NICID(idx)
	}
	if nic == 0 {
		return socket.EADDRNOTAVAIL
	}
	if b := s.common.BoundIndex(); b != 0 && b != int(nic) {
		return vfs.EINVAL
	}
	if addr == [4]byte{} {
		a = tcpip.Address{}
	}
	return s.storeMulticastIf(nic, a, addr)
}

func (s *sock) storeMulticastIf(nic tcpip.NICID, a tcpip.Address, addr [4]byte) error {
	o := tcpip.MulticastInterfaceOption{NIC: nic, InterfaceAddr: a}
	if err := s.ep.SetSockOpt(&o); err != nil {
		return errnoOf(err)
	}
	s.mu.Lock()
	s.opts.mcAddr = addr
	s.mu.Unlock()
	return nil
}

// sourceFilter answers the source-specific multicast options (IGMPv3,
// MLDv2 source filters: IP_ADD_SOURCE_MEMBERSHIP, MCAST_JOIN_SOURCE_GROUP,
// IP_MSFILTER, ...), which Cocoon's stack has not: EINVAL for a value
// of the wrong size as Linux checks it first, ENOPROTOOPT otherwise.
func sourceFilter(name int, n int) error {
	switch name {
	case ipUnblockSource, ipBlockSource, ipAddSourceMemb, ipDropSourceMemb:
		if n != 12 { // struct ip_mreq_source
			return vfs.EINVAL
		}
	case ipMsfilter:
		if n < 16 { // IP_MSFILTER_SIZE(0)
			return vfs.EINVAL
		}
	case mcastBlockSource, mcastUnblockSrc, mcastJoinSrcGrp, mcastLeaveSrcGrp:
		if n != 264 { // struct group_source_req
			return vfs.EINVAL
		}
	case mcastMsfilter:
		if n < 144 { // GROUP_FILTER_SIZE(0)
			return vfs.EINVAL
		}
	}
	return socket.ENOPROTOOPT
}
