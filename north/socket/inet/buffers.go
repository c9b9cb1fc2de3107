package inet

import (
	"sync"
	"time"

	"github.com/cocoon-vm/cocoon/north/mem"
	"github.com/cocoon-vm/cocoon/north/socket"
	"github.com/cocoon-vm/cocoon/north/vfs"

	"gvisor.dev/gvisor/pkg/tcpip"
)

// The memory of all sockets' buffers together. Every byte an internet
// socket queues is the kernel's memory, and netstack bounds a socket's
// queues by the bytes they carry, not by what they cost (a one-byte
// segment takes a packet buffer of its own): a few connections sent
// small writes they never read, or thousands each full, would take all
// of it. Linux bounds them together (net.ipv4.tcp_mem, udp_mem); here
// sends stop where the kernel stops taking data buffers
// (mem.BuffersShort), as pipes and AF_UNIX sockets do.

// wmem0 is what a stream may queue while memory is short: tcp_wmem's
// min, which __sk_mem_raise_allocated lets a socket below it have.
const wmem0 = 4096

// memoryPoll is how often a socket refused for memory looks whether
// memory came back.
const memoryPoll = 20 * time.Millisecond

// shortSend is a send while the kernel's memory for data buffers is
// short. A datagram fails (ENOBUFS, as a failed sock_alloc_send_skb); a
// stream that has nothing queued takes up to wmem0 bytes once, and
// otherwise is EAGAIN and not writable until memory comes back, when it
// is told (sk_stream_wait_memory; sk_write_space). It returns what of
// src may be sent.
func (s *sock) shortSend(src vfs.Buf) (vfs.Buf, error) {
	if s.typ != socket.SockStream {
		return src, socket.ENOBUFS
	}
	if s.shortSent.Swap(true) {
		return src, vfs.EAGAIN
	}
	memWaiters.add(s)
	if q, err := s.ep.GetSockOptInt(tcpip.SendQueueSizeOption); err == nil && q > 0 {
		return src, vfs.EAGAIN
	}
	return src.TakeFirst(wmem0), nil
}

// memWaiters are the streams refused for memory, told when it comes
// back.
var memWaiters waiters

type waiters struct {
	mu       sync.Mutex
	socks    map[*sock]struct{}
	watching bool // a goroutine runs watch
}

func (w *waiters) add(s *sock) {
	w.mu.Lock()
	if w.socks == nil {
		w.socks = map[*sock]struct{}{}
	}
	w.socks[s] = struct{}{}
	start := !w.watching
	w.watching = true
	w.mu.Unlock()
	if start {
		go w.watch()
	}
}

// watch waits until memory is no longer short, then makes the waiting
// streams writable again and wakes their writers and pollers.
func (w *waiters) watch() {
	for {
		time.Sleep(memoryPoll)
		if mem.BuffersShort() {
			continue
		}
		w.mu.Lock()
		socks := w.socks
		w.socks, w.watching = nil, false
		w.mu.Unlock()
		for s := range socks {
			s.shortSent.Store(false)
			s.q.Notify(vfs.EventOut | vfs.EventWrNorm)
		}
		return
	}
}
