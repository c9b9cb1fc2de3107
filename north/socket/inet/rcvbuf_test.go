package inet

import (
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/cocoon-vm/cocoon/north/socket"
	"github.com/cocoon-vm/cocoon/north/vfs"

	"gvisor.dev/gvisor/pkg/tcpip/faketime"
)

// stall bounds a wait for data that a working stack delivers at once;
// it only ends a test that would otherwise hang.
const stall = 2 * time.Minute

// loopbackPair returns a connected TCP pair over 127.0.0.1 of st: the
// connecting socket and the accepted one. rcvbuf, if not 0, is set on
// the listener (SO_RCVBUF) before the connection.
func loopbackPair(t *testing.T, st *Stack, rcvbuf int) (*sock, *sock) {
	t.Helper()
	newTCP := func() *sock {
		s, err := st.NewSocket(socket.AFInet, socket.SockStream, 0)
		if err != nil {
			t.Fatal(err)
		}
		return s.(*sock)
	}
	addr := make([]byte, 16)
	binary.LittleEndian.PutUint16(addr, socket.AFInet)
	binary.BigEndian.PutUint16(addr[2:], 5001)
	copy(addr[4:], []byte{127, 0, 0, 1})
	l := newTCP()
	t.Cleanup(func() { l.Release(nil) })
	if rcvbuf != 0 {
		if err := l.SetSockOpt(socket.SolSocket, socket.SoRcvbuf, socket.Int(rcvbuf)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Bind(nil, addr); err != nil {
		t.Fatal(err)
	}
	if err := l.Listen(1); err != nil {
		t.Fatal(err)
	}
	c := newTCP()
	t.Cleanup(func() { c.Release(nil) })
	if err := c.Connect(nil, addr); err != nil && !errors.Is(err, socket.EINPROGRESS) {
		t.Fatal(err)
	}
	deadline := time.Now().Add(stall)
	for {
		f, _, err := l.Accept(0)
		if err == nil {
			a := f.Impl().(*sock)
			t.Cleanup(func() { a.Release(nil) })
			return c, a
		}
		if !errors.Is(err, vfs.EAGAIN) || time.Now().After(deadline) {
			t.Fatalf("accept: %v", err)
		}
		time.Sleep(time.Millisecond)
	}
}

func rcvbuf(t *testing.T, s *sock) int {
	t.Helper()
	b, err := s.GetSockOpt(socket.SolSocket, socket.SoRcvbuf, 4)
	if err != nil {
		t.Fatal(err)
	}
	return int(binary.LittleEndian.Uint32(b))
}

// TestReceiveBufferGrowsWithWindowUpdates moves data in rounds that each
// close the receiver's window: the sender writes until it would block,
// then the receiver reads all there is. The stack's clock stands still,
// so no retransmission or zero-window-probe timer ever fires: the
// transfer goes on only if the receiver tells the sender, each time, that
// its window opened again, also when the buffer grew meanwhile (which
// netstack's own moderation does not). The buffer must grow past
// tcp_rmem's default on the way.
func TestReceiveBufferGrowsWithWindowUpdates(t *testing.T) {
	clock := faketime.NewManualClock()
	st, err := newStack(clock, 0)
	if err != nil {
		t.Fatal(err)
	}
	c, a := loopbackPair(t, st, 0)
	if got := rcvbuf(t, a); got != rcvBufDefault {
		t.Fatalf("SO_RCVBUF of a new connection = %d, want tcp_rmem's default %d", got, rcvBufDefault)
	}
	const total = 8 << 20
	transfer(t, clock, c, a, total)
	if got := rcvbuf(t, a); got <= rcvBufDefault || got > rcvBufMax {
		t.Errorf("SO_RCVBUF after %d bytes = %d, want grown beyond %d up to %d", total, got, rcvBufDefault, rcvBufMax)
	}
	if n := st.s.Stats().TCP.Timeouts.Value(); n != 0 {
		t.Errorf("%d retransmission timeouts under a clock that stands still", n)
	}
}

// transfer sends total bytes from c to a in rounds that each close a's
// window (see TestReceiveBufferGrowsWithWindowUpdates), the clock
// advancing a millisecond per round: less than any retransmission
// timeout in all.
func transfer(t *testing.T, clock *faketime.ManualClock, c, a *sock, total int) {
	t.Helper()
	chunk := make([]byte, 64<<10)
	rd := make([]byte, 8<<10)
	sent, got := 0, 0
	for got < total {
		for sent < total {
			n, err := c.Send(nil, vfs.BytesBuf(chunk[:min(len(chunk), total-sent)]), &socket.Msg{})
			sent += int(n)
			if errors.Is(err, vfs.EAGAIN) {
				break
			}
			if err != nil {
				t.Fatalf("send after %d bytes: %v", sent, err)
			}
		}
		clock.Advance(time.Millisecond)
		// Read what arrived, then wait for more: the rest of what was
		// sent, or what the sender still holds once told the window
		// is open.
		deadline := time.Now().Add(stall)
		before := got
		for got < sent || (got == before && got < total) {
			n, err := a.Recv(vfs.BytesBuf(rd), &socket.Msg{})
			got += int(n)
			switch {
			case errors.Is(err, vfs.EAGAIN):
				if time.Now().After(deadline) {
					t.Fatalf("stalled with %d of %d bytes sent, %d received: the sender was not told the window opened (SO_RCVBUF %d)", sent, total, got, rcvbuf(t, a))
				}
				time.Sleep(100 * time.Microsecond)
			case err != nil:
				t.Fatalf("recv after %d bytes: %v", got, err)
			}
		}
	}
}

// TestReceiveBufferLocked: SO_RCVBUF fixes the buffer (Linux's
// SOCK_RCVBUF_LOCK), and a connection accepted from a listener that set
// it inherits that.
func TestReceiveBufferLocked(t *testing.T) {
	clock := faketime.NewManualClock()
	st, err := newStack(clock, 0)
	if err != nil {
		t.Fatal(err)
	}
	c, a := loopbackPair(t, st, 100000)
	transfer(t, clock, c, a, 4<<20)
	if got := rcvbuf(t, a); got != 200000 {
		t.Errorf("SO_RCVBUF after the transfer = %d, want the 200000 inherited from the listener's setting", got)
	}
}

// TestBufferMaxScalesWithMemory: tcp_rmem's and tcp_wmem's maxes are
// 1/128 of the machine's memory within Linux's bounds (tcp_init), and a
// receive buffer grows no further than that.
func TestBufferMaxScalesWithMemory(t *testing.T) {
	for _, c := range []struct {
		ram      uint64
		rcv, snd int
	}{
		{0, rcvBufMax, sndBufMax},
		{32 << 20, 256 << 10, 256 << 10},
		{256 << 20, 2 << 20, 2 << 20},
		{1 << 30, rcvBufMax, sndBufMax},
		{4 << 20, rcvBufDefault, 64 << 10},
	} {
		if got := bufMax(c.ram, rcvBufMax, rcvBufDefault); got != c.rcv {
			t.Errorf("%d MiB: tcp_rmem max %d, want %d", c.ram>>20, got, c.rcv)
		}
		if got := bufMax(c.ram, sndBufMax, 64<<10); got != c.snd {
			t.Errorf("%d MiB: tcp_wmem max %d, want %d", c.ram>>20, got, c.snd)
		}
	}
	clock := faketime.NewManualClock()
	st, err := newStack(clock, 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	c, a := loopbackPair(t, st, 0)
	transfer(t, clock, c, a, 4<<20)
	if got, want := rcvbuf(t, a), 512<<10; got != want {
		t.Errorf("SO_RCVBUF after a 4 MiB transfer on a 64 MiB machine = %d, want its tcp_rmem max %d", got, want)
	}
}
