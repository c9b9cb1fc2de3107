// IN, OUT, INS and OUTS: the IOIO #VC exit. Trap context: every function
// here is //go:nosplit and allocates nothing.

package vc

// Bits of the IOIO intercept's EXITINFO1, which the GHCB protocol passes
// as SW_EXITINFO1 of an IOIO exit (GHCB specification v2, section 4.1;
// AMD APM vol. 2, section 15.10.2, Figure 15-2, "EXITINFO1 for IOIO
// Intercept").
const (
	IOIOTypeIn    = 1 << 0  // TYPE: 1 = IN or INS, 0 = OUT or OUTS
	IOIOString    = 1 << 2  // STR: INS or OUTS
	IOIORep       = 1 << 3  // REP: repeated string instruction
	IOIOSize8     = 1 << 4  // SZ8: 8-bit operand
	IOIOSize16    = 1 << 5  // SZ16
	IOIOSize32    = 1 << 6  // SZ32
	IOIOAddr16    = 1 << 7  // A16: 16-bit address size
	IOIOAddr32    = 1 << 8  // A32
	IOIOAddr64    = 1 << 9  // A64
	IOIOSegShift  = 10      // SEG, bits 12:10: effective segment (Segment)
	IOIOSegMask   = 7 << 10 // SEG field
	IOIOPortShift = 16      // PORT, bits 31:16: port number
)

// IO is a port access decoded from IN, OUT, INS or OUTS.
type IO struct {
	Port uint16
	Size uint8     // bytes per transfer: 1, 2 or 4
	Dir  Direction // Read for IN and INS, Write for OUT and OUTS

	// String marks INS (destination ES:rDI) and OUTS (source
	// Segment:rSI); Rep marks a REP (F3) or REPNE (F2) prefix on them,
	// with the count in rCX. AddrSize, 32 or 64 bits, is the size of
	// rDI, rSI and rCX.
	String   bool
	Rep      bool
	AddrSize uint8

	// Segment is the effective segment of the memory operand: ES for
	// INS, DS or an FS or GS override for OUTS, and ES (0) for IN and
	// OUT, which have none.
	Segment Segment

	Len uint8 // instruction length in bytes
}

// DecodeIO decodes the 64-bit mode IN, OUT, INS or OUTS instruction at the
// start of code, given RDX, which holds the port of all but IN and OUT
// with an immediate port (AMD APM vol. 3, "IN", "OUT", "INS", "OUTS").
//
// Prefixes are read as the package documentation describes: 66 selects a 16-bit operand, REX.W overrides it
// and a 64-bit operand is 32 bits for these instructions; 67 selects a
// 32-bit address size; FS and GS override the source segment of OUTS;
// REP and REPNE repeat INS and OUTS and are ignored on IN and OUT. A
// LOCK prefix makes the instruction invalid (#UD), so it is refused.
//
//go:nosplit
func DecodeIO(code []byte, rdx uint64) (IO, Status) {
	code = limit(code)
	p, ok := decodePrefixes(code)
	if !ok {
		return IO{}, Truncated
	}
	if p.lock {
		return IO{}, BadPrefix
	}
	op := code[p.len]
	pos := p.len + 1
	io := IO{Port: uint16(rdx), Size: 4, AddrSize: p.addressSize()}
	if op&1 == 0 {
		io.Size = 1
	} else if p.operandSize() == 2 {
		io.Size = 2
	}
	switch op &^ 3 {
	case 0xE4: // E4 IN AL,imm8; E5 IN eAX,imm8; E6 OUT imm8,AL; E7 OUT imm8,eAX
		if pos >= len(code) {
			return IO{}, Truncated
		}
		io.Port = uint16(code[pos])
		pos++
		if op&2 != 0 {
			io.Dir = Write
		}
	case 0xEC: // EC IN AL,DX; ED IN eAX,DX; EE OUT DX,AL; EF OUT DX,eAX
		if op&2 != 0 {
			io.Dir = Write
		}
	case 0x6C: // 6C INSB; 6D INSW/INSD; 6E OUTSB; 6F OUTSW/OUTSD
		io.String, io.Rep = true, p.rep
		io.Segment = ES
		if op&2 != 0 {
			io.Dir, io.Segment = Write, p.segment
		}
	default:
		return IO{}, Unsupported
	}
	io.Len = uint8(pos)
	return io, OK
}

// ExitInfo1 returns the IOIO EXITINFO1 word for the access, the
// SW_EXITINFO1 of its GHCB IOIO exit.
//
//go:nosplit
func (io *IO) ExitInfo1() uint64 {
	info := uint64(io.Port) << IOIOPortShift
	info |= uint64(io.Segment) << IOIOSegShift & IOIOSegMask
	if io.Dir == Read {
		info |= IOIOTypeIn
	}
	if io.String {
		info |= IOIOString
	}
	if io.Rep {
		info |= IOIORep
	}
	switch io.Size {
	case 1:
		info |= IOIOSize8
	case 2:
		info |= IOIOSize16
	case 4:
		info |= IOIOSize32
	}
	switch io.AddrSize {
	case 32:
		info |= IOIOAddr32
	case 64:
		info |= IOIOAddr64
	}
	return info
}
