package main

import (
	"debug/dwarf"
	"debug/elf"
	"fmt"
	"sort"
)

// symbols answers "which functions, inlined into which, are at this PC"
// from an ELF's DWARF: the subprograms and their DW_TAG_inlined_subroutine
// trees give the inline stack, the line table the innermost line, and each
// function's abstract entry (DW_AT_abstract_origin) its name and
// DW_AT_decl_file/DW_AT_decl_line.
type symbols struct {
	f                           *elf.File
	textStart, textEnd, textOff uint64
	funcs                       []*scope // top-level subprograms by low PC
	decl                        map[dwarf.Offset]declInfo
	rows                        []lineRow // by address
}

type declInfo struct {
	name, file string
	line       int64
}

// scope is a subprogram or an inlined call with the PC ranges it covers.
type scope struct {
	ranges   [][2]uint64
	origin   dwarf.Offset // the entry naming the function
	callLine int64        // for an inlined call: the line of the call in its parent
	children []*scope
}

type lineRow struct {
	addr uint64
	line int64
	end  bool // end of a sequence: no code from here
}

type frame struct {
	name, declFile string
	declLine, line int64
}

func openSymbols(path string) (*symbols, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, err
	}
	s := &symbols{f: f, decl: map[dwarf.Offset]declInfo{}}
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && p.Flags&elf.PF_X != 0 {
			s.textStart, s.textEnd, s.textOff = p.Vaddr, p.Vaddr+p.Memsz, p.Off
			break
		}
	}
	if s.textEnd == 0 {
		f.Close()
		return nil, fmt.Errorf("%s: no executable segment", path)
	}
	d, err := f.DWARF()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %v (build the kernel without -ldflags=-w)", path, err)
	}
	if err := s.index(d); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: DWARF: %v", path, err)
	}
	if len(s.funcs) == 0 {
		f.Close()
		return nil, fmt.Errorf("%s: DWARF has no functions", path)
	}
	return s, nil
}

func (s *symbols) Close() error { return s.f.Close() }

func (s *symbols) index(d *dwarf.Data) error {
	r := d.Reader()
	var files []*dwarf.LineFile
	// open holds, per nesting level of entries with children, the scope
	// the level belongs to (nil when it is not a function or inlined call).
	var open []*scope
	parent := func() *scope {
		for i := len(open) - 1; i >= 0; i-- {
			if open[i] != nil {
				return open[i]
			}
		}
		return nil
	}
	for {
		e, err := r.Next()
		if err != nil {
			return err
		}
		if e == nil {
			break
		}
		if e.Tag == 0 {
			if len(open) > 0 {
				open = open[:len(open)-1]
			}
			continue
		}
		var sc *scope
		switch e.Tag {
		case dwarf.TagCompileUnit:
			open = open[:0]
			files = nil
			lr, err := d.LineReader(e)
			if err != nil {
				return err
			}
			if lr != nil {
				files = lr.Files()
				var le dwarf.LineEntry
				for lr.Next(&le) == nil {
					s.rows = append(s.rows, lineRow{addr: le.Address, line: int64(le.Line), end: le.EndSequence})
				}
			}
		case dwarf.TagSubprogram, dwarf.TagInlinedSubroutine:
			info := declInfo{}
			info.name, _ = e.Val(dwarf.AttrName).(string)
			info.line, _ = e.Val(dwarf.AttrDeclLine).(int64)
			if i, ok := e.Val(dwarf.AttrDeclFile).(int64); ok && i >= 0 && int(i) < len(files) && files[i] != nil {
				info.file = files[i].Name
			}
			if info.name != "" {
				s.decl[e.Offset] = info
			}
			rs, err := d.Ranges(e)
			if err != nil {
				return err
			}
			if len(rs) == 0 {
				break // an abstract entry: only named
			}
			sc = &scope{ranges: rs, origin: e.Offset}
			if o, ok := e.Val(dwarf.AttrAbstractOrigin).(dwarf.Offset); ok {
				sc.origin = o
			}
			if e.Tag == dwarf.TagInlinedSubroutine {
				sc.callLine, _ = e.Val(dwarf.AttrCallLine).(int64)
				if p := parent(); p != nil {
					p.children = append(p.children, sc)
				}
			} else {
				s.funcs = append(s.funcs, sc)
			}
		}
		if e.Children {
			open = append(open, sc)
		}
	}
	sort.Slice(s.funcs, func(i, j int) bool { return s.funcs[i].ranges[0][0] < s.funcs[j].ranges[0][0] })
	// At an address where one sequence ends and another starts, the end
	// sorts first, so the last row at or below a PC is the code there.
	sort.Slice(s.rows, func(i, j int) bool {
		a, b := s.rows[i], s.rows[j]
		if a.addr != b.addr {
			return a.addr < b.addr
		}
		return a.end && !b.end
	})
	return nil
}

func (sc *scope) covers(pc uint64) bool {
	for _, r := range sc.ranges {
		if pc >= r[0] && pc < r[1] {
			return true
		}
	}
	return false
}

// line is the line table's line for pc, 0 if none.
func (s *symbols) line(pc uint64) int64 {
	i := sort.Search(len(s.rows), func(i int) bool { return s.rows[i].addr > pc }) - 1
	if i < 0 || s.rows[i].end {
		return 0
	}
	return s.rows[i].line
}

// frames returns the functions at pc, innermost first: the inlined calls
// and then the function they are compiled into. None if pc is in no
// function.
func (s *symbols) frames(pc uint64) []frame {
	i := sort.Search(len(s.funcs), func(i int) bool { return s.funcs[i].ranges[0][0] > pc }) - 1
	if i < 0 || !s.funcs[i].covers(pc) {
		return nil
	}
	chain := []*scope{s.funcs[i]}
	for {
		var next *scope
		for _, c := range chain[len(chain)-1].children {
			if c.covers(pc) {
				next = c
				break
			}
		}
		if next == nil {
			break
		}
		chain = append(chain, next)
	}
	out := make([]frame, 0, len(chain))
	line := s.line(pc)
	for j := len(chain) - 1; j >= 0; j-- {
		d := s.decl[chain[j].origin]
		name := d.name
		if name == "" {
			name = fmt.Sprintf("?%#x", chain[j].ranges[0][0])
		}
		out = append(out, frame{name: name, declFile: d.file, declLine: d.line, line: line})
		line = chain[j].callLine
	}
	return out
}
