package mmio

import (
	"errors"
	"testing"

	"golang.org/x/arch/x86/x86asm"
)

func reg(i uint8) Register { return Register{Index: i} }

func TestDecode(t *testing.T) {
	rdi := x86asm.Mem{Base: x86asm.RDI}
	for _, tc := range []struct {
		name string
		code []byte
		want Access
	}{
		{"mov eax,[rdi]", []byte{0x8b, 0x07}, Access{Dir: Read, Size: 4, Reg: reg(0), RegSize: 4, Mem: rdi, AddrSize: 64, Len: 2}},
		{"mov rax,[rdi]", []byte{0x48, 0x8b, 0x07}, Access{Dir: Read, Size: 8, Reg: reg(0), RegSize: 8, Mem: rdi, AddrSize: 64, Len: 3}},
		{"mov r9w,[rdi]", []byte{0x66, 0x44, 0x8b, 0x0f}, Access{Dir: Read, Size: 2, Reg: reg(9), RegSize: 2, Mem: rdi, AddrSize: 64, Len: 4}},
		{"mov bh,[rdi]", []byte{0x8a, 0x3f}, Access{Dir: Read, Size: 1, Reg: Register{3, true}, RegSize: 1, Mem: rdi, AddrSize: 64, Len: 2}},
		{"mov dil,[rdi]", []byte{0x40, 0x8a, 0x3f}, Access{Dir: Read, Size: 1, Reg: reg(7), RegSize: 1, Mem: rdi, AddrSize: 64, Len: 3}},
		{"mov [rdi],eax", []byte{0x89, 0x07}, Access{Dir: Write, Size: 4, Reg: reg(0), RegSize: 4, Mem: rdi, AddrSize: 64, Len: 2}},
		{"mov [rdi],ah", []byte{0x88, 0x27}, Access{Dir: Write, Size: 1, Reg: Register{0, true}, RegSize: 1, Mem: rdi, AddrSize: 64, Len: 2}},
		{"mov [rdi],sil", []byte{0x40, 0x88, 0x37}, Access{Dir: Write, Size: 1, Reg: reg(6), RegSize: 1, Mem: rdi, AddrSize: 64, Len: 3}},
		{"mov [rdi],r8d", []byte{0x44, 0x89, 0x07}, Access{Dir: Write, Size: 4, Reg: reg(8), RegSize: 4, Mem: rdi, AddrSize: 64, Len: 3}},
		{"mov [rdi],r15", []byte{0x4c, 0x89, 0x3f}, Access{Dir: Write, Size: 8, Reg: reg(15), RegSize: 8, Mem: rdi, AddrSize: 64, Len: 3}},
		{"mov dword [rdi],imm", []byte{0xc7, 0x07, 0x78, 0x56, 0x34, 0x12}, Access{Dir: Write, Size: 4, Imm: 0x12345678, HasImm: true, Mem: rdi, AddrSize: 64, Len: 6}},
		{"mov qword [rdi],-1", []byte{0x48, 0xc7, 0x07, 0xff, 0xff, 0xff, 0xff}, Access{Dir: Write, Size: 8, Imm: ^uint64(0), HasImm: true, Mem: rdi, AddrSize: 64, Len: 7}},
		{"mov byte [rdi],0xff", []byte{0xc6, 0x07, 0xff}, Access{Dir: Write, Size: 1, Imm: 0xff, HasImm: true, Mem: rdi, AddrSize: 64, Len: 3}},
		{"mov word [rdi],0x8001", []byte{0x66, 0xc7, 0x07, 0x01, 0x80}, Access{Dir: Write, Size: 2, Imm: 0x8001, HasImm: true, Mem: rdi, AddrSize: 64, Len: 5}},
		{"movzx eax,byte [rdi]", []byte{0x0f, 0xb6, 0x07}, Access{Dir: Read, Size: 1, Reg: reg(0), RegSize: 4, Extend: ZeroExtend, Mem: rdi, AddrSize: 64, Len: 3}},
		{"movzx rax,word [rdi]", []byte{0x48, 0x0f, 0xb7, 0x07}, Access{Dir: Read, Size: 2, Reg: reg(0), RegSize: 8, Extend: ZeroExtend, Mem: rdi, AddrSize: 64, Len: 4}},
		{"movsx ecx,byte [rdi]", []byte{0x0f, 0xbe, 0x0f}, Access{Dir: Read, Size: 1, Reg: reg(1), RegSize: 4, Extend: SignExtend, Mem: rdi, AddrSize: 64, Len: 3}},
		{"movsxd rax,dword [rdi]", []byte{0x48, 0x63, 0x07}, Access{Dir: Read, Size: 4, Reg: reg(0), RegSize: 8, Extend: SignExtend, Mem: rdi, AddrSize: 64, Len: 3}},
		{"mov eax,[rip+0x10]", []byte{0x8b, 0x05, 0x10, 0, 0, 0}, Access{Dir: Read, Size: 4, Reg: reg(0), RegSize: 4, Mem: x86asm.Mem{Base: x86asm.RIP, Disp: 0x10}, AddrSize: 64, Len: 6}},
		{"mov eax,fs:[0x28]", []byte{0x64, 0x8b, 0x04, 0x25, 0x28, 0, 0, 0}, Access{Dir: Read, Size: 4, Reg: reg(0), RegSize: 4, Mem: x86asm.Mem{Segment: x86asm.FS, Scale: 1, Disp: 0x28}, AddrSize: 64, Len: 8}},
		{"mov [rax+rcx*4+8],edx", []byte{0x89, 0x54, 0x88, 0x08}, Access{Dir: Write, Size: 4, Reg: reg(2), RegSize: 4, Mem: x86asm.Mem{Base: x86asm.RAX, Index: x86asm.RCX, Scale: 4, Disp: 8}, AddrSize: 64, Len: 4}},
	} {
		got, err := Decode(append(tc.code, 0x90, 0x90)) // trailing bytes are not part of the instruction
		if err != nil {
			t.Errorf("Decode(%s) error: %v", tc.name, err)
			continue
		}
		if got != tc.want {
			t.Errorf("Decode(%s) =\n%+v\nwant\n%+v", tc.name, got, tc.want)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	for _, tc := range []struct {
		name        string
		code        []byte
		unsupported bool // ErrUnsupported rather than a decoding error
	}{
		{"empty", nil, false},
		{"truncated", []byte{0x8b}, false},
		{"movsd string", []byte{0xa5}, true},
		{"rep movsb", []byte{0xf3, 0xa4}, true},
		{"add [rdi],eax", []byte{0x01, 0x07}, true},
		{"xchg [rdi],eax", []byte{0x87, 0x07}, true},
		{"lock or", []byte{0xf0, 0x09, 0x07}, true},
		{"rep mov", []byte{0xf3, 0x89, 0x07}, true},
		{"repne mov", []byte{0xf2, 0x8b, 0x07}, true},
		{"mov eax,ecx", []byte{0x89, 0xc8}, true},
		{"mov [rdi],es", []byte{0x8c, 0x07}, true},
		{"mov es,[rdi]", []byte{0x8e, 0x07}, true},
		{"movups xmm0,[rdi]", []byte{0x0f, 0x10, 0x07}, true},
		{"movzx eax,cl", []byte{0x0f, 0xb6, 0xc1}, true},
		{"mov cr0,rax", []byte{0x0f, 0x22, 0xc0}, true},
	} {
		_, err := Decode(tc.code)
		if err == nil {
			t.Errorf("Decode(%s) succeeded", tc.name)
		} else if tc.unsupported && !errors.Is(err, ErrUnsupported) {
			t.Errorf("Decode(%s) = %v, want ErrUnsupported", tc.name, err)
		}
	}
}

func TestValueAndComplete(t *testing.T) {
	var regs Registers
	regs[0] = 0x1122_3344_5566_7788 // RAX
	for _, tc := range []struct {
		name string
		code []byte
		data uint64 // read: value from memory; write: expected value to memory
		want uint64 // read: RAX afterwards
	}{
		{"mov [rdi],ah", []byte{0x88, 0x27}, 0x77, 0},
		{"mov [rdi],ax", []byte{0x66, 0x89, 0x07}, 0x7788, 0},
		{"mov [rdi],eax", []byte{0x89, 0x07}, 0x5566_7788, 0},
		{"mov [rdi],rax", []byte{0x48, 0x89, 0x07}, 0x1122_3344_5566_7788, 0},
		{"mov [rdi],imm", []byte{0xc7, 0x07, 1, 0, 0, 0}, 1, 0},
		{"mov al,[rdi]", []byte{0x8a, 0x07}, 0xAB, 0x1122_3344_5566_77AB},
		{"mov ah,[rdi]", []byte{0x8a, 0x27}, 0xAB, 0x1122_3344_5566_AB88},
		{"mov ax,[rdi]", []byte{0x66, 0x8b, 0x07}, 0xABCD, 0x1122_3344_5566_ABCD},
		{"mov eax,[rdi]", []byte{0x8b, 0x07}, 0xABCD_EF01, 0x0000_0000_ABCD_EF01},
		{"mov rax,[rdi]", []byte{0x48, 0x8b, 0x07}, 0xFEDC_BA98_7654_3210, 0xFEDC_BA98_7654_3210},
		{"movzx eax,byte", []byte{0x0f, 0xb6, 0x07}, 0x80, 0x80},
		{"movzx ax,byte", []byte{0x66, 0x0f, 0xb6, 0x07}, 0x80, 0x1122_3344_5566_0080},
		{"movsx eax,byte", []byte{0x0f, 0xbe, 0x07}, 0x80, 0xFFFF_FF80},
		{"movsx rax,word", []byte{0x48, 0x0f, 0xbf, 0x07}, 0x8000, 0xFFFF_FFFF_FFFF_8000},
		{"movsxd rax,dword", []byte{0x48, 0x63, 0x07}, 0x8000_0000, 0xFFFF_FFFF_8000_0000},
	} {
		a, err := Decode(tc.code)
		if err != nil {
			t.Fatalf("Decode(%s): %v", tc.name, err)
		}
		r := regs
		if a.Dir == Write {
			if got := a.Value(&r); got != tc.data {
				t.Errorf("%s: Value = %#x, want %#x", tc.name, got, tc.data)
			}
			continue
		}
		a.Complete(&r, tc.data|0xDEAD_0000_0000_0000&^mask(a.Size)) // bits above Size are ignored
		if r[0] != tc.want {
			t.Errorf("%s: RAX = %#x, want %#x", tc.name, r[0], tc.want)
		}
	}
}

func TestAddress(t *testing.T) {
	var regs Registers
	regs[0], regs[1] = 0x1000, 3 // RAX, RCX
	regs[7] = 0xFFFF_FFFF_0000_0010
	for _, tc := range []struct {
		name string
		code []byte
		want uint64
	}{
		{"[rax+rcx*4+8]", []byte{0x89, 0x54, 0x88, 0x08}, 0x1014},
		{"[rip+0x10]", []byte{0x8b, 0x05, 0x10, 0, 0, 0}, 0x40_0000 + 6 + 0x10},
		{"fs:[0x28]", []byte{0x64, 0x8b, 0x04, 0x25, 0x28, 0, 0, 0}, 0x7000_0028},
		{"gs:[rax]", []byte{0x65, 0x8b, 0x00}, 0x9000_1000},
		{"[edi] (addr32)", []byte{0x67, 0x8b, 0x07}, 0x10},
		{"[rax-8]", []byte{0x8b, 0x40, 0xf8}, 0xFF8},
	} {
		a, err := Decode(tc.code)
		if err != nil {
			t.Fatalf("Decode(%s): %v", tc.name, err)
		}
		got, err := a.Address(&regs, 0x40_0000, 0x7000_0000, 0x9000_0000)
		if err != nil || got != tc.want {
			t.Errorf("Address(%s) = %#x, %v; want %#x", tc.name, got, err, tc.want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, c := range [][]byte{
		{0x8b, 0x07}, {0x48, 0xc7, 0x07, 0xff, 0xff, 0xff, 0xff}, {0x0f, 0xbe, 0x0f},
		{0x64, 0x8b, 0x04, 0x25, 0x28, 0, 0, 0}, {0x40, 0x88, 0x37}, {0xa1, 1, 2, 3, 4, 5, 6, 7, 8},
	} {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, code []byte) {
		a, err := Decode(code)
		if err != nil {
			return
		}
		if a.Len < 1 || a.Len > 15 || a.Len > len(code) {
			t.Fatalf("Len %d for %d bytes", a.Len, len(code))
		}
		switch a.Size {
		case 1, 2, 4, 8:
		default:
			t.Fatalf("Size %d", a.Size)
		}
		if !a.HasImm && (a.Reg.Index > 15 || a.RegSize < a.Size || a.Reg.HighByte && a.RegSize != 1) {
			t.Fatalf("bad register operand %+v", a)
		}
		if a.HasImm && (a.Dir != Write || a.Imm&^mask(a.Size) != 0) {
			t.Fatalf("bad immediate %+v", a)
		}
		var regs Registers
		_ = a.Value(&regs)
		a.Complete(&regs, ^uint64(0))
		_, _ = a.Address(&regs, 0, 0, 0)
	})
}

// TestNegativeDisp32 pins the sign extension of a 32-bit displacement
// under 64-bit addressing (AMD APM vol. 1, 2.2.3), which x86asm reports
// zero-extended: the differential fuzz target in snp/vc found it.
func TestNegativeDisp32(t *testing.T) {
	var regs Registers
	regs[0] = 0x1000
	for _, tc := range []struct {
		code []byte
		want uint64
	}{
		{[]byte{0x8b, 0x80, 0xf0, 0xff, 0xff, 0xff}, 0x0ff0},                      // mov eax, [rax-0x10]
		{[]byte{0x8b, 0x04, 0x25, 0xf0, 0xff, 0xff, 0xff}, 0xffff_ffff_ffff_fff0}, // mov eax, [-0x10]
		{[]byte{0x67, 0x8b, 0x80, 0xf0, 0xff, 0xff, 0xff}, 0x0ff0},                // mov eax, [eax-0x10]
		{[]byte{0x48, 0xa1, 0xf0, 0xff, 0xff, 0xff, 0, 0, 0, 0}, 0xffff_fff0},     // mov rax, moffs64: no extension
	} {
		a, err := Decode(tc.code)
		if err != nil {
			t.Fatalf("% x: %v", tc.code, err)
		}
		if got, err := a.Address(&regs, 0, 0, 0); err != nil || got != tc.want {
			t.Errorf("% x: address %#x (%v), want %#x", tc.code, got, err, tc.want)
		}
	}
}
