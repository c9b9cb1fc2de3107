package kbuild

import (
	"debug/elf"
	"debug/gosym"
	"fmt"
	"os"
	"path/filepath"
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
	"github.com/cocoon-vm/cocoon/snp/ghcb.",
	"github.com/cocoon-vm/cocoon/snp/ghcbmsr.",
	"github.com/cocoon-vm/cocoon/snp/cpuidpage.",
	"github.com/cocoon-vm/cocoon/lvbs/vtl1.",
}

// goroutineContext lists functions of those packages that run as ordinary
// goroutine code and may do anything. Whole files are exempted by saying
// "Goroutine context" in their header comment (GoroutineFiles).
var goroutineContext = map[string]bool{
	// runUser (trap_amd64.s) is called by Space.Run on the goroutine's
	// stack, whose growth check it may run before it disables interrupts.
	"github.com/cocoon-vm/cocoon/kernel.runUser": true,
}

// GoroutineFiles returns the source files of TrapPackages, under the
// module at dir, whose header comment (the lines before the package
// clause and the comment right after it) says "Goroutine context": their
// functions run as ordinary Go, called by goroutines, never in trap
// context. Files are named as the linker records them under -trimpath:
// import path, slash, file name.
func GoroutineFiles(dir string) (map[string]bool, error) {
	return filesSaying(dir, "Goroutine context")
}

// BootFiles returns the source files of TrapPackages whose header comment
// says "Boot context": their functions run before the Go runtime starts,
// when write barriers are off, so a write barrier's call is never taken
// there; allocation and stack growth are still broken rules.
func BootFiles(dir string) (map[string]bool, error) {
	return filesSaying(dir, "Boot context")
}

// filesSaying returns the source files of TrapPackages whose header
// comment contains phrase.
func filesSaying(dir, phrase string) (map[string]bool, error) {
	const module = "github.com/cocoon-vm/cocoon/"
	out := map[string]bool{}
	for _, p := range TrapPackages {
		pkg := strings.TrimSuffix(strings.TrimPrefix(p, module), ".")
		entries, err := os.ReadDir(filepath.Join(dir, pkg))
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			name := e.Name()
			if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
				continue
			}
			b, err := os.ReadFile(filepath.Join(dir, pkg, name))
			if err != nil {
				return nil, err
			}
			if strings.Contains(header(string(b)), phrase) {
				out[module+pkg+"/"+name] = true
			}
		}
	}
	return out, nil
}

// header returns the text of a Go file's leading comments, lines joined
// by spaces: everything up to the first line after the package clause
// that is not a comment or blank.
func header(src string) string {
	var b strings.Builder
	seenPackage := false
	for _, line := range strings.Split(src, "\n") {
		t := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(t, "package "):
			seenPackage = true
		case t == "" || strings.HasPrefix(t, "//"):
			b.WriteString(strings.TrimSpace(strings.TrimPrefix(t, "//")))
			b.WriteByte(' ')
		default:
			if seenPackage {
				return b.String()
			}
		}
	}
	return b.String()
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
// call from trap-context code to a forbidden runtime function. Functions
// defined in the files of skip (GoroutineFiles) are not trap context;
// those in the files of boot (BootFiles) run before the runtime, where
// write barriers are off.
func CheckTrapCode(path string, skip, boot map[string]bool) ([]Violation, error) {
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
	pcFile, err := pcFiles(f, text.Addr)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	addrOf := map[string]uint64{}
	for _, s := range syms {
		addrOf[s.Name] = s.Value
	}
	// fileOf names the source file of a function; the compiler's wrappers
	// for pointer receivers (<autogenerated>) count as the method's file.
	fileOf := func(name string, pc uint64) string {
		file := pcFile(pc)
		if file == "<autogenerated>" {
			if i := strings.Index(name, ".(*"); i >= 0 {
				if j := strings.Index(name[i:], ")."); j >= 0 {
					if a, ok := addrOf[name[:i+1]+name[i+3:i+j]+name[i+j+1:]]; ok {
						return pcFile(a)
					}
				}
			}
		}
		return file
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
		file := fileOf(s.Name, s.Value)
		if !inTrapPackage(name) || goroutineContext[name] || isInit(name) || skip[file] {
			continue
		}
		bootFile := boot[file]
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
					if why := forbidden(callee); why != "" && !(bootFile && strings.HasPrefix(why, "GC write barrier")) {
						out = append(out, Violation{Func: name, Callee: callee, Why: why, PC: pc})
					}
				}
			}
			pc += uint64(inst.Len)
		}
	}
	return out, nil
}

// pcFiles returns a function giving the source file of the code at a
// PC, from the image's Go line table (.gopclntab).
func pcFiles(f *elf.File, textAddr uint64) (func(pc uint64) string, error) {
	sec := f.Section(".gopclntab")
	if sec == nil {
		return nil, fmt.Errorf("no .gopclntab")
	}
	data, err := sec.Data()
	if err != nil {
		return nil, err
	}
	tab, err := gosym.NewTable(nil, gosym.NewLineTable(data, textAddr))
	if err != nil {
		return nil, err
	}
	return func(pc uint64) string {
		file, _, _ := tab.PCToLine(pc)
		return file
	}, nil
}

// isInit reports whether name is a package initializer, which runs as
// ordinary Go code when the runtime starts.
func isInit(name string) bool {
	i := strings.LastIndex(name, "/")
	rest := name[i+1:]
	_, fn, _ := strings.Cut(rest, ".")
	return fn == "init" || strings.HasPrefix(fn, "init.") || strings.HasPrefix(fn, "map.init.")
}

func inTrapPackage(name string) bool {
	for _, p := range TrapPackages {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}
