// Package mmio decodes the instruction behind an SEV-ES/SNP #VC exception
// for an MMIO access: under SEV the hypervisor cannot read guest
// registers, so the guest itself finds out what the faulting instruction
// reads or writes and performs the access through the GHCB (MMIO read and
// write NAE events, GHCB spec section 4.1).
//
// Only plain moves are supported: MOV between a register or immediate and
// memory, MOVZX, MOVSX and MOVSXD loads. String moves (MOVS), read-modify-
// write instructions, and LOCK or REP prefixes are refused, so the handler
// can emulate every accepted instruction with a single access.
// Instruction encodings are those of AMD APM vol. 3 ("MOV", "MOVZX",
// "MOVSX", "MOVSXD"); decoding uses golang.org/x/arch/x86/x86asm.
package mmio

import (
	"errors"
	"fmt"

	"golang.org/x/arch/x86/x86asm"
)

// Direction says which way data moves.
type Direction uint8

// Directions.
const (
	Read  Direction = iota // memory to register
	Write                  // register or immediate to memory
)

func (d Direction) String() string {
	if d == Write {
		return "write"
	}
	return "read"
}

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

// Access is the memory access an instruction performs.
type Access struct {
	Dir  Direction
	Size int // bytes moved to or from memory: 1, 2, 4 or 8

	// Reg is the register operand unless HasImm; RegSize is its size in
	// bytes (the destination size of a widening read).
	Reg     Register
	RegSize int
	Extend  Extension

	// Imm is the immediate of MOV m, imm, truncated to Size bytes (a
	// 64-bit store sign-extends its 32-bit immediate first).
	Imm    uint64
	HasImm bool

	// Mem is the memory operand, AddrSize its address size in bits.
	Mem      x86asm.Mem
	AddrSize int

	Len int // instruction length in bytes
}

// ErrUnsupported reports an instruction this package does not emulate.
var ErrUnsupported = errors.New("MMIO instruction not supported")

// Decode decodes the 64-bit mode instruction at the start of code and
// returns the MMIO access it performs.
func Decode(code []byte) (Access, error) {
	inst, err := x86asm.Decode(code, 64)
	if err != nil {
		return Access{}, fmt.Errorf("MMIO instruction % x: %w", prefix(code), err)
	}
	for _, p := range inst.Prefix {
		if p == 0 {
			break
		}
		// The low byte is the prefix byte; the decoder may tag F2/F3 as
		// ignored or as XACQUIRE/XRELEASE hints.
		switch p & 0xFF {
		case x86asm.PrefixLOCK, x86asm.PrefixREP, x86asm.PrefixREPN:
			return Access{}, fmt.Errorf("%w: %v with prefix %v", ErrUnsupported, inst.Op, p)
		}
	}
	a := Access{Size: inst.MemBytes, AddrSize: inst.AddrSize, Len: inst.Len}
	args := inst.Args
	switch inst.Op {
	case x86asm.MOV:
		if m, ok := args[0].(x86asm.Mem); ok {
			a.Dir, a.Mem = Write, m
			switch src := args[1].(type) {
			case x86asm.Reg:
				err = a.setReg(src)
			case x86asm.Imm:
				a.HasImm, a.Imm = true, uint64(src)&mask(a.Size)
			default:
				err = fmt.Errorf("%w: MOV to memory from %v", ErrUnsupported, args[1])
			}
		} else if m, ok := args[1].(x86asm.Mem); ok {
			a.Dir, a.Mem = Read, m
			err = a.setReg(args[0])
		} else {
			err = fmt.Errorf("%w: %v has no memory operand", ErrUnsupported, inst)
		}
	case x86asm.MOVZX, x86asm.MOVSX, x86asm.MOVSXD:
		m, ok := args[1].(x86asm.Mem)
		if !ok {
			return Access{}, fmt.Errorf("%w: %v has no memory operand", ErrUnsupported, inst)
		}
		a.Dir, a.Mem, a.Extend = Read, m, SignExtend
		if inst.Op == x86asm.MOVZX {
			a.Extend = ZeroExtend
		}
		err = a.setReg(args[0])
	default:
		return Access{}, fmt.Errorf("%w: %v", ErrUnsupported, inst)
	}
	if err != nil {
		return Access{}, err
	}
	switch a.Size {
	case 1, 2, 4, 8:
	default:
		return Access{}, fmt.Errorf("%w: %d-byte access", ErrUnsupported, a.Size)
	}
	if !a.HasImm && (a.Extend == NoExtension && a.RegSize != a.Size || a.RegSize < a.Size) {
		return Access{}, fmt.Errorf("%w: %d-byte register for a %d-byte access", ErrUnsupported, a.RegSize, a.Size)
	}
	// x86asm gives a ModRM disp32 zero-extended; the processor sign-
	// extends it to the address size (AMD APM vol. 1, 2.2.3), which
	// matters under 64-bit addressing. The moffs of A0-A3 is a full
	// address-size offset and stays as it is.
	if op := inst.Opcode >> 24; a.AddrSize == 64 && (op < 0xA0 || op > 0xA3) {
		a.Mem.Disp = int64(int32(a.Mem.Disp))
	}
	return a, nil
}

func (a *Access) setReg(arg x86asm.Arg) error {
	r, ok := arg.(x86asm.Reg)
	if !ok {
		return fmt.Errorf("%w: operand %v", ErrUnsupported, arg)
	}
	switch {
	case r >= x86asm.AL && r <= x86asm.R15B:
		n := uint8(r - x86asm.AL)
		switch {
		case n < 4: // AL, CL, DL, BL
			a.Reg = Register{Index: n}
		case n < 8: // AH, CH, DH, BH
			a.Reg = Register{Index: n - 4, HighByte: true}
		default: // SPL, BPL, SIL, DIL, R8B-R15B
			a.Reg = Register{Index: n - 4}
		}
		a.RegSize = 1
	case r >= x86asm.AX && r <= x86asm.R15W:
		a.Reg, a.RegSize = Register{Index: uint8(r - x86asm.AX)}, 2
	case r >= x86asm.EAX && r <= x86asm.R15L:
		a.Reg, a.RegSize = Register{Index: uint8(r - x86asm.EAX)}, 4
	case r >= x86asm.RAX && r <= x86asm.R15:
		a.Reg, a.RegSize = Register{Index: uint8(r - x86asm.RAX)}, 8
	default:
		return fmt.Errorf("%w: register %v", ErrUnsupported, r)
	}
	return nil
}

func mask(size int) uint64 {
	if size >= 8 {
		return ^uint64(0)
	}
	return 1<<(8*size) - 1
}

func prefix(code []byte) []byte {
	return code[:min(len(code), 15)]
}

// Registers holds the general-purpose registers in ModRM order (see
// Register.Index).
type Registers [16]uint64

// Value returns the data a Write stores: the immediate, or the register
// operand truncated to Size bytes.
func (a *Access) Value(regs *Registers) uint64 {
	if a.HasImm {
		return a.Imm
	}
	v := regs[a.Reg.Index]
	if a.Reg.HighByte {
		v >>= 8
	}
	return v & mask(a.Size)
}

// Complete writes data, read from memory, into the destination register
// of a Read as the instruction would: widened by Extend to RegSize, then a
// 4-byte destination clears bits 63:32 while 1- and 2-byte destinations
// keep the other bits.
func (a *Access) Complete(regs *Registers, data uint64) {
	data &= mask(a.Size)
	if a.Extend == SignExtend && data&(1<<(8*a.Size-1)) != 0 {
		data |= ^mask(a.Size)
	}
	data &= mask(a.RegSize)
	r := &regs[a.Reg.Index]
	switch {
	case a.Reg.HighByte:
		*r = *r&^0xFF00 | data<<8
	case a.RegSize == 4 || a.RegSize == 8:
		*r = data
	default:
		*r = *r&^mask(a.RegSize) | data
	}
}

// Address computes the linear address of the memory operand, given the
// registers, the address rip of the instruction, and the FS and GS bases
// (ES, CS, SS and DS have base 0 in 64-bit mode).
func (a *Access) Address(regs *Registers, rip, fsBase, gsBase uint64) (uint64, error) {
	reg := func(r x86asm.Reg) (uint64, error) {
		switch {
		case r == 0:
			return 0, nil
		case r == x86asm.RIP:
			return rip + uint64(a.Len), nil
		case r == x86asm.EIP:
			return (rip + uint64(a.Len)) & mask(4), nil
		case r >= x86asm.RAX && r <= x86asm.R15:
			return regs[r-x86asm.RAX], nil
		case r >= x86asm.EAX && r <= x86asm.R15L:
			return regs[r-x86asm.EAX] & mask(4), nil
		}
		return 0, fmt.Errorf("%w: address register %v", ErrUnsupported, r)
	}
	base, err := reg(a.Mem.Base)
	if err != nil {
		return 0, err
	}
	index, err := reg(a.Mem.Index)
	if err != nil {
		return 0, err
	}
	addr := base + index*uint64(a.Mem.Scale) + uint64(a.Mem.Disp)
	if a.AddrSize == 32 {
		addr &= mask(4)
	}
	switch a.Mem.Segment {
	case 0, x86asm.ES, x86asm.CS, x86asm.SS, x86asm.DS:
	case x86asm.FS:
		addr += fsBase
	case x86asm.GS:
		addr += gsBase
	default:
		return 0, fmt.Errorf("%w: segment %v", ErrUnsupported, a.Mem.Segment)
	}
	return addr, nil
}
