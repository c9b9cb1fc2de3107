package inet

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cocoon-vm/cocoon/hal/virtio"
	"github.com/cocoon-vm/cocoon/north/socket"
	"github.com/cocoon-vm/cocoon/north/vfs"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// fullDevice is a Device whose transmit ring is full for its first
// refusals sends, then takes every frame.
type fullDevice struct {
	mu       sync.Mutex
	refusals int
	sent     [][]byte
}

func (d *fullDevice) MAC() [6]byte { return testMAC }
func (d *fullDevice) Send(f []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.refusals > 0 {
		d.refusals--
		return virtio.ErrTxFull
	}
	d.sent = append(d.sent, bytes.Clone(f))
	return nil
}
func (d *fullDevice) Receive(func(frame []byte)) (int, error) { return 0, nil }

func (d *fullDevice) frames() [][]byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.sent
}

// packets returns n packets whose frames are "frame 0", "frame 1", ...
// split between a header (behind room for more headers) and a payload
// view.
func packets(from, n int) stack.PacketBufferList {
	var l stack.PacketBufferList
	for i := from; i < from+n; i++ {
		pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{ReserveHeaderBytes: 32, Payload: buffer.MakeWithData([]byte(fmt.Sprint(i)))})
		copy(pkt.LinkHeader().Push(6), "frame ")
		l.PushBack(pkt)
	}
	return l
}

// TestLinkKeepsOrderWhenRingFull: frames the device has no room for wait
// in the backlog, and frames sent after them wait behind them, so the
// device sends all of them in the stack's order.
func TestLinkKeepsOrderWhenRingFull(t *testing.T) {
	dev := &fullDevice{refusals: 3}
	var mu sync.Mutex
	l := newLink(channel.New(1, nicMTU, ""), dev, &mu, func(error) {}, false)
	for i := 0; i < 20; i += 5 {
		pkts := packets(i, 5)
		if n, err := l.WritePackets(pkts); n != 5 || err != nil {
			t.Fatalf("WritePackets: %d, %v; want 5, nil", n, err)
		}
		pkts.DecRef()
	}
	for end := time.Now().Add(time.Minute); len(dev.frames()) < 20; time.Sleep(time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("%d of 20 frames sent", len(dev.frames()))
		}
	}
	for i, f := range dev.frames() {
		if want := fmt.Sprintf("frame %d", i); string(f) != want {
			t.Errorf("frame %d is %q, want %q", i, f, want)
		}
	}
}

// TestQDiscSendsFrames: eth0's queueing discipline passes each packet's
// headers and payload to the device as one frame, in order.
func TestQDiscSendsFrames(t *testing.T) {
	dev := &fullDevice{}
	var mu sync.Mutex
	q := directQDisc{newLink(channel.New(1, nicMTU, ""), dev, &mu, func(error) {}, true)}
	pkts := packets(0, 3)
	defer pkts.DecRef()
	for _, pkt := range pkts.AsSlice() {
		if err := q.WritePacket(pkt); err != nil {
			t.Fatalf("WritePacket: %v", err)
		}
	}
	got := dev.frames()
	if len(got) != 3 {
		t.Fatalf("%d frames sent, want 3", len(got))
	}
	for i, f := range got {
		if want := fmt.Sprintf("frame %d", i); string(f) != want {
			t.Errorf("frame %d is %q, want %q", i, f, want)
		}
	}
}

// TestLinkBacklogBounded: with the ring full for good, the backlog takes
// txBacklogMax frames and then the stack is told there is no room.
func TestLinkBacklogBounded(t *testing.T) {
	dev := &fullDevice{refusals: 1 << 30}
	var mu sync.Mutex
	l := newLink(channel.New(1, nicMTU, ""), dev, &mu, func(error) {}, false)
	pkts := packets(0, txBacklogMax+1)
	defer pkts.DecRef()
	n, err := l.WritePackets(pkts)
	if n != txBacklogMax {
		t.Errorf("%d frames taken, want %d", n, txBacklogMax)
	}
	if _, ok := err.(*tcpip.ErrNoBufferSpace); !ok {
		t.Errorf("error %v, want ErrNoBufferSpace", err)
	}
}

// irqDevice is a Device with a receive interrupt: frames pushed while the
// interrupt is enabled raise it, if it is routed.
type irqDevice struct {
	mu       sync.Mutex
	queue    [][]byte
	enabled  bool
	routed   bool
	stop     bool
	irq      chan struct{}
	acks     int
	receives int
}

func newIRQDevice(routed bool) *irqDevice {
	return &irqDevice{routed: routed, irq: make(chan struct{}, 1)}
}

func (d *irqDevice) MAC() [6]byte      { return testMAC }
func (d *irqDevice) Send([]byte) error { return nil }
func (d *irqDevice) Receive(deliver func([]byte)) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.receives++
	if d.stop {
		return 0, errors.New("stopped")
	}
	for _, f := range d.queue {
		deliver(f)
	}
	n := len(d.queue)
	d.queue = nil
	return n, nil
}
func (d *irqDevice) Interrupts() bool { return true }
func (d *irqDevice) EnableInterrupt() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.enabled = true
	return len(d.queue) > 0
}
func (d *irqDevice) DisableInterrupt() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.enabled = false
}
func (d *irqDevice) AckInterrupt() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.acks++
}
func (d *irqDevice) WaitInterrupt(timeout time.Duration) bool {
	select {
	case <-d.irq:
		return true
	case <-time.After(timeout):
		return false
	}
}

func (d *irqDevice) push(f string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.queue = append(d.queue, []byte(f))
	if d.enabled && d.routed {
		select {
		case d.irq <- struct{}{}:
		default:
		}
	}
}

// runLoop runs receiveLoop on dev until the test ends and returns what
// it delivered and logged so far.
func runLoop(t *testing.T, dev *irqDevice) (got func() []string, logged func() []string) {
	var mu, devMu sync.Mutex
	var frames, logs []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		var rx sync.Mutex
		receiveLoop(dev, &devMu, &rx, func(f []byte) {
			mu.Lock()
			defer mu.Unlock()
			frames = append(frames, string(f))
		}, func() {}, func(error) {}, func(s string) {
			mu.Lock()
			defer mu.Unlock()
			logs = append(logs, s)
		})
	}()
	t.Cleanup(func() {
		dev.mu.Lock()
		dev.stop = true
		dev.mu.Unlock()
		<-done
	})
	copyOf := func(l *[]string) func() []string {
		return func() []string {
			mu.Lock()
			defer mu.Unlock()
			return append([]string(nil), *l...)
		}
	}
	return copyOf(&frames), copyOf(&logs)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(time.Minute); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestReceiveLoopInterrupt: with a routed interrupt the loop asks for it
// before it sleeps, takes the frames the interrupt announces and
// acknowledges it; it never gives the interrupt up.
func TestReceiveLoopInterrupt(t *testing.T) {
	dev := newIRQDevice(true)
	got, logged := runLoop(t, dev)
	for i := range 5 {
		waitFor(t, "the loop to wait for the interrupt", func() bool {
			dev.mu.Lock()
			defer dev.mu.Unlock()
			return dev.enabled
		})
		dev.push(fmt.Sprint("frame ", i))
		waitFor(t, fmt.Sprint("frame ", i), func() bool { return len(got()) == i+1 })
	}
	for i, f := range got() {
		if want := fmt.Sprint("frame ", i); f != want {
			t.Errorf("frame %d is %q, want %q", i, f, want)
		}
	}
	dev.mu.Lock()
	acks := dev.acks
	dev.mu.Unlock()
	if acks == 0 {
		t.Error("the interrupt was never acknowledged")
	}
	if l := logged(); len(l) != 0 {
		t.Errorf("logged %q", l)
	}
}

// TestReceiveLoopUnroutedInterrupt: a device whose interrupt never comes
// (wired elsewhere than the kernel routed it) still has its frames
// received, and after interruptMisses waits that found frames without
// an interrupt the loop says so and polls.
func TestReceiveLoopUnroutedInterrupt(t *testing.T) {
	dev := newIRQDevice(false)
	got, logged := runLoop(t, dev)
	// A frame pushed while the loop waits is a miss; one pushed between
	// its looks is not, so push until the loop gives up.
	for i := 0; len(logged()) == 0; i++ {
		if i == 10000 {
			t.Fatal("the loop never gave up an interrupt that never comes")
		}
		dev.push(fmt.Sprint("frame ", i))
		waitFor(t, fmt.Sprint("frame ", i), func() bool { return len(got()) == i+1 })
	}
	n := len(got())
	dev.push("after")
	waitFor(t, "a frame after the loop gave up", func() bool { return len(got()) == n+1 })
	if l := logged(); !strings.Contains(l[0], "polling") {
		t.Errorf("logged %q", l)
	}
	dev.mu.Lock()
	acks := dev.acks
	dev.mu.Unlock()
	if acks != 0 {
		t.Errorf("%d acknowledgements of an interrupt that never came", acks)
	}
}

// lateDevice is a Device whose receive interrupt never comes (one the
// kernel's runtime has not yet looked at), so the receive loop never
// wakes: frames wait in its queue.
type lateDevice struct{ irqDevice }

func (d *lateDevice) WaitInterrupt(time.Duration) bool { select {} }
func (d *lateDevice) ReceivePending() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.queue) > 0
}

// udpFrame is an Ethernet frame to testMAC carrying an IPv4 UDP datagram
// from 10.0.2.2:7 to to:port.
func udpFrame(to [4]byte, port uint16, payload string) []byte {
	f := make([]byte, 14+header.IPv4MinimumSize+header.UDPMinimumSize+len(payload))
	eth := header.Ethernet(f)
	eth.Encode(&header.EthernetFields{SrcAddr: "\x02\x00\x00\x00\x00\x02", DstAddr: tcpip.LinkAddress(testMAC[:]), Type: header.IPv4ProtocolNumber})
	ip := header.IPv4(f[14:])
	ip.Encode(&header.IPv4Fields{TotalLength: uint16(len(f) - 14), TTL: 64, Protocol: uint8(header.UDPProtocolNumber),
		SrcAddr: tcpip.AddrFrom4([4]byte{10, 0, 2, 2}), DstAddr: tcpip.AddrFrom4(to)})
	ip.SetChecksum(^ip.CalculateChecksum())
	u := header.UDP(ip.Payload())
	u.Encode(&header.UDPFields{SrcPort: 7, DstPort: port, Length: uint16(header.UDPMinimumSize + len(payload))})
	copy(u.Payload(), payload)
	return f
}

// TestRecvTakesWaitingFrames: a read that finds nothing while frames wait
// in the device's receive queue has them taken up the stack and reads
// what they carry (a connection's next request, there when the server
// reads after answering), while a read with nothing waiting fails
// EAGAIN without looking further.
func TestRecvTakesWaitingFrames(t *testing.T) {
	st, err := New(0)
	if err != nil {
		t.Fatal(err)
	}
	dev := &lateDevice{irqDevice: *newIRQDevice(true)}
	if err := st.AddNIC(dev, func(string) {}); err != nil {
		t.Fatal(err)
	}
	if err := st.Configure(Config{Addr: netip.MustParsePrefix("10.0.2.15/24")}); err != nil {
		t.Fatal(err)
	}
	so, err := st.NewSocket(socket.AFInet, socket.SockDgram, 0)
	if err != nil {
		t.Fatal(err)
	}
	s := so.(*sock)
	defer s.Release(nil)
	addr := make([]byte, 16)
	binary.LittleEndian.PutUint16(addr, socket.AFInet)
	binary.BigEndian.PutUint16(addr[2:], 5000)
	copy(addr[4:], []byte{10, 0, 2, 15})
	if err := s.Bind(nil, addr); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the receive loop to wait for the interrupt", func() bool {
		dev.mu.Lock()
		defer dev.mu.Unlock()
		return dev.enabled
	})
	dev.mu.Lock()
	receives := dev.receives
	dev.mu.Unlock()
	buf := make([]byte, 64)
	if _, err := s.Recv(vfs.BytesBuf(buf), &socket.Msg{}); !errors.Is(err, vfs.EAGAIN) {
		t.Fatalf("read with nothing sent: %v, want EAGAIN", err)
	}
	dev.mu.Lock()
	if dev.receives != receives {
		t.Errorf("a read with no frame waiting received from the device")
	}
	dev.mu.Unlock()
	dev.mu.Lock()
	dev.queue = append(dev.queue, udpFrame([4]byte{10, 0, 2, 15}, 5000, "next request"))
	dev.mu.Unlock()
	n, err := s.Recv(vfs.BytesBuf(buf), &socket.Msg{})
	if err != nil || string(buf[:n]) != "next request" {
		t.Fatalf("read with a frame waiting: %q, %v; want %q", buf[:n], err, "next request")
	}
}

// TestPollNICOtherConnections: a stream read waiting on its connection
// that finds frames in the device's receive queue takes them up the stack
// and is told to read again only if one is a segment of its connection;
// another connection's segment or a datagram does not make it yield and
// retry (its read fails EAGAIN at once, as Linux's on an empty socket).
func TestPollNICOtherConnections(t *testing.T) {
	st, err := New(0)
	if err != nil {
		t.Fatal(err)
	}
	dev := &lateDevice{irqDevice: *newIRQDevice(true)}
	if err := st.AddNIC(dev, func(string) {}); err != nil {
		t.Fatal(err)
	}
	v4 := func(b byte) tcpip.Address { return tcpip.AddrFrom4([4]byte{3: b}) }
	w := newPollWaiter()
	w.in = flowOf(v4(1), v4(2), 1234, 80)
	w.out = flowOf(v4(2), v4(1), 80, 1234)
	const psh = 0x08
	for _, c := range []struct {
		name   string
		frames [][]byte
		again  bool
	}{
		{"nothing", nil, false},
		{"another connection's segment", [][]byte{tcpFrame(false, 1235, 1, tcpFlagAck|psh, nil, 20)}, false},
		{"a datagram", [][]byte{udpFrame([4]byte{10, 0, 2, 15}, 5000, "x")}, false},
		{"the connection's acknowledgement", [][]byte{tcpFrame(false, 1234, 1, tcpFlagAck, tsOption, 0)}, false},
		{"the connection's segment", [][]byte{tcpFrame(false, 1234, 1, tcpFlagAck|psh, nil, 20)}, true},
		{"another's, then the connection's", [][]byte{tcpFrame(false, 1235, 1, tcpFlagAck|psh, nil, 20), tcpFrame(false, 1234, 1, tcpFlagAck|psh, nil, 20)}, true},
	} {
		dev.mu.Lock()
		dev.queue = append(dev.queue, c.frames...)
		dev.mu.Unlock()
		if got := st.pollNIC(w); got != c.again {
			t.Errorf("%s: read again %v, want %v", c.name, got, c.again)
		}
		dev.mu.Lock()
		if len(dev.queue) != 0 {
			t.Errorf("%s: %d frames left in the device", c.name, len(dev.queue))
		}
		dev.queue = nil
		dev.mu.Unlock()
	}
	// A read with no connection to wait on (a datagram socket's) yields
	// to the stack and reads again.
	dev.mu.Lock()
	dev.queue = append(dev.queue, udpFrame([4]byte{10, 0, 2, 15}, 5000, "x"))
	dev.mu.Unlock()
	if !st.pollNIC(nil) {
		t.Error("a read without a connection was not told to read again")
	}
}

// TestPollFlows: the flows a stream read waits on (flowOf, from the
// endpoint's addresses and ports) are the keys parseTCP reads from the
// connection's frames, an IPv4-mapped address as its IPv4 address, and
// carries finds a segment of the flow with more than an
// acknowledgement.
func TestPollFlows(t *testing.T) {
	v4 := func(b byte) tcpip.Address { return tcpip.AddrFrom4([4]byte{3: b}) }
	mapped := func(b byte) tcpip.Address { return tcpip.AddrFrom16([16]byte{10: 0xff, 11: 0xff, 15: b}) }
	v6 := func(b byte) tcpip.Address { return tcpip.AddrFrom16([16]byte{15: b}) }
	view := func(f []byte) []*buffer.View { return []*buffer.View{buffer.NewViewWithData(f)} }
	data := tcpFrame(false, 1234, 1, tcpFlagAck|0x08, nil, 20) // 0.0.0.1:1234 -> 0.0.0.2:80
	for _, c := range []struct {
		name  string
		frame []byte
		key   flowKey
		want  bool
	}{
		{"data", data, flowOf(v4(1), v4(2), 1234, 80), true},
		{"data, IPv4-mapped socket", data, flowOf(mapped(1), mapped(2), 1234, 80), true},
		{"data over IPv6", tcpFrame(true, 1234, 1, tcpFlagAck|0x08, nil, 20), flowOf(v6(1), v6(2), 1234, 80), true},
		{"FIN", tcpFrame(false, 1234, 1, tcpFlagAck|0x01, nil, 0), flowOf(v4(1), v4(2), 1234, 80), true},
		{"bare acknowledgement", tcpFrame(false, 1234, 1, tcpFlagAck, tsOption, 0), flowOf(v4(1), v4(2), 1234, 80), false},
		{"acknowledgement with SACK", tcpFrame(false, 1234, 1, tcpFlagAck, []byte{1, 1, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2}, 0), flowOf(v4(1), v4(2), 1234, 80), false},
		{"RST", tcpFrame(false, 1234, 1, 0x04, nil, 0), flowOf(v4(1), v4(2), 1234, 80), true},
		{"another port", data, flowOf(v4(1), v4(2), 1235, 80), false},
		{"the other direction", data, flowOf(v4(2), v4(1), 80, 1234), false},
		{"another address", data, flowOf(v4(3), v4(2), 1234, 80), false},
	} {
		if got := carries(view(c.frame), c.key); got != c.want {
			t.Errorf("%s: carries %v, want %v", c.name, got, c.want)
		}
	}
}

// TestPollWaiter: a read waiting for the stack to handle its segment
// goes on when the link sends a segment of its connection (the
// acknowledgement) and not for another connection's; with neither
// that nor the socket becoming readable it gives up (pollWaitMax).
func TestPollWaiter(t *testing.T) {
	var mu sync.Mutex
	l := newLink(channel.New(1, nicMTU, ""), &recorder{}, &mu, func(error) {}, true)
	w := newPollWaiter()
	w.out = flowOf(tcpip.AddrFrom4([4]byte{3: 1}), tcpip.AddrFrom4([4]byte{3: 2}), 1, 80)
	mu.Lock()
	l.waiting = append(l.waiting, w)
	mu.Unlock()
	poked := func() bool {
		select {
		case <-w.ch:
			return true
		default:
			return false
		}
	}
	l.write(t, tcpFrame(false, 2, 100, tcpFlagAck, nil, 0))
	if poked() {
		t.Error("another connection's acknowledgement ended the wait")
	}
	l.write(t, tcpFrame(false, 1, 100, tcpFlagAck, nil, 0))
	if !poked() {
		t.Error("the connection's acknowledgement did not end the wait")
	}
	w.wait() // nothing comes: returns after pollWaitMax
	w.poke()
	w.drain()
	if poked() {
		t.Error("drain left a poke")
	}
}
