package socket

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cocoon-vm/cocoon/north/socket/cbpf"
	"github.com/cocoon-vm/cocoon/north/vfs"
)

// SetOpt serves setsockopt(2) on s: the SOL_SOCKET options every socket
// keeps the same way (struct sock's, net/core/sock.c sk_setsockopt) in
// its Common, the rest by s itself.
func SetOpt(s Socket, level, name int, val []byte) error {
	if level == SolSocket {
		if done, err := s.Common().set(s, name, val); done {
			return err
		}
	}
	return s.SetSockOpt(level, name, val)
}

// Capabilities SOL_SOCKET options may need (include/uapi/linux/capability.h).
const (
	capNetAdmin = 12
	capNetRaw   = 13
)

// SetOptPrivilege checks the privilege setting SOL_SOCKET option name to
// val needs of a caller with the effective capabilities caps
// (net/core/sock.c sk_setsockopt): SO_DEBUG on needs CAP_NET_ADMIN
// (EACCES), SO_PRIORITY outside 0-6 and SO_MARK need CAP_NET_RAW or
// CAP_NET_ADMIN (EPERM), SO_SNDBUFFORCE and SO_RCVBUFFORCE need
// CAP_NET_ADMIN (EPERM).
func SetOptPrivilege(name int, val []byte, caps uint64) error {
	v, err := IntArg(val)
	if err != nil {
		return nil // the option refuses it
	}
	admin := caps&(1<<capNetAdmin) != 0
	net := admin || caps&(1<<capNetRaw) != 0
	switch {
	case name == SoDebug && v != 0 && !admin:
		return vfs.EACCES
	case name == SoPriority && (v < 0 || v > 6) && !net, name == SoMark && !net,
		(name == SoSndbufforce || name == SoRcvbufforce) && !admin:
		return vfs.EPERM
	case name == soTxtime && len(val) == txtimeSize && !admin:
		// A clock other than CLOCK_MONOTONIC, once the flags are
		// known ones.
		if binary.LittleEndian.Uint32(val[4:])&^txtimeFlags == 0 && v != clockMonotonic {
			return vfs.EPERM
		}
	}
	return nil
}

// SO_TXTIME's struct sock_txtime (include/uapi/linux/net_tstamp.h:
// clockid i32, flags u32) and the clocks it takes.
const (
	txtimeSize     = 8
	txtimeFlags    = 3 // SOF_TXTIME_DEADLINE_MODE | SOF_TXTIME_REPORT_ERRORS
	clockRealtime  = 0
	clockMonotonic = 1
	clockTAI       = 11
)

// BindToIndex binds s to the interface numbered idx, 0 for none
// (SO_BINDTODEVICE, SO_BINDTOIFINDEX: net/core/sock.c
// sock_bindtoindex_locked): changing a binding needs CAP_NET_RAW
// (netRaw). An internet socket then sends and receives through that
// interface only.
func BindToIndex(s Socket, idx int, netRaw bool) error {
	c := s.Common()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.bindIfindex != 0 && !netRaw {
		return vfs.EPERM
	}
	if idx < 0 {
		return errInval
	}
	if b, ok := s.(interface{ BindDevice(idx int) error }); ok {
		if err := b.BindDevice(idx); err != nil {
			return err
		}
	}
	c.bindIfindex = idx
	return nil
}

// Inherit gives c, a connection's accepted by a listening internet
// socket, what it inherits of the listener's l (sk_clone_lock copies the
// whole struct sock): the timeouts, flags, SO_RCVLOWAT, SO_MARK, the
// timestamp options, the device binding. SO_PRIORITY comes from the
// connection request instead.
func (c *Common) Inherit(l *Common) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.RcvTimeo, c.SndTimeo = l.RcvTimeo, l.SndTimeo
	for k, v := range l.flags {
		c.setFlag(k, v)
	}
	c.mark, c.rcvlowat, c.busyPoll, c.preferBusyPoll = l.mark, l.rcvlowat, l.busyPoll, l.preferBusyPoll
	c.pacingSet, c.maxPacing, c.txtime, c.txtimeSet = l.pacingSet, l.maxPacing, l.txtime, l.txtimeSet
	c.bindIfindex, c.bufLock = l.bindIfindex, l.bufLock
	c.tsflags, c.tsBindPHC, c.rcvTstamp, c.rcvTstampNS, c.tstampNew = l.tsflags, l.tsBindPHC, l.rcvTstamp, l.rcvTstampNS, l.tstampNew
	c.txrehashSet, c.txrehash = l.txrehashSet, l.txrehash
}

// Txtime reports whether SO_TXTIME was set, which a send's SCM_TXTIME
// needs.
func (c *Common) Txtime() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.txtimeSet
}

// BoundIndex returns the index of the interface s is bound to, 0 for
// none.
func (c *Common) BoundIndex() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bindIfindex
}

// GetOpt serves getsockopt(2) on s for a caller whose buffer holds size
// bytes.
func GetOpt(s Socket, level, name, size int) ([]byte, error) {
	if level == SolSocket {
		if b, err, done := s.Common().get(s, name, size); done {
			return b, err
		}
	}
	return s.GetSockOpt(level, name, size)
}

// Int encodes an int option value.
func Int(v int) []byte { return binary.LittleEndian.AppendUint32(nil, uint32(int32(v))) }

// Bool encodes a boolean option value as 0 or 1.
func Bool(b bool) []byte {
	if b {
		return Int(1)
	}
	return Int(0)
}

// IntArg decodes an int option value: EINVAL if shorter than an int.
// Linux reads an int from optlen >= sizeof(int).
func IntArg(val []byte) (int, error) {
	if len(val) < 4 {
		return 0, errInval
	}
	return int(int32(binary.LittleEndian.Uint32(val))), nil
}

// timeval decodes a struct timeval (include/uapi/linux/time.h: tv_sec
// int64, tv_usec int64) as SO_RCVTIMEO takes it (net/core/sock.c
// sock_set_timeout): EINVAL if short or tv_usec is out of range; a
// negative time means no wait (0).
func timeval(val []byte) (time.Duration, error) {
	if len(val) < 16 {
		return 0, errInval
	}
	sec := int64(binary.LittleEndian.Uint64(val))
	usec := int64(binary.LittleEndian.Uint64(val[8:]))
	if usec < 0 || usec >= 1e6 {
		return 0, EDOM
	}
	if sec < 0 {
		return 0, nil
	}
	if sec > int64(1<<62/time.Second) {
		return 0, nil
	}
	return time.Duration(sec)*time.Second + time.Duration(usec)*time.Microsecond, nil
}

func putTimeval(d time.Duration) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(d/time.Second))
	return binary.LittleEndian.AppendUint64(b, uint64(d%time.Second/time.Microsecond))
}

// Linger encodes struct linger (include/linux/socket.h: l_onoff int,
// l_linger int).
func Linger(on bool, secs int) []byte {
	b := Bool(on)
	return append(b, Int(secs)...)
}

// LingerArg decodes struct linger.
func LingerArg(val []byte) (on bool, secs int, err error) {
	if len(val) < 8 {
		return false, 0, errInval
	}
	return binary.LittleEndian.Uint32(val) != 0, int(int32(binary.LittleEndian.Uint32(val[4:]))), nil
}

// SOL_SOCKET option numbers beyond socket.go's
// (include/uapi/asm-generic/socket.h).
const (
	soSecurityAuth    = 22
	soSecurityNetwork = 24
	soAttachFilter    = 26 // SO_GET_FILTER on get
	soDetachFilter    = 27
	soPeername        = 28
	soTimestampOld    = 29
	soPeersec         = 31
	soTimestampnsOld  = 35
	soTimestampingOld = 37
	soRxqOvfl         = 40
	soWifiStatus      = 41
	soNofcs           = 43
	soLockFilter      = 44
	soSelectErrQueue  = 45
	soBusyPoll        = 46
	soMaxPacingRate   = 47
	soBPFExtensions   = 48
	soIncomingCPU     = 49
	soIncomingNapiID  = 56
	soCookie          = 57
	soZerocopy        = 60
	soTxtime          = 61
	soBindtoifindex   = 62
	soAttachBPF       = 50
	soAttachRPCBPF    = 51 // SO_ATTACH_REUSEPORT_CBPF
	soAttachRPEBPF    = 52 // SO_ATTACH_REUSEPORT_EBPF
	soCnxAdvice       = 53
	soDetachRPBPF     = 68 // SO_DETACH_REUSEPORT_BPF
	soDevmemDontneed  = 80
	soTimestampNew    = 63
	soTimestampnsNew  = 64
	soTimestampingNew = 65
	soRcvtimeoNew     = 66
	soSndtimeoNew     = 67
	soPreferBusyPoll  = 69
	soBusyPollBudget  = 70
	soNetnsCookie     = 71
	soBufLock         = 72
	soReserveMem      = 73
	soTxrehash        = 74
	soRcvmark         = 75
	soPasspidfd       = 76
	soPeerpidfd       = 77
)

// Timestamp control messages a receive returns (SCM_TIMESTAMP* are the
// option numbers, include/uapi/asm-generic/socket.h).
const (
	SCMTimestamp     = soTimestampOld
	SCMTimestampns   = soTimestampnsOld
	SCMTimestamping  = soTimestampingOld
	SCMTimestampNew  = soTimestampNew
	SCMTimestampnsNw = soTimestampnsNew
	SCMTimestamping2 = soTimestampingNew
)

// SO_TIMESTAMPING flags (include/uapi/linux/net_tstamp.h).
const (
	tsRxSoftware = 1 << 3
	tsSoftware   = 1 << 4
	tsOptID      = 1 << 7
	tsOptIDTCP   = 1 << 16
	tsMask       = 1<<19 - 1 // through SOF_TIMESTAMPING_TX_COMPLETION
)

// cookies numbers the sockets asked for SO_COOKIE.
var cookies atomic.Uint64

// bpfExtensions is what SO_BPF_EXTENSIONS reports: SKF_AD_MAX, the
// classic BPF ancillary loads a filter may use (include/uapi/linux/filter.h,
// net/core/filter.c bpf_tell_extensions).
const bpfExtensions = 64

// Common holds the SOL_SOCKET options every socket keeps the same way:
// struct sock's generic fields and flags (include/net/sock.h), set and
// read by net/core/sock.c sk_setsockopt and sk_getsockopt whatever the
// family. Its zero value is a new socket's (sock_init_data).
type Common struct {
	// RcvTimeo and SndTimeo bound how long a blocking receive or send
	// waits (SO_RCVTIMEO, SO_SNDTIMEO); zero waits forever.
	RcvTimeo, SndTimeo time.Duration

	mu             sync.Mutex
	flags          map[int]bool // boolean options by number (SOCK_DBG, SOCK_LOCALROUTE, ...)
	priority       int
	mark           uint32
	rcvlowat       int // SO_RCVLOWAT less 1: 0 is a new socket's 1
	busyPoll       int
	incomingCPU    int // SO_INCOMING_CPU plus 1: 0 is a new socket's -1
	pacingSet      bool
	maxPacing      uint64
	txtime         [8]byte
	txtimeSet      bool // SOCK_TXTIME: sends may give SCM_TXTIME
	bindIfindex    int
	bufLock        int
	tsflags        uint32
	tsBindPHC      int32
	rcvTstamp      bool // SOCK_RCVTSTAMP: SO_TIMESTAMP or SO_TIMESTAMPNS on
	rcvTstampNS    bool // SOCK_RCVTSTAMPNS
	tstampNew      bool // SOCK_TSTAMP_NEW: the _NEW option numbers were used
	txrehashSet    bool
	txrehash       int
	preferBusyPoll bool
	cookie         uint64
	filter         []cbpf.Insn // SO_ATTACH_FILTER's program, nil none
}

// fprogSize is the size of struct sock_fprog.
const fprogSize = 16

// AttachFilterLen is how many bytes of program the struct sock_fprog
// fprog (SO_ATTACH_FILTER's value) points to, 0 when sk_attach_filter
// refuses it before reading them (bpf_check_basics_ok). The system call
// appends them to the value it passes.
func AttachFilterLen(fprog []byte) (n int, addr uint64) {
	if len(fprog) != fprogSize {
		return 0, 0
	}
	k := int(binary.LittleEndian.Uint16(fprog))
	addr = binary.LittleEndian.Uint64(fprog[8:])
	if k == 0 || k > cbpf.MaxInsns || addr == 0 {
		return 0, 0
	}
	return k * cbpf.InsnSize, addr
}

// Filterer is a socket that runs the filter SO_ATTACH_FILTER attaches
// on what it receives (Common.Filter). The others refuse a filter.
type Filterer interface {
	FiltersPackets()
}

// FilterLocked reports whether SO_LOCK_FILTER is on: the filter can be
// neither attached nor detached.
func (c *Common) FilterLocked() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.flags[soLockFilter]
}

// Filter runs the attached filter over pkt as sk_filter_trim_cap does:
// ok is false when it drops the packet (returns 0), else n is how many
// of pkt.Data's bytes to keep (at most all, at least 1).
func (c *Common) Filter(pkt *cbpf.Packet) (n int, ok bool) {
	c.mu.Lock()
	p := c.filter
	c.mu.Unlock()
	if p == nil {
		return len(pkt.Data), true
	}
	v := cbpf.Run(p, pkt)
	if v == 0 {
		return 0, false
	}
	return int(min(uint64(v), uint64(len(pkt.Data)))), true
}

// Flag numbers Common keeps as booleans: the option that sets each.
var commonFlags = map[int]bool{
	SoDebug: true, SoDontroute: true, SoNoCheck: true, soRxqOvfl: true, soWifiStatus: true,
	soNofcs: true, soSelectErrQueue: true, soZerocopy: true, soRcvmark: true,
}

// isInet reports whether s is an internet socket (sk_is_inet).
func isInet(s Socket) bool { return s.Domain() == AFInet || s.Domain() == AFInet6 }

// isTCP reports whether s is a TCP socket (sk_is_tcp).
func isTCP(s Socket) bool { return isInet(s) && s.Type() == SockStream }

// RcvLowat returns SO_RCVLOWAT: how many bytes a blocking stream receive
// waits for (sock_rcvlowat), and a TCP socket's readiness.
func (c *Common) RcvLowat() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rcvlowat + 1
}

// Stamps says which timestamp control messages a receive returns:
// SO_TIMESTAMP's (ns false) or SO_TIMESTAMPNS's, and SO_TIMESTAMPING's
// software stamp (sock_recv_timestamp). newNames reports the _NEW option
// numbers were used (SOCK_TSTAMP_NEW), whose messages have their numbers.
func (c *Common) Stamps() (stamp, ns, timestamping, newNames bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rcvTstamp, c.rcvTstampNS, c.tsflags&tsSoftware != 0, c.tstampNew
}

// RxSoftware reports SOF_TIMESTAMPING_RX_SOFTWARE: received messages are
// stamped on arrival.
func (c *Common) RxSoftware() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tsflags&tsRxSoftware != 0
}

// Flag returns a boolean option Common keeps (SO_OOBINLINE, ...).
func (c *Common) Flag(name int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.flags[name]
}

func (c *Common) setFlag(name int, on bool) {
	if c.flags == nil {
		c.flags = map[int]bool{}
	}
	c.flags[name] = on
}

// set serves the SOL_SOCKET options of sk_setsockopt that are the same
// for every socket; done is false for those s serves itself.
func (c *Common) set(s Socket, name int, val []byte) (done bool, err error) {
	switch name {
	case SoRcvtimeo, SoSndtimeo, soRcvtimeoNew, soSndtimeoNew:
		d, err := timeval(val)
		if err != nil {
			return true, err
		}
		if name == SoRcvtimeo || name == soRcvtimeoNew {
			c.RcvTimeo = d
		} else {
			c.SndTimeo = d
		}
		return true, nil
	case soBindtodevice:
		return false, nil
	}
	// sk_setsockopt reads an int for every other option: a shorter
	// value is EINVAL before the name is looked at.
	v, err := IntArg(val)
	if err != nil {
		return true, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case commonFlags[name]:
		if name == soZerocopy {
			// sk_setsockopt SO_ZEROCOPY: TCP and UDP only, 0 or 1.
			if !isInet(s) || (s.Type() != SockStream && s.Protocol() != 17 && s.Type() != SockDgram) {
				return true, EOPNOTSUPP
			}
			if v < 0 || v > 1 {
				return true, errInval
			}
		}
		c.setFlag(name, v != 0)
		return true, nil
	}
	switch name {
	case SoType, SoDomain, SoProtocol, SoAcceptconn, SoPeercred, SoError, SoSndlowat,
		soPeername, soPeersec, SoPeergroups, soCookie, soIncomingNapiID, soBPFExtensions,
		soNetnsCookie, soPeerpidfd, 55 /* SO_MEMINFO */ :
		return true, ENOPROTOOPT
	case SoBsdcompat:
		return true, nil // obsolete, ignored
	case SoPriority:
		c.priority = v // SetOptPrivilege checked the range
	case SoMark:
		c.mark = uint32(v)
	case SoRcvlowat:
		// sk_setsockopt: a negative value is INT_MAX, 0 is 1.
		if v < 0 {
			v = 1<<31 - 1
		}
		c.rcvlowat = max(v, 1) - 1
	case soTimestampOld, soTimestampnsOld, soTimestampNew, soTimestampnsNew:
		// sock_set_timestamp.
		if v != 0 {
			c.tstampNew = name == soTimestampNew || name == soTimestampnsNew
			c.rcvTstampNS = name == soTimestampnsOld || name == soTimestampnsNew
			c.rcvTstamp = true
		} else {
			c.rcvTstamp, c.rcvTstampNS = false, false
		}
	case soTimestampingOld, soTimestampingNew:
		// sock_set_timestamping: known flags only; OPT_ID_TCP needs
		// OPT_ID. A struct so_timestamping also binds a clock.
		if v&^tsMask != 0 || (v&tsOptIDTCP != 0 && v&tsOptID == 0) {
			return true, errInval
		}
		c.tstampNew = name == soTimestampingNew
		c.tsflags = uint32(v)
		if len(val) >= 8 {
			c.tsBindPHC = int32(binary.LittleEndian.Uint32(val[4:]))
		}
	case soBusyPoll:
		// sk_setsockopt SO_BUSY_POLL: not negative; raising it needs
		// CAP_NET_ADMIN, which SetOptPrivilege checked.
		if v < 0 {
			return true, errInval
		}
		c.busyPoll = v
	case soPreferBusyPoll:
		c.preferBusyPoll = v != 0
	case soBusyPollBudget:
		if v < 0 || v > 65535 {
			return true, errInval
		}
	case soIncomingCPU:
		c.incomingCPU = v + 1
	case soMaxPacingRate:
		// An unsigned long from 8 bytes, else an unsigned int; ~0U
		// means no limit (sk_setsockopt SO_MAX_PACING_RATE).
		r := uint64(uint32(v))
		if len(val) >= 8 {
			r = binary.LittleEndian.Uint64(val)
		} else if uint32(v) == ^uint32(0) {
			r = ^uint64(0)
		}
		c.pacingSet, c.maxPacing = r != ^uint64(0), r
	case soBufLock:
		// SOCK_SNDBUF_LOCK | SOCK_RCVBUF_LOCK.
		if v&^3 != 0 {
			return true, errInval
		}
		c.bufLock = v
	case soTxrehash:
		// sk_setsockopt SO_TXREHASH: TCP only, -1 (the sysctl's), 0 or 1.
		if !isTCP(s) {
			return true, EOPNOTSUPP
		}
		if v < -1 || v > 1 {
			return true, errInval
		}
		c.txrehashSet, c.txrehash = v != -1, v
	case soLockFilter:
		c.setFlag(name, v != 0)
	case soPasspidfd, SoPasssec:
		// Only for sockets that carry credentials (sk_may_scm_recv).
		if s.Domain() != AFUnix {
			return true, EOPNOTSUPP
		}
		c.setFlag(name, v != 0)
	case SoPasscred:
		if s.Domain() != AFUnix && s.Domain() != AFNetlink {
			return true, EOPNOTSUPP
		}
		return false, nil
	case soSecurityAuth, 23, soSecurityNetwork:
		return true, ENOPROTOOPT
	case soAttachRPCBPF:
		// A struct sock_fprog (len u16, filter pointer) for a
		// SO_REUSEPORT group, which Cocoon does not steer by a
		// program: refused after sk_reuseport_attach_filter's checks.
		if len(val) != fprogSize {
			return true, errInval
		}
		if n := binary.LittleEndian.Uint16(val); n == 0 || n > cbpf.MaxInsns || binary.LittleEndian.Uint64(val[8:]) == 0 {
			return true, errInval
		}
		return true, ENOPROTOOPT
	case soAttachFilter:
		// A struct sock_fprog followed by the program the system call
		// read (AttachFilterLen; a byte if it could not: EFAULT) for
		// sk_attach_filter: EPERM when locked, EINVAL for a program
		// bpf_check_classic refuses. A socket that does not filter
		// what it receives refuses a program rather than ignore it.
		if len(val) < fprogSize {
			return true, errInval
		}
		if c.flags[soLockFilter] {
			return true, vfs.EPERM
		}
		n := int(binary.LittleEndian.Uint16(val))
		if n == 0 || n > cbpf.MaxInsns || binary.LittleEndian.Uint64(val[8:]) == 0 {
			return true, errInval
		}
		if len(val) != fprogSize+n*cbpf.InsnSize {
			return true, vfs.EFAULT
		}
		p := cbpf.Decode(val[fprogSize:])
		if err := cbpf.Check(p); err != nil {
			return true, errInval
		}
		if _, ok := s.(Filterer); !ok {
			return true, ENOPROTOOPT
		}
		c.filter = p
	case soDetachFilter:
		// sk_detach_filter: ENOENT when none is attached.
		if c.flags[soLockFilter] {
			return true, vfs.EPERM
		}
		if c.filter == nil {
			return true, vfs.ENOENT
		}
		c.filter = nil
	case soAttachBPF, soAttachRPEBPF:
		// A BPF program's descriptor: there are none without the
		// bpf(2) system call (CONFIG_BPF_SYSCALL=n: bpf_prog_get is
		// EOPNOTSUPP).
		if len(val) != 4 {
			return true, errInval
		}
		if name == soAttachBPF && c.flags[soLockFilter] {
			return true, vfs.EPERM
		}
		return true, EOPNOTSUPP
	case soDetachRPBPF:
		// reuseport_detach_prog: no program, ENOENT once SO_REUSEPORT
		// is on.
		if isInet(s) {
			if b, err := s.GetSockOpt(SolSocket, SoReuseport, 4); err == nil && len(b) == 4 && b[0] != 0 {
				return true, vfs.ENOENT
			}
		}
		return true, errInval
	case soCnxAdvice:
		// Negative advice drops the socket's cached route: Cocoon
		// caches none.
		return true, nil
	case soTxtime:
		// sk_setsockopt SO_TXTIME: a struct sock_txtime of known flags
		// and clock (SetOptPrivilege checked who may name one other
		// than CLOCK_MONOTONIC). The times a send gives take effect
		// only under the fq and etf queueing disciplines.
		if len(val) != txtimeSize || binary.LittleEndian.Uint32(val[4:])&^txtimeFlags != 0 {
			return true, errInval
		}
		if v != clockRealtime && v != clockMonotonic && v != clockTAI {
			return true, errInval
		}
		copy(c.txtime[:], val[:8])
		c.txtimeSet = true
	case soReserveMem:
		// Memory is reserved only under a memory cgroup's socket
		// accounting, which Cocoon has not (sock_reserve_memory).
		if v < 0 {
			return true, errInval
		}
		return true, EOPNOTSUPP
	case soDevmemDontneed:
		// Tokens of device memory received: TCP only, whole struct
		// dmabuf_token (8 bytes), at most 128 of them; none is known,
		// so none is freed.
		if !isTCP(s) {
			return true, vfs.EBADF
		}
		if len(val)%8 != 0 || len(val) > 8*128 {
			return true, errInval
		}
	default:
		return false, nil
	}
	return true, nil
}

// get serves the SOL_SOCKET options of sk_getsockopt that are the same
// for every socket; done is false for those s serves itself.
func (c *Common) get(s Socket, name, size int) (b []byte, err error, done bool) {
	switch name {
	case SoType:
		return Int(s.Type()), nil, true
	case SoDomain:
		return Int(s.Domain()), nil, true
	case SoProtocol:
		return Int(s.Protocol()), nil, true
	case SoRcvtimeo, soRcvtimeoNew:
		return putTimeval(c.RcvTimeo), nil, true
	case SoSndtimeo, soSndtimeoNew:
		return putTimeval(c.SndTimeo), nil, true
	case soPeername:
		// sk_getsockopt SO_PEERNAME: the peer's address, EINVAL if it
		// does not fit.
		a, err := s.PeerName()
		if err != nil {
			return nil, err, true
		}
		if len(a) > size {
			return nil, errInval, true
		}
		return a, nil, true
	case soBindtodevice:
		// No device bound: nothing.
		return []byte{}, nil, true
	case soAttachFilter:
		// SO_GET_FILTER: the attached program as attached, nothing
		// when none (the system call sizes it in instructions).
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.filter == nil {
			return []byte{}, nil, true
		}
		return cbpf.Encode(c.filter), nil, true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if commonFlags[name] {
		return Bool(c.flags[name]), nil, true
	}
	switch name {
	case SoPriority:
		return Int(c.priority), nil, true
	case SoMark:
		return Int(int(int32(c.mark))), nil, true
	case SoBsdcompat:
		return Int(0), nil, true
	case SoRcvlowat:
		return Int(c.rcvlowat + 1), nil, true
	case SoSndlowat:
		return Int(1), nil, true
	case soTimestampOld:
		return Bool(c.rcvTstamp && !c.tstampNew && !c.rcvTstampNS), nil, true
	case soTimestampnsOld:
		return Bool(c.rcvTstampNS && !c.tstampNew), nil, true
	case soTimestampNew:
		return Bool(c.rcvTstamp && c.tstampNew && !c.rcvTstampNS), nil, true
	case soTimestampnsNew:
		return Bool(c.rcvTstampNS && c.tstampNew), nil, true
	case soTimestampingOld, soTimestampingNew:
		// struct so_timestamping: flags, bind_phc.
		b := binary.LittleEndian.AppendUint32(nil, c.tsflags)
		return binary.LittleEndian.AppendUint32(b, uint32(c.tsBindPHC)), nil, true
	case soBusyPoll:
		return Int(c.busyPoll), nil, true
	case soPreferBusyPoll:
		return Bool(c.preferBusyPoll), nil, true
	case soIncomingCPU:
		return Int(c.incomingCPU - 1), nil, true
	case soIncomingNapiID:
		return Int(0), nil, true
	case soCnxAdvice:
		return nil, ENOPROTOOPT, true
	case soMaxPacingRate:
		// An unsigned long for an 8-byte buffer, else clamped to an
		// unsigned int.
		r := c.maxPacing
		if !c.pacingSet {
			r = ^uint64(0)
		}
		if size >= 8 {
			return binary.LittleEndian.AppendUint64(nil, r), nil, true
		}
		return binary.LittleEndian.AppendUint32(nil, uint32(min(r, uint64(^uint32(0))))), nil, true
	case soBPFExtensions:
		return Int(bpfExtensions), nil, true
	case soTxtime:
		return append([]byte(nil), c.txtime[:]...), nil, true
	case soBindtoifindex:
		return Int(c.bindIfindex), nil, true
	case soBufLock:
		return Int(c.bufLock), nil, true
	case soReserveMem:
		return Int(0), nil, true
	case soTxrehash:
		if !isTCP(s) {
			return nil, EOPNOTSUPP, true
		}
		if !c.txrehashSet {
			return Int(1), nil, true // net.core.txrehash's default: on
		}
		return Int(c.txrehash), nil, true
	case soLockFilter:
		return Bool(c.flags[name]), nil, true
	case soPasspidfd, SoPasssec:
		if s.Domain() != AFUnix {
			return nil, EOPNOTSUPP, true
		}
		return Bool(c.flags[name]), nil, true
	case SoPasscred:
		if s.Domain() != AFUnix && s.Domain() != AFNetlink {
			return nil, EOPNOTSUPP, true
		}
	case SoPeergroups, soPeerpidfd:
		// No peer credentials on other families.
		if s.Domain() != AFUnix {
			return nil, ENODATA, true
		}
	case SoPeercred:
		if s.Domain() != AFUnix {
			// pid 0, uid and gid -1: no peer recorded.
			b := binary.LittleEndian.AppendUint32(nil, 0)
			b = binary.LittleEndian.AppendUint32(b, ^uint32(0))
			return binary.LittleEndian.AppendUint32(b, ^uint32(0)), nil, true
		}
	case soCookie:
		// sock_gen_cookie: a number no other socket has, given at
		// the first ask.
		if c.cookie == 0 {
			c.cookie = cookies.Add(1)
		}
		return binary.LittleEndian.AppendUint64(nil, c.cookie), nil, true
	case soNetnsCookie:
		if size != 8 {
			return nil, errInval, true
		}
		return binary.LittleEndian.AppendUint64(nil, 1), nil, true
	}
	return nil, nil, false
}
