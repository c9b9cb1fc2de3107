package inet

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cocoon-vm/cocoon/hal/virtio"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	"gvisor.dev/gvisor/pkg/tcpip/link/ethernet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// Device is an Ethernet device (hal/virtio.Net): it sends whole frames
// and hands over received ones. One goroutine at a time uses it. Its
// errors are hal/virtio's: ErrTxFull to try again, ErrDevice for a
// device that broke the protocol and is given up.
type Device interface {
	MAC() [6]byte
	Send(frame []byte) error
	Receive(deliver func(frame []byte)) (int, error)
}

// Config is an interface's IPv4 configuration.
type Config struct {
	Addr    netip.Prefix // address and subnet
	Gateway netip.Addr   // default route, if valid
	DNS     []netip.Addr
}

// EthernetNIC is the id of the first Ethernet interface.
const EthernetNIC tcpip.NICID = 2

// nicMTU is the IP MTU of an Ethernet device.
const nicMTU = 1500

// Poll intervals of the receive loop: soon after traffic, and the
// longest wait when the device is idle (a device without an interrupt
// is polled; one with an interrupt is still looked at every pollIdle).
const (
	pollBusy = 200 * time.Microsecond
	pollIdle = 5 * time.Millisecond
)

// AddNIC joins dev to the stack as EthernetNIC and starts moving frames
// between them. Configure it with Configure.
func (st *Stack) AddNIC(dev Device, log func(string)) error {
	mac := dev.MAC()
	ch := channel.New(256, nicMTU, tcpip.LinkAddress(mac[:]))
	var mu sync.Mutex // serializes the device's users
	fail := func(err error) {
		log(fmt.Sprintf("cocoon: network device stopped: %v", err))
	}
	l := newLink(ch, dev, &mu, fail, true)
	// Created disabled, so that duplicate address detection is on
	// before the link-local address is formed.
	if err := st.s.CreateNICWithOptions(EthernetNIC, ethernet.New(l), stack.NICOptions{Name: "eth0", Disabled: true, QDisc: directQDisc{l}}); err != nil {
		return wrap("creating the Ethernet interface", err)
	}
	ep, err := st.s.GetNetworkEndpoint(EthernetNIC, ipv6.ProtocolNumber)
	if err != nil {
		return wrap("the Ethernet interface's IPv6", err)
	}
	if d, ok := ep.(interface {
		SetDADConfigurations(stack.DADConfigurations)
	}); ok {
		// As Linux by default: net.ipv6.conf.default.dad_transmits = 1,
		// RetransTimer 1 s (RFC 4861, 10).
		d.SetDADConfigurations(stack.DADConfigurations{DupAddrDetectTransmits: 1, RetransmitTimer: time.Second})
	}
	if err := st.s.EnableNIC(EthernetNIC); err != nil {
		return wrap("enabling the Ethernet interface", err)
	}
	// Link-local IPv6 neighbours are on the link (fe80::/64): the
	// address itself gVisor forms from the MAC when the NIC comes up.
	st.s.AddRoute(tcpip.Route{Destination: linkLocal, NIC: EthernetNIC})
	// Each frame is copied once, from the device's buffer into one of
	// gVisor's pooled views, while the device is held, and goes up the
	// stack after. rx makes one taker at a time (the receive loop, or a
	// read that polls) take frames and pass them on, so that they keep
	// their order.
	var rx sync.Mutex
	var views []*buffer.View
	take := func(f []byte) {
		views = append(views, buffer.NewViewWithData(f))
	}
	deliver := func() {
		for i, v := range views {
			pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: buffer.MakeWithView(v)})
			ch.InjectInbound(header.IPv4ProtocolNumber, pkt)
			pkt.DecRef()
			views[i] = nil
		}
		views = views[:0]
	}
	go receiveLoop(dev, &mu, &rx, take, deliver, fail, log)
	if rp, ok := dev.(receivePoller); ok {
		receive := receiver(dev)
		st.pollNIC = func(w *pollWaiter) bool {
			if !rp.ReceivePending() {
				return false
			}
			if !rx.TryLock() {
				// The receive loop is taking them: let it finish.
				runtime.Gosched()
				return true
			}
			mu.Lock()
			n, err := receive(take)
			mine := w != nil && carries(views, w.in)
			if mine {
				w.drain() // a poke from before: not for this segment
				l.waiting = append(l.waiting, w)
			}
			mu.Unlock()
			deliver()
			rx.Unlock()
			if mine {
				// The stack handles the segment in TCP's processor
				// goroutine: the caller goes on as soon as it has (made
				// the socket readable, or answered), before the
				// goroutines that became runnable meanwhile, as Linux's
				// reader woken by the segment's arrival.
				w.wait()
				mu.Lock()
				if i := slices.Index(l.waiting, w); i >= 0 {
					l.waiting = slices.Delete(l.waiting, i, i+1)
				}
				mu.Unlock()
				w.drain()
			}
			if err != nil || n == 0 {
				return false // a broken device is the receive loop's to report
			}
			if !mine && w != nil {
				// Nothing for the reader's connection: its read fails at
				// once, as Linux's tcp_recvmsg on an empty socket returns
				// EAGAIN without looking at other sockets' segments. The
				// frames' own sockets become readable when TCP's
				// processors have run. Yielding to them here instead let
				// every runnable thread run first: a read on an empty
				// socket took 1-3 ms, meanwhile the application's runtime
				// (sysmon) handed its P to another thread, and a Go
				// server ended up with a thread blocked in read per
				// connection, served in turn.
				return false
			}
			if !mine {
				// A datagram socket, or a second reader: the protocol
				// goroutines the frames went to (TCP's processors) run
				// before the caller reads again.
				runtime.Gosched()
			}
			return true
		}
	}
	return nil
}

// pollWaiter is a stream socket's read that took frames up the stack
// itself (Stack.pollNIC), one of them a segment of its own connection
// with more than an acknowledgement: it waits until the stack has
// handled that segment, which it learns from the socket becoming
// readable (sock's waiter entry) or from the stack sending a segment of
// the connection (the acknowledgement, a reset: link.writePacket),
// whichever comes first. pollWaitMax bounds the wait for a segment the
// stack drops unanswered (a bad checksum).
type pollWaiter struct {
	in, out flowKey // the connection's received and sent directions
	ch      chan struct{}
	timer   *time.Timer
}

const pollWaitMax = 10 * time.Millisecond

func newPollWaiter() *pollWaiter { return &pollWaiter{ch: make(chan struct{}, 1)} }

// poke ends w's wait, or the next one if it is not waiting.
func (w *pollWaiter) poke() {
	select {
	case w.ch <- struct{}{}:
	default:
	}
}

// wait waits for a poke, at most pollWaitMax.
func (w *pollWaiter) wait() {
	if w.timer == nil {
		w.timer = time.AfterFunc(pollWaitMax, w.poke)
	} else {
		w.timer.Reset(pollWaitMax)
	}
	<-w.ch
	w.timer.Stop()
}

// drain forgets a poke that came after the wait ended.
func (w *pollWaiter) drain() {
	select {
	case <-w.ch:
	default:
	}
}

// carries reports whether one of the frames is a TCP segment of flow
// key with more than an acknowledgement (data, FIN, RST, SYN): one the
// stack makes the socket readable for or answers. (An acknowledgement
// with SACK blocks may get no answer.)
func carries(views []*buffer.View, key flowKey) bool {
	for _, v := range views {
		if s, ok := parseTCP(v.AsSlice()); ok && s.more && s.key == key {
			return true
		}
	}
	return false
}

// receivePoller is a Device that tells whether frames wait in its
// receive queue (kernel.NetDevice): a read that finds nothing takes them
// up the stack itself before it fails (Stack.pollNIC). The receive loop
// waits for the interrupt through the kernel runtime's netpoller, which
// the runtime looks at only when nothing else is runnable, so frames
// that arrive while the application runs would otherwise wait until it
// blocks and then go up the stack together; Linux takes each up its
// stack at its interrupt, and a connection's next request is there when
// the server reads after answering the last.
type receivePoller interface {
	ReceivePending() bool
}

// receiver returns dev's receive call: ReceiveShared if it lends its
// frames, else Receive.
func receiver(dev Device) func(take func(frame []byte)) (int, error) {
	if sr, ok := dev.(sharedReceiver); ok {
		return sr.ReceiveShared
	}
	return dev.Receive
}

// interrupter is a Device whose receive queue can interrupt
// (kernel.NetDevice on microvm): between the calls the caller holds the
// device's lock for EnableInterrupt, DisableInterrupt and AckInterrupt,
// and not for WaitInterrupt.
type interrupter interface {
	// Interrupts reports whether the interrupt is routed at all.
	Interrupts() bool
	// EnableInterrupt asks for the interrupt and reports whether frames
	// already wait.
	EnableInterrupt() bool
	DisableInterrupt()
	AckInterrupt()
	// WaitInterrupt waits up to a time for the interrupt and reports
	// whether it came.
	WaitInterrupt(time.Duration) bool
}

// interruptMisses is how many waits may end without an interrupt yet
// with frames received before the loop, having never seen one, takes
// the interrupt for unrouted (another machine's wiring) and polls.
const interruptMisses = 3

// sharedReceiver is a Device that lends received frames in place, for
// the caller to copy (hal/virtio.Net.ReceiveShared).
type sharedReceiver interface {
	ReceiveShared(take func(frame []byte)) (int, error)
}

// receiveLoop moves received frames from dev up the stack: take copies
// each (lent by a sharedReceiver, valid during the call only) with the
// device held (mu), deliver passes on what take kept, after; rx is held
// through both. With an
// interrupt it sleeps until a frame arrives (checking every pollIdle
// anyway) and takes every frame that is there before it asks for the
// next interrupt, yielding between batches; without one it polls,
// pollBusy after traffic and backing off to pollIdle.
func receiveLoop(dev Device, mu, rx *sync.Mutex, take func(frame []byte), deliver func(), fail func(error), log func(string)) {
	receive := receiver(dev)
	irq, _ := dev.(interrupter)
	useIRQ := irq != nil && irq.Interrupts()
	seen, misses, timedOut := false, 0, false
	wait := pollBusy
	for {
		rx.Lock()
		mu.Lock()
		n, err := receive(take)
		mu.Unlock()
		deliver()
		rx.Unlock()
		if err != nil {
			fail(err)
			return
		}
		if useIRQ {
			if timedOut && n > 0 && !seen {
				if misses++; misses == interruptMisses {
					useIRQ = false
					log("cocoon: network device: frames arrive without its interrupt; polling it")
					continue
				}
			}
			timedOut = false
			if n > 0 {
				runtime.Gosched()
				continue
			}
			mu.Lock()
			pending := irq.EnableInterrupt()
			mu.Unlock()
			got := false
			if !pending {
				got = irq.WaitInterrupt(pollIdle)
				seen = seen || got
				timedOut = !got
			}
			mu.Lock()
			irq.DisableInterrupt()
			if got {
				irq.AckInterrupt()
			}
			mu.Unlock()
			continue
		}
		if n > 0 {
			wait = pollBusy
		} else {
			wait = min(wait*2, pollIdle)
		}
		time.Sleep(wait)
	}
}

// txBacklogMax bounds the frames that wait for room in the device's
// transmit ring; beyond it the stack is told there is no buffer space,
// as a full transmit queue tells it on Linux.
const txBacklogMax = 256

// link is the Ethernet device as netstack's link endpoint: gVisor's
// channel endpoint carries what arrives (InjectInbound), while what the
// stack sends goes to the device from the sending goroutine itself,
// copied once from the packet's views into a transmit buffer, rather
// than through a queue and a goroutine of its own. Frames that find the
// transmit ring full wait, in order, in a backlog a goroutine drains.
type link struct {
	*channel.Endpoint
	dev     Device
	mu      *sync.Mutex // serializes the device's users (the receive loop too)
	fail    func(error)
	backlog [][]byte // copies of frames waiting for the ring, oldest first
	stopped bool     // the device broke the protocol
	wake    chan struct{}
	parts   [][]byte  // the views of the frame being sent
	one     [1][]byte // a frame in one part
	// Delayed acknowledgements (delack.go); flows is nil when they are
	// off.
	flows    map[flowKey]*flow
	holding  []*flow     // the flows holding an acknowledgement
	ackTimer *time.Timer // sends what is held (expire)
	timerSet bool        // ackTimer will fire
	// waiting are the reads waiting for the stack to handle a segment
	// of their connection (pollWaiter).
	waiting []*pollWaiter
}

// newLink returns the link of dev (whose users mu serializes), with
// delayed acknowledgements if delayAcks, and starts its backlog's
// goroutine.
func newLink(ch *channel.Endpoint, dev Device, mu *sync.Mutex, fail func(error), delayAcks bool) *link {
	l := &link{Endpoint: ch, dev: dev, mu: mu, fail: fail, wake: make(chan struct{}, 1)}
	if delayAcks {
		l.flows = map[flowKey]*flow{}
	}
	go l.drain()
	return l
}

// directQDisc is eth0's queueing discipline (stack.QueueingDiscipline):
// each packet goes straight to the link, where gVisor's default first
// makes a list of it.
type directQDisc struct{ l *link }

// WritePacket implements stack.QueueingDiscipline.WritePacket.
func (q directQDisc) WritePacket(pkt *stack.PacketBuffer) tcpip.Error {
	q.l.mu.Lock()
	defer q.l.mu.Unlock()
	err := q.l.writePacket(pkt)
	q.l.flush()
	return err
}

// Close implements stack.QueueingDiscipline.Close.
func (directQDisc) Close() {}

// batchSender is a Device that takes a frame given in parts, saving a
// copy, and is notified once for a batch of them
// (hal/virtio.Net.QueueParts and Flush).
type batchSender interface {
	QueueParts(parts [][]byte) error
	Flush()
}

// send passes one frame to the device; a batchSender is not notified
// until flush. The caller holds l.mu.
func (l *link) send(parts [][]byte) error {
	if bs, ok := l.dev.(batchSender); ok {
		return bs.QueueParts(parts)
	}
	if len(parts) == 1 {
		return l.dev.Send(parts[0])
	}
	return l.dev.Send(bytes.Join(parts, nil))
}

// WritePackets implements stack.LinkEndpoint.WritePackets: each packet
// goes to the device now, or to the backlog when the transmit ring is
// full (or frames wait before it); a pure TCP acknowledgement may be
// held a moment instead (delack.go). A frame the device refuses (too
// big, too small) is dropped, as a NIC drops what it cannot send.
func (l *link) WritePackets(pkts stack.PacketBufferList) (int, tcpip.Error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	defer l.flush()
	n := 0
	for _, pkt := range pkts.AsSlice() {
		if err := l.writePacket(pkt); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// writePacket sends, queues or holds one packet (see WritePackets). The
// caller holds l.mu and flushes.
func (l *link) writePacket(pkt *stack.PacketBuffer) tcpip.Error {
	// The packet's views from its first header on (as pkt.AsSlices,
	// without allocating a list for each packet).
	vl, skip := pkt.AsViewList()
	parts := l.parts[:0]
	for v := vl.Front(); v != nil; v = v.Next() {
		b := v.AsSlice()
		if skip >= len(b) {
			skip -= len(b)
			continue
		}
		parts = append(parts, b[skip:])
		skip = 0
	}
	l.parts = parts
	defer clear(parts) // no references to the packet's memory kept
	if (l.flows != nil || len(l.waiting) > 0) && !l.stopped && len(parts) > 0 {
		// The stack writes a packet's headers into one view, its first:
		// they are read there, and only a frame whose headers are not
		// all in it is gathered into head first.
		s, ok := parseTCP(parts[0])
		if !ok && len(parts) > 1 {
			var head [14 + 60 + 60]byte
			k := 0
			for _, p := range parts {
				k += copy(head[k:], p)
				if k == len(head) {
					break
				}
			}
			s, ok = parseTCP(head[:k])
		}
		if ok {
			for _, w := range l.waiting {
				if w.out == s.key {
					w.poke() // the stack answered w's segment
				}
			}
			if l.flows != nil && l.delay(s, parts) {
				return nil
			}
		}
	}
	return l.sendOrQueue(parts)
}

// sendOrQueue sends one frame, or queues a copy behind the backlog. The
// caller holds l.mu.
func (l *link) sendOrQueue(parts [][]byte) tcpip.Error {
	if l.stopped {
		return &tcpip.ErrClosedForSend{}
	}
	if len(l.backlog) == 0 {
		err := l.send(parts)
		if errors.Is(err, virtio.ErrDevice) {
			l.stopped = true
			l.fail(err)
			return &tcpip.ErrClosedForSend{}
		}
		if !errors.Is(err, virtio.ErrTxFull) {
			return nil
		}
		l.flush() // the device works on what is queued, and makes room
	}
	if len(l.backlog) >= txBacklogMax {
		return &tcpip.ErrNoBufferSpace{}
	}
	l.backlog = append(l.backlog, bytes.Join(parts, nil))
	select {
	case l.wake <- struct{}{}:
	default:
	}
	return nil
}

// flush notifies a batchSender of the frames queued. The caller holds
// l.mu.
func (l *link) flush() {
	if bs, ok := l.dev.(batchSender); ok {
		bs.Flush()
	}
}

// drain sends the backlog's frames as the transmit ring makes room.
func (l *link) drain() {
	for range l.wake {
		for {
			l.mu.Lock()
			for len(l.backlog) > 0 && !l.stopped {
				err := l.dev.Send(l.backlog[0])
				if errors.Is(err, virtio.ErrTxFull) {
					break
				}
				if errors.Is(err, virtio.ErrDevice) {
					l.stopped = true
					l.fail(err)
				}
				l.backlog[0] = nil
				l.backlog = l.backlog[1:]
			}
			left := len(l.backlog) > 0 && !l.stopped
			l.mu.Unlock()
			if !left {
				break
			}
			time.Sleep(pollBusy)
		}
	}
}

// Configure gives EthernetNIC its address and the default route.
func (st *Stack) Configure(c Config) error {
	if !c.Addr.Addr().Is4() {
		return fmt.Errorf("network: %v is not an IPv4 address", c.Addr)
	}
	a := tcpip.AddrFrom4(c.Addr.Addr().As4())
	pa := tcpip.ProtocolAddress{Protocol: ipv4.ProtocolNumber, AddressWithPrefix: tcpip.AddressWithPrefix{Address: a, PrefixLen: c.Addr.Bits()}}
	if err := st.s.AddProtocolAddress(EthernetNIC, pa, stack.AddressProperties{}); err != nil {
		return wrap("adding "+c.Addr.String(), err)
	}
	st.s.AddRoute(tcpip.Route{Destination: pa.AddressWithPrefix.Subnet(), NIC: EthernetNIC})
	if c.Gateway.IsValid() {
		sub, _ := tcpip.NewSubnet(tcpip.AddrFrom4([4]byte{}), tcpip.MaskFromBytes(make([]byte, 4)))
		st.s.AddRoute(tcpip.Route{Destination: sub, Gateway: tcpip.AddrFrom4(c.Gateway.As4()), NIC: EthernetNIC})
	}
	return nil
}

// Config6 is a static IPv6 configuration (cocoon.ip6=), on top of the
// link-local address and what router advertisements give.
type Config6 struct {
	Addr    netip.Prefix
	Gateway netip.Addr // default route, if valid
}

// ParseStatic6 reads cocoon.ip6=ADDRESS/PREFIX[,GATEWAY].
func ParseStatic6(s string) (Config6, error) {
	var c Config6
	a, gw, hasGW := strings.Cut(s, ",")
	p, err := netip.ParsePrefix(a)
	if err != nil || !p.Addr().Is6() || p.Addr().Is4In6() || p.Bits() < 1 || strings.Contains(gw, ",") {
		return c, fmt.Errorf("cocoon.ip6=%s: want ADDRESS/PREFIX[,GATEWAY] with IPv6 addresses, as fec0::15/64,fe80::2", s)
	}
	c.Addr = p
	if hasGW {
		g, err := netip.ParseAddr(gw)
		if err != nil || !g.Is6() || g.Is4In6() {
			return c, fmt.Errorf("cocoon.ip6=%s: %q is not an IPv6 address", s, gw)
		}
		c.Gateway = g
	}
	return c, nil
}

// Configure6 gives EthernetNIC a static IPv6 address, its subnet's route
// and, with a gateway, the default route.
func (st *Stack) Configure6(c Config6) error {
	pa := tcpip.ProtocolAddress{Protocol: ipv6.ProtocolNumber, AddressWithPrefix: tcpip.AddressWithPrefix{
		Address: tcpip.AddrFrom16(c.Addr.Addr().As16()), PrefixLen: c.Addr.Bits()}}
	if err := st.s.AddProtocolAddress(EthernetNIC, pa, stack.AddressProperties{}); err != nil {
		return wrap("adding "+c.Addr.String(), err)
	}
	st.s.AddRoute(tcpip.Route{Destination: pa.AddressWithPrefix.Subnet(), NIC: EthernetNIC})
	if c.Gateway.IsValid() {
		st.s.AddRoute(tcpip.Route{Destination: header.IPv6EmptySubnet, Gateway: tcpip.AddrFrom16(c.Gateway.As16()), NIC: EthernetNIC})
	}
	return nil
}
