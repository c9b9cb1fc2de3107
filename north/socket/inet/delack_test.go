package inet

import (
	"encoding/binary"
	"sync"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// tcpFrame builds an Ethernet frame holding a TCP segment from port
// srcPort to 80 with ack, flags, TCP options opts and n bytes of data,
// over IPv4 or IPv6.
func tcpFrame(v6 bool, srcPort uint16, ack uint32, flags byte, opts []byte, n int) []byte {
	tcp := make([]byte, 20+len(opts)+n)
	binary.BigEndian.PutUint16(tcp[0:], srcPort)
	binary.BigEndian.PutUint16(tcp[2:], 80)
	binary.BigEndian.PutUint32(tcp[8:], ack)
	tcp[12] = byte((20+len(opts))/4) << 4
	tcp[13] = flags
	copy(tcp[20:], opts)
	eth := make([]byte, 14)
	var ip []byte
	if v6 {
		binary.BigEndian.PutUint16(eth[12:], etherIPv6)
		ip = make([]byte, 40)
		ip[0] = 6 << 4
		binary.BigEndian.PutUint16(ip[4:], uint16(len(tcp)))
		ip[6] = protoTCP
		ip[23], ip[39] = 1, 2
	} else {
		binary.BigEndian.PutUint16(eth[12:], etherIPv4)
		ip = make([]byte, 20)
		ip[0] = 4<<4 | 5
		binary.BigEndian.PutUint16(ip[2:], uint16(20+len(tcp)))
		ip[9] = protoTCP
		ip[15], ip[19] = 1, 2
	}
	return append(append(eth, ip...), tcp...)
}

var tsOption = []byte{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2}

func TestParseTCP(t *testing.T) {
	frag := tcpFrame(false, 1, 1, tcpFlagAck, nil, 0)
	frag[14+6] = 0x20 // more fragments
	udp := tcpFrame(false, 1, 1, tcpFlagAck, nil, 0)
	udp[14+9] = 17
	for _, c := range []struct {
		name     string
		frame    []byte
		ok, pure bool
	}{
		{"ACK", tcpFrame(false, 1, 7, tcpFlagAck, nil, 0), true, true},
		{"ACK with timestamps", tcpFrame(false, 1, 7, tcpFlagAck, tsOption, 0), true, true},
		{"ACK over IPv6", tcpFrame(true, 1, 7, tcpFlagAck, nil, 0), true, true},
		{"ACK with SACK", tcpFrame(false, 1, 7, tcpFlagAck, []byte{1, 1, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2}, 0), true, false},
		{"ACK with data", tcpFrame(false, 1, 7, tcpFlagAck, nil, 100), true, false},
		{"ACK+PSH", tcpFrame(false, 1, 7, tcpFlagAck|0x08, nil, 0), true, false},
		{"SYN+ACK", tcpFrame(false, 1, 7, tcpFlagAck|0x02, nil, 0), true, false},
		{"FIN+ACK", tcpFrame(false, 1, 7, tcpFlagAck|0x01, nil, 0), true, false},
		{"fragment", frag, false, false},
		{"UDP", udp, false, false},
		{"short", tcpFrame(false, 1, 7, tcpFlagAck, nil, 0)[:40], false, false},
	} {
		s, ok := parseTCP(c.frame)
		if ok != c.ok || s.pureAck != c.pure {
			t.Errorf("%s: ok %v pure ACK %v, want %v %v", c.name, ok, s.pureAck, c.ok, c.pure)
		}
		if ok && s.ack != 7 {
			t.Errorf("%s: ack %d, want 7", c.name, s.ack)
		}
	}
	a, _ := parseTCP(tcpFrame(false, 1, 7, tcpFlagAck, nil, 0))
	b, _ := parseTCP(tcpFrame(false, 2, 7, tcpFlagAck, nil, 0))
	c, _ := parseTCP(tcpFrame(true, 1, 7, tcpFlagAck, nil, 0))
	if a.key == b.key || a.key == c.key {
		t.Error("different connections share a key")
	}
}

// recorder is a Device that keeps what it sends.
type recorder struct {
	mu   sync.Mutex
	sent [][]byte
}

func (r *recorder) MAC() [6]byte { return testMAC }
func (r *recorder) Send(f []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, append([]byte(nil), f...))
	return nil
}
func (r *recorder) Receive(func([]byte)) (int, error) { return 0, nil }

// acks returns the (source port, ack) of each segment sent.
func (r *recorder) acks() [][2]uint32 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out [][2]uint32
	for _, f := range r.sent {
		s, _ := parseTCP(f) // the source port is in the key
		out = append(out, [2]uint32{uint32(binary.BigEndian.Uint16(s.key[32:])), s.ack})
	}
	return out
}

func (l *link) write(t *testing.T, frame []byte) {
	t.Helper()
	var pkts stack.PacketBufferList
	pkts.PushBack(stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: buffer.MakeWithData(frame)}))
	defer pkts.DecRef()
	if n, err := l.WritePackets(pkts); n != 1 || err != nil {
		t.Fatalf("WritePackets: %d, %v", n, err)
	}
}

// TestDelayedAck: a pure acknowledgement is held; data acknowledging as
// much replaces it; a second acknowledgement of more goes at once in
// its place; a duplicate goes at once; a held one goes when its time is
// up; other connections pass.
func TestDelayedAck(t *testing.T) {
	dev := &recorder{}
	var mu sync.Mutex
	l := newLink(channel.New(1, nicMTU, ""), dev, &mu, func(error) {}, true)
	want := func(step string, w ...[2]uint32) {
		t.Helper()
		got := dev.acks()
		if len(got) != len(w) {
			t.Fatalf("%s: sent %v, want %v", step, got, w)
		}
		for i := range w {
			if got[i] != w[i] {
				t.Fatalf("%s: sent %v, want %v", step, got, w)
			}
		}
	}
	l.write(t, tcpFrame(false, 1, 100, tcpFlagAck, tsOption, 0))
	want("an acknowledgement")
	l.write(t, tcpFrame(false, 2, 50, tcpFlagAck|0x08, nil, 10))
	want("another connection's data", [2]uint32{2, 50})
	l.write(t, tcpFrame(false, 1, 100, tcpFlagAck|0x08, nil, 10))
	want("data acknowledging as much", [2]uint32{2, 50}, [2]uint32{1, 100})
	l.write(t, tcpFrame(false, 1, 200, tcpFlagAck, nil, 0))
	l.write(t, tcpFrame(false, 1, 300, tcpFlagAck, nil, 0))
	want("a second acknowledgement", [2]uint32{2, 50}, [2]uint32{1, 100}, [2]uint32{1, 300})
	l.write(t, tcpFrame(false, 1, 300, tcpFlagAck, nil, 0))
	want("a duplicate", [2]uint32{2, 50}, [2]uint32{1, 100}, [2]uint32{1, 300}, [2]uint32{1, 300})
	l.write(t, tcpFrame(false, 1, 400, tcpFlagAck, nil, 0))
	l.write(t, tcpFrame(false, 1, 400, tcpFlagAck|0x01, nil, 0)) // FIN: acknowledges as much
	want("a FIN", [2]uint32{2, 50}, [2]uint32{1, 100}, [2]uint32{1, 300}, [2]uint32{1, 300}, [2]uint32{1, 400})
	l.write(t, tcpFrame(true, 1, 500, tcpFlagAck, nil, 0))
	for end := time.Now().Add(time.Minute); len(dev.acks()) < 6; time.Sleep(time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("a held acknowledgement was never sent")
		}
	}
	want("time up", [2]uint32{2, 50}, [2]uint32{1, 100}, [2]uint32{1, 300}, [2]uint32{1, 300}, [2]uint32{1, 400}, [2]uint32{1, 500})
}

// writeViews is write with the frame in several views, cut at cuts.
func (l *link) writeViews(t *testing.T, frame []byte, cuts ...int) {
	t.Helper()
	var b buffer.Buffer
	at := 0
	for _, c := range append(cuts, len(frame)) {
		b.Append(buffer.NewViewWithData(frame[at:c]))
		at = c
	}
	var pkts stack.PacketBufferList
	pkts.PushBack(stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: b}))
	defer pkts.DecRef()
	if n, err := l.WritePackets(pkts); n != 1 || err != nil {
		t.Fatalf("WritePackets: %d, %v", n, err)
	}
}

// TestDelayedAckViews: the link reads a segment's headers wherever the
// packet's views put them: all in the first (the stack's way, data after
// them), or cut anywhere.
func TestDelayedAckViews(t *testing.T) {
	dev := &recorder{}
	var mu sync.Mutex
	l := newLink(channel.New(1, nicMTU, ""), dev, &mu, func(error) {}, true)
	l.writeViews(t, tcpFrame(false, 1, 100, tcpFlagAck, tsOption, 0), 14, 30)
	l.writeViews(t, tcpFrame(false, 2, 100, tcpFlagAck, nil, 0), 40)
	if got := dev.acks(); len(got) != 0 {
		t.Fatalf("acknowledgements in views: sent %v, want them held", got)
	}
	l.writeViews(t, tcpFrame(false, 1, 100, tcpFlagAck|0x08, nil, 10), 54)
	l.writeViews(t, tcpFrame(false, 2, 100, tcpFlagAck|0x08, nil, 10), 20, 50, 60)
	got := dev.acks()
	if len(got) != 2 || got[0] != [2]uint32{1, 100} || got[1] != [2]uint32{2, 100} {
		t.Fatalf("data after held acknowledgements: sent %v, want the data alone", got)
	}
	for _, f := range dev.sent {
		if len(f) != 14+20+20+10 {
			t.Errorf("sent a frame of %d bytes, want the data segment's %d", len(f), 14+20+20+10)
		}
	}
}
