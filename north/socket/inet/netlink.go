package inet

import (
	"encoding/binary"
	"sort"
	"strings"
	"sync"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
	"github.com/cocoon-vm/cocoon/north/socket"
	"github.com/cocoon-vm/cocoon/north/vfs"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// NETLINK_ROUTE sockets (rtnetlink(7)), read-only: dumps of the
// interfaces (RTM_GETLINK, with their counters), their addresses
// (RTM_GETADDR), which Go's net.Interfaces and net.InterfaceAddrs and C's
// getifaddrs ask for, and the neighbour (ARP and NDP) tables
// (RTM_GETNEIGH, what 'ip neigh' and node_exporter's arp collector
// read). Any other request is answered with an NLMSG_ERROR of
// EOPNOTSUPP: the application cannot change the network.

// Netlink constants (include/uapi/linux/netlink.h, rtnetlink.h,
// if_link.h, if_addr.h, if.h, if_arp.h).
const (
	netlinkRoute = 0

	nlmsgHdrLen = 16
	nlmsgError  = 2
	nlmsgDone   = 3
	nlmFRequest = 1
	nlmFMulti   = 2
	nlmFAck     = 4
	nlmFDump    = 0x300

	rtmNewLink  = 16
	rtmGetLink  = 18
	rtmNewAddr  = 20
	rtmGetAddr  = 22
	rtmNewNeigh = 28
	rtmGetNeigh = 30

	iflaAddress = 1
	iflaIfname  = 3
	iflaMTU     = 4
	iflaStats   = 7
	iflaStats64 = 23
	ndaDst      = 1
	ndaLladdr   = 2
	ifaAddress  = 1
	ifaLocal    = 2
	ifaLabel    = 3

	iffUp          = 0x1
	iffLoopback    = 0x8
	iffRunning     = 0x40
	iffMulticast   = 0x1000
	arphrdEther    = 1
	arphrdLoopback = 772

	rtScopeUniverse = 0
	rtScopeHost     = 254
)

// NewNetlink returns a NETLINK_ROUTE socket (socket(AF_NETLINK, ...)).
func (st *Stack) NewNetlink(typ, proto int) (socket.Socket, error) {
	if typ != socket.SockRaw && typ != socket.SockDgram {
		return nil, socket.ESOCKTNOSUPPORT
	}
	if proto != netlinkRoute {
		return nil, socket.EPROTONOSUPPORT
	}
	return &netlinkSock{st: st, typ: typ, ino: socket.NextIno(), portID: uint32(socket.NextIno())}, nil
}

type netlinkSock struct {
	vfs.FileDefaults
	st     *Stack
	typ    int
	ino    uint64
	portID uint32
	q      vfs.Queue
	common socket.Common

	mu      sync.Mutex
	replies [][]byte
	shut    bool
}

func (s *netlinkSock) Domain() int               { return socket.AFNetlink }
func (s *netlinkSock) Type() int                 { return s.typ }
func (s *netlinkSock) Protocol() int             { return netlinkRoute }
func (s *netlinkSock) Common() *socket.Common    { return &s.common }
func (s *netlinkSock) Queue() *vfs.Queue         { return &s.q }
func (s *netlinkSock) Stat(*vfs.File) vfs.Attr   { return socket.Attr(s.ino) }
func (s *netlinkSock) Listen(int) error          { return socket.EOPNOTSUPP }
func (s *netlinkSock) ConnectResult() error      { return nil }
func (s *netlinkSock) PeerName() ([]byte, error) { return nlAddr(0), nil }
func (s *netlinkSock) SockName() ([]byte, error) { return nlAddr(s.portID), nil }

// Connect names the peer, which can only be the kernel (port 0).
func (s *netlinkSock) Connect(_ socket.Context, addr []byte) error {
	if len(addr) < 12 || binary.LittleEndian.Uint16(addr) != socket.AFNetlink {
		return vfs.EINVAL
	}
	if binary.LittleEndian.Uint32(addr[4:]) != 0 {
		return socket.ECONNREFUSED
	}
	return nil
}
func (s *netlinkSock) Accept(uint32) (*vfs.File, []byte, error) {
	return nil, nil, socket.EOPNOTSUPP
}

// nlAddr is a struct sockaddr_nl: family u16, pad u16, pid u32, groups
// u32.
func nlAddr(pid uint32) []byte {
	b := make([]byte, 12)
	binary.LittleEndian.PutUint16(b, socket.AFNetlink)
	binary.LittleEndian.PutUint32(b[4:], pid)
	return b
}

func (s *netlinkSock) Bind(_ socket.Context, addr []byte) error {
	if len(addr) < 12 || binary.LittleEndian.Uint16(addr) != socket.AFNetlink {
		return vfs.EINVAL
	}
	if binary.LittleEndian.Uint32(addr[8:]) != 0 {
		return vfs.EPERM // multicast groups: no notifications are sent
	}
	return nil
}

func (s *netlinkSock) Send(_ socket.Context, src vfs.Buf, m *socket.Msg) (int64, error) {
	if len(m.Rights) > 0 {
		return 0, vfs.EINVAL
	}
	n := src.Len()
	if n > 1<<16 {
		return 0, socket.EMSGSIZE
	}
	b := make([]byte, n)
	if c, err := src.CopyIn(b); err != nil && int64(c) < n {
		return 0, vfs.EFAULT
	}
	var out [][]byte
	for len(b) >= nlmsgHdrLen {
		l := int(binary.LittleEndian.Uint32(b))
		if l < nlmsgHdrLen || l > len(b) {
			break
		}
		out = append(out, s.answer(b[:l])...)
		b = b[min((l+3)&^3, len(b)):] // NLMSG_ALIGN
	}
	s.mu.Lock()
	s.replies = append(s.replies, out...)
	s.mu.Unlock()
	s.q.Notify(vfs.EventIn | vfs.EventRdNorm)
	return n, nil
}

// answer returns the replies to one request message.
func (s *netlinkSock) answer(req []byte) [][]byte {
	le := binary.LittleEndian
	typ, flags, seq := le.Uint16(req[4:]), le.Uint16(req[6:]), le.Uint32(req[8:])
	if flags&nlmFRequest == 0 {
		return nil
	}
	var family uint8
	if len(req) > nlmsgHdrLen {
		family = req[nlmsgHdrLen]
	}
	switch {
	case typ == rtmGetLink && flags&nlmFDump == nlmFDump:
		return append(s.links(seq, nlmFMulti, func(tcpip.NICID, string) bool { return true }), s.msg(nlmsgDone, nlmFMulti, seq, make([]byte, 4)))
	case typ == rtmGetLink:
		return s.link(req, seq, flags)
	case typ == rtmGetAddr && flags&nlmFDump == nlmFDump:
		return append(s.addrs(seq, family), s.msg(nlmsgDone, nlmFMulti, seq, make([]byte, 4)))
	case typ == rtmGetNeigh && flags&nlmFDump == nlmFDump:
		return append(s.neighbours(seq, family), s.msg(nlmsgDone, nlmFMulti, seq, make([]byte, 4)))
	}
	return [][]byte{s.errMsg(req, seq, linux.EOPNOTSUPP)}
}

// errMsg is an NLMSG_ERROR answering req with errno (0: an
// acknowledgement): struct nlmsgerr, the negated errno, then the
// request's header.
func (s *netlinkSock) errMsg(req []byte, seq uint32, errno int32) []byte {
	e := binary.LittleEndian.AppendUint32(nil, uint32(-errno))
	e = append(e, req[:nlmsgHdrLen]...)
	return s.msg(nlmsgError, 0, seq, e)
}

// link answers an RTM_GETLINK for one interface (rtnl_getlink), as
// net.InterfaceByIndex's callers and rtnetlink libraries ask before
// naming a neighbour's or route's interface: the interface of the
// struct ifinfomsg's index or, with index 0, of the IFLA_IFNAME
// attribute; ENODEV if there is none, EINVAL with neither. An
// acknowledgement follows when the request asks for one (NLM_F_ACK,
// netlink_rcv_skb).
func (s *netlinkSock) link(req []byte, seq uint32, flags uint16) [][]byte {
	le := binary.LittleEndian
	const ifinfoLen = 16
	if len(req) < nlmsgHdrLen+ifinfoLen {
		return [][]byte{s.errMsg(req, seq, linux.EINVAL)}
	}
	index := int32(le.Uint32(req[nlmsgHdrLen+4:]))
	name := ""
	for a := req[nlmsgHdrLen+ifinfoLen:]; len(a) >= 4; {
		l := int(le.Uint16(a))
		if l < 4 || l > len(a) {
			break
		}
		if le.Uint16(a[2:]) == iflaIfname {
			name, _, _ = strings.Cut(string(a[4:l]), "\x00")
		}
		a = a[min((l+3)&^3, len(a)):]
	}
	if index <= 0 && name == "" {
		return [][]byte{s.errMsg(req, seq, linux.EINVAL)}
	}
	out := s.links(seq, 0, func(id tcpip.NICID, n string) bool {
		if index > 0 {
			return int32(id) == index
		}
		return n == name
	})
	if len(out) == 0 {
		return [][]byte{s.errMsg(req, seq, linux.ENODEV)}
	}
	if flags&nlmFAck != 0 {
		out = append(out, s.errMsg(req, seq, 0))
	}
	return out
}

func (s *netlinkSock) msg(typ, flags uint16, seq uint32, body []byte) []byte {
	le := binary.LittleEndian
	b := le.AppendUint32(nil, uint32(nlmsgHdrLen+len(body)))
	b = le.AppendUint16(b, typ)
	b = le.AppendUint16(b, flags)
	b = le.AppendUint32(b, seq)
	b = le.AppendUint32(b, s.portID)
	return append(b, body...)
}

// attr appends a struct rtattr (len u16, type u16, data, padded to 4).
func attr(b []byte, typ uint16, data []byte) []byte {
	b = binary.LittleEndian.AppendUint16(b, uint16(4+len(data)))
	b = binary.LittleEndian.AppendUint16(b, typ)
	b = append(b, data...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// nics returns the stack's interfaces by index.
func (s *netlinkSock) nics() ([]tcpip.NICID, map[tcpip.NICID]stack.NICInfo) { return s.st.nics() }

// nics returns the stack's interfaces by index.
func (st *Stack) nics() ([]tcpip.NICID, map[tcpip.NICID]stack.NICInfo) {
	info := st.s.NICInfo()
	var ids []tcpip.NICID
	for id := range info {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids, info
}

// links returns an RTM_NEWLINK message with flags for each interface
// that match takes.
func (s *netlinkSock) links(seq uint32, flags uint16, match func(tcpip.NICID, string) bool) [][]byte {
	le := binary.LittleEndian
	ids, info := s.nics()
	var out [][]byte
	for _, id := range ids {
		n := info[id]
		if !match(id, n.Name) {
			continue
		}
		var ifflags uint32 = iffMulticast
		hw := uint16(arphrdEther)
		if n.Flags.Up {
			ifflags |= iffUp
		}
		if n.Flags.Running {
			ifflags |= iffRunning
		}
		if n.Flags.Loopback {
			ifflags, hw = ifflags&^iffMulticast|iffLoopback, arphrdLoopback
		}
		// struct ifinfomsg: family u8, pad u8, type u16, index i32,
		// flags u32, change u32.
		b := []byte{0, 0}
		b = le.AppendUint16(b, hw)
		b = le.AppendUint32(b, uint32(id))
		b = le.AppendUint32(b, ifflags)
		b = le.AppendUint32(b, 0xffffffff)
		b = attr(b, iflaIfname, append([]byte(n.Name), 0))
		b = attr(b, iflaMTU, le.AppendUint32(nil, n.MTU))
		hwaddr := []byte(n.LinkAddress)
		if len(hwaddr) == 0 {
			hwaddr = make([]byte, 6)
		}
		b = attr(b, iflaAddress, hwaddr)
		st := linkStats(n.Stats)
		var s32 []byte
		for _, v := range st[:24] {
			s32 = le.AppendUint32(s32, uint32(v))
		}
		b = attr(b, iflaStats, s32)
		var s64 []byte
		for _, v := range st {
			s64 = le.AppendUint64(s64, v)
		}
		b = attr(b, iflaStats64, s64)
		out = append(out, s.msg(rtmNewLink, flags, seq, b))
	}
	return out
}

func (s *netlinkSock) addrs(seq uint32, family uint8) [][]byte {
	le := binary.LittleEndian
	ids, info := s.nics()
	var out [][]byte
	for _, id := range ids {
		n := info[id]
		for _, pa := range n.ProtocolAddresses {
			a := pa.AddressWithPrefix.Address
			fam := uint8(socket.AFInet)
			if a.Len() == 16 {
				fam = socket.AFInet6
			} else if a.Len() != 4 {
				continue
			}
			if family != 0 && family != fam {
				continue
			}
			scope := uint8(rtScopeUniverse)
			if n.Flags.Loopback {
				scope = rtScopeHost
			}
			// struct ifaddrmsg: family u8, prefixlen u8, flags u8,
			// scope u8, index u32.
			b := []byte{fam, uint8(pa.AddressWithPrefix.PrefixLen), 0x80 /* IFA_F_PERMANENT */, scope}
			b = le.AppendUint32(b, uint32(id))
			b = attr(b, ifaAddress, a.AsSlice())
			if fam == socket.AFInet {
				b = attr(b, ifaLocal, a.AsSlice())
				b = attr(b, ifaLabel, append([]byte(n.Name), 0))
			}
			out = append(out, s.msg(rtmNewAddr, nlmFMulti, seq, b))
		}
	}
	return out
}

// linkStats is struct rtnl_link_stats64 (include/uapi/linux/if_link.h)
// of a NIC from its counters: packets and bytes each way; rx_dropped,
// what arrived while the NIC was down; tx_dropped, what the device had
// no room for; rx_nohandler, packets of a network protocol the stack
// does not speak (netif_receive_skb's drop without a handler). The
// error counters stay 0: the virtio device reports none. Its first 24
// fields are struct rtnl_link_stats (IFLA_STATS) in 32 bits.
func linkStats(s tcpip.NICStats) [25]uint64 {
	var st [25]uint64
	st[0], st[1] = s.Rx.Packets.Value(), s.Tx.Packets.Value()
	st[2], st[3] = s.Rx.Bytes.Value(), s.Tx.Bytes.Value()
	st[6] = s.DisabledRx.Packets.Value()
	st[7] = s.TxPacketsDroppedNoBufferSpace.Value()
	for _, k := range s.UnknownL3ProtocolRcvdPacketCounts.Keys() {
		if c, ok := s.UnknownL3ProtocolRcvdPacketCounts.Get(k); ok {
			st[23] += c.Value()
		}
	}
	return st
}

// nudState is Linux's NUD_* state of a neighbour entry
// (include/uapi/linux/neighbour.h).
func nudState(s stack.NeighborState) uint16 {
	switch s {
	case stack.Incomplete:
		return 0x01
	case stack.Reachable:
		return 0x02
	case stack.Stale:
		return 0x04
	case stack.Delay:
		return 0x08
	case stack.Probe:
		return 0x10
	case stack.Unreachable:
		return 0x20 // NUD_FAILED
	case stack.Static:
		return 0x80 // NUD_PERMANENT
	}
	return 0 // NUD_NONE
}

// neighbours dumps the ARP (AF_INET) and NDP (AF_INET6) tables of every
// interface, or family's alone, as neigh_dump_info does: one
// RTM_NEWNEIGH each, a struct ndmsg with NDA_DST and, once resolved,
// NDA_LLADDR. Loopback has no table.
func (s *netlinkSock) neighbours(seq uint32, family uint8) [][]byte {
	le := binary.LittleEndian
	ids, info := s.nics()
	var out [][]byte
	for _, fam := range []struct {
		af    uint8
		proto tcpip.NetworkProtocolNumber
	}{{socket.AFInet, ipv4.ProtocolNumber}, {socket.AFInet6, ipv6.ProtocolNumber}} {
		if family != 0 && family != fam.af {
			continue
		}
		for _, id := range ids {
			if info[id].Flags.Loopback {
				continue
			}
			ents, err := s.st.s.Neighbors(id, fam.proto)
			if err != nil {
				continue
			}
			sort.Slice(ents, func(i, j int) bool { return string(ents[i].Addr.AsSlice()) < string(ents[j].Addr.AsSlice()) })
			for _, e := range ents {
				// struct ndmsg: family u8, pad u8, pad u16, ifindex
				// i32, state u16, flags u8, type u8 (RTN_UNICAST).
				b := []byte{fam.af, 0, 0, 0}
				b = le.AppendUint32(b, uint32(id))
				b = le.AppendUint16(b, nudState(e.State))
				b = append(b, 0, 1)
				b = attr(b, ndaDst, e.Addr.AsSlice())
				if len(e.LinkAddr) != 0 {
					b = attr(b, ndaLladdr, []byte(e.LinkAddr))
				}
				out = append(out, s.msg(rtmNewNeigh, nlmFMulti, seq, b))
			}
		}
	}
	return out
}

// Recv returns one queued reply message: netlink keeps message
// boundaries, and what does not fit is lost (MSG_TRUNC).
func (s *netlinkSock) Recv(dst vfs.Buf, m *socket.Msg) (int64, error) {
	s.mu.Lock()
	if len(s.replies) == 0 {
		s.mu.Unlock()
		return 0, vfs.EAGAIN
	}
	r := s.replies[0]
	if m.Flags&socket.MsgPeek == 0 {
		s.replies = s.replies[1:]
	}
	s.mu.Unlock()
	c, err := dst.CopyOut(r)
	if err != nil && int64(c) < min(dst.Len(), int64(len(r))) {
		return 0, vfs.EFAULT
	}
	m.Addr = nlAddr(0)
	if c < len(r) {
		m.OutFlags |= socket.MsgTrunc
	}
	if m.Flags&socket.MsgTrunc != 0 {
		return int64(len(r)), nil
	}
	return int64(c), nil
}

func (s *netlinkSock) Read(_ *vfs.File, dst vfs.Buf, _ int64) (int64, error) {
	return s.Recv(dst, &socket.Msg{})
}

func (s *netlinkSock) Write(_ *vfs.File, src vfs.Buf, _ int64) (int64, error) {
	return s.Send(nil, src, &socket.Msg{})
}

func (s *netlinkSock) Readiness(mask vfs.Events) vfs.Events {
	s.mu.Lock()
	defer s.mu.Unlock()
	ev := vfs.EventOut | vfs.EventWrNorm
	if len(s.replies) > 0 {
		ev |= vfs.EventIn | vfs.EventRdNorm
	}
	return ev & mask
}

func (s *netlinkSock) Shutdown(int) error { return socket.EOPNOTSUPP }

func (s *netlinkSock) SetSockOpt(int, int, []byte) error { return socket.ENOPROTOOPT }

func (s *netlinkSock) GetSockOpt(level, name int, _ int) ([]byte, error) {
	if level == socket.SolSocket {
		switch name {
		case socket.SoSndbuf, socket.SoRcvbuf:
			return socket.Int(212992), nil
		case socket.SoError:
			return socket.Int(0), nil
		}
	}
	return nil, socket.ENOPROTOOPT
}

func (s *netlinkSock) Ioctl(*vfs.File, mem.Memory, uint32, uint64) (int64, error) {
	return 0, vfs.ENOTTY
}
