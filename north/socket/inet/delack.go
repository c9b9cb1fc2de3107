package inet

// Delayed acknowledgements for the Ethernet interface. gVisor's TCP
// acknowledges every batch of segments it takes at once, with a segment
// of its own, even when the application answers a moment later: a
// request/response exchange costs the guest two frames, two device
// notifications and the host two segments to take, where Linux sends the
// answer alone, its acknowledgement delayed and carried by the data (RFC
// 9293, 3.8.6.3 "Delayed Acknowledgments: When to Send an ACK Segment";
// RFC 1122, 4.2.3.2). The link does that for what the stack sends on the
// Ethernet interface: a pure acknowledgement (flags ACK alone, no data,
// no options but timestamps) is held, at most ackDelay; a segment of the same
// connection that acknowledges as much replaces it, a second pure
// acknowledgement that acknowledges more is sent at once in its place
// (at least every second segment is acknowledged, as RFC 9293 asks),
// and anything else of the connection sends it first. An acknowledgement
// that acknowledges nothing new (a duplicate for fast retransmit, a
// window update, a keep-alive) is never held. Loopback traffic does not
// pass here.

import (
	"encoding/binary"
	"time"
)

// ackDelay bounds how long an acknowledgement is held: far below the
// 500 ms RFC 1122 allows and Linux's 40 ms minimum (TCP_DELACK_MIN),
// long enough for an application under emulation to answer a request.
const ackDelay = 5 * time.Millisecond

// Bounds on the per-connection state the link keeps: beyond heldMax
// connections with an acknowledgement held, acknowledgements go out at
// once; beyond lastAckMax connections remembered, those that hold
// nothing are forgotten.
const (
	heldMax    = 64
	lastAckMax = 1024
)

// flowKey names one direction of a TCP connection: source and
// destination addresses (IPv4 in the first 4 bytes of each 16) and
// ports.
type flowKey [36]byte

// tcpSegment is what the link needs to know about a frame it sends.
type tcpSegment struct {
	key     flowKey
	ack     uint32
	hasAck  bool // the ACK flag
	pureAck bool // ACK alone, no data, no options but timestamps
	// more is data, or SYN, FIN or RST: what the receiver acts on
	// beyond the acknowledgement.
	more bool
}

// EtherTypes, IP protocol and TCP offsets (IEEE 802.3; RFC 791, 3.1;
// RFC 8200, 3; RFC 9293, 3.1).
const (
	etherIPv4  = 0x0800
	etherIPv6  = 0x86dd
	protoTCP   = 6
	tcpFlagAck = 0x10
	// tcpFlagsMore are FIN, SYN and RST.
	tcpFlagsMore = 0x07
	tcpMinHdr    = 20
	ipv6HdrSize  = 40
)

// parseTCP reads the Ethernet, IP and TCP headers at the start of a
// frame (the stack's own frames, checked all the same): head holds at
// least the headers when there are any. ok is false for anything but a
// TCP segment over IPv4 without fragmentation or over IPv6 without
// extension headers.
func parseTCP(head []byte) (s tcpSegment, ok bool) {
	if len(head) < 14 {
		return s, false
	}
	ip := head[14:]
	var tcp []byte
	var tcpLen int // header and data, from the IP header
	switch binary.BigEndian.Uint16(head[12:]) {
	case etherIPv4:
		if len(ip) < 20 || ip[0]>>4 != 4 || ip[9] != protoTCP {
			return s, false
		}
		ihl := int(ip[0]&0xf) * 4
		total := int(binary.BigEndian.Uint16(ip[2:]))
		if ihl < 20 || total < ihl || ihl > len(ip) || binary.BigEndian.Uint16(ip[6:])&0x3fff != 0 {
			return s, false // malformed, or a fragment (MF or an offset)
		}
		copy(s.key[0:4], ip[12:16])
		copy(s.key[16:20], ip[16:20])
		tcp, tcpLen = ip[ihl:], total-ihl
	case etherIPv6:
		if len(ip) < ipv6HdrSize || ip[0]>>4 != 6 || ip[6] != protoTCP {
			return s, false
		}
		copy(s.key[0:16], ip[8:24])
		copy(s.key[16:32], ip[24:40])
		tcp, tcpLen = ip[ipv6HdrSize:], int(binary.BigEndian.Uint16(ip[4:]))
	default:
		return s, false
	}
	if len(tcp) < tcpMinHdr || tcpLen < tcpMinHdr {
		return s, false
	}
	off := int(tcp[12]>>4) * 4
	if off < tcpMinHdr || off > len(tcp) || off > tcpLen {
		return s, false
	}
	copy(s.key[32:36], tcp[0:4])
	flags := tcp[13]
	s.ack = binary.BigEndian.Uint32(tcp[8:])
	s.hasAck = flags&tcpFlagAck != 0
	s.pureAck = flags == tcpFlagAck && off == tcpLen && onlyTimestamps(tcp[tcpMinHdr:off])
	s.more = off < tcpLen || flags&tcpFlagsMore != 0
	return s, true
}

// onlyTimestamps reports whether TCP options opts hold nothing but
// padding and a timestamp (RFC 9293, 3.2; RFC 7323, 3): SACK blocks
// tell of loss, and the segments carrying them go out at once.
func onlyTimestamps(opts []byte) bool {
	for i := 0; i < len(opts); {
		switch opts[i] {
		case 0: // end of option list
			return true
		case 1: // no-operation
			i++
		case 8: // timestamps: kind, length 10, two 32-bit values
			if i+10 > len(opts) || opts[i+1] != 10 {
				return false
			}
			i += 10
		default:
			return false
		}
	}
	return true
}

// seqGE reports whether a is b or after it in sequence space (RFC 9293,
// 3.4: comparisons modulo 2^32).
func seqGE(a, b uint32) bool { return int32(a-b) >= 0 }

// flow is what the link remembers of one direction of a TCP connection.
type flow struct {
	// lastAck is the last acknowledgement number sent or held, plus one
	// so that the zero value means none.
	lastAck uint32
	holding bool   // an acknowledgement is held
	heldAck uint32 // its acknowledgement number
	frame   []byte // its copy (the buffer is kept for the next one)
}

// delay decides what to do with a TCP segment about to be sent, the
// link's lock held: hold it (true: the link keeps a copy of parts), or
// let the caller send it (false), after sending the connection's held
// acknowledgement if that must go first.
func (l *link) delay(s tcpSegment, parts [][]byte) bool {
	f := l.flows[s.key]
	if f == nil {
		if !s.hasAck {
			return false
		}
		if len(l.flows) >= lastAckMax {
			l.forget()
		}
		f = &flow{}
		l.flows[s.key] = f
	}
	if f.holding {
		switch {
		case s.pureAck && s.ack != f.heldAck:
			// A second acknowledgement of more: this one goes at once,
			// and says all the held one did.
			l.release(f)
		case !s.pureAck && s.hasAck && seqGE(s.ack, f.heldAck):
			l.release(f) // carried by this segment
		default:
			l.release(f)
			l.one[0] = f.frame
			l.sendOrQueue(l.one[:])
		}
	} else if s.pureAck && f.lastAck != s.ack+1 && len(l.holding) < heldMax {
		f.lastAck = s.ack + 1
		f.frame = f.frame[:0]
		for _, p := range parts {
			f.frame = append(f.frame, p...)
		}
		f.holding, f.heldAck = true, s.ack
		l.holding = append(l.holding, f)
		if !l.timerSet {
			// One timer for the link: when it fires, every
			// acknowledgement held goes, none later than ackDelay.
			if l.ackTimer == nil {
				l.ackTimer = time.AfterFunc(ackDelay, l.expire)
			} else {
				l.ackTimer.Reset(ackDelay)
			}
			l.timerSet = true
		}
		return true
	}
	if s.hasAck {
		f.lastAck = s.ack + 1
	}
	return false
}

// release forgets f's held acknowledgement (its frame stays until the
// next is held).
func (l *link) release(f *flow) {
	f.holding = false
	for i, h := range l.holding {
		if h == f {
			last := len(l.holding) - 1
			l.holding[i] = l.holding[last]
			l.holding[last] = nil
			l.holding = l.holding[:last]
			break
		}
	}
}

// forget clears the memory of connections that hold nothing, when it has
// grown to lastAckMax (the next acknowledgement of each is then sent, not
// held).
func (l *link) forget() {
	for k, f := range l.flows {
		if !f.holding {
			delete(l.flows, k)
		}
	}
}

// expire sends the acknowledgements held when the link's timer fires.
func (l *link) expire() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.timerSet = false
	for _, f := range l.holding {
		f.holding = false
		l.one[0] = f.frame
		l.sendOrQueue(l.one[:])
	}
	clear(l.holding)
	l.holding = l.holding[:0]
	l.flush()
}
