package inet

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"
)

var testMAC = [6]byte{2, 0, 0, 0, 0, 1}

// reply builds a server's answer to a frame dhcpFrame made, as QEMU's
// user network sends it, with opts as the options.
func reply(req []byte, yiaddr [4]byte, opts []byte) []byte {
	f := dhcpFrame(testMAC, binary.BigEndian.Uint32(req[ethHdr+ipHdr+udpHdr+4:]), 0, netip.Addr{}, netip.Addr{})
	f = append(f[:ethHdr+ipHdr+udpHdr+bootpSize], opts...)
	ip := f[ethHdr:]
	binary.BigEndian.PutUint16(ip[2:], uint16(len(ip)))
	udp := ip[ipHdr:]
	binary.BigEndian.PutUint16(udp[0:], 67)
	binary.BigEndian.PutUint16(udp[2:], 68)
	binary.BigEndian.PutUint16(udp[4:], uint16(len(udp)))
	b := udp[udpHdr:]
	b[0] = bootReply
	copy(b[16:], yiaddr[:])
	return f
}

var leaseOpts = []byte{
	optServerID, 4, 10, 0, 2, 2, optSubnetMask, 4, 255, 255, 255, 0,
	optRouter, 4, 10, 0, 2, 2, optDNS, 8, 10, 0, 2, 3, 1, 1, 1, 1, optEnd,
}

// fakeServer is a Device whose network has a DHCP server.
type fakeServer struct {
	pending [][]byte
	sent    int
}

func (s *fakeServer) MAC() [6]byte { return testMAC }
func (s *fakeServer) Send(f []byte) error {
	s.sent++
	typ := f[ethHdr+ipHdr+udpHdr+bootpSize+2]
	next := byte(msgOffer)
	if typ == msgRequest {
		next = msgAck
	}
	// Noise first: a frame for another transaction, and a truncated one.
	other := reply(f, [4]byte{10, 0, 2, 99}, append([]byte{optMsgType, 1, next}, leaseOpts...))
	other[ethHdr+ipHdr+udpHdr+4]++
	s.pending = append(s.pending, other, f[:40],
		reply(f, [4]byte{10, 0, 2, 15}, append([]byte{optMsgType, 1, next}, leaseOpts...)))
	return nil
}
func (s *fakeServer) Receive(deliver func([]byte)) (int, error) {
	for _, p := range s.pending {
		deliver(p)
	}
	n := len(s.pending)
	s.pending = nil
	return n, nil
}

func TestDHCP(t *testing.T) {
	s := &fakeServer{}
	c, err := DHCP(s, 0x1234, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Addr: netip.MustParsePrefix("10.0.2.15/24"), Gateway: netip.MustParseAddr("10.0.2.2"),
		DNS: []netip.Addr{netip.MustParseAddr("10.0.2.3"), netip.MustParseAddr("1.1.1.1")}}
	if c.Addr != want.Addr || c.Gateway != want.Gateway || len(c.DNS) != 2 || c.DNS[0] != want.DNS[0] || c.DNS[1] != want.DNS[1] {
		t.Errorf("config %+v, want %+v", c, want)
	}
	if s.sent != 2 {
		t.Errorf("%d frames sent, want DISCOVER and REQUEST", s.sent)
	}
}

// TestParseDHCPHostile feeds the parser replies a hostile network might
// send: each is ignored, none read out of bounds.
func TestParseDHCPHostile(t *testing.T) {
	req := dhcpFrame(testMAC, 7, msgDiscover, netip.Addr{}, netip.Addr{})
	good := reply(req, [4]byte{10, 0, 2, 15}, append([]byte{optMsgType, 1, msgOffer}, leaseOpts...))
	if _, ok := parseDHCP(good, testMAC, 7); !ok {
		t.Fatal("a good offer was refused")
	}
	for name, mutate := range map[string]func([]byte) []byte{
		"option past the end":  func(f []byte) []byte { f[len(f)-2] = 200; return f[:len(f)-1] },
		"ip length too big":    func(f []byte) []byte { binary.BigEndian.PutUint16(f[ethHdr+2:], 0xffff); return f },
		"udp length too big":   func(f []byte) []byte { binary.BigEndian.PutUint16(f[ethHdr+ipHdr+4:], 0xffff); return f },
		"short header":         func(f []byte) []byte { f[ethHdr] = 0x44; return f },
		"other client":         func(f []byte) []byte { f[ethHdr+ipHdr+udpHdr+28] ^= 1; return f },
		"no cookie":            func(f []byte) []byte { f[ethHdr+ipHdr+udpHdr+236] = 0; return f },
		"a request, not reply": func(f []byte) []byte { f[ethHdr+ipHdr+udpHdr] = bootRequest; return f },
		"truncated":            func(f []byte) []byte { return f[:ethHdr+ipHdr+udpHdr+100] },
		"address 0.0.0.0":      func(f []byte) []byte { copy(f[ethHdr+ipHdr+udpHdr+16:], []byte{0, 0, 0, 0}); return f },
	} {
		f := mutate(append([]byte(nil), good...))
		if l, ok := parseDHCP(f, testMAC, 7); ok {
			t.Errorf("%s: accepted %+v", name, l)
		}
	}
}

func FuzzParseDHCP(f *testing.F) {
	req := dhcpFrame(testMAC, 7, msgDiscover, netip.Addr{}, netip.Addr{})
	f.Add(reply(req, [4]byte{10, 0, 2, 15}, append([]byte{optMsgType, 1, msgOffer}, leaseOpts...)))
	f.Fuzz(func(t *testing.T, frame []byte) {
		if l, ok := parseDHCP(frame, testMAC, 7); ok && l.typ != msgNak && !l.yiaddr.IsGlobalUnicast() {
			t.Fatalf("accepted address %v", l.yiaddr)
		}
	})
}

func TestParseStatic(t *testing.T) {
	c, err := ParseStatic("10.0.2.15/24,10.0.2.2,10.0.2.3")
	if err != nil || c.Addr.String() != "10.0.2.15/24" || c.Gateway.String() != "10.0.2.2" || len(c.DNS) != 1 {
		t.Errorf("%+v %v", c, err)
	}
	for _, bad := range []string{"", "10.0.2.15", "::1/128", "10.0.2.15/24,gateway"} {
		if _, err := ParseStatic(bad); err == nil {
			t.Errorf("ParseStatic(%q) accepted", bad)
		}
	}
}
