package vc

import (
	"bytes"
	"testing"
)

func reg(i uint8) Register { return Register{Index: i} }

// mem returns a DS memory operand; base and index may be RegNone.
func mem(base, index, scale uint8, disp int64) Memory {
	return Memory{Segment: DS, Base: base, Index: index, Scale: scale, Disp: disp}
}

func TestDecodeMMIO(t *testing.T) {
	rdi := mem(7, RegNone, 0, 0)
	moffs := mem(RegNone, RegNone, 0, 0x0807_0605_0403_0201)
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
		{"mov r12b,[rdi]", []byte{0x44, 0x8a, 0x27}, Access{Dir: Read, Size: 1, Reg: reg(12), RegSize: 1, Mem: rdi, AddrSize: 64, Len: 3}},
		{"rex.w mov spl,[rdi]", []byte{0x48, 0x8a, 0x27}, Access{Dir: Read, Size: 1, Reg: reg(4), RegSize: 1, Mem: rdi, AddrSize: 64, Len: 3}},
		{"mov [rdi],eax", []byte{0x89, 0x07}, Access{Dir: Write, Size: 4, Reg: reg(0), RegSize: 4, Mem: rdi, AddrSize: 64, Len: 2}},
		{"mov [rdi],ah", []byte{0x88, 0x27}, Access{Dir: Write, Size: 1, Reg: Register{0, true}, RegSize: 1, Mem: rdi, AddrSize: 64, Len: 2}},
		{"mov [rdi],sil", []byte{0x40, 0x88, 0x37}, Access{Dir: Write, Size: 1, Reg: reg(6), RegSize: 1, Mem: rdi, AddrSize: 64, Len: 3}},
		{"mov [rdi],r8d", []byte{0x44, 0x89, 0x07}, Access{Dir: Write, Size: 4, Reg: reg(8), RegSize: 4, Mem: rdi, AddrSize: 64, Len: 3}},
		{"mov [rdi],r15", []byte{0x4c, 0x89, 0x3f}, Access{Dir: Write, Size: 8, Reg: reg(15), RegSize: 8, Mem: rdi, AddrSize: 64, Len: 3}},
		{"rex.w beats 66", []byte{0x66, 0x48, 0x89, 0x07}, Access{Dir: Write, Size: 8, Reg: reg(0), RegSize: 8, Mem: rdi, AddrSize: 64, Len: 4}},
		{"mov dword [rdi],imm", []byte{0xc7, 0x07, 0x78, 0x56, 0x34, 0x12}, Access{Dir: Write, Size: 4, Imm: 0x12345678, HasImm: true, Mem: rdi, AddrSize: 64, Len: 6}},
		{"mov dword [rdi],0x80000000", []byte{0xc7, 0x07, 0, 0, 0, 0x80}, Access{Dir: Write, Size: 4, Imm: 0x8000_0000, HasImm: true, Mem: rdi, AddrSize: 64, Len: 6}},
		{"mov qword [rdi],-1", []byte{0x48, 0xc7, 0x07, 0xff, 0xff, 0xff, 0xff}, Access{Dir: Write, Size: 8, Imm: ^uint64(0), HasImm: true, Mem: rdi, AddrSize: 64, Len: 7}},
		{"mov qword [rdi],imm32 sign-extended", []byte{0x48, 0xc7, 0x07, 0, 0, 0, 0x80}, Access{Dir: Write, Size: 8, Imm: 0xFFFF_FFFF_8000_0000, HasImm: true, Mem: rdi, AddrSize: 64, Len: 7}},
		{"mov byte [rdi],0xff", []byte{0xc6, 0x07, 0xff}, Access{Dir: Write, Size: 1, Imm: 0xff, HasImm: true, Mem: rdi, AddrSize: 64, Len: 3}},
		{"mov word [rdi],0x8001", []byte{0x66, 0xc7, 0x07, 0x01, 0x80}, Access{Dir: Write, Size: 2, Imm: 0x8001, HasImm: true, Mem: rdi, AddrSize: 64, Len: 5}},
		{"movzx eax,byte [rdi]", []byte{0x0f, 0xb6, 0x07}, Access{Dir: Read, Size: 1, Reg: reg(0), RegSize: 4, Extend: ZeroExtend, Mem: rdi, AddrSize: 64, Len: 3}},
		{"movzx rax,word [rdi]", []byte{0x48, 0x0f, 0xb7, 0x07}, Access{Dir: Read, Size: 2, Reg: reg(0), RegSize: 8, Extend: ZeroExtend, Mem: rdi, AddrSize: 64, Len: 4}},
		{"movzx ax,byte [rdi]", []byte{0x66, 0x0f, 0xb6, 0x07}, Access{Dir: Read, Size: 1, Reg: reg(0), RegSize: 2, Extend: ZeroExtend, Mem: rdi, AddrSize: 64, Len: 4}},
		{"movzx ax,word [rdi]", []byte{0x66, 0x0f, 0xb7, 0x07}, Access{Dir: Read, Size: 2, Reg: reg(0), RegSize: 2, Extend: ZeroExtend, Mem: rdi, AddrSize: 64, Len: 4}},
		{"movzx esp,byte [rdi]", []byte{0x0f, 0xb6, 0x27}, Access{Dir: Read, Size: 1, Reg: reg(4), RegSize: 4, Extend: ZeroExtend, Mem: rdi, AddrSize: 64, Len: 3}},
		{"movsx ecx,byte [rdi]", []byte{0x0f, 0xbe, 0x0f}, Access{Dir: Read, Size: 1, Reg: reg(1), RegSize: 4, Extend: SignExtend, Mem: rdi, AddrSize: 64, Len: 3}},
		{"movsx r8,word [rdi]", []byte{0x4c, 0x0f, 0xbf, 0x07}, Access{Dir: Read, Size: 2, Reg: reg(8), RegSize: 8, Extend: SignExtend, Mem: rdi, AddrSize: 64, Len: 4}},
		{"movsxd rax,dword [rdi]", []byte{0x48, 0x63, 0x07}, Access{Dir: Read, Size: 4, Reg: reg(0), RegSize: 8, Extend: SignExtend, Mem: rdi, AddrSize: 64, Len: 3}},
		{"movsxd eax,dword [rdi]", []byte{0x63, 0x07}, Access{Dir: Read, Size: 4, Reg: reg(0), RegSize: 4, Extend: SignExtend, Mem: rdi, AddrSize: 64, Len: 2}},
		{"mov eax,[rip+0x10]", []byte{0x8b, 0x05, 0x10, 0, 0, 0}, Access{Dir: Read, Size: 4, Reg: reg(0), RegSize: 4, Mem: mem(RegRIP, RegNone, 0, 0x10), AddrSize: 64, Len: 6}},
		{"mov eax,[rip-0x10]", []byte{0x8b, 0x05, 0xf0, 0xff, 0xff, 0xff}, Access{Dir: Read, Size: 4, Reg: reg(0), RegSize: 4, Mem: mem(RegRIP, RegNone, 0, -0x10), AddrSize: 64, Len: 6}},
		{"mov eax,[rax-0x10] disp32", []byte{0x8b, 0x80, 0xf0, 0xff, 0xff, 0xff}, Access{Dir: Read, Size: 4, Reg: reg(0), RegSize: 4, Mem: mem(0, RegNone, 0, -0x10), AddrSize: 64, Len: 6}},
		{"mov eax,[rax-8]", []byte{0x8b, 0x40, 0xf8}, Access{Dir: Read, Size: 4, Reg: reg(0), RegSize: 4, Mem: mem(0, RegNone, 0, -8), AddrSize: 64, Len: 3}},
		{"mov eax,fs:[0x28]", []byte{0x64, 0x8b, 0x04, 0x25, 0x28, 0, 0, 0}, Access{Dir: Read, Size: 4, Reg: reg(0), RegSize: 4, Mem: Memory{Segment: FS, Base: RegNone, Index: RegNone, Disp: 0x28}, AddrSize: 64, Len: 8}},
		{"mov [rax+rcx*4+8],edx", []byte{0x89, 0x54, 0x88, 0x08}, Access{Dir: Write, Size: 4, Reg: reg(2), RegSize: 4, Mem: mem(0, 1, 4, 8), AddrSize: 64, Len: 4}},
		{"mov eax,[rbp+rdi*8-128]", []byte{0x8b, 0x44, 0xfd, 0x80}, Access{Dir: Read, Size: 4, Reg: reg(0), RegSize: 4, Mem: mem(5, 7, 8, -128), AddrSize: 64, Len: 4}},
		{"mov eax,[rsp]", []byte{0x8b, 0x04, 0x24}, Access{Dir: Read, Size: 4, Reg: reg(0), RegSize: 4, Mem: mem(4, RegNone, 0, 0), AddrSize: 64, Len: 3}},
		{"mov eax,[rsp+r12]", []byte{0x42, 0x8b, 0x04, 0x24}, Access{Dir: Read, Size: 4, Reg: reg(0), RegSize: 4, Mem: mem(4, 12, 1, 0), AddrSize: 64, Len: 4}},
		{"mov eax,[r12]", []byte{0x41, 0x8b, 0x04, 0x24}, Access{Dir: Read, Size: 4, Reg: reg(0), RegSize: 4, Mem: mem(12, RegNone, 0, 0), AddrSize: 64, Len: 4}},
		{"mov eax,[r13+0]", []byte{0x41, 0x8b, 0x45, 0x00}, Access{Dir: Read, Size: 4, Reg: reg(0), RegSize: 4, Mem: mem(13, RegNone, 0, 0), AddrSize: 64, Len: 4}},
		{"mov eax,[r12*2+1]", []byte{0x43, 0x8b, 0x04, 0x65, 1, 0, 0, 0}, Access{Dir: Read, Size: 4, Reg: reg(0), RegSize: 4, Mem: mem(RegNone, 12, 2, 1), AddrSize: 64, Len: 8}},
		{"mov eax,[edi]", []byte{0x67, 0x8b, 0x07}, Access{Dir: Read, Size: 4, Reg: reg(0), RegSize: 4, Mem: rdi, AddrSize: 32, Len: 3}},
		{"mov eax,[eip+1]", []byte{0x67, 0x8b, 0x05, 1, 0, 0, 0}, Access{Dir: Read, Size: 4, Reg: reg(0), RegSize: 4, Mem: mem(RegRIP, RegNone, 0, 1), AddrSize: 32, Len: 7}},
		{"gs then cs: gs", []byte{0x65, 0x2e, 0x8b, 0x00}, Access{Dir: Read, Size: 4, Reg: reg(0), RegSize: 4, Mem: Memory{Segment: GS, Base: 0, Index: RegNone}, AddrSize: 64, Len: 4}},
		{"fs then gs: gs", []byte{0x64, 0x65, 0x8b, 0x00}, Access{Dir: Read, Size: 4, Reg: reg(0), RegSize: 4, Mem: Memory{Segment: GS, Base: 0, Index: RegNone}, AddrSize: 64, Len: 4}},
		{"ds override", []byte{0x3e, 0x8b, 0x07}, Access{Dir: Read, Size: 4, Reg: reg(0), RegSize: 4, Mem: rdi, AddrSize: 64, Len: 3}},
		{"mov al,moffs", []byte{0xa0, 1, 2, 3, 4, 5, 6, 7, 8}, Access{Dir: Read, Size: 1, Reg: reg(0), RegSize: 1, Mem: moffs, AddrSize: 64, Len: 9}},
		{"mov ax,moffs", []byte{0x66, 0xa1, 1, 2, 3, 4, 5, 6, 7, 8}, Access{Dir: Read, Size: 2, Reg: reg(0), RegSize: 2, Mem: moffs, AddrSize: 64, Len: 10}},
		{"mov moffs,al", []byte{0xa2, 1, 2, 3, 4, 5, 6, 7, 8}, Access{Dir: Write, Size: 1, Reg: reg(0), RegSize: 1, Mem: moffs, AddrSize: 64, Len: 9}},
		{"mov moffs,rax", []byte{0x48, 0xa3, 1, 2, 3, 4, 5, 6, 7, 8}, Access{Dir: Write, Size: 8, Reg: reg(0), RegSize: 8, Mem: moffs, AddrSize: 64, Len: 10}},
		{"mov eax,moffs32", []byte{0x67, 0xa1, 1, 2, 3, 0x84}, Access{Dir: Read, Size: 4, Reg: reg(0), RegSize: 4, Mem: mem(RegNone, RegNone, 0, 0x8403_0201), AddrSize: 32, Len: 6}},
		{"mov eax,fs:moffs", []byte{0x64, 0xa1, 1, 2, 3, 4, 5, 6, 7, 8}, Access{Dir: Read, Size: 4, Reg: reg(0), RegSize: 4, Mem: Memory{Segment: FS, Base: RegNone, Index: RegNone, Disp: 0x0807_0605_0403_0201}, AddrSize: 64, Len: 10}},
		{"13 prefixes", append(bytes.Repeat([]byte{0x3e}, 13), 0x8b, 0x07), Access{Dir: Read, Size: 4, Reg: reg(0), RegSize: 4, Mem: rdi, AddrSize: 64, Len: 15}},
	} {
		code := append(tc.code[:len(tc.code):len(tc.code)], 0x90, 0x90) // trailing bytes are not part of the instruction
		if got, st := DecodeMMIO(code); st != OK || got != tc.want {
			t.Errorf("DecodeMMIO(%s) =\n%+v, %v\nwant\n%+v", tc.name, got, st, tc.want)
		}
	}
}

func TestDecodeMMIORejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		code []byte
		want Status
	}{
		{"empty", nil, Truncated},
		{"prefixes only", []byte{0x66, 0x48}, Truncated},
		{"no modrm", []byte{0x8b}, Truncated},
		{"no sib", []byte{0x8b, 0x04}, Truncated},
		{"short disp8", []byte{0x8b, 0x47}, Truncated},
		{"short disp32", []byte{0x8b, 0x80, 0xf0, 0xff, 0xff}, Truncated},
		{"short imm32", []byte{0xc7, 0x07, 1, 2, 3}, Truncated},
		{"short moffs", []byte{0xa1, 1, 2, 3, 4, 5, 6, 7}, Truncated},
		{"0f only", []byte{0x0f}, Truncated},
		{"16 bytes", append(bytes.Repeat([]byte{0x3e}, 14), 0x8b, 0x07), Truncated},
		{"rep movsb", []byte{0xf3, 0xa4}, BadPrefix},
		{"lock or", []byte{0xf0, 0x09, 0x07}, BadPrefix},
		{"lock mov", []byte{0xf0, 0x8b, 0x07}, BadPrefix},
		{"rep mov", []byte{0xf3, 0x89, 0x07}, BadPrefix},
		{"repne mov", []byte{0xf2, 0x8b, 0x07}, BadPrefix},
		{"mov eax,ecx", []byte{0x89, 0xc8}, NoMemory},
		{"movzx eax,cl", []byte{0x0f, 0xb6, 0xc1}, NoMemory},
		{"mov eax,imm (C7 register)", []byte{0xc7, 0xc0, 1, 0, 0, 0}, NoMemory},
		{"xbegin", []byte{0xc7, 0xf8, 0, 0, 0, 0}, NoMemory},
		{"movsd string", []byte{0xa5}, Unsupported},
		{"add [rdi],eax", []byte{0x01, 0x07}, Unsupported},
		{"xchg [rdi],eax", []byte{0x87, 0x07}, Unsupported},
		{"mov [rdi],es", []byte{0x8c, 0x07}, Unsupported},
		{"mov es,[rdi]", []byte{0x8e, 0x07}, Unsupported},
		{"movups xmm0,[rdi]", []byte{0x0f, 0x10, 0x07}, Unsupported},
		{"mov cr0,rax", []byte{0x0f, 0x22, 0xc0}, Unsupported},
		{"c7 /1", []byte{0xc7, 0x0f, 1, 2, 3, 4}, Unsupported},
		{"movsxd ax,dword [rdi]", []byte{0x66, 0x63, 0x07}, Unsupported},
		{"rex before 66", []byte{0x48, 0x66, 0x8b, 0x07}, Unsupported},
		{"two rex", []byte{0x48, 0x48, 0x8b, 0x07}, Unsupported},
		{"vmovups (vex)", []byte{0xc5, 0xf8, 0x10, 0x07}, Unsupported},
		{"mov eax,imm32", []byte{0xb8, 1, 2, 3, 4}, Unsupported},
		{"in al,dx", []byte{0xec}, Unsupported},
	} {
		if got, st := DecodeMMIO(tc.code); st != tc.want {
			t.Errorf("DecodeMMIO(%s) = %+v, %v; want %v", tc.name, got, st, tc.want)
		}
	}
}

func TestValueAndComplete(t *testing.T) {
	var regs [16]uint64
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
		{"mov moffs,al", []byte{0xa2, 1, 2, 3, 4, 5, 6, 7, 8}, 0x88, 0},
		{"mov [rdi],imm", []byte{0xc7, 0x07, 1, 0, 0, 0}, 1, 0},
		{"mov qword [rdi],-2", []byte{0x48, 0xc7, 0x07, 0xfe, 0xff, 0xff, 0xff}, 0xFFFF_FFFF_FFFF_FFFE, 0},
		{"mov al,[rdi]", []byte{0x8a, 0x07}, 0xAB, 0x1122_3344_5566_77AB},
		{"mov ah,[rdi]", []byte{0x8a, 0x27}, 0xAB, 0x1122_3344_5566_AB88},
		{"mov ax,[rdi]", []byte{0x66, 0x8b, 0x07}, 0xABCD, 0x1122_3344_5566_ABCD},
		{"mov eax,[rdi]", []byte{0x8b, 0x07}, 0xABCD_EF01, 0x0000_0000_ABCD_EF01},
		{"mov rax,[rdi]", []byte{0x48, 0x8b, 0x07}, 0xFEDC_BA98_7654_3210, 0xFEDC_BA98_7654_3210},
		{"mov eax,moffs", []byte{0xa1, 1, 2, 3, 4, 5, 6, 7, 8}, 0x8000_0001, 0x8000_0001},
		{"movzx eax,byte", []byte{0x0f, 0xb6, 0x07}, 0x80, 0x80},
		{"movzx ax,byte", []byte{0x66, 0x0f, 0xb6, 0x07}, 0x80, 0x1122_3344_5566_0080},
		{"movsx eax,byte", []byte{0x0f, 0xbe, 0x07}, 0x80, 0xFFFF_FF80},
		{"movsx ax,byte", []byte{0x66, 0x0f, 0xbe, 0x07}, 0x80, 0x1122_3344_5566_FF80},
		{"movsx rax,word", []byte{0x48, 0x0f, 0xbf, 0x07}, 0x8000, 0xFFFF_FFFF_FFFF_8000},
		{"movsxd rax,dword", []byte{0x48, 0x63, 0x07}, 0x8000_0000, 0xFFFF_FFFF_8000_0000},
		{"movsxd eax,dword", []byte{0x63, 0x07}, 0x8000_0000, 0x8000_0000},
	} {
		a, st := DecodeMMIO(tc.code)
		if st != OK {
			t.Fatalf("DecodeMMIO(%s) = %v", tc.name, st)
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
			t.Errorf("%s: Complete: RAX = %#x, want %#x", tc.name, r[0], tc.want)
		}
	}
}

func TestAddress(t *testing.T) {
	var regs [16]uint64
	regs[0], regs[1] = 0x1000, 3    // RAX, RCX
	regs[7] = 0xFFFF_FFFF_0000_0010 // RDI
	regs[12] = 0x10                 // R12
	const rip, fsBase, gsBase = 0x40_0000, 0x7000_0000, 0x9000_0000
	for _, tc := range []struct {
		name string
		code []byte
		want uint64
	}{
		{"[rax+rcx*4+8]", []byte{0x89, 0x54, 0x88, 0x08}, 0x1014},
		{"[rip+0x10]", []byte{0x8b, 0x05, 0x10, 0, 0, 0}, rip + 6 + 0x10},
		{"[rip-0x10]", []byte{0x8b, 0x05, 0xf0, 0xff, 0xff, 0xff}, rip + 6 - 0x10},
		{"[rax-0x10] disp32", []byte{0x8b, 0x80, 0xf0, 0xff, 0xff, 0xff}, 0xFF0},
		{"[-0x10] absolute", []byte{0x8b, 0x04, 0x25, 0xf0, 0xff, 0xff, 0xff}, 0xFFFF_FFFF_FFFF_FFF0},
		{"[rax-8]", []byte{0x8b, 0x40, 0xf8}, 0xFF8},
		{"[r12*2+1]", []byte{0x43, 0x8b, 0x04, 0x65, 1, 0, 0, 0}, 0x21},
		{"fs:[0x28]", []byte{0x64, 0x8b, 0x04, 0x25, 0x28, 0, 0, 0}, fsBase + 0x28},
		{"gs:[rax]", []byte{0x65, 0x8b, 0x00}, gsBase + 0x1000},
		{"cs:[rax] (base 0)", []byte{0x2e, 0x8b, 0x00}, 0x1000},
		{"[edi] (addr32)", []byte{0x67, 0x8b, 0x07}, 0x10},
		{"[edi-0x20] wraps at 4 GiB", []byte{0x67, 0x8b, 0x47, 0xe0}, 0xFFFF_FFF0},
		{"fs:[edi-0x20]: base added after the wrap", []byte{0x64, 0x67, 0x8b, 0x47, 0xe0}, fsBase + 0xFFFF_FFF0},
		{"[eip+1]", []byte{0x67, 0x8b, 0x05, 1, 0, 0, 0}, rip + 7 + 1},
		{"moffs", []byte{0xa1, 1, 2, 3, 4, 5, 6, 7, 8}, 0x0807_0605_0403_0201},
		{"gs:moffs32", []byte{0x65, 0x67, 0xa1, 1, 2, 3, 4}, gsBase + 0x0403_0201},
	} {
		a, st := DecodeMMIO(tc.code)
		if st != OK {
			t.Fatalf("DecodeMMIO(%s) = %v", tc.name, st)
		}
		if got := a.Address(&regs, rip, fsBase, gsBase); got != tc.want {
			t.Errorf("Address(%s) = %#x, want %#x", tc.name, got, tc.want)
		}
	}
}

// TestArbitraryAccess checks that the helpers do not panic on an Access
// that DecodeMMIO did not return.
func TestArbitraryAccess(t *testing.T) {
	var regs [16]uint64
	for _, a := range []Access{
		{},
		{Size: 0xFF, RegSize: 0xFF, Extend: SignExtend, Reg: Register{Index: 0xFF, HighByte: true}, Mem: Memory{Base: 0xFE, Index: 0xFE, Scale: 0xFF}},
		{Size: 16, RegSize: 3, Extend: SignExtend, Mem: Memory{Base: RegRIP, Index: RegRIP, Segment: 0xFF}},
	} {
		_ = a.Address(&regs, 1, 2, 3)
		_ = a.Value(&regs)
		a.Complete(&regs, ^uint64(0))
	}
}
