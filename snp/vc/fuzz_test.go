package vc

import (
	"math/rand/v2"
	"testing"

	"golang.org/x/arch/x86/x86asm"
)

// mmioSeeds are encodings of every accepted form and of near misses.
var mmioSeeds = [][]byte{
	{0x8b, 0x07}, {0x48, 0x8b, 0x07}, {0x66, 0x44, 0x8b, 0x0f}, {0x8a, 0x3f}, {0x40, 0x8a, 0x3f},
	{0x89, 0x07}, {0x88, 0x27}, {0x4c, 0x89, 0x3f}, {0x66, 0x48, 0x89, 0x07},
	{0xc7, 0x07, 0x78, 0x56, 0x34, 0x12}, {0x48, 0xc7, 0x07, 0, 0, 0, 0x80}, {0xc6, 0x07, 0xff}, {0x66, 0xc7, 0x07, 0x01, 0x80},
	{0x0f, 0xb6, 0x07}, {0x48, 0x0f, 0xb7, 0x07}, {0x66, 0x0f, 0xbe, 0x07}, {0x4c, 0x0f, 0xbf, 0x07},
	{0x48, 0x63, 0x07}, {0x63, 0x07}, {0x66, 0x63, 0x07},
	{0x8b, 0x05, 0xf0, 0xff, 0xff, 0xff}, {0x8b, 0x80, 0xf0, 0xff, 0xff, 0xff}, {0x64, 0x8b, 0x04, 0x25, 0x28, 0, 0, 0},
	{0x89, 0x54, 0x88, 0x08}, {0x43, 0x8b, 0x04, 0x65, 1, 0, 0, 0}, {0x41, 0x8b, 0x45, 0x00}, {0x42, 0x8b, 0x04, 0x24},
	{0x67, 0x8b, 0x05, 1, 0, 0, 0}, {0x64, 0x67, 0x8b, 0x47, 0xe0}, {0x65, 0x2e, 0x8b, 0x00},
	{0xa0, 1, 2, 3, 4, 5, 6, 7, 8}, {0x48, 0xa3, 1, 2, 3, 4, 5, 6, 7, 8}, {0x67, 0xa1, 1, 2, 3, 0x84},
	{0xf3, 0x89, 0x07}, {0xf0, 0x8b, 0x07}, {0x48, 0x66, 0x8b, 0x07}, {0xc7, 0x0f, 1, 2, 3, 4}, {0x8c, 0x07},
	{0xc5, 0xf8, 0x10, 0x07}, {0x89, 0xc8},
}

// FuzzMMIOAgainstX86asm checks DecodeMMIO against x86asm's reading of
// the same bytes (accessOf): the same instructions accepted and the same
// access, and Address against the operand x86asm names, for random
// register values. Value and Complete are checked against the APM's rules
// in TestValueAndComplete.
func FuzzMMIOAgainstX86asm(f *testing.F) {
	for i, c := range mmioSeeds {
		f.Add(c, uint64(i))
	}
	f.Fuzz(func(t *testing.T, code []byte, seed uint64) {
		a, st := DecodeMMIO(code)
		ref, mem, ok := accessOf(code)
		if (st == OK) != ok {
			t.Fatalf("DecodeMMIO(% x) = %+v, %v; x86asm: %+v, accepted %v", code, a, st, ref, ok)
		}
		if st != OK {
			return
		}
		if a.Len < 1 || int(a.Len) > min(len(code), MaxLen) {
			t.Fatalf("DecodeMMIO(% x): Len %d", code, a.Len)
		}
		if a != ref {
			t.Fatalf("DecodeMMIO(% x) = %+v; x86asm %+v", code, a, ref)
		}
		rng := rand.New(rand.NewPCG(seed, ^seed))
		var regs [16]uint64
		for i := range regs {
			regs[i] = rng.Uint64()
		}
		rip, fsBase, gsBase := rng.Uint64(), rng.Uint64(), rng.Uint64()
		if got, want := a.Address(&regs, rip, fsBase, gsBase), addressOf(mem, &a, &regs, rip, fsBase, gsBase); got != want {
			t.Fatalf("Address(% x) = %#x, x86asm operand %v gives %#x", code, got, mem, want)
		}
	})
}

// accessOf returns the MMIO access of the instruction at the start of
// code as x86asm decodes it, its memory operand, and whether it is one
// DecodeMMIO must accept: MOV, MOVZX, MOVSX or MOVSXD between memory and
// a general register or an immediate (AMD APM vol. 3), with no LOCK, REP
// or REPNE prefix and a register at least as wide as the access.
func accessOf(code []byte) (Access, x86asm.Mem, bool) {
	inst, err := x86asm.Decode(code, 64)
	if err != nil || hasPrefix(&inst, x86asm.PrefixLOCK) || hasPrefix(&inst, x86asm.PrefixREP) || hasPrefix(&inst, x86asm.PrefixREPN) {
		return Access{}, x86asm.Mem{}, false
	}
	a := Access{Size: uint8(inst.MemBytes), AddrSize: uint8(inst.AddrSize), Len: uint8(inst.Len)}
	var m x86asm.Mem
	var r x86asm.Arg
	switch inst.Op {
	case x86asm.MOV:
		if mm, ok := inst.Args[0].(x86asm.Mem); ok {
			a.Dir, m, r = Write, mm, inst.Args[1]
		} else if mm, ok := inst.Args[1].(x86asm.Mem); ok {
			a.Dir, m, r = Read, mm, inst.Args[0]
		} else {
			return Access{}, m, false
		}
	case x86asm.MOVZX, x86asm.MOVSX, x86asm.MOVSXD:
		mm, ok := inst.Args[1].(x86asm.Mem)
		if !ok {
			return Access{}, m, false
		}
		a.Dir, m, r, a.Extend = Read, mm, inst.Args[0], SignExtend
		if inst.Op == x86asm.MOVZX {
			a.Extend = ZeroExtend
		}
	default:
		return Access{}, m, false
	}
	switch op := r.(type) {
	case x86asm.Imm:
		a.HasImm, a.Imm = true, uint64(op)&mask(a.Size)
	case x86asm.Reg:
		reg, size, ok := gprOf(op)
		if !ok || a.Extend == NoExtension && size != a.Size || size < a.Size {
			return Access{}, m, false
		}
		a.Reg, a.RegSize = reg, size
	default:
		return Access{}, m, false
	}
	seg := map[x86asm.Reg]Segment{0: DS, x86asm.ES: DS, x86asm.CS: DS, x86asm.SS: DS, x86asm.DS: DS, x86asm.FS: FS, x86asm.GS: GS}
	a.Mem = Memory{Segment: seg[m.Segment], Base: addrReg(m.Base), Index: addrReg(m.Index), Disp: m.Disp}
	if m.Index != 0 {
		a.Mem.Scale = m.Scale
	}
	// x86asm gives a ModRM disp32 zero-extended; the processor sign-
	// extends it to the address size (AMD APM vol. 1, 2.2.3), which
	// Memory.Disp holds as an int64. The moffs of A0-A3 is a full
	// address-size offset.
	if op := inst.Opcode >> 24; op < 0xA0 || op > 0xA3 {
		a.Mem.Disp = int64(int32(m.Disp))
	}
	return a, m, true
}

// gprOf returns the register number, high-byte selection and size in
// bytes of an x86asm general register.
func gprOf(r x86asm.Reg) (Register, uint8, bool) {
	switch {
	case r >= x86asm.AL && r <= x86asm.R15B:
		n := uint8(r - x86asm.AL)
		switch {
		case n < 4: // AL, CL, DL, BL
			return Register{Index: n}, 1, true
		case n < 8: // AH, CH, DH, BH
			return Register{Index: n - 4, HighByte: true}, 1, true
		}
		return Register{Index: n - 4}, 1, true // SPL..DIL, R8B..R15B
	case r >= x86asm.AX && r <= x86asm.R15W:
		return Register{Index: uint8(r - x86asm.AX)}, 2, true
	case r >= x86asm.EAX && r <= x86asm.R15L:
		return Register{Index: uint8(r - x86asm.EAX)}, 4, true
	case r >= x86asm.RAX && r <= x86asm.R15:
		return Register{Index: uint8(r - x86asm.RAX)}, 8, true
	}
	return Register{}, 0, false
}

// addressOf computes the linear address of x86asm's memory operand m
// (AMD APM vol. 1, 2.2.3: in 64-bit mode only FS and GS have a base).
func addressOf(m x86asm.Mem, a *Access, regs *[16]uint64, rip, fsBase, gsBase uint64) uint64 {
	reg := func(r x86asm.Reg) uint64 {
		switch {
		case r == x86asm.RIP:
			return rip + uint64(a.Len)
		case r == x86asm.EIP:
			return uint64(uint32(rip + uint64(a.Len)))
		case r >= x86asm.RAX && r <= x86asm.R15:
			return regs[r-x86asm.RAX]
		case r >= x86asm.EAX && r <= x86asm.R15L:
			return uint64(uint32(regs[r-x86asm.EAX]))
		}
		return 0
	}
	addr := reg(m.Base) + reg(m.Index)*uint64(m.Scale) + uint64(a.Mem.Disp)
	if a.AddrSize == 32 {
		addr = uint64(uint32(addr))
	}
	switch m.Segment {
	case x86asm.FS:
		addr += fsBase
	case x86asm.GS:
		addr += gsBase
	}
	return addr
}

// addrReg returns the Memory register number of an x86asm address
// register.
func addrReg(r x86asm.Reg) uint8 {
	switch {
	case r == 0:
		return RegNone
	case r == x86asm.RIP || r == x86asm.EIP:
		return RegRIP
	case r >= x86asm.RAX && r <= x86asm.R15:
		return uint8(r - x86asm.RAX)
	case r >= x86asm.EAX && r <= x86asm.R15L:
		return uint8(r - x86asm.EAX)
	}
	return 0xFE // matches nothing DecodeMMIO returns
}

// ioSeeds are encodings of every I/O instruction form and of near misses.
var ioSeeds = [][]byte{
	{0xec}, {0xed}, {0x66, 0xed}, {0xee}, {0xef}, {0xe4, 0x80}, {0x66, 0xe5, 0x71}, {0xe6, 0x80}, {0xe7, 0xe9},
	{0x48, 0xed}, {0x66, 0x48, 0xed}, {0x67, 0xec}, {0xf3, 0xec}, {0x6c}, {0xf3, 0x66, 0x6d}, {0xf2, 0x6d},
	{0xf3, 0x6e}, {0x2e, 0x6e}, {0x65, 0x66, 0x6f}, {0x64, 0x67, 0xf3, 0x6f}, {0x64, 0x6c},
	{0xf0, 0xec}, {0x48, 0x66, 0xed}, {0xe4}, {0x90},
}

// FuzzIOAgainstX86asm checks that DecodeIO never panics, that it accepts
// exactly the IN, OUT, INS and OUTS instructions x86asm decodes (less
// those with LOCK), and that it agrees with x86asm on their length,
// operand size, direction, port, string and REP forms, address size and
// segment; and that ExitInfo1 encodes the result.
func FuzzIOAgainstX86asm(f *testing.F) {
	for i, c := range ioSeeds {
		f.Add(c, uint64(0x3F8+i))
	}
	f.Fuzz(func(t *testing.T, code []byte, rdx uint64) {
		io, st := DecodeIO(code, rdx)
		inst, err := x86asm.Decode(code, 64)
		ref, isIO := ioOf(&inst, rdx)
		if err != nil {
			isIO = false
		}
		if st != OK {
			if isIO && !hasPrefix(&inst, 0xF0) {
				t.Fatalf("DecodeIO(% x) = %v; x86asm: %v", code, st, inst)
			}
			return
		}
		if !isIO {
			t.Fatalf("DecodeIO(% x) = %+v; x86asm: %v, %v", code, io, inst, err)
		}
		if io != ref {
			t.Fatalf("DecodeIO(% x) = %+v; x86asm %v: %+v", code, io, inst, ref)
		}
		// AMD APM vol. 2, 15.10.2, figure "EXITINFO1 for IOIO
		// Intercept": TYPE bit 0 (1 = IN), STR bit 2, REP bit 3, SZ8/
		// SZ16/SZ32 bits 4/5/6, A16/A32/A64 bits 7/8/9, SEG bits 12:10,
		// PORT bits 31:16.
		info := io.ExitInfo1()
		want := uint64(io.Port)<<16 | uint64(io.Segment)<<10 |
			map[uint8]uint64{1: 1 << 4, 2: 1 << 5, 4: 1 << 6}[io.Size] |
			map[uint8]uint64{16: 1 << 7, 32: 1 << 8, 64: 1 << 9}[io.AddrSize]
		for bit, set := range map[uint]bool{0: io.Dir == Read, 2: io.String, 3: io.Rep} {
			if set {
				want |= 1 << bit
			}
		}
		if info != want {
			t.Fatalf("DecodeIO(% x).ExitInfo1() = %#x, want %#x", code, info, want)
		}
	})
}

// ioOf returns the IO that inst performs as x86asm decodes it, given RDX,
// and whether it is an I/O instruction.
func ioOf(inst *x86asm.Inst, rdx uint64) (IO, bool) {
	io := IO{Port: uint16(rdx), AddrSize: uint8(inst.AddrSize), Len: uint8(inst.Len)}
	var data, port x86asm.Arg
	switch inst.Op {
	case x86asm.IN:
		io.Dir, data, port = Read, inst.Args[0], inst.Args[1]
	case x86asm.OUT:
		io.Dir, data, port = Write, inst.Args[1], inst.Args[0]
	case x86asm.INSB, x86asm.INSW, x86asm.INSD:
		io.Dir, io.Segment = Read, segmentOf(inst.Args[0])
	case x86asm.OUTSB, x86asm.OUTSW, x86asm.OUTSD:
		io.Dir, io.Segment = Write, segmentOf(inst.Args[1])
	default:
		return IO{}, false
	}
	switch inst.Op {
	case x86asm.INSB, x86asm.OUTSB:
		io.Size = 1
	case x86asm.INSW, x86asm.OUTSW:
		io.Size = 2
	case x86asm.INSD, x86asm.OUTSD:
		io.Size = 4
	}
	if data == nil { // INS, OUTS
		io.String, io.Rep = true, hasPrefix(inst, 0xF2) || hasPrefix(inst, 0xF3)
		return io, true
	}
	switch data {
	case x86asm.AL:
		io.Size = 1
	case x86asm.AX:
		io.Size = 2
	case x86asm.EAX:
		io.Size = 4
	}
	if imm, ok := port.(x86asm.Imm); ok {
		io.Port = uint16(imm)
	}
	return io, true
}

func segmentOf(arg x86asm.Arg) Segment {
	m, _ := arg.(x86asm.Mem)
	return Segment(m.Segment - x86asm.ES)
}

// hasPrefix reports whether inst has the prefix byte b.
func hasPrefix(inst *x86asm.Inst, b x86asm.Prefix) bool {
	for _, p := range inst.Prefix {
		if p == 0 {
			break
		}
		if p&0xFF == b {
			return true
		}
	}
	return false
}
