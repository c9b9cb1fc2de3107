// Types shared by the I/O and MMIO decoders, and the instruction prefixes
// both read. Trap context: every function here is //go:nosplit and
// allocates nothing.

package vc

// MaxLen is the longest x86 instruction in bytes (AMD APM vol. 3, section
// 1.1); a decoder reads no further and refuses a longer instruction.
const MaxLen = 15

// Status is the outcome of a decode: OK, or why an instruction is refused.
type Status uint8

// Statuses.
const (
	OK          Status = iota
	Truncated          // the bytes end, or MaxLen is reached, inside the instruction
	Unsupported        // not an instruction this package emulates
	BadPrefix          // LOCK, or REP/REPNE on an MMIO move
	NoMemory           // an MMIO move whose ModRM names a register, not memory
)

// String returns a constant description of s.
//
//go:nosplit
func (s Status) String() string {
	switch s {
	case OK:
		return "ok"
	case Truncated:
		return "truncated instruction"
	case Unsupported:
		return "unsupported instruction"
	case BadPrefix:
		return "unsupported LOCK or REP prefix"
	case NoMemory:
		return "no memory operand"
	}
	return "unknown status"
}

// Direction says which way data moves between the guest and a device.
type Direction uint8

// Directions.
const (
	Read  Direction = iota // MMIO load into a register, IN, INS
	Write                  // MMIO store from a register or immediate, OUT, OUTS
)

// Segment is a segment register, numbered as in instruction encodings and
// in the SEG field of the IOIO EXITINFO1 (AMD APM vol. 2, section 15.10.2).
type Segment uint8

// Segments.
const (
	ES Segment = iota
	CS
	SS
	DS
	FS
	GS
)

// Prefix bytes (AMD APM vol. 3, section 1.2).
const (
	prefixOperandSize = 0x66
	prefixAddressSize = 0x67
	prefixES          = 0x26
	prefixCS          = 0x2E
	prefixSS          = 0x36
	prefixDS          = 0x3E
	prefixFS          = 0x64
	prefixGS          = 0x65
	prefixLOCK        = 0xF0
	prefixREPNE       = 0xF2
	prefixREP         = 0xF3
)

// REX prefix bits (AMD APM vol. 3, section 1.2.7).
const (
	rexB = 1 << 0 // extends ModRM.rm or SIB.base
	rexX = 1 << 1 // extends SIB.index
	rexR = 1 << 2 // extends ModRM.reg
	rexW = 1 << 3 // 64-bit operand size
)

// prefixes are the prefixes in front of an opcode, read as the package
// documentation describes.
type prefixes struct {
	len      int     // prefix bytes; the opcode is at code[len]
	lock     bool    // F0
	rep      bool    // F2 or F3
	opSize16 bool    // 66
	addr32   bool    // 67
	segment  Segment // DS, or an FS or GS override
	rex      uint8   // the REX byte, or 0
}

// operandSize returns the operand size in bytes of an instruction whose
// operand size is not fixed at 8 bits: REX.W beats 66 (AMD APM vol. 3,
// section 1.2.2, Table 1-2).
//
//go:nosplit
func (p *prefixes) operandSize() uint8 {
	switch {
	case p.rex&rexW != 0:
		return 8
	case p.opSize16:
		return 2
	}
	return 4
}

// addressSize returns the address size in bits.
//
//go:nosplit
func (p *prefixes) addressSize() uint8 {
	if p.addr32 {
		return 32
	}
	return 64
}

// decodePrefixes reads the prefixes at the start of code, which holds at
// most MaxLen bytes. It reports false if no opcode byte follows them.
//
//go:nosplit
func decodePrefixes(code []byte) (prefixes, bool) {
	p := prefixes{segment: DS}
	for i := 0; i < len(code); i++ {
		switch b := code[i]; b {
		case prefixLOCK:
			p.lock = true
		case prefixREPNE, prefixREP:
			p.rep = true
		case prefixES, prefixCS, prefixSS, prefixDS:
			// No effect in 64-bit mode.
		case prefixFS:
			p.segment = FS
		case prefixGS:
			p.segment = GS
		case prefixOperandSize:
			p.opSize16 = true
		case prefixAddressSize:
			p.addr32 = true
		default:
			if b&0xF0 == 0x40 {
				p.rex = b
				i++
			}
			p.len = i
			return p, i < len(code)
		}
	}
	return p, false
}

// limit cuts code to MaxLen bytes.
//
//go:nosplit
func limit(code []byte) []byte {
	if len(code) > MaxLen {
		return code[:MaxLen]
	}
	return code
}

// mask returns a mask of the low size bytes.
//
//go:nosplit
func mask(size uint8) uint64 {
	if size >= 8 {
		return ^uint64(0)
	}
	return 1<<(8*uint(size)) - 1
}

// readLE reads the n-byte little-endian value at code[pos], n at most 8,
// reporting false if code is too short.
//
//go:nosplit
func readLE(code []byte, pos, n int) (uint64, bool) {
	if pos < 0 || n < 0 || n > 8 || pos > len(code)-n {
		return 0, false
	}
	var v uint64
	for i := n - 1; i >= 0; i-- {
		v = v<<8 | uint64(code[pos+i])
	}
	return v, true
}
