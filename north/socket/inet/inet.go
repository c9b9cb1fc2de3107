// Package inet gives Cocoon's Linux personality its internet sockets
// (AF_INET and AF_INET6: TCP, UDP and ICMP echo) over gVisor's netstack,
// a TCP/IP stack in Go that runs inside the kernel. The stack starts with
// a loopback interface (127.0.0.1/8 and ::1); network devices join it
// through AddNIC.
package inet

import (
	"encoding/binary"
	"io"
	"sync"
	"sync/atomic"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
	"github.com/cocoon-vm/cocoon/north/socket"
	"github.com/cocoon-vm/cocoon/north/vfs"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/link/loopback"
	"gvisor.dev/gvisor/pkg/tcpip/network/arp"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// LoopbackNIC is the loopback interface's id.
const LoopbackNIC tcpip.NICID = 1

// IP protocol numbers (include/uapi/linux/in.h).
const (
	ipprotoIP     = 0
	ipprotoICMP   = 1
	ipprotoTCP    = 6
	ipprotoUDP    = 17
	ipprotoICMPv6 = 58
)

// Stack is the kernel's TCP/IP stack.
type Stack struct {
	s      *stack.Stack
	ndp    *ndpRoutes
	rcvMax int64 // tcp_rmem's max: what rcvTuner grows a buffer to
	// pollNIC, with a network device, takes the frames that wait in its
	// receive queue up the stack now and reports whether the reader
	// should read again: there were some, and for a stream read waiting
	// on its connection (w), one was a segment of it (AddNIC).
	pollNIC func(w *pollWaiter) bool
}

// TCP buffer sizes as Linux sets them by default (net.ipv4.tcp_rmem and
// tcp_wmem: min, default, max): a receive buffer starts at the default
// and grows towards the max while the application keeps up (rcvTuner).
// The maxes are Linux's largest; a machine with less memory gets less
// (bufMax).
const (
	rcvBufMin     = 4096
	rcvBufDefault = 131072
	rcvBufMax     = 6 << 20
	sndBufMin     = 4096
	sndBufDefault = 16384
	sndBufMax     = 4 << 20
)

// bufMax is a socket buffer's max for a machine with ram bytes of memory
// (0: unknown, the largest), as Linux's tcp_init sets tcp_rmem[2] and
// tcp_wmem[2] (net/ipv4/tcp.c): 1/128 of the memory, at most largest and
// at least floor. One connection cannot then take more than its share of
// a small machine's memory.
func bufMax(ram uint64, largest, floor int) int {
	if ram == 0 {
		return largest
	}
	return max(min(int(min(ram/128, 1<<30)), largest), floor)
}

// BufferSizes returns the TCP buffer sizes, min, default and max, of a
// stack for a machine with ram bytes of memory (0 if unknown): receive
// and send, as net.ipv4.tcp_rmem and tcp_wmem read them (net/ipv4/tcp.c
// tcp_init; the sysctls' proc_dointvec_minmax prints the three
// tab-separated).
func BufferSizes(ram uint64) (rmem, wmem [3]int) {
	return [3]int{rcvBufMin, rcvBufDefault, bufMax(ram, rcvBufMax, rcvBufDefault)},
		[3]int{sndBufMin, sndBufDefault, bufMax(ram, sndBufMax, 64<<10)}
}

// New returns a stack with the loopback interface up, sized for a
// machine with ram bytes of memory (0 if unknown).
func New(ram uint64) (*Stack, error) { return newStack(nil, ram) }

// newStack is New with the stack's clock (nil: the system's).
func newStack(clock tcpip.Clock, ram uint64) (*Stack, error) {
	if clock == nil {
		clock = newMonoClock()
	}
	ndp := newNDPRoutes()
	v6 := ipv6.NewProtocolWithOptions(ipv6.Options{
		NDPConfigs:       ndpConfig(),
		AutoGenLinkLocal: true,
		NDPDisp:          ndp,
		// No duplicate address detection by default: loopback has none
		// (Linux skips it on IFF_LOOPBACK), so ::1 is usable at once;
		// AddNIC turns it on for Ethernet.
	})
	s := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol, v6, arp.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol, udp.NewProtocol, icmp.NewProtocol4, icmp.NewProtocol6},
		HandleLocal:        true,
		Clock:              clock,
	})
	// netstack picks from 16000-65535 by default.
	if err := s.SetPortRange(socket.EphemeralFirst, socket.EphemeralLast); err != nil {
		return nil, wrap("setting the ephemeral port range", err)
	}
	sack := tcpip.TCPSACKEnabled(true)
	s.SetTransportProtocolOption(tcp.ProtocolNumber, &sack)
	// Buffers as Linux sizes them by default (net.ipv4.tcp_rmem and
	// tcp_wmem: min, default, max). netstack's own receive-buffer
	// moderation stays off: rcvTuner does it (see there why).
	rmem, wmem := BufferSizes(ram)
	rcv := tcpip.TCPReceiveBufferSizeRangeOption{Min: rmem[0], Default: rmem[1], Max: rmem[2]}
	s.SetTransportProtocolOption(tcp.ProtocolNumber, &rcv)
	// A send buffer starts at tcp_wmem's default and grows as the
	// connection opens (expandSndbuf) and its window does (netstack's
	// computeTCPSendBufferSize), unless SO_SNDBUF fixed it.
	snd := tcpip.TCPSendBufferSizeRangeOption{Min: wmem[0], Default: wmem[1], Max: wmem[2]}
	s.SetTransportProtocolOption(tcp.ProtocolNumber, &snd)
	if err := s.CreateNICWithOptions(LoopbackNIC, loopback.New(), stack.NICOptions{Name: "lo"}); err != nil {
		return nil, wrap("creating the loopback interface", err)
	}
	for _, a := range []tcpip.AddressWithPrefix{
		{Address: tcpip.AddrFrom4([4]byte{127, 0, 0, 1}), PrefixLen: 8},
		{Address: tcpip.AddrFrom16([16]byte{15: 1}), PrefixLen: 128},
	} {
		proto := ipv4.ProtocolNumber
		if a.Address.Len() == 16 {
			proto = ipv6.ProtocolNumber
		}
		if err := s.AddProtocolAddress(LoopbackNIC, tcpip.ProtocolAddress{Protocol: proto, AddressWithPrefix: a}, stack.AddressProperties{}); err != nil {
			return nil, wrap("adding "+a.String()+" to the loopback interface", err)
		}
		s.AddRoute(tcpip.Route{Destination: a.Subnet(), NIC: LoopbackNIC})
	}
	go ndp.run(s)
	return &Stack{s: s, ndp: ndp, rcvMax: int64(rcv.Max)}, nil
}

// Netstack returns gVisor's stack, for configuring interfaces.
func (st *Stack) Netstack() *stack.Stack { return st.s }

type stackError struct {
	what string
	err  tcpip.Error
}

func (e *stackError) Error() string { return e.what + ": " + e.err.String() }

func wrap(what string, err tcpip.Error) error { return &stackError{what, err} }

// NewSocket returns a new socket (socket(2)) of family AF_INET or
// AF_INET6, type SOCK_STREAM or SOCK_DGRAM, and protocol 0 or the
// type's own; SOCK_DGRAM with IPPROTO_ICMP(V6) is a ping socket.
func (st *Stack) NewSocket(family, typ, proto int) (socket.Socket, error) {
	var np tcpip.NetworkProtocolNumber
	switch family {
	case socket.AFInet:
		np = ipv4.ProtocolNumber
	case socket.AFInet6:
		np = ipv6.ProtocolNumber
	default:
		return nil, socket.EAFNOSUPPORT
	}
	var tp tcpip.TransportProtocolNumber
	switch {
	case typ == socket.SockStream && (proto == ipprotoIP || proto == ipprotoTCP):
		tp, proto = tcp.ProtocolNumber, ipprotoTCP
	case typ == socket.SockDgram && (proto == ipprotoIP || proto == ipprotoUDP):
		tp, proto = udp.ProtocolNumber, ipprotoUDP
	case typ == socket.SockDgram && family == socket.AFInet && proto == ipprotoICMP:
		tp = icmp.ProtocolNumber4
	case typ == socket.SockDgram && family == socket.AFInet6 && proto == ipprotoICMPv6:
		tp = icmp.ProtocolNumber6
	case typ == socket.SockStream || typ == socket.SockDgram:
		return nil, socket.EPROTONOSUPPORT
	case typ == socket.SockRaw:
		// Raw sockets would let the application forge packets; Cocoon
		// offers none.
		return nil, socket.EPROTONOSUPPORT
	default:
		return nil, socket.ESOCKTNOSUPPORT
	}
	wq := &waiter.Queue{}
	ep, err := st.s.NewEndpoint(tp, np, wq)
	if err != nil {
		return nil, errnoOf(err)
	}
	return newSock(st, family, typ, proto, ep, wq), nil
}

// sock is an internet socket: a netstack endpoint.
type sock struct {
	vfs.FileDefaults
	st                 *Stack
	family, typ, proto int
	ep                 tcpip.Endpoint
	wq                 *waiter.Queue
	entry              waiter.Entry
	q                  vfs.Queue
	ino                uint64
	common             socket.Common

	mu         sync.Mutex // guards the fields below
	connecting bool
	connErr    error
	rcv        rcvTuner
	opts       options

	// cmsgs are the control messages a receive returns (cmIPPktinfo,
	// ...); written under mu, read without it.
	cmsgs atomic.Uint32
	// gso is UDP_SEGMENT's size; tosmu is held to write while a
	// datagram's own TOS (an IP_TOS message) is the endpoint's.
	gso   atomic.Int32
	tosmu sync.RWMutex
	// cork is a UDP datagram being gathered (MSG_MORE, UDP_CORK);
	// corking says a send must look at it.
	corkMu  sync.Mutex
	cork    corked
	corking atomic.Bool
	// stamp is sk_stamp, what SIOCGSTAMP reports: -1 before anything
	// came (SK_DEFAULT_STAMP), 0 for a datagram with no stamp, else
	// CLOCK_REALTIME nanoseconds; stamping turns on at the first
	// SIOCGSTAMP.
	stamp    atomic.Int64
	stamping atomic.Bool
	// peekOff is SO_PEEK_OFF: -1, or where a stream's MSG_PEEK starts.
	peekOff atomic.Int32
	// shortSent says a send was refused, or took its wmem0 bytes,
	// while the kernel's memory for buffers was short (buffers.go).
	shortSent atomic.Bool

	// What netstack's Read and Write are handed, kept for the next call
	// by the reader or writer that holds rmu or wmu (TryLock: a second
	// one at the same time makes its own), so that a call allocates
	// none.
	rmu   sync.Mutex
	rsink sink
	rlim  tcpip.LimitedWriter
	wmu   sync.Mutex
	wpay  payload
	// pw, a stream's, waits in a read that took the connection's
	// segment up the stack (Stack.pollNIC), for the reader that holds
	// rmu; pwSet says its flows are known (once connected).
	pw    *pollWaiter
	pwSet bool
}

func newSock(st *Stack, family, typ, proto int, ep tcpip.Endpoint, wq *waiter.Queue) *sock {
	s := &sock{st: st, family: family, typ: typ, proto: proto, ep: ep, wq: wq, ino: socket.NextIno()}
	if typ == socket.SockStream {
		s.pw = newPollWaiter()
	}
	s.stamp.Store(-1)
	s.peekOff.Store(-1)
	// netstack's event bits are poll(2)'s, as are vfs.Events.
	s.entry = waiter.NewFunctionEntry(waiter.EventMask(^uint32(0)), func(m waiter.EventMask) {
		if s.pw != nil && m&(waiter.ReadableEvents|waiter.EventHUp|waiter.EventErr) != 0 {
			s.pw.poke()
		}
		s.q.Notify(vfs.Events(m))
	})
	wq.EventRegister(&s.entry)
	if typ == socket.SockStream {
		ep.SocketOptions().SetDelayOption(true) // Linux's default: Nagle on
	} else {
		// net.core.wmem_default and rmem_default.
		ep.SocketOptions().SetSendBufferSize(udpBufDefault, false)
		ep.SocketOptions().SetReceiveBufferSize(udpBufDefault, false)
	}
	// Path MTU discovery as net.ipv4.ip_no_pmtu_disc's default asks:
	// IP_PMTUDISC_WANT.
	_ = ep.SetSockOptInt(tcpip.MTUDiscoverOption, pmtuDiscWant)
	return s
}

func (s *sock) Domain() int             { return s.family }
func (s *sock) Type() int               { return s.typ }
func (s *sock) Protocol() int           { return s.proto }
func (s *sock) Common() *socket.Common  { return &s.common }
func (s *sock) Queue() *vfs.Queue       { return &s.q }
func (s *sock) Stat(*vfs.File) vfs.Attr { return socket.Attr(s.ino) }
func (s *sock) Name() string            { return socket.Name(s.ino) }
func (s *sock) Release(*vfs.File)       { s.wq.EventUnregister(&s.entry); s.ep.Close() }
func (s *sock) Readiness(m vfs.Events) vfs.Events {
	ev := vfs.Events(s.ep.Readiness(waiter.EventMask(m))) & m
	if ev&vfs.EventOut != 0 && s.shortSent.Load() && mem.BuffersShort() {
		ev &^= vfs.EventOut | vfs.EventWrNorm // waiting for memory (shortSend)
	}
	if ev&vfs.EventIn != 0 && ev&(vfs.EventRdHup|vfs.EventHup|vfs.EventErr) == 0 && s.typ == socket.SockStream {
		ev &^= s.belowLowat()
	}
	return ev
}

// belowLowat returns the readable events a TCP socket holding fewer
// bytes than SO_RCVLOWAT does not report (tcp_poll: tcp_stream_is_readable
// with sock_rcvlowat as the target).
func (s *sock) belowLowat() vfs.Events {
	// Capped at half the receive buffer, as tcp_set_rcvlowat caps it.
	lw := min(s.common.RcvLowat(), int(s.ep.SocketOptions().GetReceiveBufferSize()/2))
	if lw <= 1 {
		return 0
	}
	n, err := s.ep.GetSockOptInt(tcpip.ReceiveQueueSizeOption)
	if err != nil || n >= lw {
		return 0
	}
	return vfs.EventIn | vfs.EventRdNorm
}

// Address conversion (include/uapi/linux/in.h struct sockaddr_in: family
// u16, port be16, addr [4]; in6.h struct sockaddr_in6: family, port,
// flowinfo u32, addr [16], scope_id u32).

// fullAddr decodes a sockaddr for this socket's family: EAFNOSUPPORT for
// another family, EINVAL if too short.
func (s *sock) fullAddr(b []byte) (tcpip.FullAddress, error) {
	if len(b) < 2 {
		return tcpip.FullAddress{}, vfs.EINVAL
	}
	fam := int(binary.LittleEndian.Uint16(b))
	switch {
	case fam == socket.AFInet && s.family == socket.AFInet:
		if len(b) < 16 {
			return tcpip.FullAddress{}, vfs.EINVAL
		}
		a := tcpip.FullAddress{Port: binary.BigEndian.Uint16(b[2:])}
		if ip := [4]byte(b[4:8]); ip != [4]byte{} {
			a.Addr = tcpip.AddrFrom4(ip)
		}
		return a, nil
	case fam == socket.AFInet6 && s.family == socket.AFInet6:
		if len(b) < 24 {
			return tcpip.FullAddress{}, vfs.EINVAL
		}
		a := tcpip.FullAddress{Port: binary.BigEndian.Uint16(b[2:])}
		ip := [16]byte(b[8:24])
		if ip != [16]byte{} {
			a.Addr = tcpip.AddrFrom16(ip)
		}
		if len(b) >= 28 {
			a.NIC = tcpip.NICID(binary.LittleEndian.Uint32(b[24:]))
		}
		return a, nil
	case fam == socket.AFInet && s.family == socket.AFInet6:
		return tcpip.FullAddress{}, vfs.EINVAL
	}
	return tcpip.FullAddress{}, socket.EAFNOSUPPORT
}

// sockaddr encodes a for this socket's family; IPv4 addresses of an
// AF_INET6 socket appear v4-mapped.
func (s *sock) sockaddr(a tcpip.FullAddress) []byte {
	if s.family == socket.AFInet {
		b := make([]byte, 16)
		binary.LittleEndian.PutUint16(b, socket.AFInet)
		binary.BigEndian.PutUint16(b[2:], a.Port)
		if a.Addr.Len() == 4 {
			ip := a.Addr.As4()
			copy(b[4:], ip[:])
		}
		return b
	}
	b := make([]byte, 28)
	binary.LittleEndian.PutUint16(b, socket.AFInet6)
	binary.BigEndian.PutUint16(b[2:], a.Port)
	switch a.Addr.Len() {
	case 16:
		ip := a.Addr.As16()
		copy(b[8:], ip[:])
	case 4:
		ip := a.Addr.As4()
		b[18], b[19] = 0xff, 0xff
		copy(b[20:], ip[:])
	}
	return b
}

func (s *sock) Bind(_ socket.Context, addr []byte) error {
	a, err := s.fullAddr(addr)
	if err != nil {
		return err
	}
	return errnoOf(s.ep.Bind(a))
}

func (s *sock) Listen(backlog int) error {
	if s.typ != socket.SockStream {
		return socket.EOPNOTSUPP
	}
	backlog = min(max(backlog, 0), socket.SomaxConn)
	return errnoOf(s.ep.Listen(backlog))
}

func (s *sock) Accept(flags uint32) (*vfs.File, []byte, error) {
	var peer tcpip.FullAddress
	ep, wq, err := s.ep.Accept(&peer)
	if err != nil {
		if _, ok := err.(*tcpip.ErrNotSupported); ok {
			return nil, nil, socket.EOPNOTSUPP
		}
		return nil, nil, errnoOf(err)
	}
	n := newSock(s.st, s.family, s.typ, s.proto, ep, wq)
	s.inherit(n)
	n.expandSndbuf()
	return vfs.NewFile(n, linux.ORdwr|flags&linux.ONonblock, n.Name()), s.sockaddr(peer), nil
}

func (s *sock) Connect(_ socket.Context, addr []byte) error {
	if len(addr) >= 2 && binary.LittleEndian.Uint16(addr) == socket.AFUnspec {
		if s.typ == socket.SockStream {
			return errnoOf(s.ep.Disconnect())
		}
		err := s.ep.Disconnect()
		if _, ok := err.(*tcpip.ErrNotSupported); ok {
			return nil
		}
		return errnoOf(err)
	}
	a, err := s.fullAddr(addr)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.opts.connMSS = s.opts.userMSS // the handshake's bound on the MSS
	s.mu.Unlock()
	terr := s.ep.Connect(a)
	if _, ok := terr.(*tcpip.ErrConnectStarted); ok {
		s.mu.Lock()
		s.connecting = true
		s.mu.Unlock()
		return socket.EINPROGRESS
	}
	if _, ok := terr.(*tcpip.ErrAlreadyConnecting); ok {
		return socket.EALREADY
	}
	return errnoOf(terr)
}

func (s *sock) ConnectResult() error {
	if s.ep.Readiness(waiter.WritableEvents|waiter.EventErr|waiter.EventHUp) == 0 {
		return socket.EINPROGRESS
	}
	s.mu.Lock()
	s.connecting = false
	s.mu.Unlock()
	err := s.ep.LastError()
	if err == nil {
		s.expandSndbuf()
	}
	return errnoOf(err)
}

// expandSndbuf sizes a TCP connection's send buffer as it opens, as
// tcp_init_transfer's tcp_sndbuf_expand does: room for twice
// TCP_INIT_CWND segments, each taking a buffer of the segment and
// MAX_TCP_HEADER (320 bytes) and struct skb_shared_info (320) rounded up
// to a power of two and a struct sk_buff (256), at most tcp_wmem's max;
// unless SO_SNDBUF fixed the size (SOCK_SNDBUF_LOCK). An Ethernet
// connection gets 87040 bytes, a loopback one 2626560.
func (s *sock) expandSndbuf() {
	if s.typ != socket.SockStream {
		return
	}
	s.mu.Lock()
	locked := s.opts.sndLocked
	s.mu.Unlock()
	st := tcp.EndpointState(s.ep.State())
	if locked || (st != tcp.StateEstablished && st != tcp.StateCloseWait) {
		return
	}
	per := 1
	for per < s.maxSeg()+tcpTimestampLen+320+320 {
		per <<= 1
	}
	size := int64(2 * tcpInitCwnd * (per + 256))
	var r tcpip.TCPSendBufferSizeRangeOption
	if s.st.s.TransportProtocolOption(tcp.ProtocolNumber, &r) == nil {
		size = min(size, int64(r.Max))
	}
	so := s.ep.SocketOptions()
	if size > so.GetSendBufferSize() {
		so.SetSendBufferSize(size, false)
	}
}

func (s *sock) SockName() ([]byte, error) {
	a, err := s.ep.GetLocalAddress()
	if err != nil {
		return nil, errnoOf(err)
	}
	return s.sockaddr(a), nil
}

func (s *sock) PeerName() ([]byte, error) {
	a, err := s.ep.GetRemoteAddress()
	if err != nil {
		return nil, errnoOf(err)
	}
	return s.sockaddr(a), nil
}

// payload reads a vfs.Buf for netstack's Write.
type payload struct {
	b    vfs.Buf
	done int64
	n    int64
}

func (p *payload) Read(dst []byte) (int, error) {
	if p.done >= p.n {
		return 0, io.EOF
	}
	dst = dst[:min(int64(len(dst)), p.n-p.done)]
	c, err := p.b.DropFirst(p.done).CopyIn(dst)
	p.done += int64(c)
	if c == 0 && err != nil {
		return 0, vfs.EFAULT
	}
	return c, nil
}

func (p *payload) Len() int { return int(p.n - p.done) }

// sink writes netstack's Read into a vfs.Buf. With truncate, it takes
// and drops what does not fit, as a datagram's reader does.
type sink struct {
	b        vfs.Buf
	done     int64
	truncate bool
}

func (w *sink) Write(src []byte) (int, error) {
	c, err := w.b.DropFirst(w.done).CopyOut(src)
	w.done += int64(c)
	if err != nil {
		return c, vfs.EFAULT
	}
	if w.truncate {
		return len(src), nil
	}
	return c, nil
}

func (s *sock) Send(_ socket.Context, src vfs.Buf, m *socket.Msg) (int64, error) {
	if len(m.Rights) > 0 {
		return 0, vfs.EINVAL
	}
	if m.Flags&socket.MsgOOB != 0 {
		return 0, socket.EOPNOTSUPP
	}
	if mem.BuffersShort() {
		var err error
		if src, err = s.shortSend(src); err != nil {
			return 0, err
		}
	} else if s.shortSent.Load() {
		s.shortSent.Store(false)
	}
	opts := tcpip.WriteOptions{More: m.Flags&socket.MsgMore != 0, EndOfRecord: m.Flags&socket.MsgEOR != 0}
	if m.Addr != nil && s.typ != socket.SockStream {
		a, err := s.fullAddr(m.Addr)
		if err != nil {
			return 0, err
		}
		opts.To = &a
	}
	if s.typ != socket.SockStream {
		if len(m.Control) > 0 || s.gso.Load() != 0 || (m.Flags&socket.MsgMore != 0 && s.proto == ipprotoUDP) || s.corking.Load() {
			return s.sendDatagram(src, m, opts)
		}
		s.tosmu.RLock()
		defer s.tosmu.RUnlock()
	}
	var p *payload
	if s.wmu.TryLock() {
		p = &s.wpay
		defer func() { *p = payload{}; s.wmu.Unlock() }()
	} else {
		p = new(payload)
	}
	*p = payload{b: src, n: src.Len()}
	n, err := s.ep.Write(p, opts)
	if err != nil {
		if _, ok := err.(*tcpip.ErrWouldBlock); ok && n == 0 {
			return 0, vfs.EAGAIN
		}
		if n == 0 {
			return 0, errnoOf(err)
		}
	}
	return n, nil
}

func (s *sock) Recv(dst vfs.Buf, m *socket.Msg) (int64, error) {
	if m.Flags&socket.MsgErrqueue != 0 {
		return s.recvErr(dst, m)
	}
	if m.Flags&socket.MsgPeek != 0 && s.peekOff.Load() >= 0 && s.typ == socket.SockStream {
		return s.peekAt(dst, m)
	}
	if m.Flags&socket.MsgOOB != 0 {
		return 0, vfs.EINVAL
	}
	stream := s.typ == socket.SockStream
	if stream && dst.Len() == 0 {
		return 0, nil
	}
	// A stream reads what fits; a datagram is read whole, what does not
	// fit dropped (sink.truncate), so that its length is known.
	var w *sink
	var lw *tcpip.LimitedWriter
	var pw *pollWaiter
	if s.rmu.TryLock() {
		pw = s.pollWaiter()
		w, lw = &s.rsink, &s.rlim
		defer func() { *w, *lw = sink{}, tcpip.LimitedWriter{}; s.rmu.Unlock() }()
	} else {
		w, lw = new(sink), new(tcpip.LimitedWriter)
	}
	*w = sink{b: dst, truncate: !stream}
	var to io.Writer = w
	if stream {
		*lw = tcpip.LimitedWriter{W: w, N: dst.Len()}
		to = lw
	}
	ro := tcpip.ReadOptions{Peek: m.Flags&socket.MsgPeek != 0, NeedRemoteAddr: !stream}
	res, err := s.ep.Read(to, ro)
	if _, ok := err.(*tcpip.ErrWouldBlock); ok && s.st.pollNIC != nil && s.st.pollNIC(pw) {
		// Frames had arrived that the receive loop had not yet taken
		// (the kernel's runtime runs it when nothing else is
		// runnable): what they carry for this socket is read now, as
		// Linux would have taken them up its stack at the interrupt.
		res, err = s.ep.Read(to, ro)
	}
	if err != nil {
		switch err.(type) {
		case *tcpip.ErrClosedForReceive:
			if stream {
				s.streamCmsgs(m)
			}
			return 0, nil
		case *tcpip.ErrBadBuffer:
			return 0, vfs.EFAULT
		}
		return 0, errnoOf(err)
	}
	if s.typ != socket.SockStream {
		m.Addr = s.sockaddr(res.RemoteAddr)
		s.datagramCmsgs(m, &res.ControlMessages)
		s.recvStamp(&res.ControlMessages)
		if res.Total > int(w.done) {
			m.OutFlags |= socket.MsgTrunc
		}
		if m.Flags&socket.MsgTrunc != 0 {
			return int64(res.Total), nil
		}
		return w.done, nil
	}
	if m.Flags&socket.MsgPeek == 0 {
		s.grow(res.Count)
		s.peekBack(res.Count)
	}
	s.streamCmsgs(m)
	return int64(res.Count), nil
}

func (s *sock) Read(_ *vfs.File, dst vfs.Buf, _ int64) (int64, error) {
	return s.Recv(dst, &socket.Msg{})
}

func (s *sock) Write(_ *vfs.File, src vfs.Buf, _ int64) (int64, error) {
	return s.Send(nil, src, &socket.Msg{})
}

func (s *sock) Shutdown(how int) error {
	var f tcpip.ShutdownFlags
	switch how {
	case socket.ShutRd:
		f = tcpip.ShutdownRead
	case socket.ShutWr:
		f = tcpip.ShutdownWrite
	case socket.ShutRdwr:
		f = tcpip.ShutdownRead | tcpip.ShutdownWrite
	default:
		return vfs.EINVAL
	}
	return errnoOf(s.ep.Shutdown(f))
}

func (s *sock) Ioctl(_ *vfs.File, m mem.Memory, cmd uint32, arg uint64) (int64, error) {
	switch cmd {
	case siocgstamp, siocgstampns:
		return s.gettstamp(m, cmd, arg)
	case linux.FIONREAD, tiocoutq:
		// tcp_ioctl: not a listener's; nothing queued before a
		// connection (udp_ioctl: nothing to read or send yet).
		if s.typ == socket.SockStream && tcp.EndpointState(s.ep.State()) == tcp.StateListen {
			return 0, vfs.EINVAL
		}
		opt := tcpip.ReceiveQueueSizeOption
		if cmd == tiocoutq {
			opt = tcpip.SendQueueSizeOption
		}
		if v, err := s.ep.GetSockOptInt(opt); err == nil {
			return 0, mem.WriteUint32(m, arg, uint32(v))
		}
		return 0, mem.WriteUint32(m, arg, 0)
	case siocatmark:
		// TCP only (tcp_ioctl); netstack keeps urgent data in line
		// with no mark, so a read is never at one.
		if s.typ != socket.SockStream {
			return 0, vfs.ENOTTY
		}
		return 0, mem.WriteUint32(m, arg, 0)
	}
	return 0, vfs.ENOTTY
}

// Defaults of a new socket (include/uapi/linux/in.h IP_PMTUDISC_WANT;
// net.core.wmem_default and rmem_default).
const (
	pmtuDiscWant  = 1
	udpBufDefault = 212992
)

// tiocoutq is TIOCOUTQ (SIOCOUTQ): bytes not yet acknowledged;
// siocatmark is SIOCATMARK (include/uapi/linux/sockios.h).
const (
	tiocoutq     = 0x5411
	siocatmark   = 0x8905
	siocgstamp   = 0x8906 // SIOCGSTAMP_OLD: a struct timeval
	siocgstampns = 0x8907 // SIOCGSTAMPNS_OLD: a struct timespec
)

// pollWaiter returns the stream's pollWaiter with its flows set, or nil
// if it has none or is not connected. The caller holds s.rmu.
func (s *sock) pollWaiter() *pollWaiter {
	if s.pw == nil || s.pwSet {
		return s.pw
	}
	info, ok := s.ep.Info().(*stack.TransportEndpointInfo)
	if !ok || info.ID.RemotePort == 0 || info.ID.LocalPort == 0 {
		return nil
	}
	id := info.ID
	s.pw.in = flowOf(id.RemoteAddress, id.LocalAddress, id.RemotePort, id.LocalPort)
	s.pw.out = flowOf(id.LocalAddress, id.RemoteAddress, id.LocalPort, id.RemotePort)
	s.pwSet = true
	return s.pw
}

// flowOf is the flowKey (as parseTCP reads it from a frame) of TCP
// segments from src:sport to dst:dport; an IPv4-mapped IPv6 address is
// its IPv4 address, as such a connection's frames carry.
func flowOf(src, dst tcpip.Address, sport, dport uint16) flowKey {
	var k flowKey
	copy(k[0:16], unmap(src))
	copy(k[16:32], unmap(dst))
	binary.BigEndian.PutUint16(k[32:], sport)
	binary.BigEndian.PutUint16(k[34:], dport)
	return k
}

func unmap(a tcpip.Address) []byte {
	b := a.AsSlice()
	if len(b) == 16 && [12]byte(b[:12]) == [12]byte{10: 0xff, 11: 0xff} {
		return b[12:]
	}
	return b
}
