package kbuild

import (
	"debug/elf"
	"fmt"
	"sort"
	"strings"

	"golang.org/x/arch/x86/x86asm"
)

// The rule for trap-context code (kernel package documentation): it never
// grows the stack, never allocates, and never runs a GC write barrier. The
// compiler enforces none of this for indirect calls, so CheckTrapCode
// checks the linked kernel instead: it disassembles every function of the
// trap-context packages and reports calls to the runtime functions that
// break the rule.

// TrapPackages are the packages whose code runs in trap context.
var TrapPackages = []string{
	"github.com/cocoon-vm/cocoon/boot.",
	"github.com/cocoon-vm/cocoon/kernel.",
	"github.com/cocoon-vm/cocoon/kernel/cpu.",
	"github.com/cocoon-vm/cocoon/kernel/pmem.",
	"github.com/cocoon-vm/cocoon/kernel/vmspace.",
	"github.com/cocoon-vm/cocoon/kernel/sched.",
	"github.com/cocoon-vm/cocoon/kernel/linux.",
	"github.com/cocoon-vm/cocoon/hal/pc.",
	"github.com/cocoon-vm/cocoon/snp.",
	"github.com/cocoon-vm/cocoon/snp/vc.",
}

// goroutineContext lists functions of those packages that run as ordinary
// goroutine code and may do anything.
var goroutineContext = map[string]bool{
	"github.com/cocoon-vm/cocoon/kernel.Stats": true,
}

// preRuntime lists functions that run before the Go runtime starts, when
// write barriers are off and their calls are harmless.
var preRuntime = map[string]bool{
	"github.com/cocoon-vm/cocoon/kernel.Boot":             true,
	"github.com/cocoon-vm/cocoon/boot.bootMain":           true,
	"github.com/cocoon-vm/cocoon/snp.(*Platform).Init":    true,
	"github.com/cocoon-vm/cocoon/snp.(*Platform).prepare": true,
	// The SNP boot steps (boot/snp.go), before kernel.Boot.
	"github.com/cocoon-vm/cocoon/snp.(*Platform).Start": true,
	"github.com/cocoon-vm/cocoon/boot.efiSNPStart":      true,
	"github.com/cocoon-vm/cocoon/boot.efiBoot":          true,
}

// forbidden reports why a call to runtime function name breaks the rule.
func forbidden(name string) string {
	switch {
	case strings.HasPrefix(name, "runtime.morestack"):
		return "stack-growth check (mark it //go:nosplit)"
	case name == "runtime.newobject", strings.HasPrefix(name, "runtime.mallocgc"),
		strings.HasPrefix(name, "runtime.makeslice"), name == "runtime.growslice",
		strings.HasPrefix(name, "runtime.convT"), name == "runtime.makemap",
		strings.HasPrefix(name, "runtime.concatstring"), strings.HasPrefix(name, "runtime.slicebytetostring"),
		strings.HasPrefix(name, "runtime.stringtoslice"):
		return "allocation"
	case strings.HasPrefix(name, "runtime.gcWriteBarrier"), name == "runtime.wbMove", name == "runtime.typedmemmove":
		return "GC write barrier (store a uintptr, not a pointer)"
	}
	return ""
}

// Violation is one forbidden call.
type Violation struct {
	Func, Callee, Why string
	PC                uint64
}

func (v Violation) String() string {
	return fmt.Sprintf("%s calls %s at %#x: %s", v.Func, v.Callee, v.PC, v.Why)
}

// CheckTrapCode disassembles the kernel image at path and returns every
// call from trap-context code to a forbidden runtime function.
func CheckTrapCode(path string) ([]Violation, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		return nil, fmt.Errorf("%s: %v (kernels must keep their symbol table)", path, err)
	}
	text := f.Section(".text")
	if text == nil {
		return nil, fmt.Errorf("%s: no .text", path)
	}
	code, err := text.Data()
	if err != nil {
		return nil, err
	}
	var funcs []elf.Symbol
	for _, s := range syms {
		if elf.ST_TYPE(s.Info) == elf.STT_FUNC && s.Value >= text.Addr && s.Value < text.Addr+text.Size {
			funcs = append(funcs, s)
		}
	}
	sort.Slice(funcs, func(i, j int) bool { return funcs[i].Value < funcs[j].Value })
	nameAt := func(addr uint64) string {
		i := sort.Search(len(funcs), func(i int) bool { return funcs[i].Value > addr }) - 1
		if i < 0 {
			return ""
		}
		return funcs[i].Name
	}

	var out []Violation
	for i, s := range funcs {
		name := strings.TrimSuffix(s.Name, ".abi0")
		if !inTrapPackage(name) || goroutineContext[name] || isInit(name) {
			continue
		}
		end := text.Addr + text.Size
		if i+1 < len(funcs) {
			end = funcs[i+1].Value
		}
		if s.Size > 0 && s.Value+s.Size < end {
			end = s.Value + s.Size
		}
		for pc := s.Value; pc < end; {
			inst, err := x86asm.Decode(code[pc-text.Addr:end-text.Addr], 64)
			if err != nil {
				pc++
				continue
			}
			if inst.Op == x86asm.CALL || inst.Op == x86asm.JMP {
				if rel, ok := inst.Args[0].(x86asm.Rel); ok {
					target := pc + uint64(inst.Len) + uint64(int64(rel))
					callee := nameAt(target)
					if why := forbidden(callee); why != "" && !(preRuntime[name] && !strings.HasPrefix(why, "stack")) {
						out = append(out, Violation{Func: name, Callee: callee, Why: why, PC: pc})
					}
				}
			}
			pc += uint64(inst.Len)
		}
	}
	return out, nil
}

// isInit reports whether name is a package initializer, which runs as
// ordinary Go code when the runtime starts.
func isInit(name string) bool {
	i := strings.LastIndex(name, "/")
	rest := name[i+1:]
	_, fn, _ := strings.Cut(rest, ".")
	return fn == "init" || strings.HasPrefix(fn, "init.")
}

func inTrapPackage(name string) bool {
	for _, p := range TrapPackages {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}
