// Package cbpf checks and runs classic BPF socket filters, the programs
// SO_ATTACH_FILTER attaches (struct sock_fprog): Check refuses what
// Linux's bpf_check_classic refuses (net/core/filter.c), Run gives the
// filter's verdict on a packet as Linux's interpreter of the converted
// program does: the number of bytes to keep, 0 to drop it.
package cbpf

import (
	"encoding/binary"
	"errors"
)

// Insn is one instruction, struct sock_filter.
type Insn struct {
	Code   uint16
	Jt, Jf uint8
	K      uint32
}

// InsnSize is the size of struct sock_filter.
const InsnSize = 8

// MaxInsns is BPF_MAXINSNS: the longest program.
const MaxInsns = 4096

// memWords is BPF_MEMWORDS: the scratch memory M[0..15].
const memWords = 16

// Instruction classes, sizes, modes, operations and sources
// (include/uapi/linux/bpf_common.h, filter.h).
const (
	ld   = 0x00
	ldx  = 0x01
	st   = 0x02
	stx  = 0x03
	alu  = 0x04
	jmp  = 0x05
	ret  = 0x06
	misc = 0x07

	sizeW = 0x00
	sizeH = 0x08
	sizeB = 0x10

	modeImm = 0x00
	modeAbs = 0x20
	modeInd = 0x40
	modeMem = 0x60
	modeLen = 0x80
	modeMsh = 0xa0

	opAdd  = 0x00
	opSub  = 0x10
	opMul  = 0x20
	opDiv  = 0x30
	opOr   = 0x40
	opAnd  = 0x50
	opLsh  = 0x60
	opRsh  = 0x70
	opNeg  = 0x80
	opMod  = 0x90
	opXor  = 0xa0
	opJa   = 0x00
	opJeq  = 0x10
	opJgt  = 0x20
	opJge  = 0x30
	opJset = 0x40

	srcK = 0x00
	srcX = 0x08
	retA = 0x10

	miscTax = 0x00
	miscTxa = 0x80
)

// Negative offsets of loads (include/uapi/linux/filter.h): the ancillary
// data, the network header, the link-layer header.
const (
	adOff  = 0xfffff000 // SKF_AD_OFF
	netOff = 0xfff00000 // SKF_NET_OFF
	llOff  = 0xffe00000 // SKF_LL_OFF
)

// The ancillary data a load from SKF_AD_OFF + n reads (SKF_AD_*).
const (
	AdProtocol       = 0
	AdPktType        = 4
	AdIfindex        = 8
	AdNlattr         = 12
	AdNlattrNest     = 16
	AdMark           = 20
	AdQueue          = 24
	AdHatype         = 28
	AdRxhash         = 32
	AdCPU            = 36
	AdAluXorX        = 40
	AdVlanTag        = 44
	AdVlanTagPresent = 48
	AdPayOffset      = 52
	AdRandom         = 56
	AdVlanTPID       = 60
	adMax            = 64
)

// ErrInvalid is the error of a program Linux refuses (EINVAL).
var ErrInvalid = errors.New("cbpf: invalid program")

// allowed is chk_code_allowed's table: the codes a classic program may use.
var allowed = func() (a [256]bool) {
	for _, op := range []uint16{opAdd, opSub, opMul, opDiv, opMod, opAnd, opOr, opXor, opLsh, opRsh} {
		a[alu|op|srcK], a[alu|op|srcX] = true, true
	}
	for _, c := range []uint16{
		alu | opNeg,
		ld | sizeW | modeAbs, ld | sizeH | modeAbs, ld | sizeB | modeAbs, ld | sizeW | modeLen,
		ld | sizeW | modeInd, ld | sizeH | modeInd, ld | sizeB | modeInd, ld | modeImm, ld | modeMem,
		ldx | sizeW | modeLen, ldx | sizeB | modeMsh, ldx | modeImm, ldx | modeMem,
		st, stx, misc | miscTax, misc | miscTxa, ret | srcK, ret | retA,
		jmp | opJa, jmp | opJeq | srcK, jmp | opJeq | srcX, jmp | opJge | srcK, jmp | opJge | srcX,
		jmp | opJgt | srcK, jmp | opJgt | srcX, jmp | opJset | srcK, jmp | opJset | srcX,
	} {
		a[c] = true
	}
	return
}()

// Decode reads a program of n instructions, struct sock_filter's
// little-endian layout, from b.
func Decode(b []byte) []Insn {
	p := make([]Insn, len(b)/InsnSize)
	for i := range p {
		e := b[i*InsnSize:]
		p[i] = Insn{Code: binary.LittleEndian.Uint16(e), Jt: e[2], Jf: e[3], K: binary.LittleEndian.Uint32(e[4:])}
	}
	return p
}

// Encode is Decode's inverse.
func Encode(p []Insn) []byte {
	b := make([]byte, 0, len(p)*InsnSize)
	for _, in := range p {
		b = binary.LittleEndian.AppendUint16(b, in.Code)
		b = append(b, in.Jt, in.Jf)
		b = binary.LittleEndian.AppendUint32(b, in.K)
	}
	return b
}

// condJump reports whether code is a conditional jump.
func condJump(code uint16) bool {
	return code&0x07 == jmp && code&0xf0 != opJa
}

// Check refuses p as bpf_check_basics_ok and bpf_check_classic do: 1 to
// MaxInsns instructions of known codes, no division by a zero constant
// or shift by 32 or more, scratch memory within M[0..15] and read only
// where every path to the read wrote it (check_load_and_stores), jumps
// forward within the program, ancillary loads Linux knows, a return at
// the end.
func Check(p []Insn) error {
	n := len(p)
	if n == 0 || n > MaxInsns {
		return ErrInvalid
	}
	for pc, in := range p {
		if in.Code >= uint16(len(allowed)) || !allowed[in.Code] {
			return ErrInvalid
		}
		switch c := in.Code; {
		case c == alu|opDiv|srcK, c == alu|opMod|srcK:
			if in.K == 0 {
				return ErrInvalid
			}
		case c == alu|opLsh|srcK, c == alu|opRsh|srcK:
			if in.K >= 32 {
				return ErrInvalid
			}
		case c == ld|modeMem, c == ldx|modeMem, c == st, c == stx:
			if in.K >= memWords {
				return ErrInvalid
			}
		case c == jmp|opJa:
			if uint64(in.K) >= uint64(n-pc-1) {
				return ErrInvalid
			}
		case condJump(c):
			if pc+int(in.Jt)+1 >= n || pc+int(in.Jf)+1 >= n {
				return ErrInvalid
			}
		case c == ld|sizeW|modeAbs, c == ld|sizeH|modeAbs, c == ld|sizeB|modeAbs:
			if in.K >= adOff && (in.K-adOff >= adMax || (in.K-adOff)%4 != 0) {
				return ErrInvalid
			}
		}
	}
	if c := p[n-1].Code; c != ret|srcK && c != ret|retA {
		return ErrInvalid
	}
	// check_load_and_stores: one bit per memory word written on every
	// path reaching an instruction.
	masks := make([]uint16, n)
	for i := range masks {
		masks[i] = 0xffff
	}
	valid := uint16(0)
	for pc, in := range p {
		valid &= masks[pc]
		switch c := in.Code; {
		case c == st, c == stx:
			valid |= 1 << in.K
		case c == ld|modeMem, c == ldx|modeMem:
			if valid&(1<<in.K) == 0 {
				return ErrInvalid
			}
		case c == jmp|opJa:
			masks[pc+1+int(in.K)] &= valid
			valid = 0xffff
		case condJump(c):
			masks[pc+1+int(in.Jt)] &= valid
			masks[pc+1+int(in.Jf)] &= valid
			valid = 0xffff
		}
	}
	return nil
}

// Packet is what a filter runs over: the bytes from where the socket's
// protocol begins (a UDP socket's from its UDP header, a raw socket's
// from the IP header, an AF_UNIX datagram's data) and what the ancillary
// loads read.
type Packet struct {
	Data []byte
	// Net is the packet from its network header, of which Data is the
	// end; nil when it has none (AF_UNIX): a load relative to
	// SKF_NET_OFF then drops the packet, as one beyond the end does.
	Net []byte
	// Link is the packet from its link-layer header, nil when none.
	Link []byte
	// Protocol is skb->protocol in host order (ETH_P_IP, ETH_P_IPV6;
	// 0 for AF_UNIX).
	Protocol uint16
	PktType  uint32 // PACKET_HOST 0 ...
	// Ifindex and Hatype are the receiving device's; Ifindex 0 means
	// no device, and a load of either then returns 0 at once, as
	// Linux's converted program does.
	Ifindex int32
	Hatype  uint16
	Mark    uint32
	Hash    uint32
	CPU     uint32
	// Random gives SKF_AD_RANDOM's values; nil is 0.
	Random func() uint32
}

// Run runs p, which Check accepted, over pkt: the filter's return value
// (bytes of the packet to keep; 0 drops it). A load beyond the packet
// ends the program with 0, as does a division by a zero X.
func Run(p []Insn, pkt *Packet) uint32 {
	var a, x uint32
	var m [memWords]uint32
	data := pkt.Data
	for pc := 0; pc < len(p); pc++ {
		in := p[pc]
		switch in.Code {
		case ld | sizeW | modeAbs, ld | sizeH | modeAbs, ld | sizeB | modeAbs:
			if in.K >= adOff {
				v, ok := ancillary(in.K-adOff, a, x, pkt)
				if !ok {
					return 0
				}
				a = v
				continue
			}
			v, ok := load(pkt, in.K, in.Code&0x18)
			if !ok {
				return 0
			}
			a = v
		case ld | sizeW | modeInd, ld | sizeH | modeInd, ld | sizeB | modeInd:
			v, ok := load(pkt, x+in.K, in.Code&0x18)
			if !ok {
				return 0
			}
			a = v
		case ld | sizeW | modeLen:
			a = uint32(len(data))
		case ldx | sizeW | modeLen:
			x = uint32(len(data))
		case ld | modeImm:
			a = in.K
		case ldx | modeImm:
			x = in.K
		case ld | modeMem:
			a = m[in.K]
		case ldx | modeMem:
			x = m[in.K]
		case ldx | sizeB | modeMsh:
			v, ok := load(pkt, in.K, sizeB)
			if !ok {
				return 0
			}
			x = (v & 0xf) << 2
		case st:
			m[in.K] = a
		case stx:
			m[in.K] = x
		case misc | miscTax:
			x = a
		case misc | miscTxa:
			a = x
		case ret | srcK:
			return in.K
		case ret | retA:
			return a
		case alu | opNeg:
			a = -a
		case jmp | opJa:
			pc += int(in.K)
		default:
			v := in.K
			if in.Code&srcX != 0 {
				v = x
			}
			switch in.Code &^ srcX {
			case alu | opAdd:
				a += v
			case alu | opSub:
				a -= v
			case alu | opMul:
				a *= v
			case alu | opDiv:
				if v == 0 {
					return 0
				}
				a /= v
			case alu | opMod:
				if v == 0 {
					return 0
				}
				a %= v
			case alu | opAnd:
				a &= v
			case alu | opOr:
				a |= v
			case alu | opXor:
				a ^= v
			case alu | opLsh:
				a = shift(a, v, true)
			case alu | opRsh:
				a = shift(a, v, false)
			case jmp | opJeq, jmp | opJgt, jmp | opJge, jmp | opJset:
				var t bool
				switch in.Code &^ srcX {
				case jmp | opJeq:
					t = a == v
				case jmp | opJgt:
					t = a > v
				case jmp | opJge:
					t = a >= v
				default:
					t = a&v != 0
				}
				if t {
					pc += int(in.Jt)
				} else {
					pc += int(in.Jf)
				}
			default:
				return 0 // Check refuses it
			}
		}
	}
	return 0 // Check makes the last instruction a return
}

// shift is a 32-bit shift as the converted program's (the x86 JIT's and
// the interpreter's) is for a shift by X of 32 or more: the count taken
// modulo 32 (x86's shl/shr mask it).
func shift(a, v uint32, left bool) uint32 {
	v &= 31
	if left {
		return a << v
	}
	return a >> v
}

// load reads a big-endian word, half-word or byte at k: from the packet's
// data, or for an offset at SKF_NET_OFF or SKF_LL_OFF and above from its
// network or link-layer header (bpf_internal_load_pointer_neg_helper).
func load(pkt *Packet, k uint32, size uint16) (uint32, bool) {
	b := pkt.Data
	switch {
	case k >= adOff:
		return 0, false
	case k >= netOff:
		b, k = pkt.Net, k-netOff
	case k >= llOff:
		b, k = pkt.Link, k-llOff
	}
	n := uint64(4)
	switch size {
	case sizeH:
		n = 2
	case sizeB:
		n = 1
	}
	if uint64(k)+n > uint64(len(b)) {
		return 0, false
	}
	switch n {
	case 4:
		return binary.BigEndian.Uint32(b[k:]), true
	case 2:
		return uint32(binary.BigEndian.Uint16(b[k:])), true
	}
	return uint32(b[k]), true
}

// ancillary is a load of SKF_AD_OFF + off (convert_bpf_extensions); ok is
// false when the program ends with 0 instead.
func ancillary(off, a, x uint32, pkt *Packet) (v uint32, ok bool) {
	switch off {
	case AdProtocol:
		return uint32(pkt.Protocol), true
	case AdPktType:
		return pkt.PktType, true
	case AdIfindex:
		return uint32(pkt.Ifindex), pkt.Ifindex != 0
	case AdHatype:
		return uint32(pkt.Hatype), pkt.Ifindex != 0
	case AdMark:
		return pkt.Mark, true
	case AdRxhash:
		return pkt.Hash, true
	case AdCPU:
		return pkt.CPU, true
	case AdQueue, AdVlanTag, AdVlanTagPresent, AdVlanTPID:
		return 0, true
	case AdAluXorX:
		return a ^ x, true
	case AdRandom:
		if pkt.Random != nil {
			return pkt.Random(), true
		}
		return 0, true
	case AdNlattr, AdNlattrNest:
		return nlattr(pkt.Data, a, x, off == AdNlattrNest), true
	case AdPayOffset:
		return payOffset(pkt), true
	}
	return 0, false
}

// nlattr finds the netlink attribute of type x at offset a of data, or in
// the nested attribute there (bpf_skb_get_nlattr, _nest): its offset, 0
// when none.
func nlattr(data []byte, a, x uint32, nest bool) uint32 {
	const hdr = 4 // struct nlattr
	if len(data) < hdr || uint64(a) > uint64(len(data)-hdr) {
		return 0
	}
	start, end := int(a), len(data)
	if nest {
		l := int(binary.LittleEndian.Uint16(data[a:]))
		if l > end-start {
			return 0
		}
		start, end = start+hdr, start+l
	}
	for i := start; i+hdr <= end; {
		l := int(binary.LittleEndian.Uint16(data[i:]))
		if l < hdr || l > end-i {
			return 0
		}
		if uint32(binary.LittleEndian.Uint16(data[i+2:])&0x3fff) == x {
			return uint32(i)
		}
		i += (l + 3) &^ 3
	}
	return 0
}

// payOffset is skb_get_poff for a socket's packet: where the transport
// payload begins relative to the network header, 0 when unknown.
func payOffset(pkt *Packet) uint32 {
	if pkt.Net == nil || len(pkt.Net) < len(pkt.Data) {
		return 0
	}
	hdr := len(pkt.Net) - len(pkt.Data) // the IP header(s)
	// The transport header begins Data (UDP: 8 bytes).
	return uint32(hdr + 8)
}
