// Package hostcheck checks a kernel image's code against the host
// interface registry (hal.Accessors and hal.Inventory): it disassembles
// the image and reports every instruction that can exit to the host
// outside a registered accessor, every port or MSR the code names that no
// platform's inventory lists, and every listed port or MSR range the code
// never names (an inventory that claims more than the code does is as
// wrong as one that claims less). Device memory is mapped only through
// cpu.Device, which refuses at run time a window outside the inventory's
// MMIO ranges; here a constant window must lie in one, and a computed one
// may come only from a caller registered as mapping one (Accessor.Maps).
//
// Exiting instructions (AMD APM vol. 2, 15.9-15.13 "Instruction
// Intercepts"; under SEV-ES/SNP they raise #VC or are VMGEXIT itself):
// IN, OUT, INS, OUTS, RDMSR, WRMSR, CPUID, HLT, VMMCALL (0F 01 D9),
// VMCALL (0F 01 C1) and VMGEXIT (F3 0F 01 D9). x86asm decodes none of the
// last three, so they are matched by their bytes.
package hostcheck

import (
	"bytes"
	"debug/elf"
	"fmt"
	"sort"
	"strings"

	"golang.org/x/arch/x86/x86asm"

	"github.com/cocoon-vm/cocoon/hal"
)

const module = "github.com/cocoon-vm/cocoon/"

// Func is one function of an image: its normalized name (module prefix
// and ".abi0" removed), address and code.
type Func struct {
	Name string
	ABI0 bool // an assembly function: arguments on the stack
	Addr uint64
	Code []byte
}

// Report is the result of a check.
type Report struct {
	Problems []string
	// Ports, MSRs and MMIO name what the code touches (MMIO: the windows
	// mapped with constant addresses), with where.
	Ports, MSRs, MMIO map[uint64][]string
	// Exits counts exiting instructions by accessor.
	Exits map[string]int
}

// Funcs reads the functions of the kernel ELF at path.
func Funcs(path string) ([]Func, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		return nil, fmt.Errorf("%s: %v (kernels keep their symbol table)", path, err)
	}
	text := f.Section(".text")
	if text == nil {
		return nil, fmt.Errorf("%s: no .text", path)
	}
	code, err := text.Data()
	if err != nil {
		return nil, err
	}
	var fs []elf.Symbol
	for _, s := range syms {
		if elf.ST_TYPE(s.Info) == elf.STT_FUNC && s.Value >= text.Addr && s.Value < text.Addr+text.Size {
			fs = append(fs, s)
		}
	}
	sort.Slice(fs, func(i, j int) bool { return fs[i].Value < fs[j].Value })
	var out []Func
	for i, s := range fs {
		end := text.Addr + text.Size
		if i+1 < len(fs) {
			end = fs[i+1].Value
		}
		out = append(out, Func{Name: Normalize(s.Name), ABI0: strings.HasSuffix(s.Name, ".abi0"), Addr: s.Value, Code: code[s.Value-text.Addr : end-text.Addr]})
	}
	return out, nil
}

// Normalize strips the module prefix and the ABI0 suffix of a symbol.
func Normalize(sym string) string {
	return strings.TrimSuffix(strings.TrimPrefix(sym, module), ".abi0")
}

// exitOp returns the mnemonic of an exiting instruction at code, or "".
func exitOp(code []byte, inst *x86asm.Inst, ok bool) string {
	switch {
	case bytes.HasPrefix(code, []byte{0xF3, 0x0F, 0x01, 0xD9}):
		return "vmgexit"
	case bytes.HasPrefix(code, []byte{0x0F, 0x01, 0xD9}):
		return "vmmcall"
	case bytes.HasPrefix(code, []byte{0x0F, 0x01, 0xC1}):
		return "vmcall"
	case !ok:
		return ""
	}
	switch inst.Op {
	case x86asm.IN, x86asm.INSB, x86asm.INSW, x86asm.INSD:
		return "in"
	case x86asm.OUT, x86asm.OUTSB, x86asm.OUTSW, x86asm.OUTSD:
		return "out"
	case x86asm.RDMSR:
		return "rdmsr"
	case x86asm.WRMSR:
		return "wrmsr"
	case x86asm.CPUID:
		return "cpuid"
	case x86asm.HLT:
		return "hlt"
	}
	return ""
}

// Check checks funcs against accessors and the inventories of all
// platforms.
func Check(funcs []Func, accessors []hal.Accessor, inventory []hal.HostExit) Report {
	r := Report{Ports: map[uint64][]string{}, MSRs: map[uint64][]string{}, MMIO: map[uint64][]string{}, Exits: map[string]int{}}
	acc := map[string]hal.Accessor{}
	for _, a := range accessors {
		acc[a.Func] = a
	}
	byAddr := map[uint64]*Func{}
	for i := range funcs {
		byAddr[funcs[i].Addr] = &funcs[i]
	}
	touch := func(kind string, n uint64, where string) {
		m := r.Ports
		if kind == hal.KindMSR {
			m = r.MSRs
		}
		m[n] = append(m[n], where)
	}
	for _, f := range funcs {
		a, registered := acc[f.Name]
		// Constants last loaded into ECX (the MSR of RDMSR and WRMSR) and
		// into the first argument of a call: EAX under the register ABI,
		// 0(SP) under the assembly functions' stack ABI.
		var ecx, ax, sp *uint64
		for pc := 0; pc < len(f.Code); {
			inst, err := x86asm.Decode(f.Code[pc:], 64)
			ok := err == nil && inst.Len > 0
			at := fmt.Sprintf("%s+%#x", f.Name, pc)
			op := exitOp(f.Code[pc:], &inst, ok)
			if op != "" {
				switch {
				case !registered:
					r.Problems = append(r.Problems, fmt.Sprintf("%s: %s outside a registered accessor (hal.Accessors)", at, op))
				case !has(a.Ops, op):
					r.Problems = append(r.Problems, fmt.Sprintf("%s: %s, which accessor %s is not registered for", at, op, f.Name))
				default:
					r.Exits[f.Name]++
				}
				if registered && a.Arg == "" && (op == "rdmsr" || op == "wrmsr") {
					if ecx == nil {
						r.Problems = append(r.Problems, fmt.Sprintf("%s: %s of an MSR that is not a constant loaded into ECX", at, op))
					} else {
						touch(hal.KindMSR, uint64(uint32(*ecx)), at)
					}
				}
			}
			switch {
			case op == "vmgexit":
				pc += 4
				continue
			case op == "vmmcall" || op == "vmcall":
				pc += 3
				continue
			case !ok:
				pc++
				continue
			case pc == 0 && inst.Op == x86asm.JMP:
				// A function that starts by jumping forward over bytes is
				// a marker holding data, not code (the toolchain's
				// crypto/internal/boring/sig signatures): nothing falls
				// into those bytes.
				if rel, isRel := inst.Args[0].(x86asm.Rel); isRel && rel > 0 && inst.Len+int(rel) <= len(f.Code) {
					pc = inst.Len + int(rel)
					continue
				}
			}
			if dst, imm, isImm := movImm(&inst); isImm {
				switch dst {
				case x86asm.ECX, x86asm.RCX:
					ecx = &imm
				case x86asm.EAX, x86asm.RAX, x86asm.AX, x86asm.AL:
					ax = &imm
				case x86asm.RSP:
					sp = &imm
				}
			} else {
				if writes(&inst, x86asm.RCX) {
					ecx = nil
				}
				if writes(&inst, x86asm.RAX) {
					ax = nil
				}
			}
			if inst.Op == x86asm.CALL {
				if rel, isRel := inst.Args[0].(x86asm.Rel); isRel {
					callee := byAddr[f.Addr+uint64(pc+inst.Len)+uint64(int64(rel))]
					var target string
					arg := ax
					if callee != nil {
						target = callee.Name
						if callee.ABI0 {
							arg = sp
						}
					}
					if c, isAcc := acc[target]; isAcc && c.Arg == hal.KindMMIO {
						switch {
						case arg == nil && !a.Maps:
							r.Problems = append(r.Problems, fmt.Sprintf("%s: calls %s with a window that is not a constant, and %s is not registered as mapping one (Accessor.Maps)", at, target, f.Name))
						case arg != nil && !covered(inventory, hal.KindMMIO, *arg):
							r.Problems = append(r.Problems, fmt.Sprintf("%s: maps MMIO at %#x, in no platform's inventory", at, *arg))
						case arg != nil:
							r.MMIO[*arg] = append(r.MMIO[*arg], at)
						}
					} else if isAcc && c.Arg != "" && target != f.Name {
						switch {
						case arg == nil && len(a.Passes) > 0:
							for _, n := range a.Passes {
								touch(c.Arg, n, at)
							}
						case arg == nil:
							r.Problems = append(r.Problems, fmt.Sprintf("%s: calls %s with a %s number that is not a constant", at, target, c.Arg))
						case c.Arg == hal.KindPort:
							touch(c.Arg, uint64(uint16(*arg)), at)
						default:
							touch(c.Arg, uint64(uint32(*arg)), at)
						}
					}
				}
				ax, sp, ecx = nil, nil, nil
			}
			pc += inst.Len
		}
	}
	for _, kind := range []string{hal.KindPort, hal.KindMSR} {
		m := r.Ports
		if kind == hal.KindMSR {
			m = r.MSRs
		}
		for n, where := range m {
			if !covered(inventory, kind, n) {
				r.Problems = append(r.Problems, fmt.Sprintf("%s %#x (%s) is in no platform's inventory (hal.PCExits, hal.SNPExits, hal.KernelExits)", kind, n, where[0]))
			}
		}
	}
	sort.Strings(r.Problems)
	return r
}

// Unused returns the port and MSR ranges of inventory that none of the
// reports touches: an inventory that lists more than the code does is
// as wrong as one that lists less. Reports of all the kernels go
// together, since a kernel may leave out code another has.
func Unused(inventory []hal.HostExit, reports ...Report) []string {
	var out []string
	for _, e := range inventory {
		if e.Kind != hal.KindPort && e.Kind != hal.KindMSR {
			continue
		}
		used := false
		for _, r := range reports {
			m := r.Ports
			if e.Kind == hal.KindMSR {
				m = r.MSRs
			}
			for n := range m {
				used = used || e.Contains(e.Kind, n)
			}
		}
		if !used {
			out = append(out, fmt.Sprintf("inventory lists %s %s (%s), which the code never touches", e.Kind, e.Place(), e.What))
		}
	}
	return out
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func covered(inv []hal.HostExit, kind string, n uint64) bool {
	for _, e := range inv {
		if e.Contains(kind, n) {
			return true
		}
	}
	return false
}

// movImm reports a MOV of an immediate into a register, or into 0(SP)
// (reported as RSP): the first argument slot of a stack-ABI call.
func movImm(inst *x86asm.Inst) (x86asm.Reg, uint64, bool) {
	if inst.Op != x86asm.MOV {
		return 0, 0, false
	}
	imm, isImm := inst.Args[1].(x86asm.Imm)
	if !isImm {
		return 0, 0, false
	}
	// x86asm gives the immediate sign-extended; a 32-, 16- or 8-bit
	// destination keeps only its low bits (a 32-bit register write
	// clears the upper half: AMD APM vol. 1, 3.1.2.3).
	switch dst := inst.Args[0].(type) {
	case x86asm.Reg:
		switch {
		case dst >= x86asm.EAX && dst <= x86asm.R15L:
			return dst, uint64(uint32(imm)), true
		case dst >= x86asm.AX && dst <= x86asm.R15W:
			return dst, uint64(uint16(imm)), true
		case dst >= x86asm.AL && dst <= x86asm.R15B:
			return dst, uint64(uint8(imm)), true
		}
		return dst, uint64(imm), true
	case x86asm.Mem:
		if dst.Base == x86asm.RSP && dst.Index == 0 && dst.Disp == 0 && dst.Segment == 0 {
			if inst.MemBytes > 0 && inst.MemBytes < 8 {
				return x86asm.RSP, uint64(imm) & (1<<(8*inst.MemBytes) - 1), true
			}
			return x86asm.RSP, uint64(imm), true
		}
	}
	return 0, 0, false
}

// writes reports whether inst may write the register family of full
// (RAX or RCX): conservatively, any instruction that names it as its
// first operand, or an instruction that writes it implicitly.
func writes(inst *x86asm.Inst, full x86asm.Reg) bool {
	switch inst.Op {
	case x86asm.CPUID, x86asm.RDTSCP, x86asm.XCHG, x86asm.SYSCALL, x86asm.LOOP:
		return true
	case x86asm.RDMSR, x86asm.RDTSC, x86asm.XGETBV, x86asm.IN, x86asm.MUL, x86asm.DIV,
		x86asm.IMUL, x86asm.IDIV, x86asm.CQO, x86asm.CDQ, x86asm.CMPXCHG:
		return full == x86asm.RAX
	}
	if inst.Prefix[0]&0xFF == x86asm.PrefixREP || inst.Prefix[0]&0xFF == x86asm.PrefixREPN {
		return true // string instructions count RCX down
	}
	if r, ok := inst.Args[0].(x86asm.Reg); ok {
		return family(r) == full
	}
	return false
}

// family maps a general register to its 64-bit name.
func family(r x86asm.Reg) x86asm.Reg {
	switch {
	case r == x86asm.AH:
		return x86asm.RAX
	case r == x86asm.CH:
		return x86asm.RCX
	case r >= x86asm.AL && r <= x86asm.BL:
		return x86asm.RAX + (r - x86asm.AL)
	case r >= x86asm.AX && r <= x86asm.R15W:
		return x86asm.RAX + (r - x86asm.AX)
	case r >= x86asm.EAX && r <= x86asm.R15L:
		return x86asm.RAX + (r - x86asm.EAX)
	}
	return r
}

// AllInventories is every platform's inventory, concatenated: an image
// links every platform, so the code may touch what any of them lists.
func AllInventories() []hal.HostExit {
	var all []hal.HostExit
	for _, p := range hal.InventoryPlatforms {
		all = append(all, hal.Inventory(p)...)
	}
	return all
}
