package inet

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cocoon-vm/cocoon/hal/virtio"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
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
// split between a header and a payload view.
func packets(from, n int) stack.PacketBufferList {
	var l stack.PacketBufferList
	for i := from; i < from+n; i++ {
		pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{ReserveHeaderBytes: 6, Payload: buffer.MakeWithData([]byte(fmt.Sprint(i)))})
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
	l := &link{Endpoint: channel.New(1, nicMTU, ""), dev: dev, mu: &mu, fail: func(error) {}, wake: make(chan struct{}, 1)}
	go l.drain()
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

// TestLinkBacklogBounded: with the ring full for good, the backlog takes
// txBacklogMax frames and then the stack is told there is no room.
func TestLinkBacklogBounded(t *testing.T) {
	dev := &fullDevice{refusals: 1 << 30}
	var mu sync.Mutex
	l := &link{Endpoint: channel.New(1, nicMTU, ""), dev: dev, mu: &mu, fail: func(error) {}, wake: make(chan struct{}, 1)}
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
