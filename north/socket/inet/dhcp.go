package inet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip/checksum"
)

// A minimal DHCP client (RFC 2131, options RFC 2132) that asks for an
// IPv4 address before the device joins the stack, speaking raw Ethernet
// frames: DISCOVER, OFFER, REQUEST, ACK. Every frame from the network is
// untrusted and parsed with bounds checks; anything malformed is
// ignored.

// DHCP message fields and options.
const (
	bootRequest = 1
	bootReply   = 2
	dhcpCookie  = 0x63825363 // RFC 2131 3: the magic cookie

	optPad        = 0
	optSubnetMask = 1
	optRouter     = 3
	optDNS        = 6
	optRequested  = 50
	optMsgType    = 53
	optServerID   = 54
	optParamReq   = 55
	optEnd        = 255

	msgDiscover = 1
	msgOffer    = 2
	msgRequest  = 3
	msgAck      = 5
	msgNak      = 6

	// bootpSize is the fixed part of a BOOTP message, up to the options
	// (RFC 2131 figure 1: 236 bytes) plus the magic cookie.
	bootpSize = 240
	ethHdr    = 14
	ipHdr     = 20
	udpHdr    = 8
)

// DHCP configures from a DHCP server on dev's network, trying for at
// most timeout.
func DHCP(dev Device, xid uint32, timeout time.Duration) (Config, error) {
	mac := dev.MAC()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if err := dev.Send(dhcpFrame(mac, xid, msgDiscover, netip.Addr{}, netip.Addr{})); err != nil {
			return Config{}, err
		}
		offer, ok, err := awaitReply(dev, mac, xid, msgOffer, time.Second)
		if err != nil {
			return Config{}, err
		}
		if !ok {
			continue
		}
		if err := dev.Send(dhcpFrame(mac, xid, msgRequest, offer.yiaddr, offer.server)); err != nil {
			return Config{}, err
		}
		ack, ok, err := awaitReply(dev, mac, xid, msgAck, time.Second)
		if err != nil {
			return Config{}, err
		}
		if !ok || ack.yiaddr != offer.yiaddr {
			continue
		}
		return ack.config(), nil
	}
	return Config{}, errors.New("DHCP: no answer from a server")
}

// lease is what an OFFER or ACK says.
type lease struct {
	typ            int
	yiaddr, server netip.Addr
	mask           int // prefix length, -1 if not given
	router         netip.Addr
	dns            []netip.Addr
}

func (l lease) config() Config {
	bits := l.mask
	if bits < 0 {
		bits = 24
	}
	return Config{Addr: netip.PrefixFrom(l.yiaddr, bits), Gateway: l.router, DNS: l.dns}
}

// awaitReply polls dev for a reply of type want to transaction xid.
func awaitReply(dev Device, mac [6]byte, xid uint32, want int, wait time.Duration) (lease, bool, error) {
	end := time.Now().Add(wait)
	for time.Now().Before(end) {
		var got lease
		found := false
		_, err := dev.Receive(func(f []byte) {
			if l, ok := parseDHCP(f, mac, xid); ok && !found && (l.typ == want || l.typ == msgNak) {
				got, found = l, true
			}
		})
		if err != nil {
			return lease{}, false, err
		}
		if found {
			return got, got.typ == want, nil
		}
		time.Sleep(pollIdle)
	}
	return lease{}, false, nil
}

// dhcpFrame builds a broadcast DHCP message from 0.0.0.0:68 to
// 255.255.255.255:67 (RFC 2131 4.1).
func dhcpFrame(mac [6]byte, xid uint32, typ byte, requested, server netip.Addr) []byte {
	opts := []byte{optMsgType, 1, typ}
	if requested.IsValid() {
		a := requested.As4()
		opts = append(opts, optRequested, 4, a[0], a[1], a[2], a[3])
	}
	if server.IsValid() {
		a := server.As4()
		opts = append(opts, optServerID, 4, a[0], a[1], a[2], a[3])
	}
	opts = append(opts, optParamReq, 3, optSubnetMask, optRouter, optDNS, optEnd)
	b := make([]byte, bootpSize+len(opts))
	b[0], b[1], b[2] = bootRequest, 1, 6 // Ethernet, 6-byte addresses
	binary.BigEndian.PutUint32(b[4:], xid)
	binary.BigEndian.PutUint16(b[10:], 0x8000) // broadcast: we have no address yet
	copy(b[28:], mac[:])
	binary.BigEndian.PutUint32(b[236:], dhcpCookie)
	copy(b[bootpSize:], opts)

	f := make([]byte, ethHdr+ipHdr+udpHdr+len(b))
	copy(f[0:], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	copy(f[6:], mac[:])
	binary.BigEndian.PutUint16(f[12:], 0x0800)
	ip := f[ethHdr:]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(ipHdr+udpHdr+len(b)))
	ip[8], ip[9] = 64, 17 // TTL, UDP
	copy(ip[16:], []byte{255, 255, 255, 255})
	binary.BigEndian.PutUint16(ip[10:], ^checksum.Checksum(ip[:ipHdr], 0))
	udp := ip[ipHdr:]
	binary.BigEndian.PutUint16(udp[0:], 68)
	binary.BigEndian.PutUint16(udp[2:], 67)
	binary.BigEndian.PutUint16(udp[4:], uint16(udpHdr+len(b)))
	// UDP checksum 0: none (RFC 768), allowed over IPv4.
	copy(udp[udpHdr:], b)
	return f
}

// parseDHCP returns the DHCP reply f carries for our transaction, or
// false for any other frame.
func parseDHCP(f []byte, mac [6]byte, xid uint32) (lease, bool) {
	if len(f) < ethHdr+ipHdr+udpHdr+bootpSize || binary.BigEndian.Uint16(f[12:]) != 0x0800 {
		return lease{}, false
	}
	ip := f[ethHdr:]
	ihl := int(ip[0]&0xf) * 4
	total := int(binary.BigEndian.Uint16(ip[2:]))
	if ip[0]>>4 != 4 || ihl < ipHdr || ip[9] != 17 || total > len(ip) || total < ihl+udpHdr+bootpSize {
		return lease{}, false
	}
	if binary.BigEndian.Uint16(ip[6:])&0x3fff != 0 { // a fragment
		return lease{}, false
	}
	udp := ip[ihl:total]
	ulen := int(binary.BigEndian.Uint16(udp[4:]))
	if binary.BigEndian.Uint16(udp[2:]) != 68 || ulen < udpHdr+bootpSize || ulen > len(udp) {
		return lease{}, false
	}
	b := udp[udpHdr:ulen]
	if b[0] != bootReply || binary.BigEndian.Uint32(b[4:]) != xid || [6]byte(b[28:34]) != mac ||
		binary.BigEndian.Uint32(b[236:]) != dhcpCookie {
		return lease{}, false
	}
	l := lease{yiaddr: netip.AddrFrom4([4]byte(b[16:20])), mask: -1}
	for o := b[bootpSize:]; len(o) > 0; {
		code := o[0]
		if code == optEnd {
			break
		}
		if code == optPad {
			o = o[1:]
			continue
		}
		if len(o) < 2 || len(o) < 2+int(o[1]) {
			return lease{}, false
		}
		v := o[2 : 2+int(o[1])]
		o = o[2+int(o[1]):]
		switch code {
		case optMsgType:
			if len(v) == 1 {
				l.typ = int(v[0])
			}
		case optServerID:
			if len(v) == 4 {
				l.server = netip.AddrFrom4([4]byte(v))
			}
		case optSubnetMask:
			if len(v) == 4 {
				m := binary.BigEndian.Uint32(v)
				bits := 0
				for m&0x80000000 != 0 {
					bits++
					m <<= 1
				}
				if m == 0 { // contiguous
					l.mask = bits
				}
			}
		case optRouter:
			if len(v) >= 4 {
				l.router = netip.AddrFrom4([4]byte(v[:4]))
			}
		case optDNS:
			for ; len(v) >= 4 && len(l.dns) < 3; v = v[4:] {
				l.dns = append(l.dns, netip.AddrFrom4([4]byte(v[:4])))
			}
		}
	}
	if l.typ == 0 || (l.typ != msgNak && !l.yiaddr.IsGlobalUnicast()) {
		return lease{}, false
	}
	return l, true
}

// ParseStatic reads cocoon.ip=ADDR/BITS[,GATEWAY[,DNS...]].
func ParseStatic(s string) (Config, error) {
	var c Config
	parts := strings.Split(s, ",")
	p, err := netip.ParsePrefix(parts[0])
	if err != nil || !p.Addr().Is4() {
		return c, fmt.Errorf("cocoon.ip=%s: want ADDRESS/PREFIX[,GATEWAY[,DNS...]] with IPv4 addresses, as 10.0.2.15/24,10.0.2.2,10.0.2.3", s)
	}
	c.Addr = p
	for i, a := range parts[1:] {
		ip, err := netip.ParseAddr(a)
		if err != nil || !ip.Is4() {
			return c, fmt.Errorf("cocoon.ip=%s: %q is not an IPv4 address", s, a)
		}
		if i == 0 {
			c.Gateway = ip
		} else {
			c.DNS = append(c.DNS, ip)
		}
	}
	return c, nil
}
