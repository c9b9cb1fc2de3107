package cpuidpage

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/cocoon-vm/cocoon/snp/ghcbmsr"
)

// sample is a small CPUID table in the shape QEMU builds for an EPYC guest.
var sample = Table{Functions: []Function{
	{EAXIn: 0x0, EAX: 0x10, EBX: 0x68747541, ECX: 0x444D4163, EDX: 0x69746E65},
	{EAXIn: 0x1, EAX: 0x00A00F11, EBX: 0x00010800, ECX: 0xFED83203, EDX: 0x178BFBFF},
	{EAXIn: 0x7, ECXIn: 0, EBX: 0x219C97A9},
	{EAXIn: 0x7, ECXIn: 1, EAX: 0x10},
	{EAXIn: 0xD, ECXIn: 0, XCR0In: 1, EAX: 0x7, EBX: 0x240, ECX: 0x340},
	{EAXIn: 0xD, ECXIn: 0, XCR0In: 7, EAX: 0x7, EBX: 0x340, ECX: 0x340},
	{EAXIn: 0xD, ECXIn: 1, XCR0In: 3, EAX: 0xF, EBX: 0x240},
	{EAXIn: 0xD, ECXIn: 2, EAX: 0x100, EBX: 0x240},
	{EAXIn: 0xD, ECXIn: 11, EAX: 0x10, ECX: 0x1},
	{EAXIn: 0xD, ECXIn: 12, EAX: 0x18, ECX: 0x3},
	{EAXIn: 0x8000_0000, EAX: 0x8000_0021},
	{EAXIn: 0x8000_001F, EAX: 0x0001_B09F, EBX: 0x0000_4173},
}}

func mustMarshal(t *testing.T, tab *Table) []byte {
	t.Helper()
	page, err := tab.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return page
}

func TestLayout(t *testing.T) {
	page := mustMarshal(t, &Table{Functions: []Function{{
		EAXIn: 0x11, ECXIn: 0x22, XCR0In: 0x33, XSSIn: 0x44, EAX: 0x55, EBX: 0x66, ECX: 0x77, EDX: 0x88,
	}}})
	if len(page) != PageSize || binary.LittleEndian.Uint32(page) != 1 {
		t.Fatalf("page length %d count %d", len(page), binary.LittleEndian.Uint32(page))
	}
	// SNP Firmware ABI, SNP_CPUID_FUNCTION: entries start at 0x10, 0x30 bytes each.
	for off, want := range map[int]uint64{0x10: 0x11, 0x14: 0x22, 0x18: 0x33, 0x20: 0x44, 0x28: 0x55, 0x2C: 0x66, 0x30: 0x77, 0x34: 0x88} {
		var got uint64
		if want == 0x33 || want == 0x44 {
			got = binary.LittleEndian.Uint64(page[off:])
		} else {
			got = uint64(binary.LittleEndian.Uint32(page[off:]))
		}
		if got != want {
			t.Errorf("page[%#x] = %#x, want %#x", off, got, want)
		}
	}
	if EntrySize*MaxEntries+HeaderSize > PageSize {
		t.Error("64 entries do not fit a page")
	}
}

func TestParseRoundTrip(t *testing.T) {
	tab, err := Parse(mustMarshal(t, &sample))
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Functions) != len(sample.Functions) {
		t.Fatalf("Parse: %d functions, want %d", len(tab.Functions), len(sample.Functions))
	}
	for i := range tab.Functions {
		if tab.Functions[i] != sample.Functions[i] {
			t.Errorf("function %d = %+v, want %+v", i, tab.Functions[i], sample.Functions[i])
		}
	}
}

func TestParseRejects(t *testing.T) {
	count := func(n uint32) []byte {
		p := mustMarshal(t, &sample)
		binary.LittleEndian.PutUint32(p, n)
		return p
	}
	dup := func(fs ...Function) []byte { return mustMarshal(t, &Table{Functions: fs}) }
	for _, tc := range []struct {
		name, errSub string
		page         []byte
	}{
		{"short", "shorter", make([]byte, 8)},
		{"empty", "no entries", count(0)},
		{"count 65", "above the maximum", count(65)},
		{"truncated", "bytes for", count(64)[:HeaderSize+EntrySize*10]},
		{"leaf 1 twice", "listed twice", dup(Function{EAXIn: 1}, Function{EAXIn: 1, ECXIn: 5})},
		{"leaf 7.0 twice", "listed twice", dup(Function{EAXIn: 7}, Function{EAXIn: 7, EBX: 1})},
	} {
		if _, err := Parse(tc.page); err == nil || !strings.Contains(err.Error(), tc.errSub) {
			t.Errorf("%s: Parse = %v, want error containing %q", tc.name, err, tc.errSub)
		}
	}
	full := make([]Function, MaxEntries)
	for i := range full {
		full[i] = Function{EAXIn: 0x8000_0000 + uint32(i)}
	}
	if _, err := Parse(mustMarshal(t, &Table{Functions: full})); err != nil {
		t.Errorf("Parse with 64 entries: %v", err)
	}
	if _, err := (&Table{Functions: make([]Function, 65)}).Marshal(); err == nil {
		t.Error("Marshal of 65 entries succeeded")
	}
}

func TestLookup(t *testing.T) {
	tab, err := Parse(mustMarshal(t, &sample))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		leaf, sub uint32
		want      Registers
	}{
		{0x0, 0, Registers{0x10, 0x68747541, 0x444D4163, 0x69746E65}},
		{0x1, 0x1234, Registers{0x00A00F11, 0x00010800, 0xFED83203, 0x178BFBFF}}, // subleaf ignored
		{0x7, 0, Registers{EBX: 0x219C97A9}},
		{0x7, 1, Registers{EAX: 0x10}},
		{0xD, 0, Registers{0x7, 0x240, 0x340, 0}}, // base XCR0=1 entry, not the XCR0=7 one
		{0xD, 1, Registers{EAX: 0xF, EBX: 0x240}},
		{0xD, 2, Registers{EAX: 0x100, EBX: 0x240}},
		{0x8000_001F, 0, Registers{EAX: 0x0001_B09F, EBX: 0x0000_4173}},
	} {
		got, err := tab.Lookup(tc.leaf, tc.sub)
		if err != nil || got != tc.want {
			t.Errorf("Lookup(%#x, %#x) = %+v, %v; want %+v", tc.leaf, tc.sub, got, err, tc.want)
		}
	}
	for _, tc := range []struct{ leaf, sub uint32 }{
		{0x7, 2},         // indexed, subleaf missing
		{0xB, 0},         // leaf missing
		{0x4000_0000, 0}, // hypervisor range: never answered by the host
		{0x8000_0001, 0},
	} {
		_, err := tab.Lookup(tc.leaf, tc.sub)
		var me *MissingError
		if !errors.As(err, &me) || me.Leaf != tc.leaf {
			t.Errorf("Lookup(%#x, %#x) = %v, want MissingError", tc.leaf, tc.sub, err)
			continue
		}
		if r := ghcbmsr.ReasonFor(err); r != (ghcbmsr.Reason{Set: ghcbmsr.ReasonSetCocoon, Code: ghcbmsr.ReasonCPUID}) {
			t.Errorf("ReasonFor(%v) = %v", err, r)
		}
	}
}

func TestXSAVESize(t *testing.T) {
	tab, err := Parse(mustMarshal(t, &sample))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		features  uint64
		compacted bool
		want      uint32
	}{
		{0x3, false, 0x240},
		{0x7, false, 0x340},                // AVX at 0x240 + 0x100
		{0x7, true, 0x340},                 // 0x240 + 0x100
		{0x7 | 1<<11, true, 0x350},         // + CET_U 0x10, no alignment
		{0x7 | 1<<11 | 1<<12, true, 0x398}, // CET_S aligned to 64: 0x350 -> 0x380, + 0x18
	} {
		got, err := tab.XSAVESize(tc.features, tc.compacted)
		if err != nil || got != tc.want {
			t.Errorf("XSAVESize(%#x, %v) = %#x, %v; want %#x", tc.features, tc.compacted, got, err, tc.want)
		}
	}
	if _, err := tab.XSAVESize(0x7|1<<9, false); err == nil {
		t.Error("XSAVESize with PKRU missing from the page succeeded")
	}
}

func FuzzParse(f *testing.F) {
	page, _ := sample.Marshal()
	f.Add(page[:HeaderSize+EntrySize*len(sample.Functions)], uint32(7), uint32(0))
	f.Fuzz(func(t *testing.T, page []byte, leaf, sub uint32) {
		tab, err := Parse(page)
		if err != nil {
			return
		}
		if len(tab.Functions) == 0 || len(tab.Functions) > MaxEntries {
			t.Fatalf("Parse accepted %d entries", len(tab.Functions))
		}
		_, _ = tab.Lookup(leaf, sub)
		_, _ = tab.XSAVESize(uint64(leaf)<<32|uint64(sub), sub&1 == 0)
		again, err := Parse(mustMarshalF(t, tab))
		if err != nil || len(again.Functions) != len(tab.Functions) {
			t.Fatalf("re-parse: %v", err)
		}
	})
}

func mustMarshalF(t *testing.T, tab *Table) []byte {
	page, err := tab.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return page
}
