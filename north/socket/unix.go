package socket

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/clock"
	"github.com/cocoon-vm/cocoon/north/mem"
	"github.com/cocoon-vm/cocoon/north/socket/cbpf"
	"github.com/cocoon-vm/cocoon/north/vfs"
)

// inos numbers the sockets of every family, as sockfs's inodes.
var inos atomic.Uint64

// NextIno returns a new socket inode number.
func NextIno() uint64 { return inos.Add(1) }

// Name returns what /proc/self/fd shows for the socket numbered ino.
func Name(ino uint64) string { return "socket:[" + strconv.FormatUint(ino, 10) + "]" }

// maxDgramQlen is net.unix.max_dgram_qlen's default, a datagram
// socket's sk_max_ack_backlog: a sender not connected to by its
// receiver waits while more than this many datagrams are queued there
// (unix_recvq_full_lockless), so one more than it fit.
const maxDgramQlen = 10

// Shutdown bits of one socket (include/net/sock.h RCV_SHUTDOWN,
// SEND_SHUTDOWN).
const (
	rcvShutdown  = 1
	sendShutdown = 2
)

// Namespace is the AF_UNIX name space: sockets bound to abstract names
// and to socket files. One kernel has one.
type Namespace struct {
	// mu guards every AF_UNIX socket of the name space: their state,
	// queues and links. One lock keeps the pairs of sockets that
	// connect, send and close at once free of lock-order problems.
	mu       sync.Mutex
	abstract map[string]*unixSock
	paths    map[NodeID]*unixSock
	autobind uint32
	wakeOut  []*unixSock // senders a freed message made writable (segment.dropped)
	flight               // files in flight (unix_gc.go)
}

// NewNamespace returns an empty name space.
func NewNamespace() *Namespace {
	return &Namespace{abstract: map[string]*unixSock{}, paths: map[NodeID]*unixSock{}}
}

// unixSock is an AF_UNIX socket (net/unix/af_unix.c).
type unixSock struct {
	vfs.FileDefaults
	ns     *Namespace
	typ    int
	ino    uint64
	cred   Ucred    // SO_PEERCRED's for the peer: the creator's, the listener's from listen(2)
	groups []uint32 // SO_PEERGROUPS's for the peer, from the same process
	q      vfs.Queue
	common Common

	// Guarded by ns.mu.
	name       []byte // bound address, a sockaddr_un; nil if unbound
	node       NodeID // the socket file, for a path name
	listening  bool
	backlog    []*unixSock
	maxBacklog int
	peer       *unixSock // connected peer; for datagrams the default destination
	peerCred   Ucred
	peerGroups []uint32
	hasPeer    bool  // peerCred is set: by socketpair, connect/accept or listen (sk_peer_pid)
	connected  bool  // a stream socket that was connected
	err        error // sk_err: ECONNRESET once a peer closed with bytes unread
	peekOff    int   // SO_PEEK_OFF; -1 when off
	embryo     bool  // made by connect(2), not yet accepted (sk_socket NULL)
	closed     bool
	shut       int // rcvShutdown | sendShutdown
	recv       []*segment
	oob        *segment // the byte sent with MSG_OOB not yet taken (oob_skb); in recv
	wmem       int      // truesize of the datagrams and records sent, not yet read (sk_wmem_alloc)
	recvBytes  int
	recvSegs   int // segments in recv, each charged segCharge
	sndbuf     int
	rcvbuf     int
	passcred   bool
	reuseaddr  bool
	keepalive  bool
	linger     [2]int
	flags      map[int]bool           // SO_BROADCAST, SO_OOBINLINE, SO_REUSEPORT
	blocked    map[*unixSock]struct{} // datagram senders waiting for room here
	unreceived []*vfs.File            // files a receive passed over, dropped after it (recvStream)
}

// segment is a run of bytes (a datagram or record, or part of a stream)
// with what came with it.
type segment struct {
	data   []byte
	off    int
	from   []byte
	rights []*vfs.File
	creds  Ucred     // noCreds if the message carries none
	stamp  int64     // when sent, if the receiver asked for timestamps then
	urgent bool      // the byte of a MSG_OOB send (CONFIG_AF_UNIX_OOB)
	sender *unixSock // a datagram's or record's, whose SIOCOUTQ counts it until read
	charge int       // what it costs its sender's buffer (truesize)
	user   int32     // the real user ID charged for rights (takeRights)
}

// dropped is called, with ns.mu held, when g leaves a receive queue.
// A sender its freeing makes writable again is noted in the name
// space's wake list (sock_wfree, unix_write_space).
func (g *segment) dropped() {
	if s := g.sender; s != nil {
		was := s.wmemWritable()
		s.wmem -= g.charge
		g.sender = nil
		if !was && s.wmemWritable() {
			s.ns.wakeOut = append(s.ns.wakeOut, s)
		}
	}
}

// wmemWritable reports whether s's sent and unread messages take at most
// a quarter of its send buffer (unix_writable: sk_wmem_alloc, which
// starts at 1, shifted left by 2, against sk_sndbuf). Called with ns.mu
// held.
func (s *unixSock) wmemWritable() bool { return (s.wmem+1)*4 <= s.sndbuf }

// takeWake returns the senders made writable since the last call, to be
// notified once ns.mu is released. Called with ns.mu held.
func (ns *Namespace) takeWake() []*unixSock {
	w := ns.wakeOut
	ns.wakeOut = nil
	return w
}

// truesize is what Linux charges a sender's buffer for a datagram or
// record of n bytes on x86-64 (4 KiB pages): the skb's head, n rounded
// to a cache line plus struct skb_shared_info (320 bytes), rounded up
// to a kmalloc size (at most 8 KiB, then a power of two pages),
// plus struct sk_buff (256); past SKB_MAX_ALLOC the rest, up to
// MAX_SKB_FRAGS pages, goes in whole pages charged whole
// (unix_dgram_sendmsg, sock_alloc_send_pskb, alloc_skb_with_frags,
// __alloc_skb, kmalloc_size_roundup, SKB_TRUESIZE). Measured on Linux
// 6.18 with SIOCOUTQ: 0-192 bytes cost 768, 200-512 cost 1280, 1000
// costs 2304, 16065 costs 20736.
func truesize(n int) int {
	const (
		page     = 4096
		shinfo   = 320
		skbuff   = 256
		maxAlloc = 4*page - shinfo // SKB_MAX_ALLOC
		maxFrags = 17              // MAX_SKB_FRAGS
	)
	frags := 0
	if n > maxAlloc {
		frags = min(n-maxAlloc, maxFrags*page)
		frags = (frags + page - 1) &^ (page - 1)
	}
	head := (n-frags+63)&^63 + shinfo
	size := 512
	for size < head {
		size *= 2
	}
	return size + skbuff + frags
}

// taken reports an urgent byte read out of band: it stays in the queue,
// empty, as the mark, until a normal read passes it.
func (g *segment) taken() bool { return g.urgent && g.off == len(g.data) }

// stampFor returns the time a message sent now to t carries: the time,
// if t asks for SO_TIMESTAMP or SO_TIMESTAMPNS (unix_dgram_sendmsg:
// __net_timestamp when SOCK_RCVTSTAMP), else 0.
func stampFor(t *unixSock) int64 {
	if on, _, _, _ := t.common.Stamps(); on {
		ns, _ := clock.Now(clock.Realtime)
		return ns
	}
	return 0
}

// noCreds marks a message sent with no credentials: no pid, invalid user
// and group IDs (net/unix/af_unix.c: UNIXCB(skb).pid NULL). A receiver
// asking for credentials sees recvNoCreds.
var noCreds = Ucred{Pid: 0, Uid: -1, Gid: -1}

// recvNoCreds is what SCM_CREDENTIALS shows of noCreds: pid 0 and the
// overflow user and group IDs (net/core/scm.c scm_recv: from_kuid_munged
// of INVALID_UID; kernel.overflowuid's default).
var recvNoCreds = Ucred{Pid: 0, Uid: 65534, Gid: 65534}

// recvCreds returns what a receiver sees of a message's credentials.
func recvCreds(c Ucred) *Ucred {
	if c == noCreds {
		return &recvNoCreds
	}
	return &c
}

// NewUnix returns a new AF_UNIX socket of type typ (SOCK_STREAM,
// SOCK_DGRAM, SOCK_SEQPACKET) made by the caller of c.
func (ns *Namespace) NewUnix(typ int, c Context) (Socket, error) {
	switch typ {
	case SockStream, SockDgram, SockSeqpacket:
	default:
		return nil, ESOCKTNOSUPPORT
	}
	return ns.newUnix(typ, c.Creds(), c.Groups()), nil
}

func (ns *Namespace) newUnix(typ int, cred Ucred, groups []uint32) *unixSock {
	return &unixSock{ns: ns, typ: typ, ino: NextIno(), cred: cred, groups: groups, sndbuf: defaultBufBytes, rcvbuf: defaultBufBytes, peekOff: -1}
}

// Pair returns two connected AF_UNIX sockets (socketpair(2)), each
// showing the other the caller of c (net/unix/af_unix.c unix_socketpair:
// init_peercred on both).
func (ns *Namespace) Pair(typ int, c Context) (Socket, Socket, error) {
	switch typ {
	case SockStream, SockDgram, SockSeqpacket:
	default:
		return nil, nil, ESOCKTNOSUPPORT
	}
	cred, groups := c.Creds(), c.Groups()
	a, b := ns.newUnix(typ, cred, groups), ns.newUnix(typ, cred, groups)
	a.peer, b.peer = b, a
	a.peerCred, b.peerCred = cred, cred
	a.peerGroups, b.peerGroups = groups, groups
	a.hasPeer, b.hasPeer = true, true
	a.connected, b.connected = typ != SockDgram, typ != SockDgram
	return a, b, nil
}

func (s *unixSock) Domain() int     { return AFUnix }
func (s *unixSock) Type() int       { return s.typ }
func (s *unixSock) Protocol() int   { return 0 }
func (s *unixSock) Common() *Common { return &s.common }

// FiltersPackets: an AF_UNIX socket runs its filter over the datagrams
// and records sent to it; a stream socket takes a filter and, as Linux's
// unix_stream_sendmsg, does not run it.
func (s *unixSock) FiltersPackets() {}

// filter runs s's filter over a datagram sent to it: the bytes to queue,
// or ok false to drop it (sk_filter: sk_filter_trim_cap with a cap of 1).
func (s *unixSock) filter(data []byte) (kept []byte, ok bool) {
	n, ok := s.common.Filter(&cbpf.Packet{Data: data})
	return data[:n], ok
}
func (s *unixSock) Queue() *vfs.Queue       { return &s.q }
func (s *unixSock) Stat(*vfs.File) vfs.Attr { return Attr(s.ino) }

// unixAddr is a parsed sockaddr_un (unix(7)).
type unixAddr struct {
	abstract string // the name after the leading NUL, or ""
	path     string
	autobind bool // only the family: bind picks an abstract name
}

// parseUnix checks a sockaddr_un as unix_validate_addr and
// unix_mkname_bsd do.
func parseUnix(addr []byte) (unixAddr, error) {
	if len(addr) < 2 || binary.LittleEndian.Uint16(addr) != AFUnix || len(addr) > 2+unixPathMax {
		return unixAddr{}, errInval
	}
	if len(addr) == 2 {
		return unixAddr{autobind: true}, nil
	}
	p := addr[2:]
	if p[0] == 0 {
		return unixAddr{abstract: string(p[1:])}, nil
	}
	for i, c := range p {
		if c == 0 {
			p = p[:i]
			break
		}
	}
	return unixAddr{path: string(p)}, nil
}

// sockaddr encodes a name for getsockname: the family, then the
// abstract name after a NUL or the path with its NUL.
func (a unixAddr) sockaddr() []byte {
	b := binary.LittleEndian.AppendUint16(nil, AFUnix)
	if a.path != "" {
		return append(append(b, a.path...), 0)
	}
	return append(append(b, 0), a.abstract...)
}

// lookup finds the socket bound to a. Called with ns.mu held except for
// the file lookup, which c does.
func (ns *Namespace) lookup(c Context, a unixAddr) (*unixSock, error) {
	if a.path == "" {
		if t := ns.abstract[a.abstract]; t != nil {
			return t, nil
		}
		return nil, ECONNREFUSED
	}
	if c == nil {
		return nil, ECONNREFUSED
	}
	ns.mu.Unlock()
	id, err := c.LookupPath(a.path)
	ns.mu.Lock()
	if err != nil {
		return nil, err
	}
	if t := ns.paths[id]; t != nil {
		return t, nil
	}
	return nil, ECONNREFUSED
}

func (s *unixSock) Bind(c Context, addr []byte) error {
	a, err := parseUnix(addr)
	if err != nil {
		return err
	}
	ns := s.ns
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if s.name != nil {
		return errInval
	}
	switch {
	case a.autobind:
		s.autobind()
		return nil
	case a.path == "":
		if ns.abstract[a.abstract] != nil {
			return EADDRINUSE
		}
		ns.abstract[a.abstract] = s
	default:
		if c == nil {
			return errInval
		}
		ns.mu.Unlock()
		id, err := c.BindPath(a.path)
		ns.mu.Lock()
		if err != nil {
			return err
		}
		if s.name != nil {
			return errInval
		}
		s.node = id
		ns.paths[id] = s
	}
	s.name = a.sockaddr()
	return nil
}

// autobind gives s an unused abstract name of five hex digits
// (net/unix/af_unix.c unix_autobind). Called with ns.mu held.
func (s *unixSock) autobind() {
	ns := s.ns
	var name string
	for {
		ns.autobind++
		name = fmt.Sprintf("%05x", ns.autobind&0xfffff)
		if ns.abstract[name] == nil {
			break
		}
	}
	ns.abstract[name] = s
	s.name = unixAddr{abstract: name}.sockaddr()
}

// passcredBind autobinds an unnamed socket that asks for credentials
// before it connects or sends, so that its peer can tell where its
// messages come from (unix_stream_connect, unix_dgram_connect,
// unix_dgram_sendmsg: unix_may_passcred and no address). Called with
// ns.mu held.
func (s *unixSock) passcredBind() {
	if s.passcred && s.name == nil {
		s.autobind()
	}
}

func (s *unixSock) Listen(backlog int) error { return s.ListenAs(s.cred, s.groups, backlog) }

// ListenAs is listen(2) by the process of cred and groups, whom the
// sockets that connect to s see as their peer (net/unix/af_unix.c
// unix_listen: init_peercred).
func (s *unixSock) ListenAs(cred Ucred, groups []uint32, backlog int) error {
	if s.typ == SockDgram {
		return EOPNOTSUPP
	}
	ns := s.ns
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if s.name == nil || s.connected {
		return errInval
	}
	s.listening = true
	s.cred, s.groups = cred, groups
	s.peerCred, s.peerGroups, s.hasPeer = cred, groups, true
	s.maxBacklog = max(min(backlog, SomaxConn), 0) + 1
	return nil
}

func (s *unixSock) Accept(flags uint32) (*vfs.File, []byte, error) {
	ns := s.ns
	ns.mu.Lock()
	if !s.listening {
		ns.mu.Unlock()
		return nil, nil, errInval
	}
	if len(s.backlog) == 0 {
		ns.mu.Unlock()
		return nil, nil, vfs.EAGAIN
	}
	n := s.backlog[0]
	s.backlog = s.backlog[1:]
	n.embryo = false
	peer := unnamed
	if n.peer != nil && n.peer.name != nil {
		peer = n.peer.name
	}
	ns.mu.Unlock()
	return vfs.NewFile(n, linux.ORdwr|flags&linux.ONonblock, Name(n.ino)), append([]byte(nil), peer...), nil
}

// unnamed is the address of an unbound AF_UNIX socket.
var unnamed = []byte{AFUnix, 0}

func (s *unixSock) Connect(c Context, addr []byte) error {
	ns := s.ns
	if len(addr) >= 2 && binary.LittleEndian.Uint16(addr) == AFUnspec && s.typ == SockDgram {
		ns.mu.Lock()
		s.peer = nil
		ns.mu.Unlock()
		return nil
	}
	a, err := parseUnix(addr)
	if err != nil {
		return err
	}
	if a.autobind {
		return errInval
	}
	ns.mu.Lock()
	s.passcredBind()
	t, err := ns.lookup(c, a)
	if err != nil {
		ns.mu.Unlock()
		return err
	}
	if t.typ != s.typ {
		ns.mu.Unlock()
		return EPROTOTYPE
	}
	if s.typ == SockDgram {
		s.peer = t
		ns.mu.Unlock()
		return nil
	}
	switch {
	case s.listening:
		ns.mu.Unlock()
		return errInval
	case s.connected:
		ns.mu.Unlock()
		return EISCONN
	case !t.listening || t.closed:
		ns.mu.Unlock()
		return ECONNREFUSED
	case len(t.backlog) >= t.maxBacklog:
		ns.mu.Unlock()
		return vfs.EAGAIN
	}
	// The accepted socket's peer is the connecting process as it is now;
	// the connecting socket's is the listener's (unix_stream_connect:
	// init_peercred(newsk), copy_peercred(sk, other)).
	n := ns.newUnix(s.typ, t.cred, t.groups)
	n.name = t.name
	n.embryo = true
	n.peer, s.peer = s, n
	n.peerCred, s.peerCred = c.Creds(), t.cred
	n.peerGroups, s.peerGroups = c.Groups(), t.groups
	n.hasPeer, s.hasPeer = true, true
	n.connected, s.connected = true, true
	n.sndbuf, n.rcvbuf, n.passcred = t.sndbuf, t.rcvbuf, t.passcred
	t.backlog = append(t.backlog, n)
	ns.mu.Unlock()
	t.q.Notify(vfs.EventIn | vfs.EventRdNorm)
	s.q.Notify(vfs.EventOut | vfs.EventWrNorm)
	return nil
}

// ConnectResult: AF_UNIX connects complete at once.
func (s *unixSock) ConnectResult() error { return nil }

func (s *unixSock) SockName() ([]byte, error) {
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	if s.name == nil {
		return unnamed, nil
	}
	return append([]byte(nil), s.name...), nil
}

func (s *unixSock) PeerName() ([]byte, error) {
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	if s.peer == nil {
		return nil, ENOTCONN
	}
	if s.peer.name == nil {
		return unnamed, nil
	}
	return append([]byte(nil), s.peer.name...), nil
}

// dropRights releases files that will never be received.
func dropRights(fs []*vfs.File) {
	for _, f := range fs {
		f.DecRef()
	}
}

func (s *unixSock) Send(c Context, src vfs.Buf, m *Msg) (int64, error) {
	if m.Flags&MsgOOB != 0 && s.typ != SockStream {
		return 0, EOPNOTSUPP
	}
	if len(m.Rights) > 0 {
		// Too many sockets in flight: collect the garbage among them
		// first (wait_for_unix_gc).
		s.ns.mu.Lock()
		many := s.ns.sockets > inflightTrigger
		s.ns.mu.Unlock()
		if many {
			s.ns.collect()
		}
	}
	if s.typ == SockDgram {
		return s.sendDgram(c, src, m)
	}
	ns := s.ns
	ns.mu.Lock()
	// unix_seqpacket_sendmsg reports a pending error first; a stream
	// send leaves it to the receive.
	if err := s.err; err != nil && s.typ == SockSeqpacket {
		s.err = nil
		ns.mu.Unlock()
		return 0, err
	}
	if m.Addr != nil {
		defer ns.mu.Unlock()
		if s.connected {
			return 0, EISCONN
		}
		return 0, EOPNOTSUPP
	}
	if s.shut&sendShutdown != 0 {
		ns.mu.Unlock()
		return 0, vfs.EPIPE
	}
	p := s.peer
	if p == nil {
		ns.mu.Unlock()
		if s.connected {
			return 0, vfs.EPIPE
		}
		return 0, ENOTCONN
	}
	want := src.Len()
	room := s.sndbuf - p.queued()
	full := room <= 0
	if s.typ == SockSeqpacket {
		// A record is sent as a datagram to a peer connected back:
		// no queue length, only the sender's buffer bounds it, which
		// takes one more record while not full (unix_dgram_sendmsg,
		// sock_alloc_send_pskb).
		if want > int64(s.sndbuf-32) {
			ns.mu.Unlock()
			return 0, EMSGSIZE
		}
		room, full = int(want), s.wmem >= s.sndbuf
	}
	if full {
		ns.mu.Unlock()
		return 0, vfs.EAGAIN
	}
	if mem.BuffersShort() {
		ns.mu.Unlock()
		return 0, ENOBUFS // sock_alloc_send_pskb failed
	}
	if ns.tooManyFiles(c, m) {
		ns.mu.Unlock()
		return 0, ETOOMANYREFS // unix_attach_fds
	}
	k := min(want, int64(room))
	data := make([]byte, k)
	got, err := src.CopyIn(data)
	if got == 0 && err != nil && k > 0 {
		ns.mu.Unlock()
		return 0, vfs.EFAULT
	}
	if s.typ == SockStream && got == 0 {
		// Nothing to carry files in: unix_stream_sendmsg sends no
		// segment, and the files are dropped.
		ns.mu.Unlock()
		dropRights(m.Rights)
		m.Rights = nil
		return 0, nil
	}
	// MSG_OOB sends the last byte by itself as the urgent byte, once
	// all of the data fits (unix_stream_sendmsg, queue_oob); it replaces
	// an urgent byte not yet taken, which stays in the stream.
	sent := got // a record the filter cut counts as sent whole
	if s.typ == SockSeqpacket {
		// A record passes the receiver's filter as a datagram does
		// (unix_seqpacket_sendmsg sends with unix_dgram_sendmsg).
		kept, ok := p.filter(data[:got])
		if !ok {
			ns.mu.Unlock()
			dropRights(m.Rights)
			m.Rights = nil
			return int64(got), nil
		}
		data, got = kept, len(kept)
	}
	oob := m.Flags&MsgOOB != 0 && int64(got) == want
	g := &segment{data: data[:got], rights: m.Rights, creds: s.msgCreds(c, m, p), stamp: stampFor(p)}
	if s.typ == SockSeqpacket {
		g.sender, g.charge = s, truesize(int(want))
		s.wmem += g.charge
	}
	ev := vfs.EventIn | vfs.EventRdNorm
	if oob {
		u := &segment{data: data[got-1 : got], creds: g.creds, stamp: g.stamp, urgent: true}
		g.data = data[:got-1]
		if len(g.data) > 0 || len(g.rights) > 0 {
			p.recv = append(p.recv, g)
			p.recvSegs++
			ns.queueRights(c, p, g)
		}
		g = u
		p.oob = u
		ev |= vfs.EventPri
	}
	p.recv = append(p.recv, g)
	p.recvBytes += got
	p.recvSegs++
	ns.queueRights(c, p, g)
	ns.mu.Unlock()
	p.q.Notify(ev)
	return int64(sent), nil
}

// segCharge is what a queued segment costs beyond its bytes, charged
// against the sender's buffer as Linux charges an skb's truesize (the
// sk_buff and its shared info): one-byte writes fill the buffer after a
// few hundred, not after its size in segments, each a kernel allocation.
const segCharge = 512

// queued is what s's receive queue holds against a sender's buffer.
// Called with ns.mu held.
func (s *unixSock) queued() int { return s.recvBytes + s.recvSegs*segCharge }

// msgCreds returns the credentials a message from s to t carries: those
// its sender tells in SCM_CREDENTIALS, else the sender's process ID and
// real user and group IDs if either side asks for credentials
// (SO_PASSCRED) or t is not accepted yet, else none (net/core/scm.c
// scm_send, net/unix/af_unix.c unix_scm_to_skb, maybe_add_creds).
// Called with ns.mu held.
func (s *unixSock) msgCreds(c Context, m *Msg, t *unixSock) Ucred {
	switch {
	case m.Creds != nil:
		return *m.Creds
	case c != nil && (s.passcred || t.passcred || t.embryo):
		return c.MsgCreds()
	}
	return noCreds
}

func (s *unixSock) sendDgram(c Context, src vfs.Buf, m *Msg) (int64, error) {
	ns := s.ns
	ns.mu.Lock()
	if s.shut&sendShutdown != 0 {
		ns.mu.Unlock()
		return 0, vfs.EPIPE
	}
	var t *unixSock
	if m.Addr != nil {
		a, err := parseUnix(m.Addr)
		if err == nil && a.autobind {
			err = errInval
		}
		if err != nil {
			ns.mu.Unlock()
			return 0, err
		}
		s.passcredBind()
		if t, err = ns.lookup(c, a); err != nil {
			ns.mu.Unlock()
			return 0, err
		}
		if t.typ != SockDgram {
			ns.mu.Unlock()
			return 0, EPROTOTYPE
		}
	} else if t = s.peer; t == nil {
		ns.mu.Unlock()
		return 0, ENOTCONN
	} else {
		s.passcredBind()
	}
	if t.closed {
		// A peer that is gone refuses once and disconnects the sender
		// (unix_dgram_sendmsg: SOCK_DEAD).
		if s.peer == t {
			s.peer = nil
		}
		ns.mu.Unlock()
		return 0, ECONNREFUSED
	}
	if t.peer != nil && t.peer != s {
		ns.mu.Unlock()
		return 0, vfs.EPERM
	}
	want := src.Len()
	if want > int64(s.sndbuf-32) {
		ns.mu.Unlock()
		return 0, EMSGSIZE
	}
	if s.wmem >= s.sndbuf {
		// The sender's buffer is full: it waits for its messages to
		// be read, wherever they are (sock_alloc_send_pskb).
		ns.mu.Unlock()
		return 0, vfs.EAGAIN
	}
	// A receiver connected back to the sender (a pair) takes as many as
	// the sender's buffer holds; another waits only past max_dgram_qlen
	// (unix_dgram_sendmsg: unix_peer(other) != sk &&
	// unix_recvq_full_lockless).
	if t != s && t.peer != s && len(t.recv) > maxDgramQlen {
		if t.blocked == nil {
			t.blocked = map[*unixSock]struct{}{}
		}
		t.blocked[s] = struct{}{}
		ns.mu.Unlock()
		return 0, vfs.EAGAIN
	}
	if mem.BuffersShort() {
		ns.mu.Unlock()
		return 0, ENOBUFS // sock_alloc_send_pskb failed
	}
	if ns.tooManyFiles(c, m) {
		ns.mu.Unlock()
		return 0, ETOOMANYREFS // unix_attach_fds
	}
	data := make([]byte, want)
	got, err := src.CopyIn(data)
	if err != nil && int64(got) < want {
		ns.mu.Unlock()
		return 0, vfs.EFAULT
	}
	var ok bool
	if data, ok = t.filter(data); !ok {
		// The receiver's filter drops it: the sender is not told
		// (unix_dgram_sendmsg: sk_filter).
		ns.mu.Unlock()
		dropRights(m.Rights)
		m.Rights = nil
		return want, nil
	}
	from := s.name
	g := &segment{data: data, from: from, rights: m.Rights, creds: s.msgCreds(c, m, t), stamp: stampFor(t), sender: s, charge: truesize(int(want))}
	t.recv = append(t.recv, g)
	ns.queueRights(c, t, g)
	s.wmem += g.charge
	t.recvBytes += len(data)
	t.recvSegs++
	ns.mu.Unlock()
	t.q.Notify(vfs.EventIn | vfs.EventRdNorm)
	return int64(got), nil
}

func (s *unixSock) Recv(dst vfs.Buf, m *Msg) (int64, error) {
	if m.Flags&MsgOOB != 0 {
		if s.typ != SockStream {
			return 0, EOPNOTSUPP
		}
		return s.recvUrgent(dst, m)
	}
	ns := s.ns
	ns.mu.Lock()
	if s.typ != SockDgram && !s.connected {
		ns.mu.Unlock()
		return 0, errInval
	}
	// A message-based receive reports a pending error before any
	// message (__skb_try_recv_datagram: sock_error).
	if err := s.err; err != nil && s.typ != SockStream {
		s.err = nil
		ns.mu.Unlock()
		return 0, err
	}
	// A peek starts SO_PEEK_OFF bytes in (sk_peek_offset): past whole
	// segments of a stream, or past whole datagrams (while the offset is
	// not smaller than one) and then into the next.
	peek := m.Flags&MsgPeek != 0
	skip := 0
	if peek {
		skip = max(s.peekOff, 0)
	}
	first := 0
	for first < len(s.recv) && skip > 0 && skip >= len(s.recv[first].data)-s.recv[first].off {
		skip -= len(s.recv[first].data) - s.recv[first].off
		first++
	}
	if s.typ == SockStream {
		first = s.pastMark(first, peek)
	}
	if first == len(s.recv) {
		defer ns.mu.Unlock()
		// A stream receive that found nothing reports a pending error
		// once, before the end of the stream (unix_stream_read_generic).
		if err := s.err; err != nil {
			s.err = nil
			return 0, err
		}
		if s.shut&rcvShutdown != 0 {
			return 0, nil
		}
		return 0, vfs.EAGAIN
	}
	var n int64
	var freed bool
	if s.typ == SockStream {
		n, freed = s.recvStream(dst, m, peek, first, skip)
	} else {
		n, freed = s.recvRecord(dst, m, peek, first, skip)
	}

	var wake []*unixSock
	if freed {
		if s.peer != nil {
			wake = append(wake, s.peer)
		}
		for b := range s.blocked {
			wake = append(wake, b)
		}
		s.blocked = nil
		wake = append(wake, ns.takeWake()...)
	}
	drop := s.unreceived
	s.unreceived = nil
	ns.mu.Unlock()
	dropRights(drop)
	for _, w := range wake {
		w.q.Notify(vfs.EventOut | vfs.EventWrNorm)
	}
	if n < 0 {
		return 0, vfs.EFAULT
	}
	return n, nil
}

// recvStream copies queued bytes into dst as unix_stream_read_generic
// does: it stops after a segment that carries files and, for a receiver
// that asks for credentials (SO_PASSCRED), before one whose credentials
// differ from the first's ("never glue messages from different
// writers"). It returns -1 for a fault.
func (s *unixSock) recvStream(dst vfs.Buf, m *Msg, peek bool, from, skip int) (int64, bool) {
	var done int64
	first := s.recv[from]
	m.Creds = recvCreds(first.creds)
	m.NoStamps = true // unix_stream_read_generic reports none
	inline := s.flags[SoOobinline]
	var mark *segment // a taken urgent byte this read stopped at: it stays
	for i := from; i < len(s.recv) && done < dst.Len(); i++ {
		g := s.recv[i]
		// The urgent byte is a mark no read crosses: a read that has
		// bytes stops before it; one that starts at it takes the mark
		// away, and the byte too unless SO_OOBINLINE (manage_oob).
		if g.taken() {
			if done > 0 && s.oob == nil {
				mark = g
				break
			}
			continue
		}
		if g == s.oob {
			if done > 0 {
				break
			}
			if !peek {
				s.oob = nil
			}
			if !inline {
				if !peek {
					g.off = len(g.data)
					s.recvBytes -= len(g.data)
				}
				continue
			}
		}
		if i > from && s.passcred && g.creds != first.creds {
			break
		}
		avail := g.data[g.off:]
		if i == from {
			avail = avail[skip:]
		}
		c, err := dst.DropFirst(done).CopyOut(avail)
		if c == 0 && err != nil {
			if done == 0 {
				return -1, false
			}
			break
		}
		done += int64(c)
		files := len(g.rights) > 0
		if files {
			if peek {
				for _, f := range g.rights {
					f.IncRef()
				}
				m.Rights = append([]*vfs.File(nil), g.rights...)
			} else {
				m.Rights = s.ns.takeRights(g)
			}
		}
		if !peek {
			g.off += c
			s.recvBytes -= c
		}
		if c < len(avail) || files {
			break
		}
	}
	if peek {
		s.movePeekOff(int(done))
		return done, false
	}
	s.movePeekOff(-int(done))
	for len(s.recv) > 0 && s.recv[0].off == len(s.recv[0].data) && s.recv[0] != mark {
		// Files that came with no bytes of their own (the send of a
		// lone MSG_OOB byte, whose other part is empty) go with the
		// segment: their references are dropped, not lost.
		s.unreceived = append(s.unreceived, s.ns.takeRights(s.recv[0])...)
		s.recv = s.recv[1:]
		s.recvSegs--
	}
	return done, true
}

// recvRecord takes one datagram or record into dst; what does not fit is
// lost (MSG_TRUNC), as for every message-based socket. A peek looks at
// the one numbered at, from byte skip (unix_dgram_recvmsg).
func (s *unixSock) recvRecord(dst vfs.Buf, m *Msg, peek bool, at, skip int) (int64, bool) {
	g := s.recv[at]
	data := g.data[skip:]
	c, err := dst.CopyOut(data)
	if err != nil && int64(c) < min(dst.Len(), int64(len(data))) {
		return -1, false
	}
	m.Creds = recvCreds(g.creds)
	m.Stamp = g.stamp
	// An unbound sender has no address: the length is 0
	// (unix_copy_addr, net/unix/af_unix.c).
	if g.from != nil {
		m.Addr = append([]byte(nil), g.from...)
	}
	if len(data) > c {
		m.OutFlags |= MsgTrunc
	}
	if peek {
		for _, f := range g.rights {
			f.IncRef()
		}
		m.Rights = append([]*vfs.File(nil), g.rights...)
		s.movePeekOff(c)
	} else {
		m.Rights = s.ns.takeRights(g)
		g.dropped()
		s.recv = s.recv[1:]
		s.recvSegs--
		s.recvBytes -= len(g.data)
		s.movePeekOff(-len(g.data))
	}
	n := int64(c)
	if m.Flags&MsgTrunc != 0 {
		n = int64(len(data))
	}
	return n, !peek
}

// pastMark passes, from segment first, what a stream read starting there
// skips: a taken urgent byte, and the urgent byte itself unless
// SO_OOBINLINE, which then stops being urgent (manage_oob with nothing
// copied). A read takes them off the queue; a peek looks past them. It
// returns where the read starts.
func (s *unixSock) pastMark(first int, peek bool) int {
	for first < len(s.recv) {
		g := s.recv[first]
		switch {
		case g.taken():
		case g == s.oob && !s.flags[SoOobinline]:
			if peek {
				break
			}
			s.oob = nil
			g.off = len(g.data)
			s.recvBytes -= len(g.data)
		default:
			return first
		}
		if peek {
			first++
			continue
		}
		s.recv = s.recv[1:]
		s.recvSegs--
	}
	return first
}

// recvUrgent takes the urgent byte out of band (unix_stream_recv_urg):
// EINVAL when there is none or it stays in line (SO_OOBINLINE).
func (s *unixSock) recvUrgent(dst vfs.Buf, m *Msg) (int64, error) {
	ns := s.ns
	ns.mu.Lock()
	defer ns.mu.Unlock()
	g := s.oob
	if g == nil || s.flags[SoOobinline] {
		return 0, errInval
	}
	if dst.Len() == 0 {
		m.OutFlags |= MsgOOB
		return 0, nil
	}
	if _, err := dst.CopyOut(g.data[g.off:]); err != nil {
		return 0, vfs.EFAULT
	}
	if m.Flags&MsgPeek == 0 {
		s.oob = nil
		g.off = len(g.data)
		s.recvBytes--
	}
	m.OutFlags |= MsgOOB
	return 1, nil
}

// atMark is SIOCATMARK: the next byte a read would take is the urgent
// one, or the mark a taken one left (unix_ioctl).
func (s *unixSock) atMark() bool {
	if len(s.recv) == 0 {
		return false
	}
	g := s.recv[0]
	if g == s.oob {
		return true
	}
	return g.off == len(g.data) && (s.oob == nil || (len(s.recv) > 1 && s.recv[1] == s.oob))
}

// movePeekOff moves SO_PEEK_OFF on by what a peek took, or back by what
// a receive took off the front, not below 0; -1 stays off
// (sk_peek_offset_fwd, sk_peek_offset_bwd).
func (s *unixSock) movePeekOff(n int) {
	if s.peekOff >= 0 {
		s.peekOff = max(s.peekOff+n, 0)
	}
}

func (s *unixSock) Shutdown(how int) error {
	var mode int
	switch how {
	case ShutRd:
		mode = rcvShutdown
	case ShutWr:
		mode = sendShutdown
	case ShutRdwr:
		mode = rcvShutdown | sendShutdown
	default:
		return errInval
	}
	ns := s.ns
	ns.mu.Lock()
	if s.typ != SockDgram && !s.connected {
		ns.mu.Unlock()
		return ENOTCONN
	}
	s.shut |= mode
	p := s.peer
	if p != nil && s.typ != SockDgram {
		if mode&rcvShutdown != 0 {
			p.shut |= sendShutdown
		}
		if mode&sendShutdown != 0 {
			p.shut |= rcvShutdown
		}
	}
	ns.mu.Unlock()
	s.q.Notify(^vfs.Events(0))
	if p != nil {
		p.q.Notify(^vfs.Events(0))
	}
	return nil
}

func (s *unixSock) Readiness(mask vfs.Events) vfs.Events {
	ns := s.ns
	ns.mu.Lock()
	defer ns.mu.Unlock()
	var ev vfs.Events
	if s.shut == rcvShutdown|sendShutdown {
		ev |= vfs.EventHup
	}
	if s.shut&rcvShutdown != 0 {
		ev |= vfs.EventRdHup | vfs.EventIn | vfs.EventRdNorm
	}
	if len(s.recv) > 0 || len(s.backlog) > 0 {
		ev |= vfs.EventIn | vfs.EventRdNorm
	}
	if s.typ != SockDgram && !s.connected && !s.listening {
		ev |= vfs.EventHup
	}
	if s.err != nil {
		ev |= vfs.EventErr
	}
	if s.oob != nil {
		ev |= vfs.EventPri
	}
	// Writable is about room, shut down or not (unix_poll: "we set
	// writable also when the other side has shut down the connection");
	// a socket with no peer has nothing in flight.
	writable := false
	switch {
	case s.listening:
	case s.typ != SockStream:
		// unix_dgram_poll: room in the sender's buffer, and for a
		// peer not connected back, room in the peer's queue (a
		// socket told it is full is woken when it is read:
		// unix_dgram_peer_wake_me).
		writable = s.wmemWritable()
		if p := s.peer; writable && p != nil && p.peer != s && len(p.recv) > maxDgramQlen {
			writable = false
			if p.blocked == nil {
				p.blocked = map[*unixSock]struct{}{}
			}
			p.blocked[s] = struct{}{}
		}
	case s.peer != nil:
		writable = s.peer.queued() < s.sndbuf
	default:
		writable = true
	}
	if writable {
		ev |= vfs.EventOut | vfs.EventWrNorm
	}
	return ev & mask
}

func (s *unixSock) Read(_ *vfs.File, dst vfs.Buf, _ int64) (int64, error) {
	m := Msg{}
	n, err := s.Recv(dst, &m)
	dropRights(m.Rights)
	return n, err
}

// Write sends src for a writer that is no process: the message carries
// no credentials. A process's write(2) comes through Send with its Context.
func (s *unixSock) Write(_ *vfs.File, src vfs.Buf, _ int64) (int64, error) {
	return s.Send(nil, src, &Msg{})
}

func (s *unixSock) Ioctl(_ *vfs.File, m mem.Memory, cmd uint32, arg uint64) (int64, error) {
	var n int
	s.ns.mu.Lock()
	switch cmd {
	case linux.FIONREAD:
		switch {
		case s.listening:
			s.ns.mu.Unlock()
			return 0, errInval
		case s.typ != SockDgram:
			// unix_inq_len: every queued byte of a stream or of
			// the records of a seqpacket socket.
			n = s.recvBytes
		case len(s.recv) > 0:
			n = len(s.recv[0].data) - s.recv[0].off
		}
	case tiocoutq:
		// What was sent and not read yet: for datagrams and records
		// the memory it takes (unix_outq_len: sk_wmem_alloc_get); for
		// a stream, here its bytes.
		switch {
		case s.typ != SockStream:
			n = s.wmem
		case s.peer != nil:
			n = s.peer.recvBytes
		}
	case siocatmark:
		if s.typ != SockStream {
			s.ns.mu.Unlock()
			return 0, EOPNOTSUPP
		}
		if s.atMark() {
			n = 1
		}
	default:
		s.ns.mu.Unlock()
		return 0, vfs.ENOTTY
	}
	s.ns.mu.Unlock()
	return 0, mem.WriteUint32(m, arg, uint32(n))
}

// tiocoutq is TIOCOUTQ (SIOCOUTQ), the bytes sent but not yet read;
// siocatmark is SIOCATMARK (include/uapi/linux/sockios.h).
const (
	tiocoutq   = 0x5411
	siocatmark = 0x8905
)

func (s *unixSock) Release(*vfs.File) {
	ns := s.ns
	ns.mu.Lock()
	s.closed = true
	s.shut = rcvShutdown | sendShutdown
	if s.name != nil {
		if s.node != (NodeID{}) {
			if ns.paths[s.node] == s {
				delete(ns.paths, s.node)
			}
		} else if a, err := parseUnix(s.name); err == nil && ns.abstract[a.abstract] == s {
			delete(ns.abstract, a.abstract)
		}
	}
	var wake []*unixSock
	var drop []*vfs.File
	var pending []*unixSock
	if p := s.peer; p != nil && s.typ != SockDgram {
		p.shut = rcvShutdown | sendShutdown
		p.peer = nil
		// Bytes it never read, or a connection never accepted, reset
		// the peer's connection (unix_release_sock: sk_err).
		if len(s.recv) > 0 || s.embryo {
			p.err = ECONNRESET
		}
		wake = append(wake, p)
	}
	s.peer = nil
	for b := range s.blocked {
		wake = append(wake, b)
	}
	s.blocked = nil
	for _, g := range s.recv {
		drop = append(drop, ns.takeRights(g)...)
		g.dropped()
	}
	s.recv, s.recvBytes, s.recvSegs = nil, 0, 0
	wake = append(wake, ns.takeWake()...)
	pending, s.backlog = s.backlog, nil
	ns.mu.Unlock()
	for _, w := range wake {
		w.q.Notify(^vfs.Events(0))
	}
	dropRights(drop)
	for _, n := range pending {
		n.Release(nil)
	}
	// The release of a socket is when garbage may have formed: run the
	// collector if anything is in flight (unix_release_sock).
	if ns.inFlight() {
		ns.collect()
	}
}

func (s *unixSock) SetSockOpt(level, name int, val []byte) error {
	if level != SolSocket {
		return EOPNOTSUPP
	}
	ns := s.ns
	switch name {
	case SoPasscred, SoReuseaddr, SoKeepalive, SoSndbuf, SoRcvbuf, SoSndbufforce, SoRcvbufforce:
		v, err := IntArg(val)
		if err != nil {
			return err
		}
		ns.mu.Lock()
		defer ns.mu.Unlock()
		switch name {
		case SoPasscred:
			s.passcred = v != 0
		case SoReuseaddr:
			s.reuseaddr = v != 0
		case SoKeepalive:
			s.keepalive = v != 0
		case SoSndbuf, SoSndbufforce:
			s.sndbuf = BufSize(v, name == SoSndbufforce, minSndbuf)
		case SoRcvbuf, SoRcvbufforce:
			s.rcvbuf = BufSize(v, name == SoRcvbufforce, minRcvbuf)
		}
		return nil
	case SoBroadcast, SoOobinline, SoReuseport:
		// Flags sk_setsockopt keeps for every socket; SO_REUSEPORT is
		// for inet sockets only.
		v, err := IntArg(val)
		if err != nil {
			return err
		}
		if name == SoReuseport && v != 0 {
			return EOPNOTSUPP
		}
		ns.mu.Lock()
		if s.flags == nil {
			s.flags = map[int]bool{}
		}
		s.flags[name] = v != 0
		ns.mu.Unlock()
		return nil
	case SoPeekOff:
		// unix_set_peek_off: any value; a negative one turns peeking
		// at an offset off.
		v, err := IntArg(val)
		if err != nil {
			return err
		}
		ns.mu.Lock()
		s.peekOff = v
		ns.mu.Unlock()
		return nil
	case SoLinger:
		on, secs, err := LingerArg(val)
		if err != nil {
			return err
		}
		ns.mu.Lock()
		s.linger = [2]int{0, secs}
		if on {
			s.linger[0] = 1
		}
		ns.mu.Unlock()
		return nil
	}
	// sk_setsockopt checks the length before it looks at the name
	// (SO_BINDTODEVICE apart).
	if name != soBindtodevice && len(val) < 4 {
		return errInval
	}
	return ENOPROTOOPT
}

// soBindtodevice is SO_BINDTODEVICE, whose argument is a name.
const soBindtodevice = 25

// Smallest socket buffers (include/net/sock.h SOCK_MIN_SNDBUF,
// SOCK_MIN_RCVBUF: twice and once TCP_SKB_MIN_TRUESIZE, 2048 bytes and
// an sk_buff's truesize).
const (
	minSndbuf = 4608
	minRcvbuf = 2304
)

// BufSize is what SO_SNDBUF and SO_RCVBUF store for v: v taken as
// unsigned and clamped to net.core.wmem_max / rmem_max (whose default
// Cocoon keeps), or for the _FORCE options not below 0, then doubled, at
// least least (net/core/sock.c sk_setsockopt, sock_set_sndbuf,
// __sock_set_rcvbuf).
func BufSize(v int, force bool, least int) int {
	const maxBuf = defaultBufBytes
	if force {
		v = max(v, 0)
	} else if uint32(v) > maxBuf {
		v = maxBuf
	}
	v = min(v, 1<<30-1)
	return max(v*2, least)
}

func (s *unixSock) GetSockOpt(level, name int, size int) ([]byte, error) {
	if level != SolSocket {
		return nil, EOPNOTSUPP
	}
	ns := s.ns
	ns.mu.Lock()
	defer ns.mu.Unlock()
	switch name {
	case SoError:
		// sock_error: reading the error clears it.
		var e int
		if errno, ok := s.err.(vfs.Errno); ok {
			e = int(errno)
		}
		s.err = nil
		return Int(e), nil
	case SoPeekOff:
		return Int(s.peekOff), nil
	case SoBroadcast, SoOobinline, SoReuseport:
		return Bool(s.flags[name]), nil
	case SoPeergroups:
		// sk_getsockopt SO_PEERGROUPS: ENODATA with no peer
		// credentials, ERANGE (and the length needed) for a buffer
		// too small.
		if !s.hasPeer {
			return nil, ENODATA
		}
		if size < 4*len(s.peerGroups) {
			return nil, NeedLen(4 * len(s.peerGroups))
		}
		var b []byte
		for _, g := range s.peerGroups {
			b = binary.LittleEndian.AppendUint32(b, g)
		}
		return b, nil
	case SoAcceptconn:
		return Bool(s.listening), nil
	case SoPasscred:
		return Bool(s.passcred), nil
	case SoReuseaddr:
		return Bool(s.reuseaddr), nil
	case SoKeepalive:
		return Bool(s.keepalive), nil
	case SoSndbuf:
		return Int(s.sndbuf), nil
	case SoRcvbuf:
		return Int(s.rcvbuf), nil
	case SoLinger:
		return Linger(s.linger[0] != 0, s.linger[1]), nil
	case soPeerpidfd:
		// A pidfd of the peer's process; ENODATA with none
		// (sk_getsockopt SO_PEERPIDFD). Cocoon hands out none.
		if !s.hasPeer {
			return nil, ENODATA
		}
		return nil, EOPNOTSUPP
	case SoPeercred:
		// sock_getsockopt SO_PEERCRED: pid 0, uid and gid overflow -1
		// when no peer credentials were ever recorded (a datagram
		// connect(2) records none).
		c := Ucred{Pid: 0, Uid: -1, Gid: -1}
		if s.hasPeer {
			c = s.peerCred
		}
		b := binary.LittleEndian.AppendUint32(nil, uint32(c.Pid))
		b = binary.LittleEndian.AppendUint32(b, uint32(c.Uid))
		return binary.LittleEndian.AppendUint32(b, uint32(c.Gid)), nil
	}
	return nil, ENOPROTOOPT
}

// PassCred reports SO_PASSCRED: received messages carry their sender's
// credentials.
func PassCred(s Socket) bool {
	u, ok := s.(*unixSock)
	if !ok {
		return false
	}
	u.ns.mu.Lock()
	defer u.ns.mu.Unlock()
	return u.passcred
}
