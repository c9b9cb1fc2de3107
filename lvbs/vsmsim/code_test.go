package vsmsim

import (
	"fmt"
	"strings"
	"testing"

	"golang.org/x/arch/x86/x86asm"

	"github.com/cocoon-vm/cocoon/lvbs/simwire"
	"github.com/cocoon-vm/cocoon/lvbs/vtl0load"
	"github.com/cocoon-vm/cocoon/lvbs/vtlcall"
)

// disasm decodes code in mode (32 or 64) into Intel-syntax lines, up to
// the first undecodable byte or stop bytes.
func disasm(t *testing.T, code []byte, mode, n int) []string {
	t.Helper()
	var out []string
	for pc := 0; pc < len(code) && len(out) < n; {
		inst, err := x86asm.Decode(code[pc:], mode)
		if err != nil {
			t.Fatalf("undecodable at %#x: % x", pc, code[pc:min(pc+8, len(code))])
		}
		out = append(out, x86asm.IntelSyntax(inst, uint64(pc), nil))
		pc += inst.Len
	}
	return out
}

// TestHypercallPageCode decodes the simulator's hypercall page and checks
// each instruction against the protocol of lvbs/simwire, typed in here.
func TestHypercallPageCode(t *testing.T) {
	const mb = 0x7e0001400000
	page := HypercallPage(mb)
	got := strings.Join(disasm(t, page[simwire.HypercallOffset:], 64, 17), "\n")
	want := strings.Join([]string{
		"push rbx",
		"mov rbx, 0x7e0001400000",
		"mov qword ptr [rbx+0x28], rcx",
		"mov qword ptr [rbx+0x30], rdx",
		"mov qword ptr [rbx+0x50], r8",
		"mov qword ptr [rbx+0x10], 0x1",
		"mov rax, qword ptr [rbx]",
		"inc rax",
		"mov qword ptr [rbx], rax",
		"pause",
		"cmp qword ptr [rbx+0x8], rax",
		"jnz 0x34",
		"mov rax, qword ptr [rbx+0x18]",
		"pop rbx",
		"ret",
		"int3",
		"int3",
	}, "\n")
	if page[0x34] != 0xF3 || page[0x35] != 0x90 {
		t.Error("the wait loop's JNZ does not go back to its PAUSE")
	}
	if got != want {
		t.Errorf("hypercall entry:\n%s\nwant:\n%s", got, want)
	}
	ret := disasm(t, page[simwire.VtlReturnOffset:], 64, 80)
	var stores, loads, dbgOut, dbgIn int
	for _, l := range ret {
		var off int
		switch {
		case strings.HasPrefix(l, "mov qword ptr [rax+") && !strings.Contains(l, "0x10], 0x2"):
			fmt.Sscanf(l, "mov qword ptr [rax+%v", &off)
			if off >= simwire.OffDebug {
				dbgOut++
			} else {
				stores++
			}
		case strings.HasPrefix(l, "mov ") && strings.Contains(l, ", qword ptr [rax+"):
			fmt.Sscanf(l[strings.Index(l, "[rax+")+5:], "%v", &off)
			if off >= simwire.OffDebug {
				dbgIn++
			} else {
				loads++
			}
		}
	}
	// Every shared register but RAX and RCX goes out (13), every one
	// comes back (15), CR2 and the five debug registers go out and come
	// back, and the stack is as it was (push, add rsp 8).
	if stores != 13 || loads != 15 || dbgOut != 6 || dbgIn != 6 || ret[0] != "push rax" || !contains(ret, "mov qword ptr [rax+0x10], 0x2") ||
		!contains(ret, "mov rbx, cr2") || !contains(ret, "mov cr2, rbx") || !contains(ret, "mov dr6, rbx") ||
		!contains(ret, "add rsp, 0x8") || !contains(ret, "ret") {
		t.Errorf("VTL return: %d stores, %d loads, debug %d out %d in:\n%s", stores, loads, dbgOut, dbgIn, strings.Join(ret, "\n"))
	}
	if off := CodePageOffsets; int(off.VtlReturn()) != simwire.VtlReturnOffset || off.Validate() != nil {
		t.Errorf("code page offsets %#x", uint64(off))
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestTrampolineCode decodes the trampoline: the 32-bit part loads the
// loader's context and enters long mode, the 64-bit part the registers.
func TestTrampolineCode(t *testing.T) {
	ctx := vtl0load.Context(Start)
	regs := vtlcall.Regs{Rdi: 1, Rsi: Start, Rdx: Start + 256<<20, R8: 512 << 20, R12: 0x1212}
	elfFile := Trampoline(TrampolineGPA, &ctx, &regs)
	code := elfFile[0x1000:]
	c32 := disasm(t, code, 32, 14)
	want32 := []string{
		"cli",
		"mov eax, 0xb0",
		"mov cr4, eax",
		"mov eax, " + hex(ctx.Cr3),
		"mov cr3, eax",
		"mov ecx, 0xc0000080",
		"mov eax, 0x901",
		"xor edx, edx",
		"wrmsr",
		"lgdt ptr [" + hex(TrampolineGPA+0x200) + "]",
		"lidt ptr [" + hex(TrampolineGPA+0x210) + "]",
		"mov eax, 0x80010033",
		"mov cr0, eax",
	}
	for i, w := range want32 {
		if c32[i] != w {
			t.Errorf("32-bit instruction %d: %q, want %q", i, c32[i], w)
		}
	}
	if c32[13] != "jmp far "+hex(TrampolineGPA+0x3c)+", 0x8" {
		t.Errorf("far jump: %q, want the 64-bit code right after it, selector 0x08", c32[13])
	}
	c64 := disasm(t, code[0x3c:], 64, 30)
	all := strings.Join(c64, "\n")
	for _, w := range []string{"mov ds, ax", "mov ss, ax", "mov rsp, " + hex(ctx.Rsp), "mov rdi, 0x1", "mov rsi, " + hex(Start), "mov r12, 0x1212", "jmp qword ptr [rip]"} {
		if !strings.Contains(all, w) {
			t.Errorf("64-bit part lacks %q:\n%s", w, all)
		}
	}
}

func hex(v uint64) string { return fmt.Sprintf("%#x", v) }
