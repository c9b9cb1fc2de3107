package inet

import "github.com/cocoon-vm/cocoon/north/socket"

// rcvTuner grows a TCP socket's receive buffer while the application
// reads all that arrives, as Linux's receive-buffer auto-tuning does
// (net.ipv4.tcp_moderate_rcvbuf, on by default; tcp_rcv_space_adjust in
// net/ipv4/tcp_input.c): each time the application has read as much as
// the buffer's window (half the buffer: tcp_adv_win_scale 1), the buffer
// doubles, up to tcp_rmem's max (Stack.rcvMax). An application that sets SO_RCVBUF
// fixes its buffer (SOCK_RCVBUF_LOCK), and accepted sockets inherit that.
//
// netstack has its own moderation (ModerateRecvBuf), but it loses window
// updates: it grows the buffer without telling the peer, and the read
// that later frees the space judges the change against the grown
// buffer, so a peer that was shown a zero window is never told it
// opened and waits for its zero-window probe (a retransmission timeout,
// 200 ms at least): about two per 16 MiB on loopback. Growing through
// SetReceiveBufferSize's notification instead compares the windows
// before and after the change and sends the update.
type rcvTuner struct {
	locked bool  // SO_RCVBUF set: no tuning
	read   int64 // bytes read since the buffer last grew
}

// grow accounts n bytes the application read from a stream socket and
// grows its receive buffer when that completed a window.
func (s *sock) grow(n int) {
	if n <= 0 || s.typ != socket.SockStream {
		return
	}
	so := s.ep.SocketOptions()
	size := so.GetReceiveBufferSize()
	s.mu.Lock()
	if s.rcv.locked || size >= s.st.rcvMax {
		s.mu.Unlock()
		return
	}
	s.rcv.read += int64(n)
	if s.rcv.read < size/2 {
		s.mu.Unlock()
		return
	}
	s.rcv.read = 0
	s.mu.Unlock()
	so.SetReceiveBufferSize(min(2*size, s.st.rcvMax), true)
}
