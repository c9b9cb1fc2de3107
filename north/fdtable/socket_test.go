package fdtable

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/socket"
	"github.com/cocoon-vm/cocoon/north/socket/inet"
)

// socketEnv is an env with internet sockets.
func socketEnv(t *testing.T) *env {
	e := newEnv(t)
	st, err := inet.New(0)
	if err != nil {
		t.Fatal(err)
	}
	e.f.SetNetwork(st)
	return e
}

func (e *env) sock(family, typ int) int32 {
	e.t.Helper()
	fd := e.f.Socket(int32(family), int32(typ), 0)
	if fd < 0 {
		e.t.Fatalf("socket(%d, %#x) = %d", family, typ, fd)
	}
	return int32(fd)
}

func (e *env) pair(typ int) (int32, int32) {
	e.t.Helper()
	sv := e.alloc(8)
	if r := e.f.Socketpair(e.m, socket.AFUnix, int32(typ), 0, sv); r != 0 {
		e.t.Fatalf("socketpair = %d", r)
	}
	return int32(e.u32(sv)), int32(e.u32(sv + 4))
}

// unixAddr is a sockaddr_un; a name starting with "@" is abstract.
func unixAddr(name string) []byte {
	b := binary.LittleEndian.AppendUint16(nil, socket.AFUnix)
	if name != "" && name[0] == '@' {
		return append(append(b, 0), name[1:]...)
	}
	return append(append(b, name...), 0)
}

// inet4 is a sockaddr_in.
func inet4(ip [4]byte, port uint16) []byte {
	b := make([]byte, 16)
	binary.LittleEndian.PutUint16(b, socket.AFInet)
	binary.BigEndian.PutUint16(b[2:], port)
	copy(b[4:], ip[:])
	return b
}

var localhost = [4]byte{127, 0, 0, 1}

func (e *env) bind(fd int32, sa []byte) int64 {
	return e.f.Bind(e.m, fd, e.put(sa), uint32(len(sa)))
}

func (e *env) connect(fd int32, sa []byte) int64 {
	return e.f.Connect(e.m, nil, fd, e.put(sa), uint32(len(sa)))
}

func (e *env) sockname(fd int32, peer bool) ([]byte, int64) {
	a, l := e.alloc(128), e.alloc(4)
	binary.LittleEndian.PutUint32(e.m.Data[l-memBase:], 128)
	r := e.f.Getsockname(e.m, fd, a, l, peer)
	return e.get(a, int(e.u32(l))), r
}

func (e *env) setInt(fd int32, level, name, v int) int64 {
	return e.f.Setsockopt(e.m, fd, int32(level), int32(name), e.put(socket.Int(v)), 4)
}

func (e *env) getInt(fd int32, level, name int) (int, int64) {
	a, l := e.alloc(8), e.alloc(4)
	binary.LittleEndian.PutUint32(e.m.Data[l-memBase:], 4)
	r := e.f.Getsockopt(e.m, fd, int32(level), int32(name), a, l)
	return int(int32(e.u32(a))), r
}

// msg builds a struct msghdr with one iovec of data (or room for n bytes
// when data is nil), control bytes ctl (or room for ctlRoom) and a name
// buffer of 128 bytes.
func (e *env) msg(data []byte, n int, ctl []byte, ctlRoom int) (hdr, buf, ctlAddr uint64) {
	if data != nil {
		buf, n = e.put(data), len(data)
	} else {
		buf = e.alloc(n)
	}
	iov := e.alloc(16)
	binary.LittleEndian.PutUint64(e.m.Data[iov-memBase:], buf)
	binary.LittleEndian.PutUint64(e.m.Data[iov-memBase+8:], uint64(n))
	if ctl != nil {
		ctlAddr, ctlRoom = e.put(ctl), len(ctl)
	} else if ctlRoom > 0 {
		ctlAddr = e.alloc(ctlRoom)
	}
	hdr = e.alloc(msghdrSize)
	le := binary.LittleEndian
	d := e.m.Data[hdr-memBase:]
	le.PutUint64(d[16:], iov)
	le.PutUint64(d[24:], 1)
	le.PutUint64(d[32:], ctlAddr)
	le.PutUint64(d[40:], uint64(ctlRoom))
	return hdr, buf, ctlAddr
}

func cmsg(level, typ int, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(16+len(data)))
	b = binary.LittleEndian.AppendUint32(b, uint32(level))
	b = binary.LittleEndian.AppendUint32(b, uint32(typ))
	b = append(b, data...)
	for len(b)%8 != 0 {
		b = append(b, 0)
	}
	return b
}

func TestSocketErrors(t *testing.T) {
	e := socketEnv(t)
	r, _ := e.pipe(0)
	buf := e.alloc(16)
	for _, c := range []struct {
		name string
		got  int64
		want int64
	}{
		{"netlink audit", e.f.Socket(socket.AFNetlink, socket.SockDgram, 9), neg(linux.EPROTONOSUPPORT)},
		{"packet", e.f.Socket(socket.AFPacket, socket.SockRaw, 0), neg(linux.EAFNOSUPPORT)},
		{"bad type flags", e.f.Socket(socket.AFInet, socket.SockStream|linux.OAppend, 0), neg(linux.EINVAL)},
		{"tcp as dgram", e.f.Socket(socket.AFInet, socket.SockDgram, 6), neg(linux.EPROTONOSUPPORT)},
		{"unix raw", e.f.Socket(socket.AFUnix, socket.SockRaw, 0), neg(linux.ESOCKTNOSUPPORT)},
		{"inet socketpair", e.f.Socketpair(e.m, socket.AFInet, socket.SockStream, 0, buf), neg(linux.EOPNOTSUPP)},
		{"bind a pipe", e.bind(r, inet4(localhost, 0)), neg(linux.ENOTSOCK)},
		{"listen on a bad fd", e.f.Listen(99, 1), neg(linux.EBADF)},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	s := e.sock(socket.AFInet, socket.SockStream)
	if r := e.bind(s, unixAddr("@x")); r != neg(linux.EAFNOSUPPORT) {
		t.Errorf("bind AF_INET socket to AF_UNIX address = %d", r)
	}
	if r := e.f.Bind(e.m, s, e.put(inet4(localhost, 0)), 200); r != neg(linux.EINVAL) {
		t.Errorf("bind with addrlen 200 = %d", r)
	}
	if _, r := e.getInt(s, socket.SolSocket, 9999); r != neg(linux.ENOPROTOOPT) {
		t.Errorf("unknown option = %d, want ENOPROTOOPT", r)
	}
	if r := e.f.Shutdown(s, 0); r != neg(linux.ENOTCONN) {
		t.Errorf("shutdown of an unconnected TCP socket = %d, want ENOTCONN", r)
	}
	if _, r := e.sockname(s, true); r != neg(linux.ENOTCONN) {
		t.Errorf("getpeername unconnected = %d, want ENOTCONN", r)
	}
}

func TestUnixStreamPair(t *testing.T) {
	e := socketEnv(t)
	a, b := e.pair(socket.SockStream)
	e.write(a, "hello ")
	e.write(a, "world")
	if got, _ := e.read(b, 100); got != "hello world" {
		t.Errorf("read = %q, want both writes", got)
	}
	// FIONREAD counts unread bytes.
	e.write(b, "12345")
	n := e.alloc(4)
	if r := e.f.Ioctl(e.m, a, linux.FIONREAD, n); r != 0 || e.u32(n) != 5 {
		t.Errorf("FIONREAD = %d, %d bytes, want 5", r, e.u32(n))
	}
	// Shut the write side: the reader drains, then sees end of file.
	if r := e.f.Shutdown(b, socket.ShutWr); r != 0 {
		t.Fatalf("shutdown = %d", r)
	}
	if got := e.readAll(a); got != "12345" {
		t.Errorf("readAll = %q", got)
	}
	if r := e.f.Write(e.m, nil, b, e.put([]byte("x")), 1); r != neg(linux.EPIPE) {
		t.Errorf("write after SHUT_WR = %d, want EPIPE", r)
	}
	// The peer gone: EPIPE for the writer.
	e.f.Close(b)
	if r := e.f.Write(e.m, nil, a, e.put([]byte("x")), 1); r != neg(linux.EPIPE) {
		t.Errorf("write to a closed peer = %d, want EPIPE", r)
	}
	// A non-blocking read of an empty socket.
	c, d := e.pair(socket.SockStream | socket.SockNonblock)
	if _, r := e.read(c, 4); r != neg(linux.EAGAIN) {
		t.Errorf("empty non-blocking read = %d, want EAGAIN", r)
	}
	// SO_PEERCRED names the pair's creator; SO_TYPE and SO_DOMAIN.
	if v, r := e.getInt(d, socket.SolSocket, socket.SoType); r != 0 || v != socket.SockStream {
		t.Errorf("SO_TYPE = %d (%d)", v, r)
	}
	if v, r := e.getInt(d, socket.SolSocket, socket.SoDomain); r != 0 || v != socket.AFUnix {
		t.Errorf("SO_DOMAIN = %d (%d)", v, r)
	}
}

// TestUnixEpollEdge checks that an edge-triggered watch reports a socket
// once per arrival of data, and a level-triggered one while data is
// there.
func TestUnixEpollEdge(t *testing.T) {
	e := socketEnv(t)
	a, b := e.pair(socket.SockStream | socket.SockNonblock)
	ep := int32(e.f.EpollCreate1(0))
	for _, c := range []struct {
		fd    int32
		flags uint32
	}{{b, linux.EpollIn | linux.EpollEt}, {a, linux.EpollIn}} {
		ev := e.alloc(12)
		binary.LittleEndian.PutUint32(e.m.Data[ev-memBase:], c.flags)
		binary.LittleEndian.PutUint64(e.m.Data[ev-memBase+4:], uint64(c.fd))
		if r := e.f.EpollCtl(e.m, ep, linux.EpollCtlAdd, c.fd, ev); r != 0 {
			t.Fatalf("epoll_ctl = %d", r)
		}
	}
	wait := func() map[int32]bool {
		out := e.alloc(12 * 4)
		n := e.f.EpollPwait(e.m, nil, ep, out, 4, 0)
		got := map[int32]bool{}
		for i := 0; i < int(n); i++ {
			got[int32(e.u64(out+uint64(12*i)+4))] = true
		}
		return got
	}
	if got := wait(); len(got) != 0 {
		t.Fatalf("ready before any data: %v", got)
	}
	e.write(a, "x")
	e.write(b, "y")
	if got := wait(); !got[a] || !got[b] {
		t.Fatalf("after writes: %v, want both", got)
	}
	if got := wait(); !got[a] || got[b] {
		t.Errorf("second wait: %v, want only the level-triggered a", got)
	}
	e.write(a, "z")
	if got := wait(); !got[b] {
		t.Errorf("after more data: %v, want b again", got)
	}
}

func TestUnixRights(t *testing.T) {
	e := socketEnv(t)
	a, b := e.pair(socket.SockStream)
	r, w := e.pipe(0)
	e.write(w, "via the passed descriptor")
	e.f.Close(w)
	fds := binary.LittleEndian.AppendUint32(nil, uint32(r))
	hdr, _, _ := e.msg([]byte("m"), 0, cmsg(socket.SolSocket, socket.SCMRights, fds), 0)
	if n := e.f.Sendmsg(e.m, nil, a, hdr, 0); n != 1 {
		t.Fatalf("sendmsg = %d", n)
	}
	e.f.Close(r)
	rh, buf, ctl := e.msg(nil, 8, nil, 64)
	if n := e.f.Recvmsg(e.m, nil, b, rh, socket.MsgCmsgCloexec); n != 1 || e.get(buf, 1)[0] != 'm' {
		t.Fatalf("recvmsg = %d", n)
	}
	if fl := e.u32(rh + 48); fl != socket.MsgCmsgCloexec {
		t.Errorf("msg_flags %#x, want MSG_CMSG_CLOEXEC as passed", fl)
	}
	clen := e.u64(rh + 40)
	if clen != 24 || e.u64(ctl) != 20 || e.u32(ctl+8) != socket.SolSocket || e.u32(ctl+12) != socket.SCMRights {
		t.Fatalf("control: len %d, %x", clen, e.get(ctl, int(clen)))
	}
	got := int32(e.u32(ctl + 16))
	if fl := e.f.Fcntl(e.m, got, linux.FGetfd, 0); fl != linux.FdCloexec {
		t.Errorf("received fd flags %d, want FD_CLOEXEC", fl)
	}
	if s := e.readAll(got); s != "via the passed descriptor" {
		t.Errorf("read through the received fd: %q", s)
	}

	// No room for the descriptor: MSG_CTRUNC and no new descriptor.
	r2, _ := e.pipe(0)
	hdr, _, _ = e.msg([]byte("n"), 0, cmsg(socket.SolSocket, socket.SCMRights, binary.LittleEndian.AppendUint32(nil, uint32(r2))), 0)
	if n := e.f.Sendmsg(e.m, nil, a, hdr, 0); n != 1 {
		t.Fatalf("sendmsg = %d", n)
	}
	before := len(e.f.Table().FDs())
	rh, _, _ = e.msg(nil, 8, nil, 0)
	if n := e.f.Recvmsg(e.m, nil, b, rh, 0); n != 1 {
		t.Fatalf("recvmsg = %d", n)
	}
	if fl := e.u32(rh + 48); fl&socket.MsgCtrunc == 0 {
		t.Errorf("msg_flags %#x, want MSG_CTRUNC", fl)
	}
	if after := len(e.f.Table().FDs()); after != before {
		t.Errorf("descriptors %d -> %d without room for them", before, after)
	}
	// A bad descriptor in SCM_RIGHTS: EBADF, nothing sent.
	hdr, _, _ = e.msg([]byte("o"), 0, cmsg(socket.SolSocket, socket.SCMRights, binary.LittleEndian.AppendUint32(nil, 77)), 0)
	if n := e.f.Sendmsg(e.m, nil, a, hdr, 0); n != neg(linux.EBADF) {
		t.Errorf("sendmsg with a bad fd = %d, want EBADF", n)
	}
}

func TestUnixCredentials(t *testing.T) {
	e := socketEnv(t)
	a, b := e.pair(socket.SockDgram)
	if r := e.setInt(b, socket.SolSocket, socket.SoPasscred, 1); r != 0 {
		t.Fatal(r)
	}
	e.write(a, "c")
	rh, _, ctl := e.msg(nil, 8, nil, 64)
	if n := e.f.Recvmsg(e.m, nil, b, rh, 0); n != 1 {
		t.Fatalf("recvmsg = %d", n)
	}
	if e.u32(ctl+12) != socket.SCMCredentials || e.u32(ctl+16) != 1 || e.u32(ctl+20) != 0 {
		t.Errorf("credentials message %x", e.get(ctl, 32))
	}
	// Claiming another pid fails.
	cred := binary.LittleEndian.AppendUint32(nil, 42)
	cred = binary.LittleEndian.AppendUint32(cred, 0)
	cred = binary.LittleEndian.AppendUint32(cred, 0)
	hdr, _, _ := e.msg([]byte("x"), 0, cmsg(socket.SolSocket, socket.SCMCredentials, cred), 0)
	if n := e.f.Sendmsg(e.m, nil, a, hdr, 0); n != neg(linux.ESRCH) {
		t.Errorf("sendmsg claiming pid 42 = %d, want ESRCH", n)
	}
}

func TestUnixDatagramNames(t *testing.T) {
	e := socketEnv(t)
	srv := e.sock(socket.AFUnix, socket.SockDgram)
	if r := e.bind(srv, unixAddr("@srv")); r != 0 {
		t.Fatal(r)
	}
	other := e.sock(socket.AFUnix, socket.SockDgram)
	if r := e.bind(other, unixAddr("@srv")); r != neg(linux.EADDRINUSE) {
		t.Errorf("second bind = %d, want EADDRINUSE", r)
	}
	cli := e.sock(socket.AFUnix, socket.SockDgram)
	if r := e.bind(cli, unixAddr("@cli")); r != 0 {
		t.Fatal(r)
	}
	to := unixAddr("@srv")
	data := e.put([]byte("datagram"))
	if n := e.f.Sendto(e.m, nil, cli, data, 8, 0, e.put(to), uint32(len(to))); n != 8 {
		t.Fatalf("sendto = %d", n)
	}
	buf, from, fl := e.alloc(4), e.alloc(128), e.alloc(4)
	binary.LittleEndian.PutUint32(e.m.Data[fl-memBase:], 128)
	// Too small a buffer: the rest is lost; MSG_TRUNC gives the length.
	if n := e.f.Recvfrom(e.m, nil, srv, buf, 4, socket.MsgTrunc, from, fl); n != 8 {
		t.Errorf("recvfrom(MSG_TRUNC) = %d, want the datagram's 8", n)
	}
	if got := string(e.get(from, int(e.u32(fl)))); got != string(unixAddr("@cli")[:6]) {
		t.Errorf("from %q", got)
	}
	if n := e.f.Sendto(e.m, nil, cli, data, 8, 0, e.put(unixAddr("@none")), 7); n != neg(linux.ECONNREFUSED) {
		t.Errorf("sendto an unbound name = %d, want ECONNREFUSED", n)
	}
	// The queue fills: a non-blocking sender gets EAGAIN.
	for i := 0; i < maxDgram; i++ {
		if n := e.f.Sendto(e.m, nil, cli, data, 8, socket.MsgDontwait, e.put(to), uint32(len(to))); n != 8 {
			t.Fatalf("sendto %d = %d", i, n)
		}
	}
	if n := e.f.Sendto(e.m, nil, cli, data, 8, socket.MsgDontwait, e.put(to), uint32(len(to))); n != neg(linux.EAGAIN) {
		t.Errorf("sendto a full socket = %d, want EAGAIN", n)
	}
}

// maxDgram is how many datagrams an AF_UNIX socket not connected back
// to their sender queues: one more than net.unix.max_dgram_qlen
// (unix_recvq_full_lockless tests "more than").
const maxDgram = 11

func TestUnixPathListener(t *testing.T) {
	e := socketEnv(t)
	l := e.sock(socket.AFUnix, socket.SockStream)
	if r := e.bind(l, unixAddr("/tmp/s")); r != 0 {
		t.Fatalf("bind = %d", r)
	}
	if st, r := e.stat("/tmp/s", 0); r != 0 || st.Mode&linux.SIfmt != linux.SIfsock {
		t.Errorf("stat of the socket file: mode %#o (%d)", st.Mode, r)
	}
	l2 := e.sock(socket.AFUnix, socket.SockStream)
	if r := e.bind(l2, unixAddr("/tmp/s")); r != neg(linux.EADDRINUSE) {
		t.Errorf("bind to an existing file = %d, want EADDRINUSE", r)
	}
	c := e.sock(socket.AFUnix, socket.SockStream)
	if r := e.connect(c, unixAddr("/tmp/s")); r != neg(linux.ECONNREFUSED) {
		t.Errorf("connect before listen = %d, want ECONNREFUSED", r)
	}
	if r := e.f.Listen(l, 5); r != 0 {
		t.Fatal(r)
	}
	if r := e.connect(c, unixAddr("/tmp/s")); r != 0 {
		t.Fatalf("connect = %d", r)
	}
	if r := e.connect(e.sock(socket.AFUnix, socket.SockStream), unixAddr("/tmp/nothing")); r != neg(linux.ENOENT) {
		t.Errorf("connect to a missing path = %d, want ENOENT", r)
	}
	s := int32(e.f.Accept4(e.m, nil, l, 0, 0, 0))
	if s < 0 {
		t.Fatalf("accept = %d", s)
	}
	if name, r := e.sockname(s, false); r != 0 || string(name) != string(unixAddr("/tmp/s")) {
		t.Errorf("accepted socket's name %q (%d)", name, r)
	}
	e.write(c, "over the path")
	if got, _ := e.read(s, 100); got != "over the path" {
		t.Errorf("read %q", got)
	}
	// A record socket keeps message boundaries.
	x, y := e.pair(socket.SockSeqpacket)
	e.write(x, "one")
	e.write(x, "two")
	if got, _ := e.read(y, 100); got != "one" {
		t.Errorf("seqpacket read %q, want one record", got)
	}
}

func TestTCPLoopback(t *testing.T) {
	e := socketEnv(t)
	l := e.sock(socket.AFInet, socket.SockStream)
	if r := e.setInt(l, socket.SolSocket, socket.SoReuseaddr, 1); r != 0 {
		t.Fatal(r)
	}
	if r := e.bind(l, inet4(localhost, 0)); r != 0 {
		t.Fatalf("bind = %d", r)
	}
	if r := e.f.Listen(l, 16); r != 0 {
		t.Fatal(r)
	}
	name, _ := e.sockname(l, false)
	port := binary.BigEndian.Uint16(name[2:])
	if port == 0 || len(name) != 16 {
		t.Fatalf("listener's name %x", name)
	}
	if v, _ := e.getInt(l, socket.SolSocket, socket.SoAcceptconn); v != 1 {
		t.Errorf("SO_ACCEPTCONN = %d", v)
	}
	// A second socket cannot bind the same port.
	if r := e.bind(e.sock(socket.AFInet, socket.SockStream), inet4(localhost, port)); r != neg(linux.EADDRINUSE) {
		t.Errorf("bind to a used port = %d, want EADDRINUSE", r)
	}
	// Non-blocking connect: EINPROGRESS, then writable with SO_ERROR 0.
	c := e.sock(socket.AFInet, socket.SockStream|socket.SockNonblock)
	if r := e.connect(c, inet4(localhost, port)); r != neg(linux.EINPROGRESS) && r != 0 {
		t.Fatalf("connect = %d", r)
	}
	s := int32(e.f.Accept4(e.m, nil, l, 0, 0, socket.SockNonblock))
	if s < 0 {
		t.Fatalf("accept = %d", s)
	}
	pfd := e.alloc(8)
	binary.LittleEndian.PutUint32(e.m.Data[pfd-memBase:], uint32(c))
	binary.LittleEndian.PutUint16(e.m.Data[pfd-memBase+4:], linux.EpollOut)
	if n := e.f.Poll(e.m, nil, pfd, 1, 5000); n != 1 {
		t.Fatalf("poll for the connection = %d", n)
	}
	if v, r := e.getInt(c, socket.SolSocket, socket.SoError); r != 0 || v != 0 {
		t.Errorf("SO_ERROR = %d (%d)", v, r)
	}
	// Options Go's net package and common servers set.
	for _, o := range []struct{ level, name, set, want int }{
		{socket.SolTCP, socket.TCPNodelay, 1, 1},
		{socket.SolSocket, socket.SoKeepalive, 1, 1},
		{socket.SolTCP, socket.TCPKeepidle, 30, 30},
		{socket.SolTCP, socket.TCPKeepintvl, 15, 15},
		{socket.SolTCP, socket.TCPKeepcnt, 4, 4},
	} {
		if r := e.setInt(c, o.level, o.name, o.set); r != 0 {
			t.Errorf("setsockopt(%d, %d) = %d", o.level, o.name, r)
		}
		if v, r := e.getInt(c, o.level, o.name); r != 0 || v != o.want {
			t.Errorf("getsockopt(%d, %d) = %d (%d), want %d", o.level, o.name, v, r, o.want)
		}
	}
	if r := e.setInt(c, socket.SolTCP, socket.TCPKeepidle, 0); r != neg(linux.EINVAL) {
		t.Errorf("TCP_KEEPIDLE 0 = %d, want EINVAL", r)
	}
	// Data both ways; FIONREAD; end of stream after shutdown.
	msg := "request"
	if n := e.f.Sendto(e.m, nil, c, e.put([]byte(msg)), uint64(len(msg)), 0, 0, 0); n != int64(len(msg)) {
		t.Fatalf("send = %d", n)
	}
	binary.LittleEndian.PutUint32(e.m.Data[pfd-memBase:], uint32(s))
	binary.LittleEndian.PutUint16(e.m.Data[pfd-memBase+4:], linux.EpollIn)
	if n := e.f.Poll(e.m, nil, pfd, 1, 5000); n != 1 {
		t.Fatalf("poll for data = %d", n)
	}
	n := e.alloc(4)
	if r := e.f.Ioctl(e.m, s, linux.FIONREAD, n); r != 0 || e.u32(n) != uint32(len(msg)) {
		t.Errorf("FIONREAD = %d (%d)", e.u32(n), r)
	}
	if got, _ := e.read(s, 100); got != msg {
		t.Errorf("read %q", got)
	}
	if r := e.f.Shutdown(c, socket.ShutWr); r != 0 {
		t.Fatal(r)
	}
	if n := e.f.Poll(e.m, nil, pfd, 1, 5000); n != 1 {
		t.Fatalf("poll for the end = %d", n)
	}
	if got, r := e.read(s, 100); r != 0 {
		t.Errorf("read after the peer's SHUT_WR = %q (%d), want end of stream", got, r)
	}
	// Refused: a non-blocking connect to a closed port ends with
	// SO_ERROR ECONNREFUSED.
	e.f.Close(l)
	d := e.sock(socket.AFInet, socket.SockStream|socket.SockNonblock)
	e.connect(d, inet4(localhost, port))
	binary.LittleEndian.PutUint32(e.m.Data[pfd-memBase:], uint32(d))
	binary.LittleEndian.PutUint16(e.m.Data[pfd-memBase+4:], linux.EpollOut)
	e.f.Poll(e.m, nil, pfd, 1, 5000)
	if v, _ := e.getInt(d, socket.SolSocket, socket.SoError); v != linux.ECONNREFUSED {
		t.Errorf("SO_ERROR after a refused connect = %d, want ECONNREFUSED", v)
	}
	// A blocking connect reports it directly.
	if r := e.connect(e.sock(socket.AFInet, socket.SockStream), inet4(localhost, port)); r != neg(linux.ECONNREFUSED) {
		t.Errorf("blocking connect to a closed port = %d, want ECONNREFUSED", r)
	}
}

func TestUDPLoopback(t *testing.T) {
	e := socketEnv(t)
	a := e.sock(socket.AFInet, socket.SockDgram)
	b := e.sock(socket.AFInet, socket.SockDgram)
	if r := e.bind(a, inet4(localhost, 0)); r != 0 {
		t.Fatal(r)
	}
	an, _ := e.sockname(a, false)
	if n := e.f.Sendto(e.m, nil, b, e.put([]byte("udp!")), 4, 0, e.put(an), uint32(len(an))); n != 4 {
		t.Fatalf("sendto = %d", n)
	}
	from, fl := e.alloc(128), e.alloc(4)
	binary.LittleEndian.PutUint32(e.m.Data[fl-memBase:], 128)
	rh, _, _ := e.msg(nil, 2, nil, 0)
	if n := e.f.Recvmsg(e.m, nil, a, rh, 0); n != 2 {
		t.Fatalf("recvmsg = %d", n)
	}
	if fl := e.u32(rh + 48); fl&socket.MsgTrunc == 0 {
		t.Errorf("msg_flags %#x, want MSG_TRUNC for a datagram cut short", fl)
	}
	bn, _ := e.sockname(b, false)
	if n := e.f.Sendto(e.m, nil, a, e.put([]byte("back")), 4, 0, e.put(bn), uint32(len(bn))); n != 4 {
		t.Fatalf("sendto = %d", n)
	}
	b4 := e.alloc(8)
	if n := e.f.Recvfrom(e.m, nil, b, b4, 8, 0, from, fl); n != 4 || string(e.get(b4, 4)) != "back" {
		t.Fatalf("recvfrom = %d %q", n, e.get(b4, 4))
	}
	if got := e.get(from, int(e.u32(fl))); string(got) != string(an) {
		t.Errorf("from %x, want %x", got, an)
	}
}

// socketCalls are the socket calls (and splice) Syscall serves, by name.
var socketCalls = map[string]uint64{
	"socket": sysSocket, "connect": sysConnect, "accept": sysAccept, "sendto": sysSendto,
	"recvfrom": sysRecvfrom, "sendmsg": sysSendmsg, "recvmsg": sysRecvmsg, "shutdown": sysShutdown,
	"bind": sysBind, "listen": sysListen, "getsockname": sysGetsockname, "getpeername": sysGetpeername,
	"socketpair": sysSocketpair, "setsockopt": sysSetsockopt, "getsockopt": sysGetsockopt,
	"accept4": sysAccept4, "recvmmsg": sysRecvmmsg, "sendmmsg": sysSendmmsg, "splice": sysSplice,
}

func TestSocketSyscallNumbers(t *testing.T) {
	for name, nr := range socketCalls {
		got := linux.SyscallName(nr)
		if got == "" && nr > 302 {
			// Go's table (kernel/linux/gen_sysnames.go) ends at 302.
			continue
		}
		if got != name {
			t.Errorf("number %d is %q, want %q", nr, got, name)
		}
	}
}

// TestSplice moves bytes socket -> pipe -> socket as Go's io.Copy between
// two TCP connections does, and checks what a refused write leaves in
// the pipe.
func TestSplice(t *testing.T) {
	e := socketEnv(t)
	a, b := e.pair(socket.SockStream | socket.SockNonblock)
	c, d := e.pair(socket.SockStream | socket.SockNonblock)
	r, w := e.pipe(linux.ONonblock)
	if n := e.f.Splice(e.m, nil, a, 0, w, 0, 100, spliceNonblock); n != neg(linux.EAGAIN) {
		t.Errorf("splice from an empty socket = %d, want EAGAIN", n)
	}
	e.write(b, "through a pipe")
	if n := e.f.Splice(e.m, nil, a, 0, w, 0, 100, spliceNonblock); n != 14 {
		t.Fatalf("socket -> pipe = %d", n)
	}
	if n := e.f.Splice(e.m, nil, r, 0, c, 0, 5, spliceNonblock); n != 5 {
		t.Fatalf("pipe -> socket = %d", n)
	}
	if n := e.f.Splice(e.m, nil, r, 0, c, 0, 100, spliceNonblock); n != 9 {
		t.Fatalf("pipe -> socket = %d", n)
	}
	if got, _ := e.read(d, 100); got != "through a pipe" {
		t.Errorf("read %q", got)
	}
	for _, cc := range []struct {
		name string
		got  int64
		want int64
	}{
		{"no pipe", e.f.Splice(e.m, nil, a, 0, c, 0, 1, 0), neg(linux.EINVAL)},
		{"offset on a pipe", e.f.Splice(e.m, nil, r, e.alloc(8), c, 0, 1, 0), neg(linux.ESPIPE)},
		{"bad flags", e.f.Splice(e.m, nil, r, 0, c, 0, 1, 0x100), neg(linux.EINVAL)},
		{"empty pipe", e.f.Splice(e.m, nil, r, 0, c, 0, 1, spliceNonblock), neg(linux.EAGAIN)},
	} {
		if cc.got != cc.want {
			t.Errorf("%s = %d, want %d", cc.name, cc.got, cc.want)
		}
	}
	// A socket that takes nothing more: the bytes stay in the pipe.
	big := e.alloc(64 << 10)
	for e.f.Write(e.m, nil, c, big, 64<<10) > 0 {
	}
	e.write(w, "kept")
	if n := e.f.Splice(e.m, nil, r, 0, c, 0, 4, spliceNonblock); n != neg(linux.EAGAIN) {
		t.Errorf("pipe -> full socket = %d, want EAGAIN", n)
	}
	if got, _ := e.read(r, 10); got != "kept" {
		t.Errorf("pipe holds %q after the refused splice", got)
	}
}

// TestDatagramEdges: a zero-length read takes a whole datagram (Go's
// TestUDPZeroByteBuffer), and an unbound AF_UNIX sender has no address
// (length 0, Go's TestReadUnixgramWithUnnamedSocket).
func TestDatagramEdges(t *testing.T) {
	e := socketEnv(t)
	a := e.sock(socket.AFInet, socket.SockDgram)
	if r := e.bind(a, inet4(localhost, 0)); r != 0 {
		t.Fatal(r)
	}
	an, _ := e.sockname(a, false)
	b := e.sock(socket.AFInet, socket.SockDgram)
	for _, msg := range []string{"first", "second"} {
		if n := e.f.Sendto(e.m, nil, b, e.put([]byte(msg)), uint64(len(msg)), 0, e.put(an), uint32(len(an))); n != int64(len(msg)) {
			t.Fatalf("sendto = %d", n)
		}
	}
	if n := e.f.Recvfrom(e.m, nil, a, 0, 0, 0, 0, 0); n != 0 {
		t.Errorf("zero-length recvfrom = %d, want 0", n)
	}
	buf := e.alloc(16)
	if n := e.f.Recvfrom(e.m, nil, a, buf, 16, 0, 0, 0); n != 6 || string(e.get(buf, 6)) != "second" {
		t.Errorf("next recvfrom = %d %q, want the second datagram", n, e.get(buf, 6))
	}

	srv := e.sock(socket.AFUnix, socket.SockDgram)
	if r := e.bind(srv, unixAddr("@edge")); r != 0 {
		t.Fatal(r)
	}
	cli := e.sock(socket.AFUnix, socket.SockDgram)
	to := unixAddr("@edge")
	if n := e.f.Sendto(e.m, nil, cli, buf, 1, 0, e.put(to), uint32(len(to))); n != 1 {
		t.Fatalf("sendto = %d", n)
	}
	from, fl := e.alloc(128), e.alloc(4)
	binary.LittleEndian.PutUint32(e.m.Data[fl-memBase:], 128)
	if n := e.f.Recvfrom(e.m, nil, srv, buf, 16, 0, from, fl); n != 1 || e.u32(fl) != 0 {
		t.Errorf("recvfrom an unbound sender = %d, address length %d, want 1 and 0", n, e.u32(fl))
	}
}

// TestNetlinkRoute dumps the interfaces and addresses as Go's
// net.Interfaces does (syscall.NetlinkRIB).
func TestNetlinkRoute(t *testing.T) {
	e := socketEnv(t)
	fd := e.sock(socket.AFNetlink, socket.SockRaw)
	name, r := e.sockname(fd, false)
	if r != 0 || len(name) != 12 {
		t.Fatalf("getsockname = %d %x", r, name)
	}
	pid := binary.LittleEndian.Uint32(name[4:])
	dump := func(typ uint16) []byte {
		req := binary.LittleEndian.AppendUint32(nil, 17)
		req = binary.LittleEndian.AppendUint16(req, typ)
		req = binary.LittleEndian.AppendUint16(req, 0x301) // NLM_F_REQUEST|NLM_F_DUMP
		req = binary.LittleEndian.AppendUint32(req, 7)
		req = binary.LittleEndian.AppendUint32(req, 0)
		req = append(req, 0)
		to := make([]byte, 12)
		binary.LittleEndian.PutUint16(to, socket.AFNetlink)
		if n := e.f.Sendto(e.m, nil, fd, e.put(req), uint64(len(req)), 0, e.put(to), 12); n != int64(len(req)) {
			t.Fatalf("sendto = %d", n)
		}
		var all []byte
		buf := e.alloc(4096)
		for {
			n := e.f.Recvfrom(e.m, nil, fd, buf, 4096, 0, 0, 0)
			if n < 16 {
				t.Fatalf("recvfrom = %d", n)
			}
			m := e.get(buf, int(n))
			if binary.LittleEndian.Uint32(m[8:]) != 7 || binary.LittleEndian.Uint32(m[12:]) != pid {
				t.Fatalf("reply seq/pid %x", m[8:16])
			}
			if binary.LittleEndian.Uint16(m[4:]) == 3 { // NLMSG_DONE
				return all
			}
			all = append(all, m...)
		}
	}
	links := dump(18)
	if binary.LittleEndian.Uint16(links[4:]) != 16 || !bytes.Contains(links, []byte("lo\x00")) {
		t.Errorf("RTM_GETLINK dump %x lacks lo", links)
	}
	addrs := dump(22)
	if !bytes.Contains(addrs, []byte{127, 0, 0, 1}) || !bytes.Contains(addrs, append(make([]byte, 15), 1)) {
		t.Errorf("RTM_GETADDR dump %x lacks 127.0.0.1 and ::1", addrs)
	}
	// A change is refused with NLMSG_ERROR EOPNOTSUPP.
	req := binary.LittleEndian.AppendUint32(nil, 16)
	req = binary.LittleEndian.AppendUint16(req, 20) // RTM_NEWADDR
	req = binary.LittleEndian.AppendUint16(req, 1)
	req = append(req, make([]byte, 8)...)
	e.f.Sendto(e.m, nil, fd, e.put(req), 16, 0, 0, 0)
	buf := e.alloc(64)
	n := e.f.Recvfrom(e.m, nil, fd, buf, 64, 0, 0, 0)
	m := e.get(buf, int(n))
	if n < 20 || binary.LittleEndian.Uint16(m[4:]) != 2 || int32(binary.LittleEndian.Uint32(m[16:])) != -linux.EOPNOTSUPP {
		t.Errorf("reply to RTM_NEWADDR %x, want NLMSG_ERROR EOPNOTSUPP", m)
	}
}

// TestSocketTimeouts: SO_RCVTIMEO bounds a blocking receive (EAGAIN when
// it expires, as on Linux) and reads back as set.
func TestSocketTimeouts(t *testing.T) {
	e := socketEnv(t)
	a, _ := e.pair(socket.SockStream)
	tv := binary.LittleEndian.AppendUint64(nil, 0)
	tv = binary.LittleEndian.AppendUint64(tv, 20000) // 20 ms
	if r := e.f.Setsockopt(e.m, a, socket.SolSocket, socket.SoRcvtimeo, e.put(tv), 16); r != 0 {
		t.Fatalf("SO_RCVTIMEO = %d", r)
	}
	got, l := e.alloc(16), e.alloc(4)
	binary.LittleEndian.PutUint32(e.m.Data[l-memBase:], 16)
	if r := e.f.Getsockopt(e.m, a, socket.SolSocket, socket.SoRcvtimeo, got, l); r != 0 || string(e.get(got, 16)) != string(tv) {
		t.Errorf("getsockopt SO_RCVTIMEO = %d %x", r, e.get(got, 16))
	}
	if _, r := e.read(a, 4); r != neg(linux.EAGAIN) {
		t.Errorf("blocking read past SO_RCVTIMEO = %d, want EAGAIN", r)
	}
	bad := binary.LittleEndian.AppendUint64(nil, 0)
	bad = binary.LittleEndian.AppendUint64(bad, 1000000)
	if r := e.f.Setsockopt(e.m, a, socket.SolSocket, socket.SoRcvtimeo, e.put(bad), 16); r != neg(linux.EDOM) {
		t.Errorf("tv_usec of 1000000 = %d, want EDOM", r)
	}
}

// procCred is a process's credentials as north.Process tells them.
type procCred struct {
	uid, gid [3]uint32 // real, effective, saved
	caps     uint64
}

func (c procCred) FileCred(real bool) (uint32, uint32, []uint32, uint64) {
	return c.uid[1], c.gid[1], nil, c.caps
}
func (c procCred) SockCred() (uid, gid [3]uint32, caps uint64) { return c.uid, c.gid, c.caps }
func (c procCred) PidExists(id int32) bool                     { return id == 7 || id == 9 }

// TestUnixCredentialsOfProcess checks that SO_PEERCRED shows the
// process ID and effective IDs, a kernel-filled SCM_CREDENTIALS the real
// ones, and that an unprivileged sender may tell only its own process ID
// and IDs among its real, effective and saved ones.
func TestUnixCredentialsOfProcess(t *testing.T) {
	e := socketEnv(t)
	e.f.SetPid(7)
	e.f.SetCred(procCred{uid: [3]uint32{1000, 1001, 1002}, gid: [3]uint32{2000, 2001, 2002}})
	a, b := e.pair(socket.SockStream)
	pa, l := e.alloc(12), e.alloc(4)
	binary.LittleEndian.PutUint32(e.m.Data[l-memBase:], 12)
	if r := e.f.Getsockopt(e.m, a, socket.SolSocket, socket.SoPeercred, pa, l); r != 0 {
		t.Fatal(r)
	}
	if p, u, g := e.u32(pa), e.u32(pa+4), e.u32(pa+8); p != 7 || u != 1001 || g != 2001 {
		t.Errorf("SO_PEERCRED = %d %d %d, want 7 1001 2001", p, u, g)
	}
	if r := e.setInt(b, socket.SolSocket, socket.SoPasscred, 1); r != 0 {
		t.Fatal(r)
	}
	e.write(a, "c")
	rh, _, ctl := e.msg(nil, 8, nil, 64)
	if n := e.f.Recvmsg(e.m, nil, b, rh, 0); n != 1 {
		t.Fatalf("recvmsg = %d", n)
	}
	if p, u, g := e.u32(ctl+16), e.u32(ctl+20), e.u32(ctl+24); p != 7 || u != 1000 || g != 2000 {
		t.Errorf("credentials message %d %d %d, want 7 1000 2000", p, u, g)
	}
	for _, c := range []struct {
		pid, uid, gid uint32
		want          int64
	}{
		{7, 1002, 2002, 1},
		{9, 1000, 2000, neg(linux.EPERM)},
		{7, 0, 2000, neg(linux.EPERM)},
		{7, 1000, 0, neg(linux.EPERM)},
		{7, 0xffffffff, 2000, neg(linux.EINVAL)},
	} {
		cred := binary.LittleEndian.AppendUint32(nil, c.pid)
		cred = binary.LittleEndian.AppendUint32(cred, c.uid)
		cred = binary.LittleEndian.AppendUint32(cred, c.gid)
		hdr, _, _ := e.msg([]byte("x"), 0, cmsg(socket.SolSocket, socket.SCMCredentials, cred), 0)
		if n := e.f.Sendmsg(e.m, nil, a, hdr, 0); n != c.want {
			t.Errorf("sendmsg telling %d %d %d = %d, want %d", c.pid, c.uid, c.gid, n, c.want)
		}
	}
	// With CAP_SYS_ADMIN another process may be named, if it exists.
	e.f.SetCred(procCred{uid: [3]uint32{1000, 1000, 1000}, gid: [3]uint32{2000, 2000, 2000}, caps: 1 << 21})
	for pid, want := range map[uint32]int64{9: 1, 8: neg(linux.ESRCH)} {
		cred := binary.LittleEndian.AppendUint32(nil, pid)
		cred = binary.LittleEndian.AppendUint32(cred, 1000)
		cred = binary.LittleEndian.AppendUint32(cred, 2000)
		hdr, _, _ := e.msg([]byte("x"), 0, cmsg(socket.SolSocket, socket.SCMCredentials, cred), 0)
		if n := e.f.Sendmsg(e.m, nil, a, hdr, 0); n != want {
			t.Errorf("CAP_SYS_ADMIN sendmsg telling pid %d = %d, want %d", pid, n, want)
		}
	}
}
