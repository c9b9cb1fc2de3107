// Package socket is what Cocoon's Linux personality knows of sockets
// (socket(7)): the Socket interface every kind of socket implements, the
// constants and address formats of the socket system calls, and AF_UNIX
// sockets (unix(7)), which live entirely in the kernel. Internet sockets
// are in north/socket/inet, over gVisor's netstack.
//
// Like every vfs.FileImpl, a socket never blocks: an operation that would
// returns EAGAIN (or EINPROGRESS for a connect) and the system-call layer
// (north/fdtable) waits on the socket's Queue.
package socket

import (
	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/vfs"
)

// Address families, socket types and flags (include/linux/socket.h,
// include/linux/net.h).
const (
	AFUnspec  = 0
	AFUnix    = 1
	AFInet    = 2
	AFInet6   = 10
	AFNetlink = 16
	AFPacket  = 17

	SockStream    = 1
	SockDgram     = 2
	SockRaw       = 3
	SockSeqpacket = 5
	SockTypeMask  = 0xf
	SockNonblock  = linux.ONonblock
	SockCloexec   = linux.OCloexec
)

// Message flags (include/linux/socket.h).
const (
	MsgOOB          = 0x1
	MsgPeek         = 0x2
	MsgDontroute    = 0x4
	MsgCtrunc       = 0x8
	MsgTrunc        = 0x20
	MsgDontwait     = 0x40
	MsgEOR          = 0x80
	MsgWaitall      = 0x100
	MsgNosignal     = 0x4000
	MsgMore         = 0x8000
	MsgWaitforone   = 0x10000
	MsgCmsgCloexec  = 0x40000000
	MsgConfirm      = 0x800
	MsgErrqueue     = 0x2000
	MsgFastopen     = 0x20000000
	MsgBatch        = 0x40000
	MsgZerocopy     = 0x4000000
	msgSendKnown    = MsgOOB | MsgDontroute | MsgDontwait | MsgEOR | MsgNosignal | MsgMore | MsgConfirm | MsgBatch
	msgRecvKnown    = MsgOOB | MsgPeek | MsgDontwait | MsgWaitall | MsgTrunc | MsgCmsgCloexec | MsgErrqueue | MsgWaitforone
	ShutRd          = 0
	ShutWr          = 1
	ShutRdwr        = 2
	SomaxConn       = 4096 // net.core.somaxconn's default since Linux 5.4
	MaxAddrLen      = 128  // sizeof(struct sockaddr_storage)
	unixPathMax     = 108  // sizeof(sockaddr_un.sun_path)
	defaultBufBytes = 212992
)

// EphemeralFirst and EphemeralLast bound the ports bind(2) and
// connect(2) pick for an unbound socket: net.ipv4.ip_local_port_range's
// default (net/ipv4/af_inet.c inet_init_net), which servers that take
// fixed ports below it rely on.
const EphemeralFirst, EphemeralLast = 32768, 60999

// MsgSendKnown and MsgRecvKnown are the flags send and receive calls
// understand; others are ignored as Linux ignores them.
const (
	MsgSendKnown = msgSendKnown
	MsgRecvKnown = msgRecvKnown
)

// Socket option levels and names (include/uapi/asm-generic/socket.h,
// include/uapi/linux/tcp.h, include/uapi/linux/in.h, in6.h).
const (
	SolSocket = 1
	SolIP     = 0
	SolTCP    = 6
	SolUDP    = 17
	SolIPv6   = 41

	SoDebug       = 1
	SoReuseaddr   = 2
	SoType        = 3
	SoError       = 4
	SoDontroute   = 5
	SoBroadcast   = 6
	SoSndbuf      = 7
	SoRcvbuf      = 8
	SoKeepalive   = 9
	SoOobinline   = 10
	SoNoCheck     = 11
	SoPriority    = 12
	SoLinger      = 13
	SoBsdcompat   = 14
	SoReuseport   = 15
	SoPasscred    = 16
	SoPeercred    = 17
	SoRcvlowat    = 18
	SoSndlowat    = 19
	SoRcvtimeo    = 20
	SoSndtimeo    = 21
	SoAcceptconn  = 30
	SoPasssec     = 34
	SoMark        = 36
	SoSndbufforce = 32
	SoRcvbufforce = 33
	SoProtocol    = 38
	SoDomain      = 39
	SoPeekOff     = 42
	SoPeergroups  = 59

	TCPNodelay     = 1
	TCPMaxseg      = 2
	TCPCork        = 3
	TCPKeepidle    = 4
	TCPKeepintvl   = 5
	TCPKeepcnt     = 6
	TCPSyncnt      = 7
	TCPLinger2     = 8
	TCPDeferAccept = 9
	TCPWindowClamp = 10
	TCPQuickack    = 12
	TCPUserTimeout = 18

	IPTos      = 1
	IPTTL      = 2
	IPv6Hop    = 16
	IPv6V6only = 26
	IPv6Tclass = 67

	SCMRights      = 1
	SCMCredentials = 2
)

// Ucred is struct ucred (include/linux/socket.h): who sent a message.
type Ucred struct {
	Pid, Uid, Gid int32
}

// Msg is one message's metadata for Send and Recv. On Send, Flags are the
// caller's MSG_* flags, Addr the destination (nil for the connected
// peer), Rights the files of an SCM_RIGHTS message (the socket takes the
// references) and Creds an SCM_CREDENTIALS message. On Recv, Flags are the
// caller's flags, and Recv sets Addr to the sender, Rights and Creds to
// what came with the data, and OutFlags (MSG_TRUNC, MSG_EOR, ...).
//
// Stamp is when the message was stamped on its way (CLOCK_REALTIME
// nanoseconds; 0 if it was not), which SO_TIMESTAMPING reports; NoStamps
// says the socket reports no timestamps at all (an AF_UNIX stream).
type Msg struct {
	Flags    int
	Addr     []byte
	Rights   []*vfs.File
	Creds    *Ucred
	OutFlags int
	Stamp    int64
	NoStamps bool
	// FilesLimit bounds, on Send, the files the sender's user may have
	// in flight before these Rights (net/unix/af_unix.c
	// too_many_unix_fds): its RLIMIT_NOFILE, or 0 for no bound (the
	// sender has CAP_SYS_RESOURCE or CAP_SYS_ADMIN).
	FilesLimit int
	// Control are the control messages of other levels a receive
	// returns after the timestamps (IP_PKTINFO, TCP_CM_INQ, ...).
	Control []Cmsg
}

// Cmsg is one control message: struct cmsghdr's level and type, and the
// data after it.
type Cmsg struct {
	Level, Type int
	Data        []byte
}

// Socket is an open socket.
type Socket interface {
	vfs.FileImpl
	// Domain, Type and Protocol are socket(2)'s arguments, as SO_DOMAIN,
	// SO_TYPE and SO_PROTOCOL report them.
	Domain() int
	Type() int
	Protocol() int
	// Bind gives the socket the local address addr (a struct sockaddr).
	Bind(c Context, addr []byte) error
	// Listen makes a stream socket accept connections.
	Listen(backlog int) error
	// Accept takes a pending connection: a new socket file opened with
	// flags (O_NONBLOCK) and the peer's address; EAGAIN if none is ready.
	Accept(flags uint32) (*vfs.File, []byte, error)
	// Connect connects to addr. A connection that cannot complete at once
	// returns EINPROGRESS; the caller waits for EventOut and then asks
	// ConnectResult.
	Connect(c Context, addr []byte) error
	// ConnectResult returns how an EINPROGRESS connect ended (as SO_ERROR
	// does, clearing it), or EINPROGRESS if it has not ended.
	ConnectResult() error
	// SockName and PeerName are getsockname(2) and getpeername(2).
	SockName() ([]byte, error)
	PeerName() ([]byte, error)
	// Send sends from src, Recv receives into dst; both return EAGAIN
	// when they would block.
	Send(c Context, src vfs.Buf, m *Msg) (int64, error)
	Recv(dst vfs.Buf, m *Msg) (int64, error)
	// Shutdown is shutdown(2).
	Shutdown(how int) error
	// SetSockOpt and GetSockOpt are setsockopt(2) and getsockopt(2) for
	// options other than SOL_SOCKET's common ones, which Common serves.
	SetSockOpt(level, name int, val []byte) error
	GetSockOpt(level, name int, size int) ([]byte, error)
	// Common returns the state every socket shares.
	Common() *Common
}

// Context is what a socket may need of the calling process: the file
// system for AF_UNIX path names, and who it is.
type Context interface {
	// BindPath makes a socket file at path, EADDRINUSE if the name
	// exists, and returns its identity.
	BindPath(path string) (NodeID, error)
	// LookupPath returns the identity of the socket file at path, which
	// the caller must be allowed to write (EACCES).
	LookupPath(path string) (NodeID, error)
	// Creds returns the caller's credentials as SO_PEERCRED shows them:
	// its process ID and effective user and group IDs
	// (net/core/sock.c cred_to_ucred).
	Creds() Ucred
	// MsgCreds returns the caller's credentials as a message carries
	// them: its process ID and real user and group IDs (net/core/scm.c
	// scm_send).
	MsgCreds() Ucred
	// Groups returns the caller's supplementary groups, as
	// SO_PEERGROUPS shows them.
	Groups() []uint32
}

// NeedLen is the error of a getsockopt(2) whose buffer is too small for
// the option (ERANGE), which tells the caller the length it needs.
type NeedLen int

func (NeedLen) Error() string { return ERANGE.Error() }

// NodeID identifies a file of the file system.
type NodeID struct {
	Dev, Ino uint64
}

// Errors sockets return.
var (
	EADDRINUSE      = vfs.Errno(linux.EADDRINUSE)
	EADDRNOTAVAIL   = vfs.Errno(linux.EADDRNOTAVAIL)
	EAFNOSUPPORT    = vfs.Errno(linux.EAFNOSUPPORT)
	EALREADY        = vfs.Errno(linux.EALREADY)
	ECONNABORTED    = vfs.Errno(linux.ECONNABORTED)
	ECONNREFUSED    = vfs.Errno(linux.ECONNREFUSED)
	ECONNRESET      = vfs.Errno(linux.ECONNRESET)
	EDESTADDRREQ    = vfs.Errno(linux.EDESTADDRREQ)
	EHOSTDOWN       = vfs.Errno(linux.EHOSTDOWN)
	EHOSTUNREACH    = vfs.Errno(linux.EHOSTUNREACH)
	EINPROGRESS     = vfs.Errno(linux.EINPROGRESS)
	EISCONN         = vfs.Errno(linux.EISCONN)
	EMSGSIZE        = vfs.Errno(linux.EMSGSIZE)
	ENETDOWN        = vfs.Errno(linux.ENETDOWN)
	ENETUNREACH     = vfs.Errno(linux.ENETUNREACH)
	ENOBUFS         = vfs.Errno(linux.ENOBUFS)
	ENOPROTOOPT     = vfs.Errno(linux.ENOPROTOOPT)
	ENOTCONN        = vfs.Errno(linux.ENOTCONN)
	ENOTSOCK        = vfs.Errno(linux.ENOTSOCK)
	EOPNOTSUPP      = vfs.Errno(linux.EOPNOTSUPP)
	EPROTONOSUPPORT = vfs.Errno(linux.EPROTONOSUPPORT)
	EPROTOTYPE      = vfs.Errno(linux.EPROTOTYPE)
	ESOCKTNOSUPPORT = vfs.Errno(linux.ESOCKTNOSUPPORT)
	ETIMEDOUT       = vfs.Errno(linux.ETIMEDOUT)
	ETOOMANYREFS    = vfs.Errno(linux.ETOOMANYREFS)
	ESRCH           = vfs.Errno(linux.ESRCH)
	ERANGE          = vfs.Errno(linux.ERANGE)
	ENODATA         = vfs.Errno(linux.ENODATA)
	EDOM            = vfs.Errno(linux.EDOM)
	errInval        = vfs.EINVAL
)

// Of returns the socket f is, or nil.
func Of(f *vfs.File) Socket {
	s, _ := f.Impl().(Socket)
	return s
}

// sockDev is the device number of sockfs, which every socket's stat
// reports.
var sockDev = linux.Mkdev(0, 8)

// Attr returns what fstat reports for the socket numbered ino.
func Attr(ino uint64) vfs.Attr {
	return vfs.Attr{Dev: sockDev, Ino: ino, Mode: linux.SIfsock | 0o777, Nlink: 1}
}
