package lvbs

import (
	"encoding/binary"
	"math"
	"syscall"
	"testing"
	"unsafe"

	"github.com/cocoon-vm/cocoon/lvbs/hv"
	"github.com/cocoon-vm/cocoon/lvbs/vtlcall"
)

// The offsets switch_amd64.s uses.
func TestRegsLayout(t *testing.T) {
	var r vtlcall.Regs
	// unsafe: reading field offsets, to check the assembly's table.
	offs := []uintptr{unsafe.Offsetof(r.Rax), unsafe.Offsetof(r.Rbx), unsafe.Offsetof(r.Rcx), unsafe.Offsetof(r.Rdx),
		unsafe.Offsetof(r.Rsi), unsafe.Offsetof(r.Rdi), unsafe.Offsetof(r.Rbp), unsafe.Offsetof(r.R8),
		unsafe.Offsetof(r.R15)}
	want := []uintptr{0, 8, 16, 24, 32, 40, 48, 56, 112}
	for i := range offs {
		if offs[i] != want[i] {
			t.Errorf("offset %d = %d, want %d", i, offs[i], want[i])
		}
	}
}

// fakeVTL0 is machine code standing in for the hypercall page's VTL return
// sequence and everything VTL0 does until it calls VTL1 again: it records
// the registers it was entered with (MOV [RIP+disp32], reg) into a
// 15-quadword buffer after the code, in the order RAX RBX RCX RDX RSI RDI
// RBP R8-R15, and XMM0 (MOVDQU [RIP+disp32], XMM0) after them; then it
// loads 0x1100+n into each register (MOV reg, imm64), fakeXMM0 into XMM0
// and MXCSR round-toward-zero (LDMXCSR), and returns.
func fakeVTL0(t *testing.T) (entry uintptr, seen func() [15]uint64, seenXMM0 func() []byte) {
	t.Helper()
	mem, err := syscall.Mmap(-1, 0, 4096, syscall.PROT_READ|syscall.PROT_WRITE|syscall.PROT_EXEC, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		t.Fatalf("no executable memory for the fake VTL0: %v", err)
	}
	t.Cleanup(func() { syscall.Munmap(mem) })
	// ModRM reg field and REX.R/B for RAX RBX RCX RDX RSI RDI RBP R8-R15.
	regs := []struct{ rex, n byte }{{0x48, 0}, {0x48, 3}, {0x48, 1}, {0x48, 2}, {0x48, 6}, {0x48, 7}, {0x48, 5},
		{0x4C, 0}, {0x4C, 1}, {0x4C, 2}, {0x4C, 3}, {0x4C, 4}, {0x4C, 5}, {0x4C, 6}, {0x4C, 7}}
	const buf = 2048
	var c []byte
	for i, r := range regs {
		c = append(c, r.rex, 0x89, 0x05|r.n<<3) // MOV [RIP+disp32], reg (Intel SDM vol. 2, MOV 89 /r)
		disp := int32(buf + 8*i - (len(c) + 4))
		c = binary.LittleEndian.AppendUint32(c, uint32(disp))
	}
	rel := func(target int) []byte {
		return binary.LittleEndian.AppendUint32(nil, uint32(int32(target-(len(c)+4))))
	}
	c = append(c, 0xF3, 0x0F, 0x7F, 0x05) // MOVDQU [RIP+disp32], XMM0
	c = append(c, rel(buf+120)...)
	c = append(c, 0xF3, 0x0F, 0x6F, 0x05) // MOVDQU XMM0, [RIP+disp32]
	c = append(c, rel(buf+160)...)
	c = append(c, 0x0F, 0xAE, 0x15) // LDMXCSR [RIP+disp32] (0F AE /2)
	c = append(c, rel(buf+192)...)
	for i, r := range regs {
		rex := byte(0x48)
		if r.rex == 0x4C {
			rex = 0x49 // REX.B for R8-R15 in MOV r64, imm64 (B8+rd io)
		}
		c = append(c, rex, 0xB8+r.n)
		c = binary.LittleEndian.AppendUint64(c, 0x1100+uint64(i))
	}
	c = append(c, 0xC3) // RET
	copy(mem, c)
	copy(mem[buf+160:], fakeXMM0)
	binary.LittleEndian.PutUint32(mem[buf+192:], mxcsrRZ)
	// unsafe: the address of the mapped code, to call it as the hypercall page.
	entry = uintptr(unsafe.Pointer(&mem[0]))
	return entry, func() (v [15]uint64) {
			for i := range v {
				v[i] = binary.LittleEndian.Uint64(mem[buf+8*i:])
			}
			return v
		}, func() []byte {
			return append([]byte(nil), mem[buf+120:buf+136]...)
		}
}

var fakeXMM0 = []byte("VTL0 XMM0 value!")

// mxcsrRZ is MXCSR with all exceptions masked and rounding toward zero
// (bits 14:13 = 11; Intel SDM vol. 1, 10.2.3).
const mxcsrRZ = 0x7F80

// third divides at run time, under whatever rounding MXCSR selects.
//
//go:noinline
func third(a, b float32) float32 { return a / b }

func TestVTLReturnSwitch(t *testing.T) {
	entry, seen, seenXMM0 := fakeVTL0(t)
	if _, err := NewPageSwitcher(entry+8, hv.CodePageOffsets(0x800)); err == nil {
		t.Error("an unaligned hypercall page accepted")
	}
	s, err := NewPageSwitcher(entry, hv.CodePageOffsets(0x800)) // call at 0x800, return at 0: the fake's start
	if err != nil {
		t.Fatal(err)
	}
	r := vtlcall.Regs{Rax: 0xA0, Rbx: 0xB0, Rcx: 0xC0, Rdx: 0xD0, Rsi: 0x50, Rdi: 0xD1, Rbp: 0xBB,
		R8: 8, R9: 9, R10: 10, R11: 11, R12: 12, R13: 13, R14: 14, R15: 15}
	if !s.VTLReturn(&r) {
		t.Fatal("VTLReturn reported no entry")
	}
	in := seen()
	// VTL0 is entered with its own registers, but RAX (the call target)
	// and RCX (0: a non-fast return) which the hypervisor restores from
	// the VP assist page.
	want := [15]uint64{uint64(entry), 0xB0, 0, 0xD0, 0x50, 0xD1, 0xBB, 8, 9, 10, 11, 12, 13, 14, 15}
	if in != want {
		t.Errorf("VTL0 entered with\n%#x\nwant\n%#x", in, want)
	}
	// A fresh VTL0 area is the initial state: VTL1's XMM0 was not passed
	// on.
	if x := seenXMM0(); string(x) != string(make([]byte, 16)) {
		t.Errorf("VTL0 entered with XMM0 % x, want zeros", x)
	}
	// Back in VTL1, r holds what VTL0 left in every shared register.
	got := [15]uint64{r.Rax, r.Rbx, r.Rcx, r.Rdx, r.Rsi, r.Rdi, r.Rbp, r.R8, r.R9, r.R10, r.R11, r.R12, r.R13, r.R14, r.R15}
	for i, v := range got {
		if v != 0x1100+uint64(i) {
			t.Errorf("register %d = %#x, want %#x", i, v, 0x1100+i)
		}
	}
	// VTL0's extended state is in its area (XMM0 at 160, MXCSR at 24 of
	// the legacy region: Intel SDM vol. 1, table 13-1), and VTL1 got its
	// own back: division rounds to nearest again.
	area := s.fp.VTL0()
	if string(area[160:176]) != string(fakeXMM0) || binary.LittleEndian.Uint32(area[24:]) != mxcsrRZ {
		t.Errorf("VTL0 area XMM0 %q MXCSR %#x", area[160:176], binary.LittleEndian.Uint32(area[24:]))
	}
	if q := math.Float32bits(third(1, 3)); q != 0x3EAAAAAB {
		t.Errorf("1/3 = %#x after the switch: VTL0's rounding mode leaked into VTL1", q)
	}
	// The next return gives VTL0 its XMM0 back.
	s.VTLReturn(&r)
	if x := seenXMM0(); string(x) != string(fakeXMM0) {
		t.Errorf("VTL0 re-entered with XMM0 %q", x)
	}
}
