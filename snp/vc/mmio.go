// MOV, MOVZX, MOVSX and MOVSXD to or from memory: the MMIO read and write
// #VC exits. Trap context: every function here is //go:nosplit and
// allocates nothing.

package vc

// Extension is how a read narrower than its destination register is
// widened.
type Extension uint8

// Extensions.
const (
	NoExtension Extension = iota // MOV
	ZeroExtend                   // MOVZX
	SignExtend                   // MOVSX, MOVSXD
)

// Register is a general-purpose register operand.
type Register struct {
	// Index is the register number in ModRM order: 0 RAX, 1 RCX, 2 RDX,
	// 3 RBX, 4 RSP, 5 RBP, 6 RSI, 7 RDI, 8-15 R8-R15.
	Index uint8
	// HighByte selects bits 15:8 (AH, CH, DH, BH).
	HighByte bool
}

// Address registers of a Memory operand other than the 16 general-purpose
// registers.
const (
	RegRIP  = 16   // Base: RIP-relative; EIP-relative with a 32-bit address size
	RegNone = 0xFF // Base or Index: none
)

// Memory is a memory operand: Segment:[Base + Index*Scale + Disp].
type Memory struct {
	// Segment is FS or GS when overridden, otherwise DS: 64-bit mode gives
	// DS, ES and SS (the default for RSP and RBP bases) base 0 and ignores
	// their overrides (AMD APM vol. 1, section 2.2.3).
	Segment Segment
	Base    uint8 // register number, RegRIP or RegNone
	Index   uint8 // register number or RegNone
	Scale   uint8 // 1, 2, 4 or 8; 0 without an Index
	Disp    int64 // sign-extended disp8 or disp32, or a MOV moffs
}

// Access is the memory access an MMIO instruction performs.
type Access struct {
	Dir  Direction
	Size uint8 // bytes moved to or from memory: 1, 2, 4 or 8

	// Reg is the register operand unless HasImm; RegSize is its size in
	// bytes (the destination size of a widening read).
	Reg     Register
	RegSize uint8
	Extend  Extension

	// Imm is the immediate of MOV m, imm, truncated to Size bytes (a
	// 64-bit store sign-extends its 32-bit immediate first).
	Imm    uint64
	HasImm bool

	// Mem is the memory operand, AddrSize its address size in bits: 64,
	// or 32 with an address-size prefix.
	Mem      Memory
	AddrSize uint8

	Len uint8 // instruction length in bytes
}

// DecodeMMIO decodes the 64-bit mode instruction at the start of code and
// returns the MMIO access it performs (AMD APM vol. 3, "MOV",
// "MOVZX", "MOVSX", "MOVSXD"):
//
//	88 /r, 89 /r     MOV r/m, reg      (Write)
//	8A /r, 8B /r     MOV reg, r/m      (Read)
//	A0, A1           MOV AL/rAX, moffs (Read; 8-byte moffs, 4 with 67)
//	A2, A3           MOV moffs, AL/rAX (Write)
//	C6 /0, C7 /0     MOV r/m, imm      (Write; imm16 or imm32)
//	0F B6, 0F B7     MOVZX reg, r/m8 or r/m16
//	0F BE, 0F BF     MOVSX reg, r/m8 or r/m16
//	63 /r            MOVSXD reg, r/m32 (not with 66 alone: a 4-byte read
//	                 into a 2-byte register)
//
// with memory operands only, and prefixes read as the package
// documentation describes: 66 and REX.W for the operand size, REX.R, REX.X and REX.B for the
// registers, REX for SPL, BPL, SIL and DIL in place of AH, CH, DH and BH,
// FS and GS overrides, and 67 for 32-bit addressing. LOCK, REP and REPNE
// are refused: every accepted instruction is a single access.
//
//go:nosplit
func DecodeMMIO(code []byte) (Access, Status) {
	code = limit(code)
	p, ok := decodePrefixes(code)
	if !ok {
		return Access{}, Truncated
	}
	if p.lock || p.rep {
		return Access{}, BadPrefix
	}
	a := Access{AddrSize: p.addressSize()}
	op := code[p.len]
	pos := p.len + 1
	var reg uint8
	var st Status
	switch op {
	case 0x88, 0x89, 0x8A, 0x8B:
		a.Mem, reg, pos, st = decodeModRM(code, pos, &p)
		a.Size = 1
		if op&1 != 0 {
			a.Size = p.operandSize()
		}
		a.RegSize = a.Size
		a.Reg = Register{Index: reg}
		if a.Size == 1 {
			a.Reg = byteRegister(reg, p.rex)
		}
		if op&2 == 0 {
			a.Dir = Write
		}
	case 0xA0, 0xA1, 0xA2, 0xA3:
		n := 8
		if p.addr32 {
			n = 4
		}
		d, ok := readLE(code, pos, n)
		if !ok {
			return Access{}, Truncated
		}
		pos += n
		a.Mem = Memory{Segment: p.segment, Base: RegNone, Index: RegNone, Disp: int64(d)}
		a.Size = 1
		if op&1 != 0 {
			a.Size = p.operandSize()
		}
		a.RegSize = a.Size
		if op&2 != 0 {
			a.Dir = Write
		}
	case 0xC6, 0xC7:
		a.Mem, reg, pos, st = decodeModRM(code, pos, &p)
		if st != OK {
			break
		}
		if reg&7 != 0 {
			return Access{}, Unsupported
		}
		a.Dir, a.HasImm, a.Size = Write, true, 1
		n := 1
		if op == 0xC7 {
			a.Size = p.operandSize()
			n = min(int(a.Size), 4)
		}
		imm, ok := readLE(code, pos, n)
		if !ok {
			return Access{}, Truncated
		}
		pos += n
		if n == 4 && imm&(1<<31) != 0 {
			imm |= ^mask(4)
		}
		a.Imm = imm & mask(a.Size)
	case 0x63:
		a.Mem, reg, pos, st = decodeModRM(code, pos, &p)
		a.Dir, a.Size, a.Extend = Read, 4, SignExtend
		a.Reg, a.RegSize = Register{Index: reg}, p.operandSize()
		if st == OK && a.RegSize < a.Size {
			return Access{}, Unsupported
		}
	case 0x0F:
		if pos >= len(code) {
			return Access{}, Truncated
		}
		op2 := code[pos]
		switch op2 {
		case 0xB6, 0xB7, 0xBE, 0xBF:
		default:
			return Access{}, Unsupported
		}
		a.Mem, reg, pos, st = decodeModRM(code, pos+1, &p)
		a.Dir, a.Size, a.Extend = Read, 1, ZeroExtend
		if op2&1 != 0 {
			a.Size = 2
		}
		if op2&8 != 0 {
			a.Extend = SignExtend
		}
		a.Reg, a.RegSize = Register{Index: reg}, p.operandSize()
	default:
		return Access{}, Unsupported
	}
	if st != OK {
		return Access{}, st
	}
	a.Len = uint8(pos)
	return a, OK
}

// byteRegister returns the 8-bit register that ModRM register number n
// (REX.R or REX.B included) names: AH, CH, DH and BH for 4-7 without a REX
// prefix, SPL, BPL, SIL and DIL with one (AMD APM vol. 1, section 3.1.2,
// "Byte Registers").
//
//go:nosplit
func byteRegister(n, rex uint8) Register {
	if rex == 0 && n >= 4 && n < 8 {
		return Register{Index: n - 4, HighByte: true}
	}
	return Register{Index: n}
}

// decodeModRM decodes the ModRM byte at code[pos] with its SIB byte and
// displacement (AMD APM vol. 3, sections 1.4 and 1.5; displacements are
// sign-extended, vol. 1, section 2.2.3). It returns the memory operand, the ModRM reg field extended by
// REX.R, and the position after the displacement; an operand that is a
// register, not memory, is NoMemory.
//
//go:nosplit
func decodeModRM(code []byte, pos int, p *prefixes) (Memory, uint8, int, Status) {
	if pos < 0 || pos >= len(code) {
		return Memory{}, 0, pos, Truncated
	}
	modrm := code[pos]
	pos++
	mod, rm := modrm>>6, modrm&7
	reg := modrm >> 3 & 7
	if p.rex&rexR != 0 {
		reg |= 8
	}
	if mod == 3 {
		return Memory{}, reg, pos, NoMemory
	}
	m := Memory{Segment: p.segment, Base: RegNone, Index: RegNone}
	disp := 0 // displacement bytes
	switch mod {
	case 1:
		disp = 1
	case 2:
		disp = 4
	}
	switch {
	case rm == 4: // SIB follows
		if pos >= len(code) {
			return Memory{}, 0, pos, Truncated
		}
		sib := code[pos]
		pos++
		index, base := sib>>3&7, sib&7
		if p.rex&rexX != 0 {
			index |= 8
		}
		if index != 4 { // RSP is no index; R12 is
			m.Index, m.Scale = index, 1<<(sib>>6)
		}
		if base == 5 && mod == 0 { // no base (RBP and R13 alike), disp32
			disp = 4
		} else {
			if p.rex&rexB != 0 {
				base |= 8
			}
			m.Base = base
		}
	case rm == 5 && mod == 0: // RIP-relative, disp32 (section 1.7)
		m.Base, disp = RegRIP, 4
	default:
		if p.rex&rexB != 0 {
			rm |= 8
		}
		m.Base = rm
	}
	d, ok := readLE(code, pos, disp)
	if !ok {
		return Memory{}, 0, pos, Truncated
	}
	pos += disp
	switch disp {
	case 1:
		m.Disp = int64(int8(d))
	case 4:
		m.Disp = int64(int32(d))
	}
	return m, reg, pos, OK
}

// Address computes the linear address of the memory operand, given the
// general-purpose registers in ModRM order (see Register.Index), the
// address rip of the instruction, and the FS and GS bases. A 32-bit
// address is truncated before the segment base is added (AMD APM vol. 1,
// section 2.2.3). On an Access DecodeMMIO did not return, it gives a
// meaningless address but does not panic.
//
//go:nosplit
func (a *Access) Address(regs *[16]uint64, rip, fsBase, gsBase uint64) uint64 {
	m := &a.Mem
	var addr uint64
	switch m.Base {
	case RegNone:
	case RegRIP:
		addr = rip + uint64(a.Len)
	default:
		addr = regs[m.Base&15]
	}
	if m.Index != RegNone {
		addr += regs[m.Index&15] * uint64(m.Scale)
	}
	addr += uint64(m.Disp)
	if a.AddrSize == 32 {
		addr &= mask(4)
	}
	switch m.Segment {
	case FS:
		addr += fsBase
	case GS:
		addr += gsBase
	}
	return addr
}

// Value returns the data a Write stores: the immediate, or the register
// operand truncated to Size bytes.
//
//go:nosplit
func (a *Access) Value(regs *[16]uint64) uint64 {
	if a.HasImm {
		return a.Imm
	}
	v := regs[a.Reg.Index&15]
	if a.Reg.HighByte {
		v >>= 8
	}
	return v & mask(a.Size)
}

// Complete writes data, read from memory, into the destination register
// of a Read as the instruction would: widened by Extend to RegSize; then a
// 4-byte destination clears bits 63:32, while 1- and 2-byte destinations
// keep the register's other bits (AMD APM vol. 1, section 3.1.2,
// "Zero-Extension of 32-Bit Results").
//
//go:nosplit
func (a *Access) Complete(regs *[16]uint64, data uint64) {
	data &= mask(a.Size)
	if a.Extend == SignExtend && a.Size > 0 && data>>(8*uint(a.Size)-1)&1 != 0 {
		data |= ^mask(a.Size)
	}
	data &= mask(a.RegSize)
	r := &regs[a.Reg.Index&15]
	switch {
	case a.Reg.HighByte:
		*r = *r&^0xFF00 | data<<8&0xFF00
	case a.RegSize == 4 || a.RegSize == 8:
		*r = data
	default:
		*r = *r&^mask(a.RegSize) | data
	}
}
