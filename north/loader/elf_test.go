package loader

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/cocoon-vm/cocoon/north/mem"
)

// seg is one segment of a synthetic executable.
type seg struct {
	typ   elf.ProgType
	flags elf.ProgFlag
	vaddr uint64
	data  []byte // file bytes (p_filesz = len(data))
	memsz uint64 // 0 means len(data)
	align uint64 // 0 means the page size
}

// synth describes a synthetic ELF executable.
type synth struct {
	class   elf.Class
	data    elf.Data
	machine elf.Machine
	typ     elf.Type
	entry   uint64
	segs    []seg
}

// exe returns a well-formed static ET_EXEC with text, rodata and data+bss
// segments, like the Go linker's output in miniature.
func exe() synth {
	return synth{
		class: elf.ELFCLASS64, data: elf.ELFDATA2LSB, machine: elf.EM_X86_64, typ: elf.ET_EXEC,
		entry: 0x401000,
		segs: []seg{
			{typ: elf.PT_LOAD, flags: elf.PF_R | elf.PF_X, vaddr: 0x401000, data: bytes.Repeat([]byte{0xcc}, 0x1800)},
			{typ: elf.PT_LOAD, flags: elf.PF_R, vaddr: 0x403000, data: bytes.Repeat([]byte{0x52}, 0x100)},
			{typ: elf.PT_LOAD, flags: elf.PF_R | elf.PF_W, vaddr: 0x404100, data: bytes.Repeat([]byte{0xda}, 0x123), memsz: 0x3000},
			{typ: elf.PT_GNU_STACK, flags: elf.PF_R | elf.PF_W},
		},
	}
}

// bytes encodes s: ELF header, program headers at 64, then each segment's
// data at the first file offset past what precedes it that is congruent
// to its address modulo the page size.
func (s synth) bytes() []byte {
	order := binary.ByteOrder(binary.LittleEndian)
	if s.data == elf.ELFDATA2MSB {
		order = binary.BigEndian
	}
	phoff := uint64(ehdrSize)
	cur := phoff + uint64(len(s.segs))*phdrSize
	offs := make([]uint64, len(s.segs))
	for i, g := range s.segs {
		if g.typ != elf.PT_LOAD {
			continue
		}
		off := cur&^(pageSize-1) + g.vaddr%pageSize
		if off < cur {
			off += pageSize
		}
		offs[i] = off
		cur = off + uint64(len(g.data))
	}
	out := make([]byte, cur)
	copy(out, elf.ELFMAG)
	out[elf.EI_CLASS], out[elf.EI_DATA], out[elf.EI_VERSION] = byte(s.class), byte(s.data), byte(elf.EV_CURRENT)
	order.PutUint16(out[offType:], uint16(s.typ))
	order.PutUint16(out[offMachine:], uint16(s.machine))
	order.PutUint32(out[offVersion:], uint32(elf.EV_CURRENT))
	order.PutUint64(out[offEntry:], s.entry)
	order.PutUint64(out[offPhoff:], phoff)
	order.PutUint16(out[52:], ehdrSize)
	order.PutUint16(out[offPhentsize:], phdrSize)
	order.PutUint16(out[offPhnum:], uint16(len(s.segs)))
	for i, g := range s.segs {
		b := out[phoff+uint64(i)*phdrSize:]
		memsz, align := g.memsz, g.align
		if memsz == 0 {
			memsz = uint64(len(g.data))
		}
		if align == 0 {
			align = pageSize
		}
		order.PutUint32(b[0:], uint32(g.typ))
		order.PutUint32(b[4:], uint32(g.flags))
		order.PutUint64(b[8:], offs[i])
		order.PutUint64(b[16:], g.vaddr)
		order.PutUint64(b[24:], g.vaddr)
		order.PutUint64(b[32:], uint64(len(g.data)))
		order.PutUint64(b[40:], memsz)
		order.PutUint64(b[48:], align)
		copy(out[offs[i]:], g.data)
	}
	return out
}

// parseBytes parses the executable b.
func parseBytes(b []byte) (*File, error) { return Parse(bytes.NewReader(b), int64(len(b))) }

func TestParseSynthetic(t *testing.T) {
	b := exe().bytes()
	f, err := parseBytes(b)
	if err != nil {
		t.Fatalf("Parse = %v", err)
	}
	// The standard library's parser is the reference for the headers.
	ref, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("debug/elf cannot read the synthetic file: %v", err)
	}
	if f.Type != Type(ref.Type) || f.Entry != ref.Entry || len(f.Progs) != len(ref.Progs) {
		t.Fatalf("Parse = type %v entry %#x %d progs, want %v %#x %d", f.Type, f.Entry, len(f.Progs), ref.Type, ref.Entry, len(ref.Progs))
	}
	for i, p := range ref.Progs {
		want := Prog{ProgType(p.Type), ProgFlag(p.Flags), p.Off, p.Vaddr, p.Filesz, p.Memsz, p.Align}
		if f.Progs[i] != want {
			t.Errorf("Progs[%d] = %+v, want %+v", i, f.Progs[i], want)
		}
	}
}

func TestParseRefusals(t *testing.T) {
	withInterp := exe()
	withInterp.segs = append(withInterp.segs, seg{typ: elf.PT_LOAD, flags: elf.PF_R, vaddr: 0x410000, data: []byte("/lib64/ld-linux-x86-64.so.2\x00")})
	interp := withInterp.bytes()
	// Turn the extra PT_LOAD into the PT_INTERP that names its bytes.
	binary.LittleEndian.PutUint32(interp[ehdrSize+4*phdrSize:], uint32(elf.PT_INTERP))

	mod := func(f func(*synth)) []byte {
		s := exe()
		f(&s)
		return s.bytes()
	}
	patch := func(b []byte, off int, v uint64, n int) []byte {
		b = bytes.Clone(b)
		switch n {
		case 2:
			binary.LittleEndian.PutUint16(b[off:], uint16(v))
		case 4:
			binary.LittleEndian.PutUint32(b[off:], uint32(v))
		case 8:
			binary.LittleEndian.PutUint64(b[off:], v)
		}
		return b
	}
	good := exe().bytes()
	ph := func(i, field int) int { return ehdrSize + i*phdrSize + field }
	tests := []struct {
		name string
		file []byte
		want string
	}{
		{"empty", nil, "not an ELF file"},
		{"text", []byte("#!/bin/sh\necho hi\n"), "not an ELF file"},
		{"short", good[:40], "shorter than an ELF header"},
		{"interp", interp, `interpreter "/lib64/ld-linux-x86-64.so.2"`},
		{"aarch64", mod(func(s *synth) { s.machine = elf.EM_AARCH64 }), "executable for EM_AARCH64"},
		{"riscv", mod(func(s *synth) { s.machine = elf.EM_RISCV }), "executable for EM_RISCV"},
		{"386", mod(func(s *synth) { s.class, s.machine = elf.ELFCLASS32, elf.EM_386 }), "ELFCLASS32 executable for EM_386"},
		{"big-endian ppc64", mod(func(s *synth) { s.data, s.machine = elf.ELFDATA2MSB, elf.EM_PPC64 }), "executable for EM_PPC64"},
		{"big-endian x86-64", mod(func(s *synth) { s.data = elf.ELFDATA2MSB }), "ELFDATA2MSB byte order"},
		{"relocatable", mod(func(s *synth) { s.typ = elf.ET_REL }), "ET_REL is not an executable"},
		{"core", mod(func(s *synth) { s.typ = elf.ET_CORE }), "ET_CORE is not an executable"},
		{"phentsize", patch(good, offPhentsize, 32, 2), "program header size 32"},
		{"no phdrs", patch(good, offPhnum, 0, 2), "0 program headers"},
		{"PN_XNUM", patch(good, offPhnum, 0xffff, 2), "65535 program headers"},
		{"phoff past end", patch(good, offPhoff, 1<<62, 8), "overrun"},
		{"filesz > memsz", patch(good, ph(2, 40), 0x10, 8), "exceeds memory size"},
		{"filesz past end", patch(patch(good, ph(0, 32), 1<<40, 8), ph(0, 40), 1<<40, 8), "overrun the"},
		{"offset wraps", patch(good, ph(0, 8), ^uint64(0)-0xfff, 8), "overrun the"},
		{"vaddr wraps", patch(good, ph(2, 40), ^uint64(0), 8), "wraps around"},
		{"incongruent", patch(good, ph(1, 16), 0x403010, 8), "differ modulo the page size"},
		{"no load", mod(func(s *synth) { s.segs = s.segs[3:] }), "no loadable"},
	}
	for _, tt := range tests {
		_, err := parseBytes(tt.file)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Parse = %v, want an error containing %q", tt.name, err, tt.want)
		}
	}

	_, err := parseBytes(interp)
	var ie *InterpError
	if !errors.As(err, &ie) || ie.Interp != "/lib64/ld-linux-x86-64.so.2" {
		t.Errorf("Parse(dynamic) = %v, want an *InterpError naming the interpreter", err)
	}
	_, err = parseBytes(mod(func(s *synth) { s.machine = elf.EM_AARCH64 }))
	var me *MachineError
	if !errors.As(err, &me) || me.Machine != Machine(elf.EM_AARCH64) {
		t.Errorf("Parse(aarch64) = %v, want a *MachineError for EM_AARCH64", err)
	}
}

func TestLoadSynthetic(t *testing.T) {
	b := exe().bytes()
	f, err := parseBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	as := mem.NewFakeSpace(0, 1<<47)
	img, err := f.Load(as, Options{})
	if err != nil {
		t.Fatalf("Load = %v", err)
	}
	checkImage(t, as, f, b, img)
	if img.Entry != 0x401000 || img.Bias != 0 || img.Brk != 0x408000 || img.End != 0x407100 || img.Start != 0x401000 {
		t.Errorf("Load = %+v, want entry 0x401000, bias 0, start 0x401000, end 0x407100, brk 0x408000", img)
	}
	// No PT_PHDR and no segment holding e_phoff (the first PT_LOAD
	// starts past the headers): no AT_PHDR.
	if img.Phdr != 0 || img.Phnum != 4 || img.ExecStack {
		t.Errorf("Load = phdr %#x phnum %d execstack %v, want 0, 4, false", img.Phdr, img.Phnum, img.ExecStack)
	}
}

// checkImage verifies that every PT_LOAD of f (from file bytes b) is
// mapped at its address plus img.Bias with its protection, holds its file
// bytes and is zero beyond them to the end of its last page, and that
// nothing else is mapped.
func checkImage(t *testing.T, as *mem.FakeSpace, f *File, b []byte, img *Image) {
	t.Helper()
	want := map[uint64]mem.Prot{}
	for _, p := range f.Progs {
		if p.Type != ProgLoad || p.Memsz == 0 {
			continue
		}
		lo, hi := pageDown(p.Vaddr+img.Bias), pageUp(p.Vaddr+img.Bias+p.Memsz)
		for a := lo; a < hi; a += pageSize {
			want[a] = protOf(p.Flags)
		}
	}
	got := as.Mapped()
	if len(got) != len(want) {
		t.Errorf("%d pages mapped, want %d", len(got), len(want))
	}
	for _, a := range got {
		prot, _ := as.ProtAt(a)
		if w, ok := want[a]; !ok || prot != w {
			t.Errorf("page %#x mapped with %v (expected: %v, %v)", a, prot, ok, w)
		}
	}
	for _, p := range f.Progs {
		if p.Type != ProgLoad || p.Memsz == 0 {
			continue
		}
		addr := p.Vaddr + img.Bias
		end := pageUp(addr + p.Memsz)
		got := make([]byte, end-addr)
		if err := copyInAnyProt(as, addr, got); err != nil {
			t.Fatalf("reading segment at %#x: %v", addr, err)
		}
		if !bytes.Equal(got[:p.Filesz], b[p.Off:p.Off+p.Filesz]) {
			t.Errorf("segment at %#x: file bytes differ", addr)
		}
		if i := bytes.IndexFunc(got[p.Filesz:], func(r rune) bool { return r != 0 }); i >= 0 && !sharedPage(f, p, addr+p.Filesz+uint64(i)-img.Bias) {
			t.Errorf("segment at %#x: byte %#x past the file bytes is not zero", addr, p.Filesz+uint64(i))
		}
	}
}

// sharedPage reports whether unrelocated address a lies in a page that a
// later PT_LOAD than p also maps (and so may hold its file bytes).
func sharedPage(f *File, p Prog, a uint64) bool {
	later := false
	for _, q := range f.Progs {
		if q == p {
			later = true
			continue
		}
		if later && q.Type == ProgLoad && pageDown(a) >= pageDown(q.Vaddr) && pageDown(a) < pageUp(q.Vaddr+q.Memsz) {
			return true
		}
	}
	return false
}

// copyInAnyProt reads memory regardless of protection, by temporarily
// granting read access page by page.
func copyInAnyProt(as *mem.FakeSpace, addr uint64, dst []byte) error {
	for done := 0; done < len(dst); {
		a := addr + uint64(done)
		page := pageDown(a)
		prot, ok := as.ProtAt(page)
		if !ok {
			return mem.ErrFault
		}
		n := min(len(dst)-done, int(page+pageSize-a))
		if err := as.Protect(page, pageSize, prot|mem.Read); err != nil {
			return err
		}
		err := as.CopyIn(a, dst[done:done+n])
		if err2 := as.Protect(page, pageSize, prot); err == nil {
			err = err2
		}
		if err != nil {
			return err
		}
		done += n
	}
	return nil
}

func TestLoadStaticPIESynthetic(t *testing.T) {
	s := exe()
	s.typ = elf.ET_DYN
	// A PIE is linked at 0 with its headers in the first segment.
	s.entry = 0x1010
	s.segs = []seg{
		{typ: elf.PT_PHDR, flags: elf.PF_R, vaddr: 0x40},
		{typ: elf.PT_LOAD, flags: elf.PF_R | elf.PF_X, vaddr: 0x1000, data: bytes.Repeat([]byte{0x90}, 0x80)},
		{typ: elf.PT_LOAD, flags: elf.PF_R | elf.PF_W, vaddr: 0x2f80, data: []byte{1, 2, 3}, memsz: 0x200},
		{typ: elf.PT_GNU_STACK, flags: elf.PF_R | elf.PF_W | elf.PF_X},
		{typ: elf.PT_DYNAMIC, flags: elf.PF_R | elf.PF_W, vaddr: 0x2f80},
	}
	b := s.bytes()
	f, err := parseBytes(b)
	if err != nil {
		t.Fatalf("Parse(static PIE) = %v", err)
	}
	for _, base := range []uint64{0, 0x7000_0000_0000} {
		as := mem.NewFakeSpace(0, 1<<47)
		img, err := f.Load(as, Options{Base: base})
		if err != nil {
			t.Fatalf("Load(base %#x) = %v", base, err)
		}
		want := base
		if want == 0 {
			want = DefaultDynBase
		}
		// The lowest segment page (0x1000) goes at the base.
		if img.Bias != want-0x1000 || img.Entry != want+0x10 || img.Phdr != want-0x1000+0x40 || img.Brk != want+0x2000+0x1000 || !img.ExecStack {
			t.Errorf("Load(base %#x) = %+v", base, img)
		}
		checkImage(t, as, f, b, img)
	}
	if _, err := f.Load(mem.NewFakeSpace(0, 1<<47), Options{Base: 0x1234}); err == nil {
		t.Errorf("Load with a misaligned base succeeded")
	}
}

func TestLoadSharedPage(t *testing.T) {
	// Text ends and data begins in the same page, as in binaries linked
	// without page-aligned segments: the page takes the later segment's
	// protection and keeps both segments' bytes, as with a file mmap.
	s := exe()
	s.segs = []seg{
		{typ: elf.PT_LOAD, flags: elf.PF_R | elf.PF_X, vaddr: 0x401000, data: bytes.Repeat([]byte{0xcc}, 0x800)},
		{typ: elf.PT_LOAD, flags: elf.PF_R | elf.PF_W, vaddr: 0x401800, data: bytes.Repeat([]byte{0xda}, 0x10), memsz: 0x900},
	}
	b := s.bytes()
	f, err := parseBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	if f.Progs[1].Off != f.Progs[0].Off+0x800 {
		t.Fatalf("test file is not laid out contiguously: %+v", f.Progs)
	}
	as := mem.NewFakeSpace(0, 1<<47)
	img, err := f.Load(as, Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkImage(t, as, f, b, img)
	got := make([]byte, 0x1200)
	if err := as.CopyIn(0x401000, got); err != nil {
		t.Fatal(err)
	}
	if got[0x7ff] != 0xcc || got[0x800] != 0xda || got[0x80f] != 0xda || got[0x810] != 0 || got[0x10ff] != 0 {
		t.Errorf("shared page = % x ...", got[0x7f0:0x820])
	}
}

func TestLoadLimits(t *testing.T) {
	huge := exe()
	huge.segs[2].memsz = 1 << 40
	low := exe()
	low.entry = 0x1000
	low.segs[0].vaddr = 0x1000
	noEntry := exe()
	noEntry.entry = 0x500000
	tests := []struct {
		name string
		s    synth
		o    Options
		want string
	}{
		{"huge bss", huge, Options{}, "limit"},
		{"small limit", exe(), Options{MaxMemory: 0x4000}, "limit"},
		{"page zero", low, Options{}, "outside the application range"},
		{"above limit", exe(), Options{Limit: 0x404000}, "outside the application range"},
		{"entry", noEntry, Options{}, "entry point"},
	}
	for _, tt := range tests {
		f, err := parseBytes(tt.s.bytes())
		if err != nil {
			t.Fatalf("%s: Parse = %v", tt.name, err)
		}
		as := mem.NewFakeSpace(0, 1<<47)
		if _, err := f.Load(as, tt.o); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Load = %v, want an error containing %q", tt.name, err, tt.want)
		}
		if n := len(as.Mapped()); n != 0 {
			t.Errorf("%s: refused Load mapped %d pages", tt.name, n)
		}
	}
}

// FuzzLoad feeds arbitrary files to Parse, Load and BuildStack: they must
// fail cleanly, never panic, and never map more than the limits allow.
//
// The fuzzer mutates the headers only: an input shorter than the synthetic
// executable replaces its first bytes (ELF header, program headers), and
// the segment data after it comes from the executable. Whole 12 KiB files
// made every input the fuzzer found interesting take its full minimization
// time (a minute each), for about three executions a second overall.
func FuzzLoad(f *testing.F) {
	body := exe().bytes()
	const headers = ehdrSize + 4*phdrSize
	f.Add(body[:headers])
	pie := exe()
	pie.typ = elf.ET_DYN
	f.Add(pie.bytes()[:headers])
	f.Add([]byte("\x7fELF"))
	f.Add(body)
	const maxMem = 1 << 20
	f.Fuzz(func(t *testing.T, in []byte) {
		b := in
		if len(in) < len(body) {
			b = append(append(make([]byte, 0, len(body)), in...), body[len(in):]...)
		}
		file, err := parseBytes(b)
		if err != nil {
			return
		}
		as := mem.NewFakeSpace(0, 1<<47)
		img, err := file.Load(as, Options{MaxMemory: maxMem})
		if err != nil {
			return
		}
		if n := len(as.Mapped()); n*pageSize > maxMem {
			t.Fatalf("Load mapped %d pages, more than the %d-byte limit", n, maxMem)
		}
		// Mapping the file's pages (MapFile) maps the same pages with
		// the same protections.
		mas := mem.NewFakeSpace(0, 1<<47)
		var calls []mapCall
		if _, err := file.Load(mas, Options{MaxMemory: maxMem, MapFile: fileMapper(mas, b, &calls)}); err != nil {
			t.Fatalf("Load with MapFile = %v, copying succeeds", err)
		}
		samePages(t, as, mas)
		if _, err := img.BuildStack(as, StackOptions{Top: 0x7fff_0000_0000, Size: 64 << 10, Guard: pageSize, Args: []string{"a"}}); err != nil {
			t.Fatalf("BuildStack after a successful Load = %v", err)
		}
	})
}

// samePages fails unless a and b map the same pages with the same
// protections.
func samePages(t *testing.T, a, b *mem.FakeSpace) {
	t.Helper()
	pa, pb := a.Mapped(), b.Mapped()
	if len(pa) != len(pb) {
		t.Fatalf("%d pages mapped by copying, %d by mapping the file", len(pa), len(pb))
	}
	for i, addr := range pa {
		protA, _ := a.ProtAt(addr)
		protB, _ := b.ProtAt(pb[i])
		if addr != pb[i] || protA != protB {
			t.Fatalf("page %#x (%v) copied differs from page %#x (%v) mapped", addr, protA, pb[i], protB)
		}
	}
}
