package inet

import (
	"encoding/binary"
	"io"

	"github.com/cocoon-vm/cocoon/north/clock"
	"github.com/cocoon-vm/cocoon/north/mem"
	"github.com/cocoon-vm/cocoon/north/socket"
	"github.com/cocoon-vm/cocoon/north/vfs"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// Control messages a receive on an internet socket returns besides the
// timestamps: the IP header's facts a datagram came with, as the options
// IP_PKTINFO, IP_RECVTTL, IP_RECVTOS, IP_RECVORIGDSTADDR and their IPv6
// counterparts ask (net/ipv4/ip_sockglue.c ip_cmsg_recv_offset,
// net/ipv6/datagram.c ip6_datagram_recv_specific_ctl), and TCP_INQ's
// count of bytes left to read (net/ipv4/tcp.c tcp_recvmsg).

// The bits of sock.cmsgs: which control messages a receive returns.
const (
	cmIPPktinfo = 1 << iota
	cmIPTTL
	cmIPTOS
	cmIPOrigDst
	cmIPPasssec  // IP_PASSSEC: SCM_SECURITY, which only a security module gives
	cmIPChecksum // IP_CHECKSUM: only for CHECKSUM_COMPLETE packets, which Cocoon has none of
	cmIP6Pktinfo
	cmIP6Hoplimit
	cmIP6Tclass
	cmIP6OrigDst
	cmIP6PktinfoOld  // IPV6_2292PKTINFO
	cmIP6HoplimitOld // IPV6_2292HOPLIMIT
	cmTCPInq
)

// Option and control message numbers (include/uapi/linux/in.h, in6.h, tcp.h).
const (
	ipTTLMsg          = 2  // IP_TTL
	ipTOSMsg          = 1  // IP_TOS
	ipOrigDstAddr     = 20 // IP_ORIGDSTADDR, IP_RECVORIGDSTADDR's message
	ipPasssec         = 18
	ipChecksum        = 23
	ipv6PktinfoOld    = 2 // IPV6_2292PKTINFO
	ipv6HoplimitOld   = 8 // IPV6_2292HOPLIMIT
	ipv6PktinfoMsg    = 50
	ipv6HoplimitMsg   = 52
	ipv6TclassMsg     = 67
	ipv6OrigDstAddr   = 74 // IPV6_ORIGDSTADDR
	tcpCMInq          = 36 // TCP_CM_INQ
	sockaddrIn6Length = 28
)

// cmsgBit is the bit of sock.cmsgs that option name of level sets, or 0.
func cmsgBit(level, name int) uint32 {
	switch level {
	case socket.SolIP:
		switch name {
		case ipPktinfo:
			return cmIPPktinfo
		case ipRecvttl:
			return cmIPTTL
		case ipRecvtos:
			return cmIPTOS
		case ipRecvorigdst:
			return cmIPOrigDst
		case ipPasssec:
			return cmIPPasssec
		case ipChecksum:
			return cmIPChecksum
		}
	case socket.SolIPv6:
		switch name {
		case ipv6Recvpktinfo:
			return cmIP6Pktinfo
		case ipv6Recvhoplimit:
			return cmIP6Hoplimit
		case ipv6Recvtclass:
			return cmIP6Tclass
		case ipv6Recvorigdst:
			return cmIP6OrigDst
		case ipv6PktinfoOld:
			return cmIP6PktinfoOld
		case ipv6HoplimitOld:
			return cmIP6HoplimitOld
		}
	case socket.SolTCP:
		if name == tcpInq {
			return cmTCPInq
		}
	}
	return 0
}

// setCmsg turns the control message bit on or off and tells netstack
// which facts to keep with each datagram.
func (s *sock) setCmsg(bit uint32, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.cmsgs.Load()
	if on {
		v |= bit
	} else {
		v &^= bit
	}
	s.cmsgs.Store(v)
	so := s.ep.SocketOptions()
	// An IPv6 socket's IPV6_PKTINFO tells an IPv4 datagram's too.
	so.SetReceivePacketInfo(v&cmIPPktinfo != 0 || (s.family == socket.AFInet6 && v&cmIP6Pktinfo != 0))
	so.SetReceiveTTL(v&cmIPTTL != 0)
	so.SetReceiveTOS(v&cmIPTOS != 0)
	so.SetReceiveOriginalDstAddress(v&(cmIPOrigDst|cmIP6OrigDst) != 0)
	if s.family == socket.AFInet6 {
		so.SetIPv6ReceivePacketInfo(v&(cmIP6Pktinfo|cmIP6PktinfoOld) != 0)
		so.SetReceiveHopLimit(v&(cmIP6Hoplimit|cmIP6HoplimitOld) != 0)
		so.SetReceiveTClass(v&cmIP6Tclass != 0)
	}
}

// datagramCmsgs appends the control messages of a received datagram
// with control messages cm, in the order Linux puts them.
func (s *sock) datagramCmsgs(m *socket.Msg, cm *tcpip.ReceivableControlMessages) {
	bits := s.cmsgs.Load()
	if bits == 0 || s.typ == socket.SockStream {
		return
	}
	le := binary.LittleEndian
	add := func(level, typ int, data []byte) {
		m.Control = append(m.Control, socket.Cmsg{Level: level, Type: typ, Data: data})
	}
	origV4 := cm.HasOriginalDstAddress && cm.OriginalDstAddress.Addr.Len() == 4
	// An IPv6 socket's IPv4 datagram: IPV6_PKTINFO with its IPv4-mapped
	// destination first (ip6_datagram_recv_common_ctl), the other IPv6
	// messages not.
	if s.family == socket.AFInet6 && cm.HasIPPacketInfo && bits&cmIP6Pktinfo != 0 {
		b := make([]byte, 20)
		b[10], b[11] = 0xff, 0xff
		if cm.PacketInfo.DestinationAddr.Len() == 4 {
			a := cm.PacketInfo.DestinationAddr.As4()
			copy(b[12:], a[:])
		}
		le.PutUint32(b[16:], uint32(cm.PacketInfo.NIC))
		add(socket.SolIPv6, ipv6PktinfoMsg, b)
	}
	// IPv4: struct in_pktinfo (ifindex, the local address it came to,
	// the header's destination), the TTL as an int, the TOS as a byte,
	// then the destination as a struct sockaddr_in.
	if cm.HasIPPacketInfo && bits&cmIPPktinfo != 0 {
		b := make([]byte, 12)
		le.PutUint32(b, uint32(cm.PacketInfo.NIC))
		if cm.PacketInfo.LocalAddr.Len() == 4 {
			a := cm.PacketInfo.LocalAddr.As4()
			copy(b[4:], a[:])
		}
		if cm.PacketInfo.DestinationAddr.Len() == 4 {
			a := cm.PacketInfo.DestinationAddr.As4()
			copy(b[8:], a[:])
		}
		add(socket.SolIP, ipPktinfo, b)
	}
	if cm.HasTTL && bits&cmIPTTL != 0 {
		add(socket.SolIP, ipTTLMsg, socket.Int(int(cm.TTL)))
	}
	if cm.HasTOS && bits&cmIPTOS != 0 {
		add(socket.SolIP, ipTOSMsg, []byte{cm.TOS})
	}
	if origV4 && bits&cmIPOrigDst != 0 {
		b := make([]byte, 16)
		le.PutUint16(b, socket.AFInet)
		binary.BigEndian.PutUint16(b[2:], cm.OriginalDstAddress.Port)
		a := cm.OriginalDstAddress.Addr.As4()
		copy(b[4:], a[:])
		add(socket.SolIP, ipOrigDstAddr, b)
	}
	if s.family != socket.AFInet6 {
		return
	}
	// IPv6: struct in6_pktinfo (the destination, ifindex), the hop
	// limit and traffic class as ints, the RFC 2292 numbers of the
	// first two, then the destination as a struct sockaddr_in6.
	var pktinfo []byte
	if cm.HasIPv6PacketInfo {
		pktinfo = make([]byte, 20)
		a := cm.IPv6PacketInfo.Addr.As16()
		copy(pktinfo, a[:])
		le.PutUint32(pktinfo[16:], uint32(cm.IPv6PacketInfo.NIC))
	}
	if pktinfo != nil && bits&cmIP6Pktinfo != 0 {
		add(socket.SolIPv6, ipv6PktinfoMsg, pktinfo)
	}
	if cm.HasHopLimit && bits&cmIP6Hoplimit != 0 {
		add(socket.SolIPv6, ipv6HoplimitMsg, socket.Int(int(cm.HopLimit)))
	}
	if cm.HasTClass && bits&cmIP6Tclass != 0 {
		add(socket.SolIPv6, ipv6TclassMsg, socket.Int(int(cm.TClass)))
	}
	if pktinfo != nil && bits&cmIP6PktinfoOld != 0 {
		add(socket.SolIPv6, ipv6PktinfoOld, pktinfo)
	}
	if cm.HasHopLimit && bits&cmIP6HoplimitOld != 0 {
		add(socket.SolIPv6, ipv6HoplimitOld, socket.Int(int(cm.HopLimit)))
	}
	if cm.HasOriginalDstAddress && !origV4 && bits&cmIP6OrigDst != 0 {
		b := make([]byte, sockaddrIn6Length)
		le.PutUint16(b, socket.AFInet6)
		binary.BigEndian.PutUint16(b[2:], cm.OriginalDstAddress.Port)
		a := cm.OriginalDstAddress.Addr.As16()
		copy(b[8:], a[:])
		add(socket.SolIPv6, ipv6OrigDstAddr, b)
	}
}

// streamCmsgs appends TCP_INQ's message: the bytes left to read after
// this receive (tcp_inq_hint).
func (s *sock) streamCmsgs(m *socket.Msg) {
	if s.cmsgs.Load()&cmTCPInq == 0 {
		return
	}
	v, err := s.ep.GetSockOptInt(tcpip.ReceiveQueueSizeOption)
	if err != nil {
		v = 0
	}
	if v == 0 && s.finReceived() {
		v = 1 // after the FIN: non-zero, so that the reader reads on
	}
	m.Control = append(m.Control, socket.Cmsg{Level: socket.SolTCP, Type: tcpCMInq, Data: socket.Int(v)})
}

// finReceived reports whether the peer's FIN came (SOCK_DONE).
func (s *sock) finReceived() bool {
	switch tcp.EndpointState(s.ep.State()) {
	case tcp.StateCloseWait, tcp.StateLastAck, tcp.StateClosing, tcp.StateTimeWait:
		return true
	}
	return false
}

// recvStamp keeps a received datagram's time as sk_stamp
// (sock_recv_timestamp): the time it came once SIOCGSTAMP turned
// stamping on, 0 before.
func (s *sock) recvStamp(cm *tcpip.ReceivableControlMessages) {
	if s.stamping.Load() && cm.HasTimestamp {
		s.stamp.Store(cm.Timestamp.UnixNano())
		return
	}
	s.stamp.Store(0)
}

// gettstamp serves SIOCGSTAMP and SIOCGSTAMPNS (net/core/sock.c
// sock_gettstamp): when the last datagram came, now for one that came
// unstamped, ENOENT before any (a TCP socket has none); stamping is on
// from then on.
func (s *sock) gettstamp(m mem.Memory, cmd uint32, arg uint64) (int64, error) {
	s.stamping.Store(true)
	t := s.stamp.Load()
	if t < 0 {
		return 0, vfs.ENOENT
	}
	if t == 0 {
		n, _ := clock.Now(clock.Realtime)
		t = n
		s.stamp.Store(t)
	}
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:], uint64(t/1e9))
	if cmd == siocgstamp {
		binary.LittleEndian.PutUint64(b[8:], uint64(t%1e9/1e3))
	} else {
		binary.LittleEndian.PutUint64(b[8:], uint64(t%1e9))
	}
	if m.CopyOut(arg, b[:]) != nil {
		return 0, vfs.EFAULT
	}
	return 0, nil
}

// recvErr is a receive with MSG_ERRQUEUE (net/ipv4/ip_sockglue.c
// ip_recv_error, net/ipv6/datagram.c ipv6_recv_error): the oldest error
// IP_RECVERR queued, EAGAIN without one (never waiting). The data is the
// payload of the datagram that failed, the name where it was going, and
// an IP_RECVERR (IPV6_RECVERR) message its struct sock_extended_err and
// the address of who reported it. Taking it clears the socket's pending
// error, as sock_dequeue_err_skb does.
func (s *sock) recvErr(dst vfs.Buf, m *socket.Msg) (int64, error) {
	so := s.ep.SocketOptions()
	e := so.DequeueErr()
	if e == nil {
		return 0, vfs.EAGAIN
	}
	// sock_dequeue_err_skb: the pending error is the next ICMP
	// error's, or none.
	if next := so.PeekErr(); next != nil && next.Cause.Origin().IsICMPErr() {
		so.SetLastError(next.Err)
	} else if e.Cause.Origin().IsICMPErr() {
		so.SetLastError(nil)
	}
	var payload []byte
	if e.Payload != nil {
		payload = e.Payload.AsSlice()
		defer e.Payload.Release()
	}
	n := min(int64(len(payload)), dst.Len())
	if int64(len(payload)) > n {
		m.OutFlags |= socket.MsgTrunc
	}
	if c, err := dst.CopyOut(payload[:n]); err != nil || int64(c) != n {
		return 0, vfs.EFAULT
	}
	if e.Cause.Origin().IsICMPErr() {
		m.Addr = s.sockaddr(e.Dst)
	}
	// struct sock_extended_err: ee_errno u32, ee_origin, ee_type,
	// ee_code, ee_pad u8, ee_info, ee_data u32; then the offender.
	ee := make([]byte, 16)
	le := binary.LittleEndian
	le.PutUint32(ee, uint32(vfs.ErrnoOf(errnoOf(e.Err))))
	ee[4], ee[5], ee[6] = byte(e.Cause.Origin()), e.Cause.Type(), e.Cause.Code()
	le.PutUint32(ee[8:], e.Cause.Info())
	level, typ := socket.SolIP, ipRecverr
	offender := make([]byte, 16)
	if s.family == socket.AFInet6 {
		level, typ = socket.SolIPv6, ipv6Recverr
		offender = make([]byte, sockaddrIn6Length)
	}
	if e.Cause.Origin().IsICMPErr() {
		offender = s.sockaddr(tcpip.FullAddress{Addr: e.Offender.Addr})
	}
	m.Control = append(m.Control, socket.Cmsg{Level: level, Type: typ, Data: append(ee, offender...)})
	m.OutFlags |= socket.MsgErrqueue
	return n, nil
}

// skipWriter drops the first skip bytes written to it, then writes to w.
type skipWriter struct {
	w    io.Writer
	skip int64
}

func (k *skipWriter) Write(b []byte) (int, error) {
	n := len(b)
	if k.skip > 0 {
		d := min(k.skip, int64(len(b)))
		k.skip -= d
		b = b[d:]
	}
	if len(b) == 0 {
		return n, nil
	}
	c, err := k.w.Write(b)
	if err != nil {
		return n - len(b) + c, err
	}
	return n, nil
}

// peekAt is a stream's MSG_PEEK with SO_PEEK_OFF set (tcp_recvmsg_locked
// with peek_offset): the bytes from the offset on, which then moves past
// them; none there yet is EAGAIN, none ever (the peer's FIN) is the end.
func (s *sock) peekAt(dst vfs.Buf, m *socket.Msg) (int64, error) {
	if dst.Len() == 0 {
		return 0, nil
	}
	off := int64(s.peekOff.Load())
	w := &sink{b: dst}
	lw := &tcpip.LimitedWriter{W: &skipWriter{w: w, skip: off}, N: off + dst.Len()}
	res, err := s.ep.Read(lw, tcpip.ReadOptions{Peek: true})
	if _, ok := err.(*tcpip.ErrWouldBlock); ok && s.st.pollNIC != nil && s.st.pollNIC(nil) {
		res, err = s.ep.Read(lw, tcpip.ReadOptions{Peek: true})
	}
	if err != nil {
		switch err.(type) {
		case *tcpip.ErrClosedForReceive:
			return 0, nil
		case *tcpip.ErrBadBuffer:
			return 0, vfs.EFAULT
		}
		return 0, errnoOf(err)
	}
	n := int64(res.Count) - off
	if n <= 0 {
		if s.finReceived() {
			return 0, nil
		}
		return 0, vfs.EAGAIN
	}
	s.peekOff.Add(int32(n))
	s.streamCmsgs(m)
	return n, nil
}

// peekBack moves SO_PEEK_OFF back by n bytes read (sk_peek_offset_bwd).
func (s *sock) peekBack(n int) {
	for {
		off := s.peekOff.Load()
		if off < 0 || s.peekOff.CompareAndSwap(off, max(off-int32(n), 0)) {
			return
		}
	}
}
