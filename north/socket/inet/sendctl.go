package inet

import (
	"encoding/binary"

	"github.com/cocoon-vm/cocoon/north/socket"
	"github.com/cocoon-vm/cocoon/north/vfs"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// The control messages a send on a UDP socket may carry (SOL_SOCKET's
// are checked before they come here): UDP_SEGMENT
// (net/ipv4/udp.c udp_cmsg_send), then for IPv4 IP_PKTINFO, IP_TTL,
// IP_TOS, IP_PROTOCOL (net/ipv4/ip_sockglue.c ip_cmsg_send) and for
// IPv6 IPV6_PKTINFO, IPV6_HOPLIMIT, IPV6_TCLASS, IPV6_DONTFRAG,
// IPV6_FLOWINFO (net/ipv6/datagram.c ip6_datagram_send_ctl). A TCP send
// takes SOL_SOCKET's only and passes over the rest (tcp_sendmsg_locked).

// Option and message numbers (include/uapi/linux/udp.h, in.h, in6.h).
const (
	udpCork        = 1
	udpliteSendCsc = 10
	udpliteRecvCsc = 11
	udpEncap       = 100
	udpNoCheck6Tx  = 101
	udpNoCheck6Rx  = 102
	udpSegment     = 103
	udpGRO         = 104
	udpMaxSegments = 128 // UDP_MAX_SEGMENTS
	ipv6Flowinfo   = 11
	ipv6Dontfrag   = 62
)

// sendCtl is what a send's control messages ask of it.
type sendCtl struct {
	cm     tcpip.SendableControlMessages
	tos    int // the TOS or traffic class for this datagram, -1 for the socket's
	gso    int // UDP_SEGMENT: the datagram is cut into datagrams of this size
	source tcpip.Address
	nic    tcpip.NICID
	v4     bool // an IPv4 datagram
}

// sendControl checks the control messages of a datagram to to (nil: the
// connected peer) and returns what they ask.
func (s *sock) sendControl(m *socket.Msg, to *tcpip.FullAddress) (sendCtl, error) {
	c := sendCtl{tos: -1}
	if s.typ == socket.SockStream {
		return c, nil
	}
	c.gso = int(s.gso.Load())
	le := binary.LittleEndian
	for _, k := range m.Control {
		if k.Level != solUDP {
			continue
		}
		if k.Type != udpSegment || len(k.Data) != 2 {
			return c, vfs.EINVAL
		}
		c.gso = int(le.Uint16(k.Data))
	}
	// An IPv6 socket sends to an IPv4-mapped address as IPv4, with
	// IPv4's messages (udpv6_sendmsg hands it to udp_sendmsg).
	v4 := s.family == socket.AFInet
	if !v4 {
		dst := tcpip.Address{}
		if to != nil {
			dst = to.Addr
		} else if a, err := s.ep.GetRemoteAddress(); err == nil {
			dst = a.Addr
		}
		v4 = dst.Len() == 4 || (dst.Len() == 16 && isV4Mapped(dst.As16()))
	}
	c.v4 = v4
	for _, k := range m.Control {
		switch {
		case v4 && k.Level == socket.SolIP:
			if err := c.ipv4(k); err != nil {
				return c, err
			}
		case v4 && s.family == socket.AFInet6 && k.Level == socket.SolIPv6 && k.Type == ipv6PktinfoMsg:
			// An IPv6 socket's IPv4 datagram takes IPV6_PKTINFO of an
			// IPv4-mapped source as IP_PKTINFO (ip_cmsg_send's
			// allow_ipv6).
			if len(k.Data) < 20 || !isV4Mapped([16]byte(k.Data[:16])) {
				return c, vfs.EINVAL
			}
			c.nic = tcpip.NICID(int32(le.Uint32(k.Data[16:])))
			c.source = tcpip.Address{}
			if a := [4]byte(k.Data[12:16]); a != [4]byte{} {
				c.source = tcpip.AddrFrom4(a)
			}
		case !v4 && k.Level == socket.SolIPv6:
			if err := c.ipv6(s, k); err != nil {
				return c, err
			}
		}
	}
	if c.source.Len() > 0 || c.nic != 0 {
		if err := s.checkSource(&c, to); err != nil {
			return c, err
		}
	}
	return c, nil
}

func isV4Mapped(a [16]byte) bool {
	return a[10] == 0xff && a[11] == 0xff && [10]byte(a[:10]) == [10]byte{}
}

// cmsgInt is a control message's int: EINVAL unless it holds exactly
// one.
func cmsgInt(k socket.Cmsg) (int, error) {
	if len(k.Data) != 4 {
		return 0, vfs.EINVAL
	}
	return int(int32(binary.LittleEndian.Uint32(k.Data))), nil
}

func (c *sendCtl) ipv4(k socket.Cmsg) error {
	switch k.Type {
	case ipPktinfo:
		// struct in_pktinfo: the interface to leave by and the source
		// address (ipi_spec_dst).
		if len(k.Data) != 12 {
			return vfs.EINVAL
		}
		c.nic = tcpip.NICID(int32(binary.LittleEndian.Uint32(k.Data)))
		if a := [4]byte(k.Data[4:8]); a != [4]byte{} {
			c.source = tcpip.AddrFrom4(a)
		}
	case ipTTLMsg:
		v, err := cmsgInt(k)
		if err != nil || v < 1 || v > 255 {
			return vfs.EINVAL
		}
		c.cm.HasTTL, c.cm.TTL = true, uint8(v)
	case ipTOSMsg:
		// An int, or one byte.
		v := 0
		switch len(k.Data) {
		case 4:
			v = int(int32(binary.LittleEndian.Uint32(k.Data)))
		case 1:
			v = int(k.Data[0])
		default:
			return vfs.EINVAL
		}
		if v < 0 || v > 255 {
			return vfs.EINVAL
		}
		c.tos = v
	case ipProtocol:
		v, err := cmsgInt(k)
		if err != nil || v < 1 || v > 255 {
			return vfs.EINVAL
		}
	case ipRetopts:
		// IP options to send: none is none; Cocoon sends none.
		if len(k.Data) != 0 {
			return socket.EOPNOTSUPP
		}
	default:
		return vfs.EINVAL
	}
	return nil
}

func (c *sendCtl) ipv6(s *sock, k socket.Cmsg) error {
	switch k.Type {
	case ipv6PktinfoMsg, ipv6PktinfoOld:
		// struct in6_pktinfo: the source address, the interface.
		if len(k.Data) < 20 {
			return vfs.EINVAL
		}
		nic := tcpip.NICID(int32(binary.LittleEndian.Uint32(k.Data[16:])))
		if nic != 0 {
			if _, ok := s.st.s.NICInfo()[nic]; !ok {
				return vfs.ENODEV
			}
		}
		info := tcpip.IPv6PacketInfo{NIC: nic}
		if a := [16]byte(k.Data[:16]); a != [16]byte{} {
			info.Addr = tcpip.AddrFrom16(a)
			if s.st.s.CheckLocalAddress(nic, header.IPv6ProtocolNumber, info.Addr) == 0 {
				return vfs.EINVAL
			}
		}
		c.cm.HasIPv6PacketInfo, c.cm.IPv6PacketInfo = true, info
	case ipv6HoplimitMsg, ipv6HoplimitOld:
		v, err := cmsgInt(k)
		if err != nil || v < -1 || v > 255 {
			return vfs.EINVAL
		}
		if v >= 0 {
			c.cm.HasHopLimit, c.cm.HopLimit = true, uint8(v)
		}
	case ipv6TclassMsg:
		v, err := cmsgInt(k)
		if err != nil || v < -1 || v > 255 {
			return vfs.EINVAL
		}
		if v >= 0 {
			c.tos = v
		}
	case ipv6Dontfrag:
		// Refusing to fragment a datagram larger than the path's
		// MTU, which Cocoon's stack cannot be asked to.
		v, err := cmsgInt(k)
		if err != nil || v < -1 || v > 1 {
			return vfs.EINVAL
		}
		if v == 1 {
			return socket.EOPNOTSUPP
		}
	case ipv6Flowinfo:
		// A flow label must be one the socket leased
		// (IPV6_FLOWLABEL_MGR), and none can be.
		if len(k.Data) < 4 {
			return vfs.EINVAL
		}
		if binary.BigEndian.Uint32(k.Data)&0xfffff != 0 {
			return vfs.EINVAL
		}
	default:
		return vfs.EINVAL
	}
	return nil
}

// checkSource checks an IPv4 IP_PKTINFO's interface and source address:
// the interface must exist (ENODEV), the address be the host's
// (ENETUNREACH: __ip_route_output_key finds no route from it).
// Cocoon's stack picks the source itself: one other than what it would
// pick cannot be had (EOPNOTSUPP).
func (s *sock) checkSource(c *sendCtl, to *tcpip.FullAddress) error {
	if c.nic != 0 {
		if _, ok := s.st.s.NICInfo()[c.nic]; !ok {
			return vfs.ENODEV
		}
	}
	if c.source.Len() == 0 {
		return nil
	}
	proto := header.IPv4ProtocolNumber
	if s.st.s.CheckLocalAddress(0, proto, c.source) == 0 {
		return socket.ENETUNREACH // no route from an address not the host's
	}
	if local, err := s.ep.GetLocalAddress(); err == nil && local.Addr.Len() == 4 && local.Addr != c.source {
		if !local.Addr.Unspecified() {
			return socket.EOPNOTSUPP
		}
	}
	var dst tcpip.Address
	if to != nil {
		dst = to.Addr
	} else if a, err := s.ep.GetRemoteAddress(); err == nil {
		dst = a.Addr
	}
	if dst.Len() == 16 {
		a := dst.As16()
		dst = tcpip.AddrFrom4([4]byte(a[12:]))
	}
	if dst.Len() != 4 {
		return nil
	}
	r, err := s.st.s.FindRoute(0, tcpip.Address{}, dst, proto, false)
	if err != nil {
		return nil // the send fails as it would without the message
	}
	defer r.Release()
	if r.LocalAddress() != c.source {
		return socket.EOPNOTSUPP
	}
	return nil
}

// sendDatagram sends src as a UDP socket's datagram with its control
// messages, or as datagrams of UDP_SEGMENT's size (udp_send_skb: at
// most UDP_MAX_SEGMENTS of them, not with SO_NO_CHECK).
func (s *sock) sendDatagram(src vfs.Buf, m *socket.Msg, opts tcpip.WriteOptions) (int64, error) {
	if (m.Flags&socket.MsgMore != 0 && s.proto == ipprotoUDP) || s.corking.Load() {
		return s.sendCorked(src, m, opts)
	}
	c, err := s.sendControl(m, opts.To)
	if err != nil {
		return 0, err
	}
	return s.writeDatagram(src, opts, c)
}

// udpMaxPayload is the most a corked UDP datagram gathers (ip_append_data:
// 0xFFFF less the IP and UDP headers).
const udpMaxPayload = 0xffff - 20 - 8

// corked is a UDP datagram being gathered by sends with MSG_MORE or
// under UDP_CORK (udp_sendmsg's up->pending): the first send's
// destination and control messages, the bytes so far. Guarded by
// sock.corkMu.
type corked struct {
	on      bool // UDP_CORK
	pending bool
	to      *tcpip.FullAddress
	ctl     sendCtl
	data    []byte
}

// sendCorked adds src to the datagram being gathered, which goes when a
// send without MSG_MORE comes while UDP_CORK is off (udp_sendmsg,
// udp_push_pending_frames). The first send names the destination; later
// ones' are passed over.
func (s *sock) sendCorked(src vfs.Buf, m *socket.Msg, opts tcpip.WriteOptions) (int64, error) {
	s.corkMu.Lock()
	defer s.corkMu.Unlock()
	k := &s.cork
	if !k.pending {
		c, err := s.sendControl(m, opts.To)
		if err != nil {
			return 0, err
		}
		if opts.To == nil {
			if _, err := s.ep.GetRemoteAddress(); err != nil {
				return 0, socket.EDESTADDRREQ
			}
		}
		k.pending, k.ctl, k.to = true, c, opts.To
	}
	// A send that cannot be added drops what was gathered
	// (udp_flush_pending_frames).
	drop := func() {
		k.pending, k.data, k.to, k.ctl = false, nil, nil, sendCtl{}
		s.corking.Store(k.on)
	}
	n := src.Len()
	if int64(len(k.data))+n > udpMaxPayload {
		drop()
		return 0, socket.EMSGSIZE
	}
	b := make([]byte, n)
	if c, err := src.CopyIn(b); err != nil || int64(c) != n {
		drop()
		return 0, vfs.EFAULT
	}
	k.data = append(k.data, b...)
	s.corking.Store(true)
	if m.Flags&socket.MsgMore != 0 || k.on {
		return n, nil
	}
	if err := s.pushCorked(); err != nil {
		return 0, err
	}
	return n, nil
}

// pushCorked sends the datagram gathered so far (udp_push_pending_frames).
// Called with corkMu held.
func (s *sock) pushCorked() error {
	k := &s.cork
	if !k.pending {
		return nil
	}
	data, to, ctl := k.data, k.to, k.ctl
	k.pending, k.data, k.to, k.ctl = false, nil, nil, sendCtl{}
	s.corking.Store(k.on)
	_, err := s.writeDatagram(vfs.BytesBuf(data), tcpip.WriteOptions{To: to}, ctl)
	return err
}

// setCork serves UDP_CORK: turning it off sends what was gathered.
func (s *sock) setCork(on bool) error {
	s.corkMu.Lock()
	defer s.corkMu.Unlock()
	s.cork.on = on
	s.corking.Store(on || s.cork.pending)
	if !on {
		return s.pushCorked()
	}
	return nil
}

// writeDatagram writes src as a datagram, or datagrams of UDP_SEGMENT's
// size, with what its control messages ask.
func (s *sock) writeDatagram(src vfs.Buf, opts tcpip.WriteOptions, c sendCtl) (int64, error) {
	opts.ControlMessages = c.cm
	total := src.Len()
	seg := total
	if c.gso > 0 && total > int64(c.gso) {
		if total > int64(c.gso)*udpMaxSegments || s.common.Flag(socket.SoNoCheck) || c.gso+48 > 0xffff {
			return 0, vfs.EINVAL
		}
		seg = int64(c.gso)
	}
	if c.tos >= 0 {
		// The datagram's own TOS or traffic class: the endpoint's
		// for this write, no other write between.
		opt := tcpip.IPv4TOSOption
		if s.family == socket.AFInet6 && !c.v4 {
			opt = tcpip.IPv6TrafficClassOption
		}
		s.tosmu.Lock()
		defer s.tosmu.Unlock()
		if old, err := s.ep.GetSockOptInt(opt); err == nil && old != c.tos {
			if err := s.ep.SetSockOptInt(opt, c.tos); err != nil {
				return 0, errnoOf(err)
			}
			defer s.ep.SetSockOptInt(opt, old)
		}
	} else {
		s.tosmu.RLock()
		defer s.tosmu.RUnlock()
	}
	var done int64
	for done < total || total == 0 {
		p := &payload{b: src.DropFirst(done), n: min(seg, total-done)}
		n, err := s.ep.Write(p, opts)
		if err != nil && n == 0 {
			if done > 0 {
				return done, nil
			}
			if _, ok := err.(*tcpip.ErrWouldBlock); ok {
				return 0, vfs.EAGAIN
			}
			return 0, errnoOf(err)
		}
		done += n
		if total == 0 {
			break
		}
	}
	return done, nil
}
