package vc

import (
	"math/rand/v2"
	"testing"

	"golang.org/x/arch/x86/x86asm"

	"github.com/cocoon-vm/cocoon/snp/mmio"
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

// FuzzMMIOAgainstX86asm checks DecodeMMIO against snp/mmio, the x86asm
// decoder it mirrors: the same instructions accepted, the same fields, and
// the same address, store value and completed register for random
// register values.
func FuzzMMIOAgainstX86asm(f *testing.F) {
	for i, c := range mmioSeeds {
		f.Add(c, uint64(i))
	}
	f.Fuzz(func(t *testing.T, code []byte, seed uint64) {
		a, st := DecodeMMIO(code)
		ref, err := mmio.Decode(code)
		if (st == OK) != (err == nil) {
			t.Fatalf("DecodeMMIO(% x) = %+v, %v; mmio.Decode = %+v, %v", code, a, st, ref, err)
		}
		if st != OK {
			return
		}
		if a.Len < 1 || int(a.Len) > min(len(code), MaxLen) {
			t.Fatalf("DecodeMMIO(% x): Len %d", code, a.Len)
		}
		if diff := compareAccess(&a, &ref); diff != "" {
			t.Fatalf("DecodeMMIO(% x) = %+v; mmio.Decode = %+v: %s differs", code, a, ref, diff)
		}

		rng := rand.New(rand.NewPCG(seed, ^seed))
		var regs [16]uint64
		for i := range regs {
			regs[i] = rng.Uint64()
		}
		rip, fsBase, gsBase, data := rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64()
		refRegs := mmio.Registers(regs)
		got := a.Address(&regs, rip, fsBase, gsBase)
		want, err := ref.Address(&refRegs, rip, fsBase, gsBase)
		if err != nil {
			t.Fatalf("mmio Address(% x): %v", code, err)
		}
		if got != want {
			t.Fatalf("Address(% x) = %#x, mmio %#x", code, got, want)
		}
		if a.Dir == Write {
			if got, want := a.Value(&regs), ref.Value(&refRegs); got != want {
				t.Fatalf("Value(% x) = %#x, mmio %#x", code, got, want)
			}
			return
		}
		a.Complete(&regs, data)
		ref.Complete(&refRegs, data)
		if regs != [16]uint64(refRegs) {
			t.Fatalf("Complete(% x, %#x) = %#x, mmio %#x", code, data, regs, refRegs)
		}
	})
}

// compareAccess returns the name of the first field in which a differs
// from ref, or "".
func compareAccess(a *Access, ref *mmio.Access) string {
	switch {
	case uint8(a.Dir) != uint8(ref.Dir):
		return "Dir"
	case int(a.Size) != ref.Size:
		return "Size"
	case a.HasImm != ref.HasImm || a.Imm != ref.Imm:
		return "Imm"
	case !a.HasImm && (a.Reg.Index != ref.Reg.Index || a.Reg.HighByte != ref.Reg.HighByte || int(a.RegSize) != ref.RegSize):
		return "Reg"
	case uint8(a.Extend) != uint8(ref.Extend):
		return "Extend"
	case int(a.AddrSize) != ref.AddrSize:
		return "AddrSize"
	case int(a.Len) != ref.Len:
		return "Len"
	}
	m, rm := &a.Mem, &ref.Mem
	seg := map[x86asm.Reg]Segment{0: DS, x86asm.FS: FS, x86asm.GS: GS}
	if s, ok := seg[rm.Segment]; !ok || s != m.Segment {
		return "Mem.Segment"
	}
	if m.Base != addrReg(rm.Base) {
		return "Mem.Base"
	}
	if m.Index != addrReg(rm.Index) || rm.Index == x86asm.RIP || rm.Index == x86asm.EIP {
		return "Mem.Index"
	}
	if m.Index != RegNone && int64(m.Scale) != int64(rm.Scale) || m.Index == RegNone && m.Scale != 0 {
		return "Mem.Scale"
	}
	// Equal, or a disp32 that x86asm zero-extends and DecodeMMIO
	// sign-extends.
	if m.Disp != rm.Disp && !(rm.Disp == int64(uint32(rm.Disp)) && m.Disp == int64(int32(rm.Disp))) {
		return "Mem.Disp"
	}
	return ""
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
		info := io.ExitInfo1()
		want := uint64(io.Port)<<16 | uint64(io.Segment)<<10 | uint64(io.Size)<<4 | uint64(io.AddrSize)<<3
		if io.Dir == Read {
			want |= IOIOTypeIn
		}
		if io.String {
			want |= IOIOString
		}
		if io.Rep {
			want |= IOIORep
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
