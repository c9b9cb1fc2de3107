package loader

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"testing"

	"github.com/cocoon-vm/cocoon/north/mem"
)

// mapCall is one call of Options.MapFile.
type mapCall struct {
	addr, length uint64
	prot         mem.Prot
	off, zero    uint64
}

// fileMapper is an Options.MapFile over a FakeSpace that does what a
// private file mapping shows: the file's whole pages (bytes past a
// segment's end included), zeros from zeroFrom to the end of its page.
func fileMapper(as *mem.FakeSpace, file []byte, calls *[]mapCall) func(addr, length uint64, prot mem.Prot, off, zeroFrom uint64) error {
	return func(addr, length uint64, prot mem.Prot, off, zeroFrom uint64) error {
		*calls = append(*calls, mapCall{addr, length, prot, off, zeroFrom})
		if addr%pageSize != 0 || length%pageSize != 0 || off%pageSize != 0 {
			return fmt.Errorf("unaligned mapping %#x+%#x from %#x", addr, length, off)
		}
		if _, err := as.Map(addr, length, prot, true); err != nil {
			return err
		}
		page := make([]byte, length)
		copy(page, file[min(off, uint64(len(file))):])
		if zeroFrom > addr && zeroFrom < addr+length {
			clear(page[zeroFrom-addr : pageUp(zeroFrom)-addr])
		}
		return as.Load(addr, page)
	}
}

// TestLoadMapFile checks that Load with MapFile maps each segment's file
// pages (offset and address page aligned, the protection of its flags),
// asks for the tail of a segment's last file page to be zeroed only when
// a bss follows, and maps the rest of the bss as zeroed memory: the
// memory a private file mapping shows, as on Linux (a segment without
// bss shows the file's next bytes in its last page).
func TestLoadMapFile(t *testing.T) {
	b := exe().bytes()
	f, err := parseBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	as := mem.NewFakeSpace(0, 1<<47)
	var calls []mapCall
	img, err := f.Load(as, Options{MapFile: fileMapper(as, b, &calls)})
	if err != nil {
		t.Fatalf("Load = %v", err)
	}
	if img.Entry != 0x401000 || img.Brk != 0x408000 || img.End != 0x407100 {
		t.Errorf("Load = %+v, want entry 0x401000, end 0x407100, brk 0x408000", img)
	}
	text, ro, data := f.Progs[0], f.Progs[1], f.Progs[2]
	want := []mapCall{
		{0x401000, 0x2000, mem.Read | mem.Exec, text.Off, 0x403000},
		{0x403000, 0x1000, mem.Read, ro.Off, 0x404000},
		{0x404000, 0x1000, mem.Read | mem.Write, data.Off - 0x100, 0x404100 + 0x123},
	}
	if fmt.Sprint(calls) != fmt.Sprint(want) {
		t.Errorf("MapFile calls = %#x, want %#x", calls, want)
	}
	filePages := func(off, n uint64) []byte {
		out := make([]byte, n)
		copy(out, b[min(off, uint64(len(b))):])
		return out
	}
	dataPage := filePages(data.Off-0x100, pageSize)
	clear(dataPage[0x100+0x123:])
	for _, c := range []struct {
		addr uint64
		want []byte
		prot mem.Prot
	}{
		{0x401000, filePages(text.Off, 0x2000), mem.Read | mem.Exec},
		{0x403000, filePages(ro.Off, pageSize), mem.Read},
		{0x404000, dataPage, mem.Read | mem.Write},
		{0x405000, make([]byte, 0x3000), mem.Read | mem.Write},
	} {
		got := make([]byte, len(c.want))
		if err := copyInAnyProt(as, c.addr, got); err != nil {
			t.Fatalf("reading %#x: %v", c.addr, err)
		}
		if !bytes.Equal(got, c.want) {
			t.Errorf("memory at %#x+%#x differs from the file's pages", c.addr, len(c.want))
		}
		for a := c.addr; a < c.addr+uint64(len(c.want)); a += pageSize {
			if p, _ := as.ProtAt(a); p != c.prot {
				t.Errorf("page %#x has %v, want %v", a, p, c.prot)
			}
		}
	}
	if n := len(as.Mapped()); n != 7 {
		t.Errorf("%d pages mapped, want 7", n)
	}
}

// TestLoadMapFileFallback checks that a MapFile that cannot map the file
// (ErrNoMapping) leaves Load to copy, and that any other failure fails
// the load.
func TestLoadMapFileFallback(t *testing.T) {
	s := exe()
	s.segs = append(s.segs, seg{typ: elf.PT_LOAD, flags: elf.PF_R | elf.PF_W, vaddr: 0x409000, memsz: 0x2000})
	b := s.bytes()
	f, err := parseBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	as := mem.NewFakeSpace(0, 1<<47)
	calls := 0
	img, err := f.Load(as, Options{MapFile: func(addr, length uint64, prot mem.Prot, off, zeroFrom uint64) error {
		calls++
		return ErrNoMapping
	}})
	if err != nil {
		t.Fatalf("Load with MapFile giving ErrNoMapping = %v, want a copied image", err)
	}
	if calls != 3 {
		t.Errorf("MapFile called %d times, want 3 (once per segment with file bytes)", calls)
	}
	checkImage(t, as, f, b, img)

	boom := errors.New("boom")
	_, err = f.Load(mem.NewFakeSpace(0, 1<<47), Options{MapFile: func(addr, length uint64, prot mem.Prot, off, zeroFrom uint64) error {
		return boom
	}})
	if !errors.Is(err, boom) {
		t.Errorf("Load with a failing MapFile = %v, want %v", err, boom)
	}
}

// TestLoadMapFileBSSOnly checks that a segment with a bss of its own
// pages gets them as zeroed memory after its file pages, and that the
// tail of its last file page is zero although the file goes on.
func TestLoadMapFileBSSOnly(t *testing.T) {
	s := exe()
	s.segs = []seg{
		{typ: elf.PT_LOAD, flags: elf.PF_R | elf.PF_W, vaddr: 0x401000, data: bytes.Repeat([]byte{0xda}, 0x1010), memsz: 0x3900},
		{typ: elf.PT_LOAD, flags: elf.PF_R, vaddr: 0x405010, data: bytes.Repeat([]byte{0x77}, 0x100)},
	}
	b := s.bytes()
	f, err := parseBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	as := mem.NewFakeSpace(0, 1<<47)
	var calls []mapCall
	img, err := f.Load(as, Options{MapFile: fileMapper(as, b, &calls)})
	if err != nil {
		t.Fatal(err)
	}
	checkImage(t, as, f, b, img)
	if len(calls) != 2 || calls[0].length != 0x2000 || calls[0].zero != 0x402010 {
		t.Errorf("MapFile calls = %#x, want the data segment's two file pages zeroed from 0x402010", calls)
	}
	if p, ok := as.ProtAt(0x404000); !ok || p != mem.Read|mem.Write {
		t.Errorf("bss page 0x404000: mapped %v with %v, want read-write", ok, p)
	}
}
