// Package tcglog reads QEMU's TCG logs of a Cocoon boot (-d in_asm: every
// block translated; -d exec,nochain: every block executed) and cuts them
// at the boot timeline's phases: where each phase's kernel.Mark call
// first returns, the kernel's entry apart from the firmware before it.
// Under TCG a boot's time follows the blocks it translates
// (docs/KERNEL.md, "Boot time under TCG"); tools/tblocks and the -icount
// boot of `make bench` count them per phase.
package tcglog

import (
	"bufio"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/arch/x86/x86asm"
)

// Blocks reads a QEMU -d in_asm log and returns the guest address of each
// block QEMU translated, in the order it translated them. Each block is
// logged as a line "IN: [symbol]" followed by its instructions, the first
// starting with the block's address ("0x0049fc00:  ...").
func Blocks(r io.Reader) ([]uint64, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var out []uint64
	in := false
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "IN:") {
			in = true
			continue
		}
		if !in || line == "" {
			continue
		}
		in = false
		h, _, ok := strings.Cut(line, ":")
		a, err := strconv.ParseUint(strings.TrimPrefix(h, "0x"), 16, 64)
		if !ok || !strings.HasPrefix(h, "0x") || err != nil {
			return nil, fmt.Errorf("in_asm log: %q after IN: is not an instruction line", line)
		}
		out = append(out, a)
	}
	return out, sc.Err()
}

// Split cuts blocks before the first block at each address of stops, in
// order: len(stops)+1 parts, the last what follows the last stop. A stop
// never reached leaves its part and all later ones empty but the last,
// which then holds the rest.
func Split(blocks []uint64, stops ...uint64) [][]uint64 {
	parts := make([][]uint64, len(stops)+1)
	k := 0
	start := 0
	for i, a := range blocks {
		if k < len(stops) && a == stops[k] {
			parts[k] = blocks[start:i]
			start, k = i, k+1
		}
	}
	parts[len(stops)] = blocks[start:]
	return parts
}

// Symbols are an ELF file's function symbols, by address.
type Symbols []elf.Symbol

// ReadSymbols reads the function symbols of the ELF file r.
func ReadSymbols(r io.ReaderAt) (Symbols, error) {
	f, err := elf.NewFile(r)
	if err != nil {
		return nil, err
	}
	all, err := f.Symbols()
	if err != nil {
		return nil, err
	}
	var s Symbols
	for _, sym := range all {
		if elf.ST_TYPE(sym.Info) == elf.STT_FUNC {
			s = append(s, sym)
		}
	}
	sort.Slice(s, func(i, j int) bool { return s[i].Value < s[j].Value })
	return s, nil
}

// Func names the function holding addr, or "" if no symbol's range does.
func (s Symbols) Func(addr uint64) string {
	i := sort.Search(len(s), func(i int) bool { return s[i].Value > addr }) - 1
	if i < 0 || addr >= s[i].Value+max(s[i].Size, 1) {
		return ""
	}
	return s[i].Name
}

// Addr returns the address of the function named name.
func (s Symbols) Addr(name string) (uint64, bool) {
	for _, sym := range s {
		if sym.Name == name {
			return sym.Value, true
		}
	}
	return 0, false
}

// Package is the import path of a Go function symbol's package:
// "runtime" for runtime.mallocgc, "github.com/a/b" for
// github.com/a/b.(*T).M, "slices" for slices.Sort[go.shape.string].
func Package(fn string) string {
	base := fn
	if i := strings.IndexByte(base, '['); i >= 0 {
		base = base[:i] // type arguments hold import paths of their own
	}
	slash := strings.LastIndexByte(base, '/')
	if dot := strings.IndexByte(base[slash+1:], '.'); dot >= 0 {
		return base[:slash+1+dot]
	}
	return base
}

// Count is a name and how many blocks it holds.
type Count struct {
	Name   string
	Blocks int
}

// Tally counts blocks by the name each address gets, largest first.
func Tally(blocks []uint64, name func(addr uint64) string) []Count {
	m := map[string]int{}
	for _, a := range blocks {
		m[name(a)]++
	}
	out := make([]Count, 0, len(m))
	for k, v := range m {
		out = append(out, Count{k, v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Blocks != out[j].Blocks {
			return out[i].Blocks > out[j].Blocks
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// CallReturns returns the return address of every direct CALL to the
// function at target inside the ELF file's functions: where the caller
// resumes, which starts a translated block of its own (a CALL ends one).
func CallReturns(r io.ReaderAt, syms Symbols, target uint64) ([]uint64, error) {
	f, err := elf.NewFile(r)
	if err != nil {
		return nil, err
	}
	text := f.Section(".text")
	if text == nil {
		return nil, fmt.Errorf("no .text section")
	}
	code, err := text.Data()
	if err != nil {
		return nil, err
	}
	var out []uint64
	for _, s := range syms {
		if s.Value < text.Addr || s.Value+s.Size > text.Addr+uint64(len(code)) {
			continue
		}
		fn := code[s.Value-text.Addr : s.Value-text.Addr+s.Size]
		for pc := 0; pc < len(fn); {
			in, err := x86asm.Decode(fn[pc:], 64)
			if err != nil {
				pc++ // padding or data between instructions
				continue
			}
			next := s.Value + uint64(pc+in.Len)
			if in.Op == x86asm.CALL {
				if rel, ok := in.Args[0].(x86asm.Rel); ok && next+uint64(int64(rel)) == target {
					out = append(out, next)
				}
			}
			pc += in.Len
		}
	}
	return out, nil
}

// SplitFirst cuts blocks before the first translation of each address of
// stops, in the order the boot reaches them: one part more than the
// stops reached, the first what precedes the first stop.
func SplitFirst(blocks []uint64, stops []uint64) [][]uint64 {
	want := map[uint64]bool{}
	for _, s := range stops {
		want[s] = true
	}
	var parts [][]uint64
	start := 0
	for i, a := range blocks {
		if want[a] {
			delete(want, a)
			parts = append(parts, blocks[start:i])
			start = i
		}
	}
	return append(parts, blocks[start:])
}

// Run is one execution of a translated block: its address and how many
// guest instructions it holds.
type Run struct {
	Addr  uint64
	Insns int
}

// Runs reads a QEMU -d in_asm,exec,nochain log and returns every block
// execution in order, with the instruction count of the block's latest
// translation ("Trace N: HOST [CSBASE/PC/FLAGS/CFLAGS] SYMBOL" lines for
// executions, in_asm's blocks for translations). With nochain every
// execution is logged; a REP string instruction's block runs once per
// iteration, as -icount counts it.
func Runs(r io.Reader) ([]Run, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	insns := map[uint64]int{}
	var out []Run
	var cur uint64
	in, counting := false, false
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "IN:"):
			in, counting = true, false
			continue
		case strings.HasPrefix(line, "Trace "):
			counting = false
			_, rest, ok := strings.Cut(line, "[")
			f := strings.Split(rest, "/")
			if !ok || len(f) < 2 {
				return nil, fmt.Errorf("exec log: %q: want Trace N: HOST [CSBASE/PC/...]", line)
			}
			a, err := strconv.ParseUint(f[1], 16, 64)
			if err != nil {
				return nil, fmt.Errorf("exec log: %q: %v", line, err)
			}
			n, ok := insns[a]
			if !ok {
				return nil, fmt.Errorf("exec log: block %#x runs before any translation of it", a)
			}
			out = append(out, Run{a, n})
			continue
		case line == "":
			in, counting = false, false
			continue
		}
		if in {
			in = false
			h, _, ok := strings.Cut(line, ":")
			a, err := strconv.ParseUint(strings.TrimPrefix(h, "0x"), 16, 64)
			if !ok || !strings.HasPrefix(h, "0x") || err != nil {
				return nil, fmt.Errorf("in_asm log: %q after IN: is not an instruction line", line)
			}
			cur, counting = a, true
			insns[cur] = 1
			continue
		}
		if counting && strings.HasPrefix(line, "0x") {
			insns[cur]++
		}
	}
	return out, sc.Err()
}

// ReadSymbolsFile reads the function symbols of the ELF file at path.
func ReadSymbolsFile(path string) (Symbols, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s, err := ReadSymbols(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return s, nil
}

// MarkFunc is the kernel's timeline mark (kernel.Mark).
const MarkFunc = "github.com/cocoon-vm/cocoon/kernel.Mark"

// MarkReturns returns where each call of kernel.Mark in the kernel ELF
// file at path returns to.
func MarkReturns(path string, ksyms Symbols) ([]uint64, error) {
	mark, ok := ksyms.Addr(MarkFunc)
	if !ok {
		return nil, fmt.Errorf("%s: no %s in the kernel's symbols", path, MarkFunc)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	stops, err := CallReturns(f, ksyms, mark)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return stops, nil
}

// PhysEntry is the physical address of the kernel ELF file's entry point,
// where the firmware jumps (the PVH entry): its loadable segment's
// physical address plus the entry's offset in it.
func PhysEntry(path string) (uint64, error) {
	f, err := elf.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && f.Entry >= p.Vaddr && f.Entry < p.Vaddr+p.Memsz {
			return f.Entry - p.Vaddr + p.Paddr, nil
		}
	}
	return 0, fmt.Errorf("%s: the entry point %#x is in no loadable segment", path, f.Entry)
}

// Phases cuts the blocks a boot translated (Blocks) into the firmware's,
// before the kernel's entry at entry, and one part per timeline point
// after the entry (points of them), the last ending at that point's
// mark; stops are the marks' return addresses (MarkReturns). It fails if
// the entry or fewer marks than points-1 were reached.
func Phases(blocks []uint64, entry uint64, stops []uint64, points int) (firmware []uint64, phases [][]uint64, err error) {
	i := slices.Index(blocks, entry)
	if i < 0 {
		return nil, nil, fmt.Errorf("the kernel's entry %#x was never translated", entry)
	}
	parts := SplitFirst(blocks[i:], stops)
	if len(parts) < points {
		return nil, nil, fmt.Errorf("%d kernel.Mark returns reached for %d timeline points after the entry", len(parts)-1, points-1)
	}
	return blocks[:i], parts[:points-1], nil
}
