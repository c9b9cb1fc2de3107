package fdtable

import (
	"bytes"
	"encoding/binary"
	"time"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/clock"
	"github.com/cocoon-vm/cocoon/north/mem"
	"github.com/cocoon-vm/cocoon/north/socket"
	"github.com/cocoon-vm/cocoon/north/vfs"
)

// System call numbers of the socket calls
// (arch/x86/entry/syscalls/syscall_64.tbl).
const (
	sysSocket      = 41
	sysConnect     = 42
	sysAccept      = 43
	sysSendto      = 44
	sysRecvfrom    = 45
	sysSendmsg     = 46
	sysRecvmsg     = 47
	sysShutdown    = 48
	sysBind        = 49
	sysListen      = 50
	sysGetsockname = 51
	sysGetpeername = 52
	sysSocketpair  = 53
	sysSetsockopt  = 54
	sysGetsockopt  = 55
	sysAccept4     = 288
	sysRecvmmsg    = 299
	sysSendmmsg    = 307
)

// Network makes internet sockets (north/socket/inet).
type Network interface {
	NewSocket(family, typ, proto int) (socket.Socket, error)
}

// netlinkMaker is a Network that also answers NETLINK_ROUTE sockets
// (the interfaces and their addresses).
type netlinkMaker interface {
	NewNetlink(typ, proto int) (socket.Socket, error)
}

// ifaceLister is a Network that tells its interfaces, for the interface
// ioctls.
type ifaceLister interface {
	Interfaces() []socket.Interface
}

// ifIoctl serves an interface ioctl (SIOCGIFFLAGS, SIOCGIFCONF, ...) on
// socket s: every family asks the same interfaces; without a network
// there are none (ENODEV).
func (fs *Files) ifIoctl(m mem.Memory, s socket.Socket, cmd uint32, arg uint64) (int64, error) {
	var ifs []socket.Interface
	if l, ok := fs.proc.sock.inet.(ifaceLister); ok {
		ifs = l.Interfaces()
	}
	return socket.IfIoctl(m, ifs, s.Domain(), cmd, arg)
}

// sockets is what a process's files know of sockets: the AF_UNIX name
// space and the network, shared with forked children.
type sockets struct {
	unix *socket.Namespace
	inet Network
}

// SetNetwork gives the process internet sockets; without one, AF_INET
// and AF_INET6 sockets fail with EAFNOSUPPORT.
func (fs *Files) SetNetwork(n Network) { fs.proc.sock.inet = n }

// socketSyscall serves the socket system calls, and splice(2), which
// moves bytes between sockets and pipes.
func (fs *Files) socketSyscall(m mem.Memory, intr <-chan struct{}, nr uint64, a [6]uint64) (int64, bool) {
	fd := int32(a[0])
	switch nr {
	case sysSocket:
		return fs.Socket(int32(a[0]), int32(a[1]), int32(a[2])), true
	case sysSocketpair:
		return fs.Socketpair(m, int32(a[0]), int32(a[1]), int32(a[2]), a[3]), true
	case sysBind:
		return fs.Bind(m, fd, a[1], uint32(a[2])), true
	case sysConnect:
		return fs.Connect(m, intr, fd, a[1], uint32(a[2])), true
	case sysListen:
		return fs.Listen(fd, int32(a[1])), true
	case sysAccept:
		return fs.Accept4(m, intr, fd, a[1], a[2], 0), true
	case sysAccept4:
		return fs.Accept4(m, intr, fd, a[1], a[2], uint32(a[3])), true
	case sysGetsockname:
		return fs.Getsockname(m, fd, a[1], a[2], false), true
	case sysGetpeername:
		return fs.Getsockname(m, fd, a[1], a[2], true), true
	case sysSendto:
		return fs.Sendto(m, intr, fd, a[1], a[2], uint32(a[3]), a[4], uint32(a[5])), true
	case sysRecvfrom:
		return fs.Recvfrom(m, intr, fd, a[1], a[2], uint32(a[3]), a[4], a[5]), true
	case sysSendmsg:
		return fs.Sendmsg(m, intr, fd, a[1], uint32(a[2])), true
	case sysRecvmsg:
		return fs.Recvmsg(m, intr, fd, a[1], uint32(a[2])), true
	case sysSendmmsg:
		return fs.Sendmmsg(m, intr, fd, a[1], uint32(a[2]), uint32(a[3])), true
	case sysRecvmmsg:
		return fs.Recvmmsg(m, intr, fd, a[1], uint32(a[2]), uint32(a[3]), a[4]), true
	case sysShutdown:
		return fs.Shutdown(fd, int32(a[1])), true
	case sysSetsockopt:
		return fs.Setsockopt(m, fd, int32(a[1]), int32(a[2]), a[3], uint32(a[4])), true
	case sysGetsockopt:
		return fs.Getsockopt(m, fd, int32(a[1]), int32(a[2]), a[3], a[4]), true
	case sysSplice:
		return fs.Splice(m, intr, fd, a[1], int32(a[2]), a[3], a[4], uint32(a[5])), true
	}
	return 0, false
}

// sockFile returns the socket open as fd, with a reference on its file
// the caller drops: EBADF if fd is not open, ENOTSOCK if not a socket.
func (fs *Files) sockFile(fd int32) (*vfs.File, socket.Socket, error) {
	f, err := fs.ioFile(fd)
	if err != nil {
		return nil, nil, err
	}
	s := socket.Of(f)
	if s == nil {
		f.DecRef()
		return nil, nil, socket.ENOTSOCK
	}
	return f, s, nil
}

// sockCtx is what sockets see of the calling process.
type sockCtx struct{ fs *Files }

// sockCreds is what AF_UNIX credentials need of the process beyond its
// file credentials (north.Process).
type sockCreds interface {
	// SockCred returns the real, effective and saved user and group IDs
	// and the effective capabilities.
	SockCred() (uid, gid [3]uint32, caps uint64)
	// PidExists reports whether id names a process or thread.
	PidExists(id int32) bool
}

// Capabilities an SCM_CREDENTIALS sender may need
// (include/uapi/linux/capability.h).
const (
	capSetgid   = 6
	capSetuid   = 7
	capSysAdmin = 21
)

// sockIDs returns the process's credentials for sockets; a process that
// tells none is root with every capability.
func (fs *Files) sockIDs() (uid, gid [3]uint32, caps uint64, src sockCreds) {
	if s, ok := fs.CredSource().(sockCreds); ok {
		uid, gid, caps = s.SockCred()
		return uid, gid, caps, s
	}
	return uid, gid, ^uint64(0), nil
}

// Creds is SO_PEERCRED's view of the caller: process ID, effective user
// and group IDs (net/core/sock.c cred_to_ucred).
func (c sockCtx) Creds() socket.Ucred {
	uid, gid, _, _ := c.fs.sockIDs()
	return socket.Ucred{Pid: c.fs.Pid(), Uid: int32(uid[1]), Gid: int32(gid[1])}
}

// Groups is SO_PEERGROUPS's view of the caller: its supplementary
// groups (none for a process that tells no credentials).
func (c sockCtx) Groups() []uint32 {
	if src := c.fs.CredSource(); src != nil {
		_, _, groups, _ := src.FileCred(false)
		return append([]uint32(nil), groups...)
	}
	return nil
}

// MsgCreds is an SCM_CREDENTIALS message's view of the caller: process
// ID, real user and group IDs (net/core/scm.c scm_send).
func (c sockCtx) MsgCreds() socket.Ucred {
	uid, gid, _, _ := c.fs.sockIDs()
	return socket.Ucred{Pid: c.fs.Pid(), Uid: int32(uid[0]), Gid: int32(gid[0])}
}

// checkCreds checks credentials a sender tells in an SCM_CREDENTIALS
// message (net/core/scm.c scm_check_creds, __scm_send): EINVAL for an
// invalid ID; EPERM unless the process ID is the sender's own (or it has
// CAP_SYS_ADMIN), the user ID one of its real, effective and saved ones
// (or CAP_SETUID), the group ID likewise (or CAP_SETGID); then ESRCH if
// the process ID names no process.
func (fs *Files) checkCreds(c socket.Ucred) error {
	if c.Uid == -1 || c.Gid == -1 {
		return vfs.EINVAL
	}
	uid, gid, caps, src := fs.sockIDs()
	has := func(ids [3]uint32, id int32) bool {
		return ids[0] == uint32(id) || ids[1] == uint32(id) || ids[2] == uint32(id)
	}
	if !(c.Pid == fs.Pid() || caps&(1<<capSysAdmin) != 0) ||
		!(has(uid, c.Uid) || caps&(1<<capSetuid) != 0) ||
		!(has(gid, c.Gid) || caps&(1<<capSetgid) != 0) {
		return vfs.EPERM
	}
	if c.Pid != fs.Pid() && (src == nil || !src.PidExists(c.Pid)) {
		return socket.ESRCH
	}
	return nil
}

func (c sockCtx) BindPath(path string) (socket.NodeID, error) {
	fs := c.fs
	at, err := fs.dirAt(linux.AtFdcwd, path)
	if err != nil {
		return socket.NodeID{}, err
	}
	err = fs.fs.Mknod(fs, at, path, linux.SIfsock|0o777&^fs.umaskNow(), 0)
	if err == vfs.EEXIST {
		return socket.NodeID{}, socket.EADDRINUSE
	}
	if err != nil {
		return socket.NodeID{}, err
	}
	return c.node(path, false)
}

// LookupPath finds the socket file a connect or sendto names: its caller
// must be allowed to write it (EACCES), and it must be a socket
// (ECONNREFUSED), in that order (net/unix/af_unix.c unix_find_bsd).
func (c sockCtx) LookupPath(path string) (socket.NodeID, error) { return c.node(path, true) }

// node returns the identity of the socket file at path, checking write
// permission if write.
func (c sockCtx) node(path string, write bool) (socket.NodeID, error) {
	fs := c.fs
	at, err := fs.dirAt(linux.AtFdcwd, path)
	if err != nil {
		return socket.NodeID{}, err
	}
	l, err := fs.fs.Lookup(fs, at, path, true)
	if err != nil {
		return socket.NodeID{}, err
	}
	if write {
		if err := vfs.MayWrite(fs, l); err != nil {
			return socket.NodeID{}, err
		}
	}
	attr := l.Attr()
	if attr.Mode&linux.SIfmt != linux.SIfsock {
		return socket.NodeID{}, socket.ECONNREFUSED
	}
	return socket.NodeID{Dev: attr.Dev, Ino: attr.Ino}, nil
}

// Socket is socket(2).
func (fs *Files) Socket(family, typ, proto int32) int64 {
	flags := uint32(typ) &^ socket.SockTypeMask
	if flags&^(socket.SockNonblock|socket.SockCloexec) != 0 {
		return errno(vfs.EINVAL)
	}
	s, err := fs.newSocket(int(family), int(typ&socket.SockTypeMask), int(proto))
	if err != nil {
		return ret(0, err)
	}
	return fs.install(sockFileOf(s, flags), flags&socket.SockCloexec != 0)
}

func sockFileOf(s socket.Socket, flags uint32) *vfs.File {
	return vfs.NewFile(s, linux.ORdwr|flags&linux.ONonblock, socket.Name(s.Stat(nil).Ino))
}

func (fs *Files) newSocket(family, typ, proto int) (socket.Socket, error) {
	switch family {
	case socket.AFUnix:
		if proto != 0 && proto != socket.AFUnix {
			return nil, socket.EPROTONOSUPPORT
		}
		return fs.proc.sock.unix.NewUnix(typ, sockCtx{fs})
	case socket.AFInet, socket.AFInet6:
		if fs.proc.sock.inet == nil {
			return nil, socket.EAFNOSUPPORT
		}
		return fs.proc.sock.inet.NewSocket(family, typ, proto)
	case socket.AFNetlink:
		if nl, ok := fs.proc.sock.inet.(netlinkMaker); ok {
			return nl.NewNetlink(typ, proto)
		}
	}
	return nil, socket.EAFNOSUPPORT
}

// Socketpair is socketpair(2): AF_UNIX only, as on Linux.
func (fs *Files) Socketpair(m mem.Memory, family, typ, proto int32, sv uint64) int64 {
	flags := uint32(typ) &^ socket.SockTypeMask
	if flags&^(socket.SockNonblock|socket.SockCloexec) != 0 {
		return errno(vfs.EINVAL)
	}
	switch family {
	case socket.AFUnix:
	case socket.AFInet, socket.AFInet6:
		return errno(socket.EOPNOTSUPP)
	default:
		return errno(socket.EAFNOSUPPORT)
	}
	if proto != 0 && proto != socket.AFUnix {
		return errno(socket.EPROTONOSUPPORT)
	}
	if mem.KernelShort() {
		return errno(vfs.ENFILE) // sock_alloc failed
	}
	a, b, err := fs.proc.sock.unix.Pair(int(typ&socket.SockTypeMask), sockCtx{fs})
	if err != nil {
		return ret(0, err)
	}
	fa, fb := sockFileOf(a, flags), sockFileOf(b, flags)
	cloexec := flags&socket.SockCloexec != 0
	afd, err := fs.tab().Install(fa, 0, fs.Limit(), cloexec)
	if err != nil {
		fa.DecRef()
		fb.DecRef()
		return ret(0, err)
	}
	bfd, err := fs.tab().Install(fb, 0, fs.Limit(), cloexec)
	if err != nil {
		fs.tab().Remove(afd)
		fb.DecRef()
		return ret(0, err)
	}
	var buf [8]byte
	binary.LittleEndian.PutUint32(buf[0:], uint32(afd))
	binary.LittleEndian.PutUint32(buf[4:], uint32(bfd))
	if err := m.CopyOut(sv, buf[:]); err != nil {
		fs.tab().Remove(afd)
		fs.tab().Remove(bfd)
		return errno(vfs.EFAULT)
	}
	return 0
}

// readSockaddr reads an address argument: EINVAL if longer than a
// sockaddr_storage, EFAULT if unreadable.
func readSockaddr(m mem.Memory, addr uint64, n uint32) ([]byte, error) {
	if int32(n) < 0 || n > socket.MaxAddrLen {
		return nil, vfs.EINVAL
	}
	b := make([]byte, n)
	if n > 0 && m.CopyIn(addr, b) != nil {
		return nil, vfs.EFAULT
	}
	return b, nil
}

// writeSockaddr stores sa at addr for a caller whose *lenAddr says how
// much room there is, and sets *lenAddr to the full length
// (move_addr_to_user, net/socket.c).
func writeSockaddr(m mem.Memory, addr, lenAddr uint64, sa []byte) error {
	if lenAddr == 0 {
		return nil
	}
	n, err := mem.ReadUint32(m, lenAddr)
	if err != nil {
		return vfs.EFAULT
	}
	if int32(n) < 0 {
		return vfs.EINVAL
	}
	if k := min(int(n), len(sa)); k > 0 {
		if m.CopyOut(addr, sa[:k]) != nil {
			return vfs.EFAULT
		}
	}
	if mem.WriteUint32(m, lenAddr, uint32(len(sa))) != nil {
		return vfs.EFAULT
	}
	return nil
}

// Bind is bind(2).
func (fs *Files) Bind(m mem.Memory, fd int32, addr uint64, n uint32) int64 {
	f, s, err := fs.sockFile(fd)
	if err != nil {
		return ret(0, err)
	}
	defer f.DecRef()
	sa, err := readSockaddr(m, addr, n)
	if err != nil {
		return ret(0, err)
	}
	return ret(0, s.Bind(sockCtx{fs}, sa))
}

// Listen is listen(2).
func (fs *Files) Listen(fd int32, backlog int32) int64 {
	f, s, err := fs.sockFile(fd)
	if err != nil {
		return ret(0, err)
	}
	defer f.DecRef()
	if u, ok := s.(interface {
		ListenAs(socket.Ucred, []uint32, int) error
	}); ok {
		c := sockCtx{fs}
		return ret(0, u.ListenAs(c.Creds(), c.Groups(), int(backlog)))
	}
	return ret(0, s.Listen(int(backlog)))
}

// sockWait runs op until it returns something other than EAGAIN: at once
// for a non-blocking call, else waiting for f to announce mask between
// tries, for at most timeout (zero: no limit). Interrupted, it returns
// EINTR; out of time, EAGAIN.
func sockWait(f *vfs.File, nonblock bool, mask vfs.Events, intr <-chan struct{}, timeout time.Duration, op func() (int64, error)) (int64, error) {
	n, err := op()
	if err != vfs.EAGAIN || nonblock {
		return n, err
	}
	w := vfs.NewWaiter()
	w.Watch(f.Queue(), mask)
	defer w.Stop()
	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expired = t.C
	}
	for {
		if n, err = op(); err != vfs.EAGAIN {
			return n, err
		}
		select {
		case <-w.C:
		case <-intr:
			return 0, vfs.EINTR
		case <-expired:
			return 0, vfs.EAGAIN
		}
	}
}

// Connect is connect(2). A blocking connect that cannot complete at once
// waits for the outcome; interrupted, it returns EINTR and the
// connection goes on, as on Linux.
func (fs *Files) Connect(m mem.Memory, intr <-chan struct{}, fd int32, addr uint64, n uint32) int64 {
	f, s, err := fs.sockFile(fd)
	if err != nil {
		return ret(0, err)
	}
	defer f.DecRef()
	sa, err := readSockaddr(m, addr, n)
	if err != nil {
		return ret(0, err)
	}
	err = s.Connect(sockCtx{fs}, sa)
	if err != socket.EINPROGRESS || f.NonBlocking() {
		return ret(0, err)
	}
	_, err = sockWait(f, false, vfs.EventOut|vfs.EventErr|vfs.EventHup, intr, s.Common().SndTimeo, func() (int64, error) {
		if err := s.ConnectResult(); err != socket.EINPROGRESS {
			return 0, err
		}
		return 0, vfs.EAGAIN
	})
	if err == vfs.EAGAIN {
		err = socket.EINPROGRESS
	}
	return ret(0, err)
}

// Accept4 is accept4(2) and accept(2).
func (fs *Files) Accept4(m mem.Memory, intr <-chan struct{}, fd int32, addr, lenAddr uint64, flags uint32) int64 {
	if flags&^(socket.SockNonblock|socket.SockCloexec) != 0 {
		return errno(vfs.EINVAL)
	}
	f, s, err := fs.sockFile(fd)
	if err != nil {
		return ret(0, err)
	}
	defer f.DecRef()
	var nf *vfs.File
	var peer []byte
	_, err = sockWait(f, f.NonBlocking(), vfs.EventIn|vfs.EventErr|vfs.EventHup, intr, s.Common().RcvTimeo, func() (int64, error) {
		var err error
		nf, peer, err = s.Accept(flags)
		return 0, err
	})
	if err != nil {
		return ret(0, err)
	}
	if addr != 0 {
		if err := writeSockaddr(m, addr, lenAddr, peer); err != nil {
			nf.DecRef()
			return ret(0, err)
		}
	}
	return fs.install(nf, flags&socket.SockCloexec != 0)
}

// Getsockname is getsockname(2), or getpeername(2) if peer.
func (fs *Files) Getsockname(m mem.Memory, fd int32, addr, lenAddr uint64, peer bool) int64 {
	f, s, err := fs.sockFile(fd)
	if err != nil {
		return ret(0, err)
	}
	defer f.DecRef()
	var sa []byte
	if peer {
		sa, err = s.PeerName()
	} else {
		sa, err = s.SockName()
	}
	if err != nil {
		return ret(0, err)
	}
	if lenAddr == 0 {
		return errno(vfs.EFAULT)
	}
	return ret(0, writeSockaddr(m, addr, lenAddr, sa))
}

// Shutdown is shutdown(2).
func (fs *Files) Shutdown(fd int32, how int32) int64 {
	f, s, err := fs.sockFile(fd)
	if err != nil {
		return ret(0, err)
	}
	defer f.DecRef()
	return ret(0, s.Shutdown(int(how)))
}

// maxOptLen bounds the option values setsockopt reads.
const maxOptLen = 1 << 16

// Setsockopt is setsockopt(2).
func (fs *Files) Setsockopt(m mem.Memory, fd int32, level, name int32, val uint64, n uint32) int64 {
	f, s, err := fs.sockFile(fd)
	if err != nil {
		return ret(0, err)
	}
	defer f.DecRef()
	if int32(n) < 0 {
		return errno(vfs.EINVAL)
	}
	b := make([]byte, min(n, maxOptLen))
	if len(b) > 0 && m.CopyIn(val, b) != nil {
		return errno(vfs.EFAULT)
	}
	if level == socket.SolSocket {
		_, _, caps, _ := fs.sockIDs()
		if err := socket.SetOptPrivilege(int(name), b, caps); err != nil {
			return ret(0, err)
		}
		if name == soBindtodevice || name == soBindtoifindex {
			return ret(0, fs.bindToDevice(s, name, b, caps&(1<<capNetRaw) != 0))
		}
		if name == soAttachFilter {
			if len(b) != 16 { // sizeof(struct sock_fprog)
				return errno(vfs.EINVAL)
			}
			// The program the struct sock_fprog points to: a
			// fault leaves it out, which the option reports as
			// EFAULT after its own checks (EPERM when locked).
			if k, addr := socket.AttachFilterLen(b); k > 0 {
				p := make([]byte, k)
				if m.CopyIn(addr, p) == nil {
					b = append(b, p...)
				} else {
					b = append(b, 0) // a length no program has
				}
			}
		}
	}
	return ret(0, socket.SetOpt(s, int(level), int(name), b))
}

// SO_BINDTODEVICE takes an interface's name, SO_BINDTOIFINDEX its index
// (include/uapi/asm-generic/socket.h).
const (
	soBindtodevice  = 25
	soBindtoifindex = 62
	soAttachFilter  = 26 // SO_GET_FILTER on get
	capNetRaw       = 13 // CAP_NET_RAW
)

// bindToDevice serves SO_BINDTODEVICE and SO_BINDTOIFINDEX: the name,
// cut to IFNAMSIZ-1 bytes, must be an interface's (ENODEV), "" or
// nothing unbinds (net/core/sock.c sock_setbindtodevice).
func (fs *Files) bindToDevice(s socket.Socket, name int32, b []byte, netRaw bool) error {
	idx := 0
	if name == soBindtoifindex {
		v, err := socket.IntArg(b)
		if err != nil {
			return err
		}
		idx = v
	} else {
		b = b[:min(len(b), 15)]
		if i := bytes.IndexByte(b, 0); i >= 0 {
			b = b[:i]
		}
		if len(b) > 0 {
			it := fs.iface(func(it *socket.Interface) bool { return it.Name == string(b) })
			if it == nil {
				return vfs.ENODEV
			}
			idx = it.Index
		}
	}
	return socket.BindToIndex(s, idx, netRaw)
}

// iface returns the first interface match accepts, or nil.
func (fs *Files) iface(match func(*socket.Interface) bool) *socket.Interface {
	if l, ok := fs.proc.sock.inet.(ifaceLister); ok {
		ifs := l.Interfaces()
		for i := range ifs {
			if match(&ifs[i]) {
				return &ifs[i]
			}
		}
	}
	return nil
}

// Getsockopt is getsockopt(2).
func (fs *Files) Getsockopt(m mem.Memory, fd int32, level, name int32, val, lenAddr uint64) int64 {
	f, s, err := fs.sockFile(fd)
	if err != nil {
		return ret(0, err)
	}
	defer f.DecRef()
	n, err := mem.ReadUint32(m, lenAddr)
	if err != nil {
		return errno(vfs.EFAULT)
	}
	if int32(n) < 0 {
		return errno(vfs.EINVAL)
	}
	var b []byte
	if level == socket.SolSocket && name == soBindtodevice {
		// sock_getbindtodevice: the bound interface's name, nothing
		// when unbound, EINVAL if the name does not fit.
		if idx := s.Common().BoundIndex(); idx != 0 {
			it := fs.iface(func(it *socket.Interface) bool { return it.Index == idx })
			if it == nil {
				return errno(vfs.ENODEV)
			}
			if int(n) < len(it.Name)+1 {
				return errno(vfs.EINVAL)
			}
			b = append([]byte(it.Name), 0)
		} else {
			b = []byte{}
		}
	} else {
		b, err = socket.GetOpt(s, int(level), int(name), int(n))
	}
	if need, ok := err.(socket.NeedLen); ok {
		if mem.WriteUint32(m, lenAddr, uint32(need)) != nil {
			return errno(vfs.EFAULT)
		}
		return errno(socket.ERANGE)
	}
	if err != nil {
		return ret(0, err)
	}
	if level == socket.SolSocket && name == soAttachFilter && len(b) > 0 {
		// sk_get_filter counts in instructions, the length given and
		// the one returned: 0 asks how many, fewer than there are is
		// EINVAL.
		insns := uint32(len(b) / 8)
		switch {
		case n == 0:
		case n < insns:
			return errno(vfs.EINVAL)
		case m.CopyOut(val, b) != nil:
			return errno(vfs.EFAULT)
		}
		if mem.WriteUint32(m, lenAddr, insns) != nil {
			return errno(vfs.EFAULT)
		}
		return 0
	}
	k := min(int(n), len(b))
	if k > 0 && m.CopyOut(val, b[:k]) != nil {
		return errno(vfs.EFAULT)
	}
	if mem.WriteUint32(m, lenAddr, uint32(k)) != nil {
		return errno(vfs.EFAULT)
	}
	return 0
}

// send sends src with msg's metadata, waiting as the socket and flags
// say. A blocking send on a stream socket returns when all of src is
// sent, or with what was sent when interrupted or failing.
func (fs *Files) send(intr <-chan struct{}, f *vfs.File, s socket.Socket, src vfs.Buf, msg *socket.Msg) (int64, error) {
	nonblock := f.NonBlocking() || msg.Flags&socket.MsgDontwait != 0
	stream := s.Type() == socket.SockStream
	total := src.Len()
	var done int64
	defer func() {
		// Files the socket did not take stay the caller's to drop.
		for _, r := range msg.Rights {
			r.DecRef()
		}
	}()
	for {
		n, err := sockWait(f, nonblock, vfs.EventsWritable, intr, s.Common().SndTimeo, func() (int64, error) {
			return s.Send(sockCtx{fs}, src.DropFirst(done), msg)
		})
		if err == nil {
			msg.Rights = nil
		}
		done += n
		switch {
		case err != nil && done > 0:
			return done, nil
		case err != nil:
			return 0, err
		case !stream || nonblock || done >= total || n == 0:
			return done, nil
		}
	}
}

// recv receives into dst, waiting as the socket and flags say;
// MSG_WAITALL on a stream socket waits until dst is full, SO_RCVLOWAT
// until it has that many bytes, or the stream ends or a signal comes.
func (fs *Files) recv(intr <-chan struct{}, f *vfs.File, s socket.Socket, dst vfs.Buf, msg *socket.Msg) (int64, error) {
	nonblock := f.NonBlocking() || msg.Flags&socket.MsgDontwait != 0
	// An internet socket's error queue is read without waiting
	// (ip_recv_error); AF_UNIX passes the flag over.
	if msg.Flags&socket.MsgErrqueue != 0 && isInet(s) {
		nonblock = true
	}
	// A blocking stream receive waits for SO_RCVLOWAT bytes, or all of
	// dst with MSG_WAITALL (sock_rcvlowat), not for more than dst holds.
	target := int64(1)
	if s.Type() == socket.SockStream && msg.Flags&(socket.MsgPeek|socket.MsgOOB) == 0 {
		target = min(int64(s.Common().RcvLowat()), dst.Len())
		if msg.Flags&socket.MsgWaitall != 0 {
			target = dst.Len()
		}
	}
	var done int64
	for {
		n, err := sockWait(f, nonblock, vfs.EventsReadable, intr, s.Common().RcvTimeo, func() (int64, error) {
			if done > 0 {
				// Later pieces of a MSG_WAITALL read carry no
				// files or credentials of their own.
				var more socket.Msg
				more.Flags = msg.Flags
				n, err := s.Recv(dst.DropFirst(done), &more)
				for _, r := range more.Rights {
					r.DecRef()
				}
				return n, err
			}
			return s.Recv(dst, msg)
		})
		done += n
		switch {
		case err != nil && done > 0:
			return done, nil
		case err != nil:
			return 0, err
		case nonblock || n == 0 || done >= target:
			return done, nil
		}
	}
}

// Sendto is sendto(2) (and send(2)).
func (fs *Files) Sendto(m mem.Memory, intr <-chan struct{}, fd int32, buf, n uint64, flags uint32, addr uint64, addrLen uint32) int64 {
	f, s, err := fs.sockFile(fd)
	if err != nil {
		return ret(0, err)
	}
	defer f.DecRef()
	msg := socket.Msg{Flags: int(flags)}
	if addr != 0 {
		if msg.Addr, err = readSockaddr(m, addr, addrLen); err != nil {
			return ret(0, err)
		}
	}
	return ret(fs.send(intr, f, s, vfs.NewBuf(m, buf, min(n, vfs.MaxRW)), &msg))
}

// Recvfrom is recvfrom(2) (and recv(2)).
func (fs *Files) Recvfrom(m mem.Memory, intr <-chan struct{}, fd int32, buf, n uint64, flags uint32, addr, lenAddr uint64) int64 {
	f, s, err := fs.sockFile(fd)
	if err != nil {
		return ret(0, err)
	}
	defer f.DecRef()
	msg := socket.Msg{Flags: int(flags)}
	got, err := fs.recv(intr, f, s, vfs.NewBuf(m, buf, min(n, vfs.MaxRW)), &msg)
	for _, r := range msg.Rights {
		r.DecRef()
	}
	if err != nil {
		return ret(0, err)
	}
	if addr != 0 && lenAddr != 0 {
		if msg.Addr == nil {
			// A stream has no sender address: the length is 0.
			if mem.WriteUint32(m, lenAddr, 0) != nil {
				return errno(vfs.EFAULT)
			}
		} else if err := writeSockaddr(m, addr, lenAddr, msg.Addr); err != nil {
			return ret(0, err)
		}
	}
	return got
}

// msghdr is struct msghdr (include/linux/socket.h, x86-64 layout:
// msg_name u64 at 0, msg_namelen u32 at 8, msg_iov u64 at 16,
// msg_iovlen u64 at 24, msg_control u64 at 32, msg_controllen u64 at 40,
// msg_flags u32 at 48; 56 bytes).
type msghdr struct {
	name, iov, iovLen, control, controlLen uint64
	nameLen                                uint32
}

const msghdrSize = 56

func readMsghdr(m mem.Memory, addr uint64) (msghdr, error) {
	var b [msghdrSize]byte
	if m.CopyIn(addr, b[:]) != nil {
		return msghdr{}, vfs.EFAULT
	}
	le := binary.LittleEndian
	return msghdr{
		name: le.Uint64(b[0:]), nameLen: le.Uint32(b[8:]), iov: le.Uint64(b[16:]),
		iovLen: le.Uint64(b[24:]), control: le.Uint64(b[32:]), controlLen: le.Uint64(b[40:]),
	}, nil
}

// Control messages (include/linux/socket.h struct cmsghdr: cmsg_len u64,
// cmsg_level i32, cmsg_type i32, then data; each aligned to 8 bytes).
const (
	cmsgHdr  = 16
	scmMaxFD = 253 // SCM_MAX_FD, include/net/scm.h
)

func cmsgAlign(n uint64) uint64 { return (n + 7) &^ 7 }

// parseControl reads the control messages of a send: SCM_RIGHTS (files,
// with references the caller must drop or hand over) and
// SCM_CREDENTIALS.
func (fs *Files) parseControl(m mem.Memory, s socket.Socket, addr, n uint64, msg *socket.Msg) error {
	if n == 0 {
		return nil
	}
	if n > 1<<20 {
		return socket.ENOBUFS
	}
	b := make([]byte, n)
	if m.CopyIn(addr, b) != nil {
		return vfs.EFAULT
	}
	le := binary.LittleEndian
	for off := uint64(0); off+cmsgHdr <= n; {
		l := le.Uint64(b[off:])
		if l < cmsgHdr || l > n-off {
			return vfs.EINVAL
		}
		level, typ := int32(le.Uint32(b[off+8:])), int32(le.Uint32(b[off+12:]))
		data := b[off+cmsgHdr : off+l]
		off += cmsgAlign(l)
		if isInet(s) {
			if level == socket.SolSocket {
				if err := fs.sockCmsg(s, int(typ), data); err != nil {
					return err
				}
				continue
			}
			// The socket takes the messages of its levels.
			msg.Control = append(msg.Control, socket.Cmsg{Level: int(level), Type: int(typ), Data: data})
			continue
		}
		if s.Domain() != socket.AFUnix {
			return vfs.EINVAL
		}
		// __scm_send passes over messages of other levels.
		if level != socket.SolSocket {
			continue
		}
		switch typ {
		case socket.SCMRights:
			// scm_fp_copy: bytes past the last whole descriptor are
			// ignored, none at all is no error, more than SCM_MAX_FD
			// in the whole send is.
			k := len(data) / 4
			if len(msg.Rights)+k > scmMaxFD {
				return vfs.EINVAL
			}
			if _, _, caps, _ := fs.sockIDs(); caps&(1<<capSysResource|1<<capSysAdmin) == 0 {
				msg.FilesLimit = fs.Limit()
			}
			for i := 0; i < k; i++ {
				f, err := fs.file(int32(le.Uint32(data[4*i:])))
				if err != nil {
					return err
				}
				msg.Rights = append(msg.Rights, f)
			}
		case socket.SCMCredentials:
			// __scm_send: cmsg_len must be exactly CMSG_LEN(sizeof(struct ucred)).
			if len(data) != 12 {
				return vfs.EINVAL
			}
			c := socket.Ucred{Pid: int32(le.Uint32(data)), Uid: int32(le.Uint32(data[4:])), Gid: int32(le.Uint32(data[8:]))}
			if err := fs.checkCreds(c); err != nil {
				return err
			}
			msg.Creds = &c
		default:
			return vfs.EINVAL
		}
	}
	return nil
}

func isInet(s socket.Socket) bool { return s.Domain() == socket.AFInet || s.Domain() == socket.AFInet6 }

// SOL_SOCKET control messages of an internet socket's send
// (include/uapi/asm-generic/socket.h) and SO_TIMESTAMPING's flags that
// ask for transmit timestamps (SOF_TIMESTAMPING_TX_RECORD_MASK).
const (
	soPriority        = 12
	soMark            = 36
	soTimestampingOld = 37
	soTimestampingNew = 65
	scmTxtime         = 61
	tsTxRecordMask    = 1<<0 | 1<<1 | 1<<8 | 1<<9 | 1<<18
	capNetAdmin       = 12 // CAP_NET_ADMIN
	capSysResource    = 24 // CAP_SYS_RESOURCE
)

// sockCmsg checks a SOL_SOCKET control message of an internet socket's
// send (net/core/sock.c __sock_cmsg_send): SO_MARK and SO_PRIORITY as
// the options need privilege, SCM_TXTIME once SO_TXTIME is on; none has
// an effect Cocoon's stack could show (no packet marks, no queueing
// disciplines). Transmit timestamps Cocoon does not take (EOPNOTSUPP).
// A TCP send answers every refusal EINVAL (tcp_sendmsg_locked).
func (fs *Files) sockCmsg(s socket.Socket, typ int, data []byte) error {
	err := func() error {
		_, _, caps, _ := fs.sockIDs()
		net := caps&(1<<capNetRaw|1<<capNetAdmin) != 0
		switch typ {
		case soMark, soPriority:
			if len(data) != 4 {
				return vfs.EINVAL
			}
			if v := binary.LittleEndian.Uint32(data); !net && (typ == soMark || v > 6) {
				return vfs.EPERM
			}
		case soTimestampingOld, soTimestampingNew:
			if len(data) != 4 {
				return vfs.EINVAL
			}
			v := binary.LittleEndian.Uint32(data)
			if v&^tsTxRecordMask != 0 {
				return vfs.EINVAL
			}
			if v != 0 {
				return socket.EOPNOTSUPP
			}
		case scmTxtime:
			if len(data) != 8 || !s.Common().Txtime() {
				return vfs.EINVAL
			}
		case socket.SCMRights, socket.SCMCredentials:
			// Passed over: they are AF_UNIX's.
		default:
			return vfs.EINVAL
		}
		return nil
	}()
	if err != nil && s.Type() == socket.SockStream {
		return vfs.EINVAL
	}
	return err
}

// Sendmsg is sendmsg(2).
func (fs *Files) Sendmsg(m mem.Memory, intr <-chan struct{}, fd int32, msgAddr uint64, flags uint32) int64 {
	f, s, err := fs.sockFile(fd)
	if err != nil {
		return ret(0, err)
	}
	defer f.DecRef()
	return ret(fs.sendmsg(m, intr, f, s, msgAddr, flags))
}

func (fs *Files) sendmsg(m mem.Memory, intr <-chan struct{}, f *vfs.File, s socket.Socket, msgAddr uint64, flags uint32) (int64, error) {
	h, err := readMsghdr(m, msgAddr)
	if err != nil {
		return 0, err
	}
	msg := socket.Msg{Flags: int(flags)}
	if h.name != 0 && h.nameLen != 0 {
		if msg.Addr, err = readSockaddr(m, h.name, h.nameLen); err != nil {
			return 0, err
		}
	}
	iov, err := readIovec(m, h.iov, h.iovLen)
	if err != nil {
		return 0, err
	}
	if err := fs.parseControl(m, s, h.control, h.controlLen, &msg); err != nil {
		for _, r := range msg.Rights {
			r.DecRef()
		}
		return 0, err
	}
	return fs.send(intr, f, s, vfs.NewBufIovec(m, iov), &msg)
}

// Recvmsg is recvmsg(2).
func (fs *Files) Recvmsg(m mem.Memory, intr <-chan struct{}, fd int32, msgAddr uint64, flags uint32) int64 {
	f, s, err := fs.sockFile(fd)
	if err != nil {
		return ret(0, err)
	}
	defer f.DecRef()
	return ret(fs.recvmsg(m, intr, f, s, msgAddr, flags))
}

func (fs *Files) recvmsg(m mem.Memory, intr <-chan struct{}, f *vfs.File, s socket.Socket, msgAddr uint64, flags uint32) (int64, error) {
	h, err := readMsghdr(m, msgAddr)
	if err != nil {
		return 0, err
	}
	if int32(h.nameLen) < 0 {
		return 0, vfs.EINVAL
	}
	iov, err := readIovec(m, h.iov, h.iovLen)
	if err != nil {
		return 0, err
	}
	msg := socket.Msg{Flags: int(flags)}
	n, err := fs.recv(intr, f, s, vfs.NewBufIovec(m, iov), &msg)
	if err != nil {
		return 0, err
	}
	le := binary.LittleEndian
	var nameLen uint32
	if h.name != 0 && msg.Addr != nil {
		k := min(int(h.nameLen), len(msg.Addr))
		if k > 0 && m.CopyOut(h.name, msg.Addr[:k]) != nil {
			fs.dropRights(&msg)
			return 0, vfs.EFAULT
		}
		nameLen = uint32(len(msg.Addr))
	}
	// No control buffer is no room, whatever its length says (scm_recv:
	// !msg_control, MSG_CTRUNC).
	room := h.controlLen
	if h.control == 0 {
		room = 0
	}
	files := len(msg.Rights) > 0
	ctl, outFlags, fds := fs.buildControl(s, &msg, room, flags)
	if len(ctl) > 0 && m.CopyOut(h.control, ctl) != nil {
		// A control buffer the caller cannot write fails quietly
		// (put_cmsg's EFAULT is ignored, scm_detach_fds installs no
		// file it cannot tell): the data is received, with no control
		// messages, and MSG_CTRUNC if files were lost.
		for _, fd := range fds {
			fs.tab().Remove(fd)
		}
		ctl = nil
		if files {
			outFlags |= socket.MsgCtrunc
		}
	}
	var b [8]byte
	le.PutUint32(b[:4], nameLen)
	if m.CopyOut(msgAddr+8, b[:4]) != nil {
		return 0, vfs.EFAULT
	}
	le.PutUint64(b[:], uint64(len(ctl)))
	if m.CopyOut(msgAddr+40, b[:]) != nil {
		return 0, vfs.EFAULT
	}
	// msg_flags starts as the caller's MSG_CMSG_CLOEXEC (___sys_recvmsg,
	// net/socket.c), then gains what the socket reports.
	le.PutUint32(b[:4], uint32(msg.OutFlags|outFlags|int(flags&socket.MsgCmsgCloexec)))
	if m.CopyOut(msgAddr+48, b[:4]) != nil {
		return 0, vfs.EFAULT
	}
	return n, nil
}

func (fs *Files) dropRights(msg *socket.Msg) {
	for _, r := range msg.Rights {
		r.DecRef()
	}
	msg.Rights = nil
}

// buildControl makes the control messages a receive returns in room
// bytes: the timestamps the socket asks for (sock_recv_timestamp), the
// sender's credentials when SO_PASSCRED is on, then the files installed
// as new descriptors, as many as fit (scm_recv, scm_detach_fds in
// net/core/scm.c); it returns MSG_CTRUNC when something did not fit, and
// the descriptors it installed.
func (fs *Files) buildControl(s socket.Socket, msg *socket.Msg, room uint64, flags uint32) ([]byte, int, []int32) {
	le := binary.LittleEndian
	var out []byte
	var fds []int32
	trunc := 0
	put := func(level, typ int, data []byte) {
		var cut bool
		out, cut = putCmsg(out, room, level, typ, data)
		if cut {
			trunc = socket.MsgCtrunc
		}
	}
	if !msg.NoStamps {
		stamps(s, msg, put)
	}
	for _, c := range msg.Control {
		put(c.Level, c.Type, c.Data)
	}
	if msg.Creds != nil && socket.PassCred(s) {
		var c [12]byte
		le.PutUint32(c[0:], uint32(msg.Creds.Pid))
		le.PutUint32(c[4:], uint32(msg.Creds.Uid))
		le.PutUint32(c[8:], uint32(msg.Creds.Gid))
		put(socket.SolSocket, socket.SCMCredentials, c[:])
	}
	if len(msg.Rights) > 0 {
		left := int64(room) - int64(len(out)) - cmsgHdr
		fit := 0
		if left > 0 {
			fit = int(min(int64(len(msg.Rights)), left/4))
		}
		for _, r := range msg.Rights[:fit] {
			fd, err := fs.tab().Install(r, 0, fs.Limit(), flags&socket.MsgCmsgCloexec != 0)
			if err != nil {
				r.DecRef()
				trunc = socket.MsgCtrunc
				continue
			}
			fds = append(fds, fd)
		}
		for _, r := range msg.Rights[fit:] {
			r.DecRef()
			trunc = socket.MsgCtrunc
		}
		msg.Rights = nil
		if len(fds) > 0 {
			l := uint64(cmsgHdr + 4*len(fds))
			c := make([]byte, cmsgAlign(l))
			le.PutUint64(c, l)
			le.PutUint32(c[8:], socket.SolSocket)
			le.PutUint32(c[12:], socket.SCMRights)
			for i, fd := range fds {
				le.PutUint32(c[cmsgHdr+4*i:], uint32(fd))
			}
			out = append(out, c[:min(uint64(len(c)), room-min(room, uint64(len(out))))]...)
		}
	}
	return out, trunc, fds
}

// putCmsg appends a control message to out, which may hold room bytes,
// as put_cmsg does: with room for the header, the message cut to the room
// (cmsg_len saying what was written) and cut true; without, nothing and
// cut true.
func putCmsg(out []byte, room uint64, level, typ int, data []byte) ([]byte, bool) {
	left := room - min(room, uint64(len(out)))
	if left < cmsgHdr {
		return out, true
	}
	l := uint64(cmsgHdr + len(data))
	c := make([]byte, cmsgAlign(l))
	binary.LittleEndian.PutUint64(c, min(l, left))
	binary.LittleEndian.PutUint32(c[8:], uint32(level))
	binary.LittleEndian.PutUint32(c[12:], uint32(typ))
	copy(c[cmsgHdr:], data)
	return append(out, c[:min(uint64(len(c)), left)]...), left < l
}

// stamps adds the timestamp control messages of a received message
// (net/socket.c __sock_recv_timestamp): SO_TIMESTAMP's struct timeval or
// SO_TIMESTAMPNS's struct timespec, stamping the message now if it was
// not stamped on its way; then SO_TIMESTAMPING's three struct timespec
// (software, legacy, hardware) for a stamped message. An internet socket
// stamps every message it receives while it asks for software receive
// stamps (SOF_TIMESTAMPING_RX_SOFTWARE).
func stamps(s socket.Socket, msg *socket.Msg, put func(level, typ int, data []byte)) {
	c := s.Common()
	stamp, ns, timestamping, newNames := c.Stamps()
	t := msg.Stamp
	now := func() int64 {
		n, _ := clock.Now(clock.Realtime)
		return n
	}
	if t == 0 && s.Domain() != socket.AFUnix && c.RxSoftware() {
		t = now()
	}
	le := binary.LittleEndian
	if stamp {
		if t == 0 {
			t = now()
		}
		var b [16]byte
		le.PutUint64(b[0:], uint64(t/1e9))
		typ := socket.SCMTimestampns
		if ns {
			le.PutUint64(b[8:], uint64(t%1e9))
		} else {
			typ = socket.SCMTimestamp
			le.PutUint64(b[8:], uint64(t%1e9/1e3))
		}
		if newNames {
			typ = map[int]int{socket.SCMTimestamp: socket.SCMTimestampNew, socket.SCMTimestampns: socket.SCMTimestampnsNw}[typ]
		}
		put(socket.SolSocket, typ, b[:])
	}
	if timestamping && t != 0 {
		var b [48]byte
		le.PutUint64(b[0:], uint64(t/1e9))
		le.PutUint64(b[8:], uint64(t%1e9))
		typ := socket.SCMTimestamping
		if newNames {
			typ = socket.SCMTimestamping2
		}
		put(socket.SolSocket, typ, b[:])
	}
}

// mmsghdrSize is sizeof(struct mmsghdr): a msghdr, then msg_len u32 at
// 56, padded to 64.
const mmsghdrSize = 64

// Sendmmsg is sendmmsg(2).
func (fs *Files) Sendmmsg(m mem.Memory, intr <-chan struct{}, fd int32, vec uint64, vlen, flags uint32) int64 {
	f, s, err := fs.sockFile(fd)
	if err != nil {
		return ret(0, err)
	}
	defer f.DecRef()
	vlen = min(vlen, uioMaxIov)
	var i uint32
	for ; i < vlen; i++ {
		h := vec + uint64(i)*mmsghdrSize
		n, err := fs.sendmsg(m, intr, f, s, h, flags)
		if err != nil {
			if i == 0 {
				return ret(0, err)
			}
			break
		}
		if mem.WriteUint32(m, h+56, uint32(n)) != nil {
			if i == 0 {
				return errno(vfs.EFAULT)
			}
			break
		}
	}
	return int64(i)
}

// Recvmmsg is recvmmsg(2). The timeout is checked after each message, as
// Linux does (recvmmsg(2), BUGS).
func (fs *Files) Recvmmsg(m mem.Memory, intr <-chan struct{}, fd int32, vec uint64, vlen, flags uint32, timeout uint64) int64 {
	f, s, err := fs.sockFile(fd)
	if err != nil {
		return ret(0, err)
	}
	defer f.DecRef()
	var deadline time.Time
	if timeout != 0 {
		var b [16]byte
		if m.CopyIn(timeout, b[:]) != nil {
			return errno(vfs.EFAULT)
		}
		sec, nsec := int64(binary.LittleEndian.Uint64(b[:])), int64(binary.LittleEndian.Uint64(b[8:]))
		if sec < 0 || nsec < 0 || nsec >= 1e9 {
			return errno(vfs.EINVAL)
		}
		deadline = time.Now().Add(time.Duration(sec)*time.Second + time.Duration(nsec))
	}
	vlen = min(vlen, uioMaxIov)
	var i uint32
	for ; i < vlen; i++ {
		h := vec + uint64(i)*mmsghdrSize
		fl := flags
		if i > 0 && flags&socket.MsgWaitforone != 0 {
			fl |= socket.MsgDontwait
		}
		n, err := fs.recvmsg(m, intr, f, s, h, fl&^socket.MsgWaitforone)
		if err != nil {
			if i == 0 {
				return ret(0, err)
			}
			break
		}
		if mem.WriteUint32(m, h+56, uint32(n)) != nil {
			if i == 0 {
				return errno(vfs.EFAULT)
			}
			break
		}
		if !deadline.IsZero() && !time.Now().Before(deadline) {
			i++
			break
		}
	}
	return int64(i)
}
