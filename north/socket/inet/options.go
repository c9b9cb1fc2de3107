package inet

import (
	"encoding/binary"
	"time"

	"github.com/cocoon-vm/cocoon/north/socket"
	"github.com/cocoon-vm/cocoon/north/vfs"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// Socket options of internet sockets: SOL_SOCKET's that live in netstack's
// endpoint, and IPPROTO_TCP, IPPROTO_IP and IPPROTO_IPV6's
// (net/ipv4/tcp.c do_tcp_setsockopt and do_tcp_getsockopt,
// net/ipv4/ip_sockglue.c do_ip_setsockopt and do_ip_getsockopt,
// net/ipv6/ipv6_sockglue.c). The generic SOL_SOCKET options are
// socket.Common's. An option whose effect Cocoon does not have reads as
// Linux's default and refuses to be set (ENOPROTOOPT), never accepted
// and ignored.

// Option numbers (include/uapi/linux/tcp.h, in.h, in6.h).
const (
	tcpInfo          = 11
	tcpCongestion    = 13
	tcpThinLinear    = 16
	tcpThinDupack    = 17
	tcpRepair        = 19
	tcpRepairQueue   = 20
	tcpQueueSeq      = 21
	tcpRepairOptions = 22
	tcpTimestamp     = 24
	tcpNotsentLowat  = 25
	tcpCCInfo        = 26
	tcpSaveSyn       = 27
	tcpSavedSyn      = 28
	tcpRepairWindow  = 29
	tcpFastopen      = 23
	tcpFastopenConn  = 30
	tcpULP           = 31
	tcpFastopenKey   = 33
	tcpFastopenNoCk  = 34
	tcpInq           = 36
	tcpTxDelay       = 37
	tcpIsMPTCP       = 43
	tcpRTOMaxMs      = 44
	tcpRTOMinUs      = 45
	ipHdrincl        = 3
	ipOptions        = 4
	ipRouterAlert    = 5
	ipRecvopts       = 6
	ipRetopts        = 7
	ipPktinfo        = 8
	ipPktoptions     = 9
	ipMTUDiscover    = 10
	ipRecverr        = 11
	ipRecvttl        = 12
	ipRecvtos        = 13
	ipMTU            = 14
	ipFreebind       = 15
	ipTransparent    = 19
	ipRecvorigdst    = 20
	ipMinttl         = 21
	ipNodefrag       = 22
	ipBindNoPort     = 24
	ipRecvfragsize   = 25
	ipRecverrRFC4884 = 26
	ipUnicastIf      = 50
	ipLocalPortRange = 51
	ipProtocol       = 52
	ipMulticastIf    = 32
	ipMulticastTTL   = 33
	ipMulticastLoop  = 34
	ipMulticastAll   = 49
	ipv6MulticastIf  = 17
	ipv6MulticastHop = 18
	ipv6MulticastLp  = 19
	ipv6MTUDiscover  = 23
	ipv6MTU          = 24
	ipv6Recverr      = 25
	ipv6Recvpktinfo  = 49
	ipv6Recvhoplimit = 51
	ipv6Recvtclass   = 66
	ipv6Recvorigdst  = 74
	ipv6Freebind     = 78
	solUDP           = 17

	tcpFinTimeout    = 60  // net.ipv4.tcp_fin_timeout's default, seconds
	tcpFinTimeoutMax = 120 // TCP_FIN_TIMEOUT_MAX
	minRcvbufHalf    = 1152
	defaultTTL       = 64     // net.ipv4.ip_default_ttl, net.ipv6.conf.*.hop_limit
	tcpMSSDefault    = 536    // TCP_MSS_DEFAULT
	tcpMinMSS        = 88     // TCP_MIN_MSS
	maxTCPWindow     = 32767  // MAX_TCP_WINDOW: the largest TCP_MAXSEG
	tcpTimestampLen  = 12     // TCPOLEN_TSTAMP_ALIGNED
	tcpRTOMax        = 120000 // TCP_RTO_MAX, milliseconds
	tcpRTOMin        = 200000 // TCP_RTO_MIN, microseconds
	tcpTimeoutMin    = 1000   // TCP_TIMEOUT_MIN, two jiffies, in microseconds less one jiffy
)

// options are the option values a socket keeps here, netstack having no
// place for them or keeping them differently. Guarded by sock.mu.
type options struct {
	linger2       int // TCP_LINGER2 as Linux keeps it: 0 default, -1 off, else seconds
	deferRetrans  int // TCP_DEFER_ACCEPT as retransmissions
	windowClamp   int
	userMSS       int    // TCP_MAXSEG as set: 0 none (tp->rx_opt.user_mss)
	connMSS       int    // userMSS when the connection began: what bounds its MSS
	sndLocked     bool   // SO_SNDBUF set: no tuning (SOCK_SNDBUF_LOCK)
	fastopenQlen  int    // TCP_FASTOPEN: a listener's queue of fast-open requests
	fastopenConn  bool   // TCP_FASTOPEN_CONNECT
	fastopenKey   []byte // TCP_FASTOPEN_KEY: the socket's keys
	minTTL        int    // IP_MINTTL, 0 or 1 (Cocoon drops no packet by its TTL)
	ipPmtudisc    int    // IP_MTU_DISCOVER of an IPv6 socket (for IPv4-mapped peers)
	ipPmtudiscSet bool
	mcAll         bool // IP_MULTICAST_ALL, once set
	mcAllSet      bool
	gro           bool // UDP_GRO
	minHops       int  // IPV6_MINHOPCOUNT, 0 or 1
	mc6All        bool // IPV6_MULTICAST_ALL, once set
	mc6AllSet     bool
	raIsolate     bool                               // IPV6_ROUTER_ALERT_ISOLATE
	mc6If         int                                // IPV6_MULTICAST_IF
	srcprefs      int                                // IPV6_ADDR_PREFERENCES as kept: IPV6_PREFER_SRC_TMP, _PUBLIC, _COA
	mcGroups      int                                // IPv4 groups joined
	tcpGroups     map[tcpip.AddMembershipOption]bool // a TCP socket's groups
	mcAddr        [4]byte                            // IP_MULTICAST_IF's address
}

// IPv6 option numbers beyond those above (include/uapi/linux/in6.h).
const (
	ipv6Addrform        = 1
	ipv6HopoptsOld      = 3 // IPV6_2292HOPOPTS
	ipv6DstoptsOld      = 4
	ipv6RthdrOld        = 5
	ipv6PktoptionsOld   = 6 // IPV6_2292PKTOPTIONS
	ipv6FlowinfoOpt     = 11
	ipv6RouterAlert     = 22
	ipv6JoinAnycast     = 27
	ipv6LeaveAnycast    = 28
	ipv6MulticastAll    = 29
	ipv6RAIsolate       = 30
	ipv6RecverrRFC4884  = 31
	ipv6FlowlabelMgr    = 32
	ipv6FlowinfoSend    = 33
	ipv6RecvHopopts     = 53
	ipv6HopoptsOpt      = 54
	ipv6RthdrDstopts    = 55
	ipv6RecvRthdr       = 56
	ipv6RthdrOpt        = 57
	ipv6RecvDstopts     = 58
	ipv6DstoptsOpt      = 59
	ipv6RecvPathMTU     = 60
	ipv6PathMTU         = 61
	ipv6AutoFlowlabel   = 70
	ipv6AddrPreferences = 72
	ipv6MinHopCount     = 73
	ipv6Transparent     = 75
	ipv6UnicastIf       = 76
	ipv6RecvFragsize    = 77

	// IPV6_PREFER_SRC_* (include/uapi/linux/in6.h).
	prefSrcTmp    = 0x1
	prefSrcPublic = 0x2
	prefSrcPubtmp = 0x100
	prefSrcCoa    = 0x4
	prefSrcHome   = 0x400
	prefSrcCga    = 0x8
	prefSrcNoncga = 0x800
)

// setAddrPreferences returns the socket's source preferences srcprefs
// after IPV6_ADDR_PREFERENCES v, as __ip6_sock_set_addr_preferences
// keeps them (TMP, PUBLIC, COA), or EINVAL for a conflicting pair.
func setAddrPreferences(srcprefs, v int) (int, error) {
	pref, mask := 0, ^0
	switch v & (prefSrcPublic | prefSrcTmp | prefSrcPubtmp) {
	case prefSrcPublic, prefSrcTmp:
		pref |= v & (prefSrcPublic | prefSrcTmp)
		mask &^= prefSrcPublic | prefSrcTmp
	case prefSrcPubtmp:
		mask &^= prefSrcPublic | prefSrcTmp
	case 0:
	default:
		return 0, vfs.EINVAL
	}
	switch v & (prefSrcHome | prefSrcCoa) {
	case prefSrcHome:
		mask &^= prefSrcCoa
	case prefSrcCoa:
		pref |= prefSrcCoa
	case 0:
	default:
		return 0, vfs.EINVAL
	}
	if v&(prefSrcCga|prefSrcNoncga) == prefSrcCga|prefSrcNoncga {
		return 0, vfs.EINVAL
	}
	return srcprefs&mask | pref, nil
}

// addrPreferences is IPV6_ADDR_PREFERENCES as ipv6_getsockopt reports
// srcprefs.
func addrPreferences(srcprefs int) int {
	v := prefSrcPubtmp
	switch {
	case srcprefs&prefSrcTmp != 0:
		v = prefSrcTmp
	case srcprefs&prefSrcPublic != 0:
		v = prefSrcPublic
	}
	if srcprefs&prefSrcCoa != 0 {
		return v | prefSrcCoa
	}
	return v | prefSrcHome
}

func (s *sock) SetSockOpt(level, name int, val []byte) error {
	so := s.ep.SocketOptions()
	if level == socket.SolSocket && name == socket.SoLinger {
		on, secs, err := socket.LingerArg(val)
		if err != nil {
			return err
		}
		so.SetLinger(tcpip.LingerOption{Enabled: on, Timeout: time.Duration(secs) * time.Second})
		return nil
	}
	if level == socket.SolTCP && name == tcpCongestion && s.typ == socket.SockStream {
		// A name, not an int: ENOENT for an algorithm the stack has
		// not (tcp_set_congestion_control).
		n := string(val)
		for i, c := range val {
			if c == 0 {
				n = n[:i]
				break
			}
		}
		o := tcpip.CongestionControlOption(n)
		if err := s.ep.SetSockOpt(&o); err != nil {
			return vfs.ENOENT
		}
		return nil
	}
	if level == socket.SolTCP && name == tcpULP && s.typ == socket.SockStream {
		// tcp_set_ulp: no upper layer protocol ("tls", "espintcp",
		// ...) is there to load, whatever the name.
		if len(val) == 0 {
			return vfs.EINVAL
		}
		return vfs.ENOENT
	}
	if level == socket.SolTCP && name == tcpFastopenKey && s.typ == socket.SockStream {
		// A primary key, or a primary and a backup: kept and reported,
		// used by nothing (no listener does fast open under Linux's
		// default net.ipv4.tcp_fastopen).
		if len(val) != 16 && len(val) != 32 {
			return vfs.EINVAL
		}
		s.mu.Lock()
		s.opts.fastopenKey = append([]byte(nil), val...)
		s.mu.Unlock()
		return nil
	}
	// A level that is not the socket's is refused before its value is
	// looked at (ip_setsockopt, ipv6_setsockopt).
	if (level == socket.SolTCP && s.typ != socket.SockStream) || (level == socket.SolIPv6 && s.family != socket.AFInet6) {
		return socket.ENOPROTOOPT
	}
	if level == socket.SolIP && ipIntOption(name) && len(val) < 4 {
		// do_ip_setsockopt reads these from a single byte too, and no
		// value at all as 0.
		b := make([]byte, 4)
		if len(val) > 0 {
			b[0] = val[0]
		}
		val = b
	}
	v, err := socket.IntArg(val)
	if err != nil {
		if level == socket.SolSocket || level == socket.SolTCP || level == socket.SolIP || level == socket.SolIPv6 ||
			(level == solUDP && s.typ == socket.SockDgram) {
			return err
		}
		return socket.ENOPROTOOPT
	}
	switch level {
	case solUDP:
		if s.typ != socket.SockDgram {
			return socket.ENOPROTOOPT
		}
		return s.setUDP(name, v)
	case socket.SolSocket:
		return s.setSocket(so, name, v)
	case socket.SolTCP:
		if s.typ != socket.SockStream {
			return socket.ENOPROTOOPT // ip_setsockopt: not its level
		}
		return s.setTCP(so, name, v)
	case socket.SolIPv6:
		if s.family != socket.AFInet6 {
			return socket.ENOPROTOOPT
		}
		return s.setIPv6(so, name, v, val)
	case socket.SolIP:
		return s.setIP(so, name, v, val)
	}
	return socket.ENOPROTOOPT
}

// ipIntOption reports whether do_ip_setsockopt reads option name as an
// int, or as one byte from a shorter value.
func ipIntOption(name int) bool {
	switch name {
	case ipPktinfo, ipRecvttl, ipRecvopts, ipRecvtos, ipRetopts, socket.IPTos, socket.IPTTL, ipHdrincl,
		ipMTUDiscover, ipRecverr, ipRouterAlert, ipFreebind, ipPasssec, ipTransparent, ipMinttl,
		ipNodefrag, ipBindNoPort, ipUnicastIf, ipMulticastTTL, ipMulticastAll, ipMulticastLoop,
		ipRecvorigdst, ipChecksum, ipRecvfragsize, ipRecverrRFC4884, ipLocalPortRange:
		return true
	}
	return false
}

func (s *sock) setSocket(so *tcpip.SocketOptions, name, v int) error {
	switch name {
	case socket.SoReuseaddr:
		so.SetReuseAddress(v != 0)
	case socket.SoReuseport:
		so.SetReusePort(v != 0)
	case socket.SoKeepalive:
		so.SetKeepAlive(v != 0)
	case socket.SoBroadcast:
		so.SetBroadcast(v != 0)
	case socket.SoSndbuf, socket.SoSndbufforce:
		s.mu.Lock()
		s.opts.sndLocked = true // SOCK_SNDBUF_LOCK
		s.mu.Unlock()
		so.SetSendBufferSize(int64(socket.BufSize(v, name == socket.SoSndbufforce, 4608)), true)
	case socket.SoRcvbuf, socket.SoRcvbufforce:
		s.mu.Lock()
		s.rcv.locked = true
		s.mu.Unlock()
		so.SetReceiveBufferSize(int64(socket.BufSize(v, name == socket.SoRcvbufforce, 2304)), true)
	case socket.SoOobinline:
		// netstack keeps urgent data in line: it cannot be turned off.
		if v == 0 {
			return socket.ENOPROTOOPT
		}
	case socket.SoPeekOff:
		// Where a TCP MSG_PEEK starts, moving on with what it peeks
		// (sk_set_peek_off; negative: off). A UDP peek at an offset
		// reaches datagrams past the first, which netstack's cannot.
		if s.typ != socket.SockStream && v >= 0 {
			return socket.ENOPROTOOPT
		}
		s.peekOff.Store(int32(v))
	default:
		return socket.ENOPROTOOPT
	}
	return nil
}

// secsToRetrans and retransToSecs convert TCP_DEFER_ACCEPT's seconds to
// SYN-ACK retransmissions and back, the timeout doubling from 1 s up to
// 120 s (net/ipv4/tcp.c secs_to_retrans, retrans_to_secs).
func secsToRetrans(secs int) int {
	if secs <= 0 {
		return 0
	}
	res, timeout, period := 1, 1, 1
	for secs > period && res < 255 {
		res++
		timeout = min(timeout<<1, 120)
		period += timeout
	}
	return res
}

func retransToSecs(n int) int {
	if n <= 0 {
		return 0
	}
	timeout, period := 1, 1
	for n--; n > 0; n-- {
		timeout = min(timeout<<1, 120)
		period += timeout
	}
	return period
}

func (s *sock) setTCP(so *tcpip.SocketOptions, name, v int) error {
	switch name {
	case socket.TCPNodelay:
		so.SetDelayOption(v == 0)
	case socket.TCPCork:
		so.SetCorkOption(v != 0)
	case socket.TCPQuickack:
		so.SetQuickAck(v != 0)
	case socket.TCPKeepidle, socket.TCPKeepintvl:
		if v < 1 || v > 32767 {
			return vfs.EINVAL
		}
		d := time.Duration(v) * time.Second
		if name == socket.TCPKeepidle {
			o := tcpip.KeepaliveIdleOption(d)
			return errnoOf(s.ep.SetSockOpt(&o))
		}
		o := tcpip.KeepaliveIntervalOption(d)
		return errnoOf(s.ep.SetSockOpt(&o))
	case socket.TCPKeepcnt:
		if v < 1 || v > 127 {
			return vfs.EINVAL
		}
		return errnoOf(s.ep.SetSockOptInt(tcpip.KeepaliveCountOption, v))
	case socket.TCPUserTimeout:
		if v < 0 {
			return vfs.EINVAL
		}
		o := tcpip.TCPUserTimeoutOption(time.Duration(v) * time.Millisecond)
		return errnoOf(s.ep.SetSockOpt(&o))
	case socket.TCPMaxseg:
		// tcp_sock_set_maxseg: 0 (none) or TCP_MIN_MSS to
		// MAX_TCP_WINDOW. Netstack takes no 0: 0xffff clamps nothing
		// (calculateAdvertisedMSS keeps the route's MSS below it).
		if v != 0 && (v < tcpMinMSS || v > maxTCPWindow) {
			return vfs.EINVAL
		}
		n := v
		if n == 0 {
			n = 0xffff
		}
		if err := s.ep.SetSockOptInt(tcpip.MaxSegOption, n); err != nil {
			return errnoOf(err)
		}
		s.mu.Lock()
		s.opts.userMSS = v
		s.mu.Unlock()
	case socket.TCPSyncnt:
		return errnoOf(s.ep.SetSockOptInt(tcpip.TCPSynCountOption, v))
	case socket.TCPWindowClamp:
		// tcp_set_window_clamp: 0 only while closed; at least half
		// SOCK_MIN_RCVBUF.
		if v == 0 && tcp.EndpointState(s.ep.State()) != tcp.StateClose && tcp.EndpointState(s.ep.State()) != tcp.StateInitial {
			return vfs.EINVAL
		}
		if v != 0 {
			v = max(v, minRcvbufHalf)
			if err := s.ep.SetSockOptInt(tcpip.TCPWindowClampOption, v); err != nil {
				return errnoOf(err)
			}
		}
		s.mu.Lock()
		s.opts.windowClamp = v
		s.mu.Unlock()
	case socket.TCPLinger2:
		// do_tcp_setsockopt TCP_LINGER2: negative is off (-1), 0 the
		// sysctl's, at most TCP_FIN_TIMEOUT_MAX.
		switch {
		case v < 0:
			v = -1
		case v > tcpFinTimeoutMax:
			v = tcpFinTimeoutMax
		}
		d := time.Duration(v) * time.Second
		if v == 0 {
			d = tcpFinTimeout * time.Second
		}
		if v > 0 || v == 0 {
			o := tcpip.TCPLingerTimeoutOption(d)
			if err := s.ep.SetSockOpt(&o); err != nil {
				return errnoOf(err)
			}
		}
		s.mu.Lock()
		s.opts.linger2 = v
		s.mu.Unlock()
	case socket.TCPDeferAccept:
		n := secsToRetrans(v)
		o := tcpip.TCPDeferAcceptOption(time.Duration(retransToSecs(n)) * time.Second)
		if err := s.ep.SetSockOpt(&o); err != nil {
			return errnoOf(err)
		}
		s.mu.Lock()
		s.opts.deferRetrans = n
		s.mu.Unlock()
	case tcpInq:
		if v < 0 || v > 1 {
			return vfs.EINVAL
		}
		s.setCmsg(cmTCPInq, v != 0)
	case tcpThinDupack:
		// Gone from Linux's TCP: 0 or 1 accepted, nothing done.
		if v < 0 || v > 1 {
			return vfs.EINVAL
		}
	case tcpThinLinear, tcpSaveSyn, tcpFastopenNoCk:
		// Off is what Cocoon's TCP does; turning on linear timeouts
		// for thin streams, keeping the SYN's headers or fast open
		// without a cookie it cannot.
		hi := 1
		if name == tcpSaveSyn {
			hi = 2
		}
		if v < 0 || v > hi {
			return vfs.EINVAL
		}
		if (name == tcpSaveSyn || name == tcpFastopenNoCk) && !s.closedOrListening() {
			return vfs.EINVAL
		}
		if v != 0 {
			return socket.ENOPROTOOPT
		}
	case tcpTxDelay:
		if v != 0 {
			return socket.ENOPROTOOPT
		}
	case tcpFastopen:
		// The queue of a listener's fast-open requests, at most
		// somaxconn (fastopen_queue_tune). Under Linux's default
		// net.ipv4.tcp_fastopen (1: clients only) a listener does no
		// fast open whatever it sets, as Cocoon's.
		if v < 0 || !s.closedOrListening() {
			return vfs.EINVAL
		}
		s.mu.Lock()
		s.opts.fastopenQlen = min(v, socket.SomaxConn)
		s.mu.Unlock()
	case tcpFastopenConn:
		// A connect that may send data with its SYN once the server
		// has given a cookie; Cocoon's TCP asks for none and so
		// connects as Linux does before it has one.
		if v < 0 || v > 1 || !s.closed() {
			return vfs.EINVAL
		}
		s.mu.Lock()
		s.opts.fastopenConn = v != 0
		s.mu.Unlock()
	case tcpTimestamp, tcpRepairQueue, tcpRepairWindow:
		// Only in repair mode (TCP_REPAIR), which no socket is in.
		return vfs.EPERM
	case tcpQueueSeq:
		if !s.closed() {
			return vfs.EPERM
		}
		return vfs.EINVAL
	case tcpRepairOptions:
		return vfs.EINVAL
	case tcpRTOMaxMs:
		if v < 1000 || v > tcpRTOMax {
			return vfs.EINVAL
		}
		if v != tcpRTOMax {
			return socket.ENOPROTOOPT
		}
	case tcpRTOMinUs:
		if v <= tcpTimeoutMin || v > tcpRTOMin {
			return vfs.EINVAL
		}
		if v != tcpRTOMin {
			return socket.ENOPROTOOPT
		}
	default:
		// TCP_NOTSENT_LOWAT, TCP_REPAIR, TCP_MD5SIG, TCP_AO_*, ...:
		// netstack has none of them.
		return socket.ENOPROTOOPT
	}
	return nil
}

// setUDP serves SOL_UDP (net/ipv4/udp.c udp_lib_setsockopt).
func (s *sock) setUDP(name, v int) error {
	switch name {
	case udpSegment:
		// Sends cut into datagrams of this size (generic
		// segmentation offload, done here in software).
		if v < 0 || v > 0xffff {
			return vfs.EINVAL
		}
		s.gso.Store(int32(v))
	case udpGRO:
		// Datagrams may come joined, with a UDP_GRO message: Cocoon's
		// stack joins none, so each comes alone, as it may on Linux.
		s.mu.Lock()
		s.opts.gro = v != 0
		s.mu.Unlock()
	case udpCork:
		return s.setCork(v != 0)
	case udpEncap, udpNoCheck6Tx, udpNoCheck6Rx:
		// Encapsulation and IPv6 datagrams without checksums Cocoon
		// has not: off only.
		if v != 0 {
			return socket.ENOPROTOOPT
		}
	default:
		// UDPLITE_SEND_CSCOV, UDPLITE_RECV_CSCOV: UDP-Lite only.
		return socket.ENOPROTOOPT
	}
	return nil
}

// getUDP serves SOL_UDP (udp_lib_getsockopt).
func (s *sock) getUDP(name int) ([]byte, error) {
	if name == udpCork {
		s.corkMu.Lock()
		defer s.corkMu.Unlock()
		return socket.Bool(s.cork.on), nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch name {
	case udpEncap, udpNoCheck6Tx, udpNoCheck6Rx, udpliteSendCsc, udpliteRecvCsc:
		return socket.Int(0), nil

	case udpSegment:
		return socket.Int(int(s.gso.Load())), nil
	case udpGRO:
		return socket.Bool(s.opts.gro), nil
	}
	return nil, socket.ENOPROTOOPT
}

// closed reports whether the socket is in TCP_CLOSE: never connected or
// listening, or done.
func (s *sock) closed() bool {
	switch tcp.EndpointState(s.ep.State()) {
	case tcp.StateInitial, tcp.StateBound, tcp.StateClose, tcp.StateError:
		return true
	}
	return false
}

func (s *sock) closedOrListening() bool {
	return s.closed() || tcp.EndpointState(s.ep.State()) == tcp.StateListen
}

func (s *sock) setIP(so *tcpip.SocketOptions, name, v int, val []byte) error {
	if bit := cmsgBit(socket.SolIP, name); bit != 0 {
		s.setCmsg(bit, v != 0)
		return nil
	}
	switch name {
	case ipAddMembership, ipDropMembership, mcastJoinGroup, mcastLeaveGroup:
		return s.ipMembership(name, val)
	case ipMulticastIf:
		return s.setMulticastIf(val)
	case ipUnblockSource, ipBlockSource, ipAddSourceMemb, ipDropSourceMemb, ipMsfilter,
		mcastBlockSource, mcastUnblockSrc, mcastJoinSrcGrp, mcastLeaveSrcGrp, mcastMsfilter:
		return sourceFilter(name, len(val))
	case ipRouterAlert:
		return vfs.EINVAL // ip_ra_control: raw sockets only
	case ipRecvopts, ipRetopts, ipFreebind, ipTransparent, ipBindNoPort:
		// Off is what Cocoon does: it passes on no IP options and
		// binds only addresses it has, and ports at bind.
		if v != 0 {
			return socket.ENOPROTOOPT
		}
	case ipMinttl:
		// No packet reaches a socket with a TTL of 0: a minimum of 1
		// drops nothing.
		if v < 0 || v > 255 {
			return vfs.EINVAL
		}
		if v > 1 {
			return socket.ENOPROTOOPT
		}
		s.mu.Lock()
		s.opts.minTTL = v
		s.mu.Unlock()
	case ipRecvfragsize:
		if s.typ != socket.SockDgram {
			return vfs.EINVAL
		}
		if v != 0 {
			return socket.ENOPROTOOPT
		}
	case ipRecverrRFC4884:
		if v < 0 || v > 1 {
			return vfs.EINVAL
		}
		if v != 0 {
			return socket.ENOPROTOOPT
		}
	case ipMulticastAll:
		// Whether multicast to groups other sockets joined comes
		// here too: no socket joins one in Cocoon, so either way
		// none does.
		if v < 0 || v > 1 {
			return vfs.EINVAL
		}
		s.mu.Lock()
		s.opts.mcAllSet, s.opts.mcAll = true, v == 1
		s.mu.Unlock()
	case ipUnicastIf:
		// The interface unicast leaves by, its index in network byte
		// order; 0 for the route's.
		if len(val) != 4 {
			return vfs.EINVAL
		}
		idx := int32(binary.BigEndian.Uint32(val))
		if idx == 0 {
			return nil
		}
		if _, ok := s.st.s.NICInfo()[tcpip.NICID(idx)]; !ok || idx < 0 {
			return socket.EADDRNOTAVAIL
		}
		return socket.ENOPROTOOPT
	case ipLocalPortRange:
		if len(val) != 4 {
			return vfs.EINVAL
		}
		lo, hi := v&0xffff, v>>16&0xffff
		if lo != 0 && hi != 0 && lo > hi {
			return vfs.EINVAL
		}
		if v != 0 {
			return socket.ENOPROTOOPT
		}
	case socket.IPTos:
		// An IPv6 socket keeps it for IPv4-mapped peers.
		return errnoOf(s.ep.SetSockOptInt(tcpip.IPv4TOSOption, v))
	case socket.IPTTL:
		// do_ip_setsockopt IP_TTL: 1-255, -1 the default.
		if v != -1 && (v < 1 || v > 255) {
			return vfs.EINVAL
		}
		return errnoOf(s.ep.SetSockOptInt(tcpip.IPv4TTLOption, max(v, 0)))
	case ipMTUDiscover:
		if v < 0 || v > 5 {
			return vfs.EINVAL
		}
		if s.family != socket.AFInet {
			// An IPv6 socket keeps it for IPv4-mapped peers;
			// netstack's is IPV6_MTU_DISCOVER's.
			s.mu.Lock()
			s.opts.ipPmtudisc, s.opts.ipPmtudiscSet = v, true
			s.mu.Unlock()
			return nil
		}
		return errnoOf(s.ep.SetSockOptInt(tcpip.MTUDiscoverOption, v))
	case ipRecverr:
		so.SetIPv4RecvError(v != 0)
	case ipMulticastTTL:
		if s.typ == socket.SockStream {
			return vfs.EINVAL
		}
		if v == -1 {
			v = 1
		}
		if v < 0 || v > 255 {
			return vfs.EINVAL
		}
		return errnoOf(s.ep.SetSockOptInt(tcpip.MulticastTTLOption, v))
	case ipMulticastLoop:
		so.SetMulticastLoop(v != 0)
	default:
		// IP_OPTIONS, IP_MULTICAST_IF, IP_ADD_MEMBERSHIP, ...: not
		// carried out here.
		return socket.ENOPROTOOPT
	}
	return nil
}

func (s *sock) setIPv6(so *tcpip.SocketOptions, name, v int, val []byte) error {
	if bit := cmsgBit(socket.SolIPv6, name); bit != 0 {
		s.setCmsg(bit, v != 0)
		return nil
	}
	switch name {
	case ipv6AddMember, ipv6DropMember:
		// struct ipv6_mreq: the group, the interface's index.
		if len(val) < 20 {
			return vfs.EINVAL
		}
		if s.typ == socket.SockStream {
			return eproto
		}
		idx := int32(binary.LittleEndian.Uint32(val[16:]))
		return s.ip6Membership(name == ipv6AddMember, idx, tcpip.AddrFrom16([16]byte(val[:16])))
	case mcastJoinGroup, mcastLeaveGroup:
		return s.ip6GroupReq(name == mcastJoinGroup, val)
	case mcastBlockSource, mcastUnblockSrc, mcastJoinSrcGrp, mcastLeaveSrcGrp, mcastMsfilter:
		return sourceFilter(name, len(val))
	case ipv6RouterAlert:
		return socket.ENOPROTOOPT // ip6_ra_control: raw sockets only
	case ipv6RecvHopopts, ipv6RecvRthdr, ipv6RecvDstopts, ipv6HopoptsOld, ipv6DstoptsOld, ipv6RthdrOld,
		ipv6RecvPathMTU, ipv6FlowinfoOpt, ipv6FlowinfoSend, ipv6Dontfrag, ipv6Transparent, ipv6Freebind,
		ipv6RecvFragsize, ipv6RecverrRFC4884:
		// Extension headers, path MTU reports, flow labels, sends
		// that must not fragment, binding addresses not the host's:
		// off is what Cocoon does, and all it can.
		if name == ipv6RecverrRFC4884 && (v < 0 || v > 1) {
			return vfs.EINVAL
		}
		if v != 0 {
			return socket.ENOPROTOOPT
		}
	case ipv6MinHopCount:
		// As IP_MINTTL: no packet comes with a hop limit of 0.
		if v < 0 || v > 255 {
			return vfs.EINVAL
		}
		if v > 1 {
			return socket.ENOPROTOOPT
		}
		s.mu.Lock()
		s.opts.minHops = v
		s.mu.Unlock()
	case ipv6MulticastAll, ipv6RAIsolate:
		// No socket joins a multicast group in Cocoon and router
		// alerts reach raw sockets only: kept, with nothing to do.
		s.mu.Lock()
		if name == ipv6MulticastAll {
			s.opts.mc6All, s.opts.mc6AllSet = v != 0, true
		} else {
			s.opts.raIsolate = v != 0
		}
		s.mu.Unlock()
	case ipv6MTU:
		// The largest fragment to send (np->frag_size): the path's
		// (0) only.
		if v != 0 && v < 1280 {
			return vfs.EINVAL
		}
		if v != 0 {
			return socket.ENOPROTOOPT
		}
	case ipv6UnicastIf:
		// The interface unicast leaves by, 0 for the route's.
		if v == 0 {
			return nil
		}
		if _, ok := s.st.s.NICInfo()[tcpip.NICID(v)]; !ok || v < 0 {
			return socket.EADDRNOTAVAIL
		}
		return socket.ENOPROTOOPT
	case ipv6MulticastIf:
		if s.typ == socket.SockStream {
			return socket.ENOPROTOOPT
		}
		if v != 0 {
			if _, ok := s.st.s.NICInfo()[tcpip.NICID(v)]; !ok || v < 0 {
				return vfs.ENODEV
			}
		}
		o := tcpip.MulticastInterfaceOption{NIC: tcpip.NICID(v)}
		if err := s.ep.SetSockOpt(&o); err != nil {
			return errnoOf(err)
		}
		s.mu.Lock()
		s.opts.mc6If = v
		s.mu.Unlock()
	case ipv6JoinAnycast, ipv6LeaveAnycast:
		// struct ipv6_mreq: no anycast addresses here.
		if len(val) < 20 {
			return vfs.EINVAL
		}
		return socket.ENOPROTOOPT
	case ipv6FlowlabelMgr:
		// struct in6_flowlabel_req: no flow labels to lease.
		if len(val) < 32 {
			return vfs.EINVAL
		}
		return socket.ENOPROTOOPT
	case ipv6HopoptsOpt, ipv6RthdrDstopts, ipv6RthdrOpt, ipv6DstoptsOpt:
		// An extension header to send with every packet: none is none.
		if len(val) == 0 {
			return nil
		}
		if len(val) < 2 || len(val)%8 != 0 {
			return vfs.EINVAL
		}
		return socket.ENOPROTOOPT
	case ipv6AddrPreferences:
		// Source address preferences (IPV6_PREFER_SRC_*): which
		// temporary, care-of or CGA address to prefer. Cocoon has
		// only public, home, non-CGA ones, which Linux too uses when
		// the preferred kind is missing.
		s.mu.Lock()
		defer s.mu.Unlock()
		pref, err := setAddrPreferences(s.opts.srcprefs, v)
		if err != nil {
			return err
		}
		s.opts.srcprefs = pref
	case socket.IPv6V6only:
		if s.boundOrConnected() {
			return vfs.EINVAL
		}
		so.SetV6Only(v != 0)
	case socket.IPv6Tclass:
		// do_ipv6_setsockopt IPV6_TCLASS: -1 (0) to 255.
		if v < -1 || v > 0xff {
			return vfs.EINVAL
		}
		return errnoOf(s.ep.SetSockOptInt(tcpip.IPv6TrafficClassOption, max(v, 0)))
	case socket.IPv6Hop:
		// IPV6_UNICAST_HOPS: -1 (the default) to 255.
		if v < -1 || v > 255 {
			return vfs.EINVAL
		}
		return errnoOf(s.ep.SetSockOptInt(tcpip.IPv6HopLimitOption, v))
	case ipv6MulticastHop:
		if s.typ == socket.SockStream {
			return socket.ENOPROTOOPT
		}
		if v < -1 || v > 255 {
			return vfs.EINVAL
		}
		if v == -1 {
			v = 1
		}
		return errnoOf(s.ep.SetSockOptInt(tcpip.MulticastTTLOption, v))
	case ipv6MulticastLp:
		if v != 0 && v != 1 {
			return vfs.EINVAL
		}
		so.SetMulticastLoop(v != 0)
	case ipv6MTUDiscover:
		if v < 0 || v > 5 {
			return vfs.EINVAL
		}
		return errnoOf(s.ep.SetSockOptInt(tcpip.MTUDiscoverOption, v))
	case ipv6Recverr:
		so.SetIPv6RecvError(v != 0)
	default:
		return socket.ENOPROTOOPT
	}
	return nil
}

// inherit gives n, a connection s accepted, the options a Linux
// listener's connections inherit: sk_clone_lock copies the listening
// socket, TCP's and IP's fields with it, and netstack keeps only a few
// (propagateInheritableOptionsLocked).
func (s *sock) inherit(n *sock) {
	so, no := s.ep.SocketOptions(), n.ep.SocketOptions()
	no.SetDelayOption(so.GetDelayOption())
	no.SetCorkOption(so.GetCorkOption())
	no.SetKeepAlive(so.GetKeepAlive())
	no.SetLinger(so.GetLinger())
	no.SetIPv4RecvError(so.GetIPv4RecvError())
	no.SetIPv6RecvError(so.GetIPv6RecvError())
	var idle tcpip.KeepaliveIdleOption
	if s.ep.GetSockOpt(&idle) == nil {
		_ = n.ep.SetSockOpt(&idle)
	}
	var intvl tcpip.KeepaliveIntervalOption
	if s.ep.GetSockOpt(&intvl) == nil {
		_ = n.ep.SetSockOpt(&intvl)
	}
	var lt tcpip.TCPLingerTimeoutOption
	if s.ep.GetSockOpt(&lt) == nil {
		_ = n.ep.SetSockOpt(&lt)
	}
	for _, o := range []tcpip.SockOptInt{tcpip.KeepaliveCountOption, tcpip.IPv4TOSOption, tcpip.IPv4TTLOption,
		tcpip.IPv6TrafficClassOption, tcpip.IPv6HopLimitOption, tcpip.MTUDiscoverOption} {
		if v, err := s.ep.GetSockOptInt(o); err == nil {
			_ = n.ep.SetSockOptInt(o, v)
		}
	}
	s.mu.Lock()
	opts, bits, locked := s.opts, s.cmsgs.Load(), s.rcv.locked
	s.mu.Unlock()
	// The fast-open queue and keys are the listener's own.
	opts.fastopenQlen, opts.fastopenKey, opts.deferRetrans = 0, nil, 0
	opts.tcpGroups, opts.mcGroups = nil, 0 // memberships are the listener's
	opts.connMSS = opts.userMSS            // the listener's, at the handshake
	if opts.windowClamp != 0 {
		_ = n.ep.SetSockOptInt(tcpip.TCPWindowClampOption, opts.windowClamp)
	}
	n.mu.Lock()
	n.opts = opts
	n.rcv.locked = locked // SOCK_RCVBUF_LOCK
	n.mu.Unlock()
	n.setCmsg(bits, true)
	n.common.Inherit(&s.common)
}

// BindDevice makes the socket send and receive through interface idx
// only (0: any), as SO_BINDTODEVICE asks.
func (s *sock) BindDevice(idx int) error {
	return errnoOf(s.ep.SocketOptions().SetBindToDevice(int32(idx)))
}

func (s *sock) boundOrConnected() bool {
	a, err := s.ep.GetLocalAddress()
	return err == nil && a.Port != 0
}

func (s *sock) GetSockOpt(level, name int, size int) ([]byte, error) {
	so := s.ep.SocketOptions()
	switch level {
	case socket.SolSocket:
		return s.getSocket(so, name)
	case socket.SolTCP:
		if s.typ != socket.SockStream {
			// ip_getsockopt and ipv6_getsockopt: not their level.
			if s.family == socket.AFInet6 {
				return nil, socket.ENOPROTOOPT
			}
			return nil, socket.EOPNOTSUPP
		}
		return s.getTCP(so, name, size)
	case socket.SolIPv6:
		if s.family != socket.AFInet6 {
			return nil, socket.EOPNOTSUPP
		}
		return s.getIPv6(so, name, size)
	case socket.SolIP:
		return s.getIP(so, name, size)
	case solUDP:
		if s.typ == socket.SockDgram {
			return s.getUDP(name)
		}
	}
	if s.family == socket.AFInet6 {
		return nil, socket.ENOPROTOOPT
	}
	return nil, socket.EOPNOTSUPP
}

func (s *sock) getSocket(so *tcpip.SocketOptions, name int) ([]byte, error) {
	switch name {
	case socket.SoError:
		s.mu.Lock()
		connecting := s.connecting
		s.mu.Unlock()
		if connecting {
			if err := s.ConnectResult(); err != socket.EINPROGRESS {
				return errInt(err), nil
			}
			return socket.Int(0), nil
		}
		return errInt(errnoOf(s.ep.LastError())), nil
	case socket.SoAcceptconn:
		return socket.Bool(tcp.EndpointState(s.ep.State()) == tcp.StateListen && s.typ == socket.SockStream), nil
	case socket.SoReuseaddr:
		return socket.Bool(so.GetReuseAddress()), nil
	case socket.SoReuseport:
		return socket.Bool(so.GetReusePort()), nil
	case socket.SoKeepalive:
		return socket.Bool(so.GetKeepAlive()), nil
	case socket.SoBroadcast:
		return socket.Bool(so.GetBroadcast()), nil
	case socket.SoSndbuf:
		return socket.Int(int(so.GetSendBufferSize())), nil
	case socket.SoRcvbuf:
		return socket.Int(int(so.GetReceiveBufferSize())), nil
	case socket.SoOobinline:
		return socket.Bool(so.GetOutOfBandInline()), nil
	case socket.SoLinger:
		l := so.GetLinger()
		return socket.Linger(l.Enabled, int(l.Timeout/time.Second)), nil
	case socket.SoPeekOff:
		return socket.Int(int(s.peekOff.Load())), nil
	}
	return nil, socket.ENOPROTOOPT
}

func (s *sock) getTCP(so *tcpip.SocketOptions, name, size int) ([]byte, error) {
	switch name {
	case socket.TCPNodelay:
		return socket.Bool(!so.GetDelayOption()), nil
	case socket.TCPCork:
		return socket.Bool(so.GetCorkOption()), nil
	case socket.TCPQuickack:
		return socket.Bool(so.GetQuickAck()), nil
	case socket.TCPKeepidle:
		var o tcpip.KeepaliveIdleOption
		if err := s.ep.GetSockOpt(&o); err != nil {
			return nil, errnoOf(err)
		}
		return socket.Int(int(time.Duration(o) / time.Second)), nil
	case socket.TCPKeepintvl:
		var o tcpip.KeepaliveIntervalOption
		if err := s.ep.GetSockOpt(&o); err != nil {
			return nil, errnoOf(err)
		}
		return socket.Int(int(time.Duration(o) / time.Second)), nil
	case socket.TCPUserTimeout:
		var o tcpip.TCPUserTimeoutOption
		if err := s.ep.GetSockOpt(&o); err != nil {
			return nil, errnoOf(err)
		}
		return socket.Int(int(time.Duration(o) / time.Millisecond)), nil
	case socket.TCPMaxseg:
		return socket.Int(s.maxSeg()), nil
	case socket.TCPKeepcnt, socket.TCPSyncnt:
		opt := map[int]tcpip.SockOptInt{
			socket.TCPKeepcnt: tcpip.KeepaliveCountOption, socket.TCPSyncnt: tcpip.TCPSynCountOption,
		}[name]
		v, err := s.ep.GetSockOptInt(opt)
		if err != nil {
			return nil, errnoOf(err)
		}
		return socket.Int(v), nil
	case socket.TCPWindowClamp:
		s.mu.Lock()
		defer s.mu.Unlock()
		return socket.Int(s.opts.windowClamp), nil
	case socket.TCPLinger2:
		s.mu.Lock()
		v := s.opts.linger2
		s.mu.Unlock()
		if v == 0 {
			v = tcpFinTimeout
		}
		return socket.Int(v), nil
	case socket.TCPDeferAccept:
		s.mu.Lock()
		defer s.mu.Unlock()
		return socket.Int(retransToSecs(s.opts.deferRetrans)), nil
	case tcpCongestion:
		// The name in TCP_CA_NAME_MAX (16) bytes.
		var o tcpip.CongestionControlOption
		if err := s.ep.GetSockOpt(&o); err != nil {
			return nil, errnoOf(err)
		}
		b := make([]byte, 16)
		copy(b, o)
		return b, nil
	case tcpInfo:
		return s.tcpInfo(), nil
	case tcpNotsentLowat, tcpThinLinear, tcpThinDupack, tcpTxDelay, tcpRepair, tcpSaveSyn, tcpFastopenNoCk, tcpIsMPTCP:
		// Off, as on a new Linux socket; Cocoon cannot turn them on.
		return socket.Int(0), nil
	case tcpInq:
		return socket.Bool(s.cmsgs.Load()&cmTCPInq != 0), nil
	case tcpFastopen:
		s.mu.Lock()
		defer s.mu.Unlock()
		return socket.Int(s.opts.fastopenQlen), nil
	case tcpFastopenConn:
		s.mu.Lock()
		defer s.mu.Unlock()
		return socket.Bool(s.opts.fastopenConn), nil
	case tcpFastopenKey:
		// The socket's keys; none for the namespace, which has one
		// only when listeners may do fast open.
		s.mu.Lock()
		defer s.mu.Unlock()
		return append([]byte{}, s.opts.fastopenKey...), nil
	case tcpCCInfo, tcpSavedSyn, tcpULP:
		// Nothing: reno reports no congestion control details, no SYN
		// was saved, no upper layer protocol is attached.
		return []byte{}, nil
	case tcpRepairQueue, tcpQueueSeq, tcpRepairWindow:
		return nil, vfs.EINVAL // not in repair mode
	case tcpTimestamp:
		// tcp_clock_ts: the millisecond clock TCP timestamps count.
		return socket.Int(int(uint32(time.Since(tcpClockBase) / time.Millisecond))), nil
	case tcpRTOMaxMs:
		return socket.Int(tcpRTOMax), nil
	case tcpRTOMinUs:
		return socket.Int(tcpRTOMin), nil
	}
	return nil, socket.ENOPROTOOPT
}

// maxSeg is TCP_MAXSEG's value as tcp_getsockopt gives it: a closed or
// listening socket's user_mss if set, else tp->mss_cache, which is
// TCP_MSS_DEFAULT until the connection's MSS is known (tcp_sync_mss): the
// path's MTU less the IP and TCP headers, at most the user_mss the
// connection began with, less the
// timestamp option netstack puts in every segment. Netstack keeps the
// MSS the peer announced to itself; a peer announcing less than the path
// allows lowers the segments sent but not this figure.
func (s *sock) maxSeg() int {
	s.mu.Lock()
	user, conn := s.opts.userMSS, s.opts.connMSS
	s.mu.Unlock()
	switch tcp.EndpointState(s.ep.State()) {
	case tcp.StateInitial, tcp.StateBound, tcp.StateClose, tcp.StateError, tcp.StateListen:
		if user != 0 {
			return user
		}
		return tcpMSSDefault
	}
	// A TCP_MAXSEG set once connected changes nothing (the MSS was
	// settled by the handshake).
	user = conn
	b, err := s.pathMTU()
	if err != nil {
		return tcpMSSDefault
	}
	mtu := int(binary.LittleEndian.Uint32(b))
	mss := min(mtu, 0xffff) - 20 - 20 // IPv4's largest packet, its and TCP's headers
	if s.family == socket.AFInet6 {
		mss = mtu - 40 - 20
	}
	if user != 0 {
		mss = min(mss, user)
	}
	return mss - tcpTimestampLen
}

// tcpClockBase is when TCP_TIMESTAMP's clock reads 0.
var tcpClockBase = time.Now()

// tcpInfo returns struct tcp_info (include/uapi/linux/tcp.h) up to
// tcpi_total_retrans, the part of it Cocoon fills: 104 bytes. A longer
// buffer gets these; the length returned tells the caller so.
func (s *sock) tcpInfo() []byte {
	var o tcpip.TCPInfoOption
	_ = s.ep.GetSockOpt(&o)
	b := make([]byte, 104)
	b[0] = linuxTCPState(tcp.EndpointState(s.ep.State()))
	b[1] = byte(o.CcState)
	// tcpi_options: timestamps, SACK, window scaling, which netstack
	// negotiates on every connection (TCPI_OPT_*).
	if b[0] == 1 {
		b[5] = 1 | 2 | 4
	}
	le := binary.LittleEndian
	le.PutUint32(b[8:], uint32(o.RTO/time.Microsecond)) // tcpi_rto
	le.PutUint32(b[68:], uint32(o.RTT/time.Microsecond))
	le.PutUint32(b[72:], uint32(o.RTTVar/time.Microsecond))
	// tcpi_snd_ssthresh: "infinite" is TCP_INFINITE_SSTHRESH.
	le.PutUint32(b[76:], min(o.SndSsthresh, tcpInfiniteSsthresh))
	le.PutUint32(b[80:], o.SndCwnd)
	le.PutUint32(b[88:], tcpReordering) // tcpi_reordering: net.ipv4.tcp_reordering
	switch b[0] {
	case 7:
		// A socket not yet connected, as tcp_init_sock leaves it:
		// the initial RTO and MSS, TCP_INIT_CWND, an infinite
		// threshold, delivery "application limited".
		le.PutUint32(b[8:], tcpTimeoutInit)
		le.PutUint32(b[16:], tcpMSSDefault)
		le.PutUint32(b[80:], tcpInitCwnd)
		le.PutUint32(b[76:], tcpInfiniteSsthresh)
		b[7] = 1
	case 10:
		le.PutUint32(b[8:], 0)
		le.PutUint32(b[76:], 0)
		le.PutUint32(b[80:], tcpInitCwnd)
	case 1:
		// tcpi_pmtu: the path's MTU, at most IPv4's 65535.
		if v, err := s.pathMTU(); err == nil {
			mtu := le.Uint32(v)
			if s.family == socket.AFInet {
				mtu = min(mtu, 0xffff)
			}
			le.PutUint32(b[60:], mtu)
		}
	}
	return b
}

// TCP's defaults (include/net/tcp.h): TCP_TIMEOUT_INIT in microseconds,
// TCP_INIT_CWND, TCP_INFINITE_SSTHRESH, net.ipv4.tcp_reordering.
const (
	tcpTimeoutInit      = 1000000
	tcpInitCwnd         = 10
	tcpInfiniteSsthresh = 0x7fffffff
	tcpReordering       = 3
)

// linuxTCPState is Linux's number of a TCP state (include/net/tcp_states.h).
func linuxTCPState(st tcp.EndpointState) byte {
	switch st {
	case tcp.StateEstablished:
		return 1
	case tcp.StateSynSent:
		return 2
	case tcp.StateSynRecv:
		return 3
	case tcp.StateFinWait1:
		return 4
	case tcp.StateFinWait2:
		return 5
	case tcp.StateTimeWait:
		return 6
	case tcp.StateClose, tcp.StateInitial, tcp.StateBound, tcp.StateError:
		return 7
	case tcp.StateCloseWait:
		return 8
	case tcp.StateLastAck:
		return 9
	case tcp.StateListen:
		return 10
	case tcp.StateClosing:
		return 11
	}
	return 7
}

func (s *sock) getIP(so *tcpip.SocketOptions, name, size int) ([]byte, error) {
	switch name {
	case socket.IPTos, socket.IPTTL:
		opt := tcpip.IPv4TOSOption
		if name == socket.IPTTL {
			opt = tcpip.IPv4TTLOption
		}
		v, err := s.ep.GetSockOptInt(opt)
		if err != nil {
			return nil, errnoOf(err)
		}
		if name == socket.IPTTL && v == 0 {
			v = defaultTTL
		}
		return socket.Int(v), nil
	case ipOptions:
		return []byte{}, nil
	case ipMTUDiscover:
		if s.family != socket.AFInet {
			s.mu.Lock()
			defer s.mu.Unlock()
			if !s.opts.ipPmtudiscSet {
				return socket.Int(pmtuDiscWant), nil
			}
			return socket.Int(s.opts.ipPmtudisc), nil
		}
		v, err := s.ep.GetSockOptInt(tcpip.MTUDiscoverOption)
		if err != nil {
			return nil, errnoOf(err)
		}
		return socket.Int(v), nil
	case ipRecverr:
		return socket.Bool(so.GetIPv4RecvError()), nil
	case ipMTU:
		return s.pathMTU()
	case ipMulticastTTL:
		v, err := s.ep.GetSockOptInt(tcpip.MulticastTTLOption)
		if err != nil {
			return nil, errnoOf(err)
		}
		return socket.Int(v), nil
	case ipMulticastLoop:
		return socket.Bool(so.GetMulticastLoop()), nil
	case ipMulticastIf:
		// The address it was set by (inet->mc_addr).
		s.mu.Lock()
		defer s.mu.Unlock()
		return append([]byte(nil), s.opts.mcAddr[:]...), nil
	case ipMulticastAll:
		// On by default for IPv4 sockets only (inet_create).
		s.mu.Lock()
		defer s.mu.Unlock()
		if !s.opts.mcAllSet {
			return socket.Bool(s.family == socket.AFInet), nil
		}
		return socket.Bool(s.opts.mcAll), nil
	case ipHdrincl, ipRecvopts, ipRetopts, ipFreebind, ipTransparent, ipBindNoPort, ipRouterAlert,
		ipNodefrag, ipRecvfragsize, ipRecverrRFC4884, ipUnicastIf, ipLocalPortRange:
		// Off, as on a new Linux socket; Cocoon cannot turn them on.
		return socket.Int(0), nil
	case ipMinttl:
		s.mu.Lock()
		defer s.mu.Unlock()
		return socket.Int(s.opts.minTTL), nil
	case ipProtocol:
		// inet_num: the local port once bound.
		a, err := s.ep.GetLocalAddress()
		if err != nil {
			return socket.Int(0), nil
		}
		return socket.Int(int(a.Port)), nil
	case ipPktoptions:
		return s.pktoptions()
	case ipMsfilter, mcastMsfilter:
		// A group's source filter: no group has one (and the group
		// in a value too short to hold it is none).
		if (name == ipMsfilter && size < 16) || (name == mcastMsfilter && size < 144) {
			return nil, vfs.EINVAL
		}
		return nil, socket.ENOPROTOOPT
	}
	if bit := cmsgBit(socket.SolIP, name); bit != 0 {
		return socket.Bool(s.cmsgs.Load()&bit != 0), nil
	}
	return nil, socket.ENOPROTOOPT
}

// pktoptions is IP_PKTOPTIONS of a TCP socket: the control messages
// IP_PKTINFO, IP_RECVTTL and IP_RECVTOS ask for, made from the socket
// (do_ip_getsockopt): its local address, the multicast TTL, the TOS it
// received (0).
func (s *sock) pktoptions() ([]byte, error) {
	if s.typ != socket.SockStream {
		return nil, socket.ENOPROTOOPT
	}
	bits := s.cmsgs.Load()
	var out []byte
	put := func(typ int, data []byte) {
		c := make([]byte, (16+len(data)+7)&^7)
		binary.LittleEndian.PutUint64(c, uint64(16+len(data)))
		binary.LittleEndian.PutUint32(c[12:], uint32(typ))
		copy(c[16:], data)
		out = append(out, c...)
	}
	if bits&cmIPPktinfo != 0 {
		b := make([]byte, 12)
		if a, err := s.ep.GetLocalAddress(); err == nil && a.Addr.Len() == 4 {
			binary.LittleEndian.PutUint32(b, uint32(s.nicOf(a.Addr)))
			ip := a.Addr.As4()
			copy(b[4:], ip[:])
			copy(b[8:], ip[:])
		}
		put(ipPktinfo, b)
	}
	if bits&cmIPTTL != 0 {
		v, _ := s.getIP(s.ep.SocketOptions(), socket.IPTTL, 4)
		put(ipTTLMsg, v)
	}
	if bits&cmIPTOS != 0 {
		put(ipTOSMsg, socket.Int(0))
	}
	if out == nil {
		out = []byte{}
	}
	return out, nil
}

func (s *sock) getIPv6(so *tcpip.SocketOptions, name, size int) ([]byte, error) {
	switch name {
	case socket.IPv6V6only:
		return socket.Bool(so.GetV6Only()), nil
	case socket.IPv6Tclass:
		v, err := s.ep.GetSockOptInt(tcpip.IPv6TrafficClassOption)
		if err != nil {
			return nil, errnoOf(err)
		}
		return socket.Int(v), nil
	case socket.IPv6Hop:
		v, err := s.ep.GetSockOptInt(tcpip.IPv6HopLimitOption)
		if err != nil {
			return nil, errnoOf(err)
		}
		if v < 0 {
			v = defaultTTL
		}
		return socket.Int(v), nil
	case ipv6MulticastHop:
		v, err := s.ep.GetSockOptInt(tcpip.MulticastTTLOption)
		if err != nil {
			return nil, errnoOf(err)
		}
		return socket.Int(v), nil
	case ipv6MulticastLp:
		return socket.Bool(so.GetMulticastLoop()), nil
	case ipv6MTUDiscover:
		v, err := s.ep.GetSockOptInt(tcpip.MTUDiscoverOption)
		if err != nil {
			return nil, errnoOf(err)
		}
		return socket.Int(v), nil
	case ipv6Recverr:
		return socket.Bool(so.GetIPv6RecvError()), nil
	case ipv6MTU:
		return s.pathMTU()
	case ipv6Freebind, ipv6RouterAlert, ipv6RecvHopopts, ipv6RecvRthdr, ipv6RecvDstopts, ipv6HopoptsOld,
		ipv6DstoptsOld, ipv6RthdrOld, ipv6RecvPathMTU, ipv6FlowinfoOpt, ipv6FlowinfoSend, ipv6Dontfrag,
		ipv6Transparent, ipv6RecvFragsize, ipv6RecverrRFC4884, ipv6UnicastIf:
		return socket.Int(0), nil
	case ipv6HopoptsOpt, ipv6RthdrDstopts, ipv6RthdrOpt, ipv6DstoptsOpt:
		return []byte{}, nil // no extension headers set
	case ipv6PktoptionsOld:
		// The options of the last packet received, for TCP; none are
		// asked for here.
		if s.typ != socket.SockStream {
			return nil, socket.ENOPROTOOPT
		}
		return []byte{}, nil
	case ipv6AutoFlowlabel:
		return socket.Int(1), nil // net.ipv6.auto_flowlabels' default
	case ipv6Addrform:
		// The socket's family, once connected (an IPv4-mapped one
		// could become AF_INET, which Cocoon does not do).
		if _, err := s.ep.GetRemoteAddress(); err != nil || (s.typ == socket.SockStream && tcp.EndpointState(s.ep.State()) != tcp.StateEstablished) {
			return nil, socket.ENOTCONN
		}
		return socket.Int(socket.AFInet6), nil
	case ipv6PathMTU:
		// struct ip6_mtuinfo: only the MTU, 0 unconnected (ENOTCONN).
		if size < 32 {
			return nil, vfs.EINVAL
		}
		b, err := s.pathMTU()
		if err != nil {
			return nil, err
		}
		out := make([]byte, 32)
		copy(out[28:], b)
		return out, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch name {
	case ipv6MulticastIf:
		return socket.Int(s.opts.mc6If), nil
	case ipv6MinHopCount:
		return socket.Int(s.opts.minHops), nil
	case ipv6MulticastAll:
		return socket.Bool(!s.opts.mc6AllSet || s.opts.mc6All), nil
	case ipv6RAIsolate:
		return socket.Bool(s.opts.raIsolate), nil
	case ipv6AddrPreferences:
		return socket.Int(addrPreferences(s.opts.srcprefs)), nil
	}
	if bit := cmsgBit(socket.SolIPv6, name); bit != 0 {
		return socket.Bool(s.cmsgs.Load()&bit != 0), nil
	}
	return nil, socket.ENOPROTOOPT
}

// nicOf returns the interface that has address a, the loopback one if
// none has.
func (s *sock) nicOf(a tcpip.Address) tcpip.NICID {
	for id, nic := range s.st.s.NICInfo() {
		for _, pa := range nic.ProtocolAddresses {
			if pa.AddressWithPrefix.Address == a {
				return id
			}
		}
	}
	return LoopbackNIC
}

// pathMTU is IP_MTU: ENOTCONN without a peer, else the MTU of the
// interface the socket's address is on.
func (s *sock) pathMTU() ([]byte, error) {
	if _, err := s.ep.GetRemoteAddress(); err != nil {
		return nil, socket.ENOTCONN
	}
	local, err := s.ep.GetLocalAddress()
	if err != nil {
		return nil, socket.ENOTCONN
	}
	for _, nic := range s.st.s.NICInfo() {
		for _, a := range nic.ProtocolAddresses {
			if a.AddressWithPrefix.Address == local.Addr {
				return socket.Int(int(nic.MTU)), nil
			}
		}
	}
	return socket.Int(int(s.st.s.NICInfo()[LoopbackNIC].MTU)), nil
}

// errInt encodes an error as SO_ERROR reports it: its errno, 0 for none.
func errInt(err error) []byte {
	if err == nil {
		return socket.Int(0)
	}
	return socket.Int(int(vfs.ErrnoOf(err)))
}
