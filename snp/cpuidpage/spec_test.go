package cpuidpage

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// The oracle for the page layout is the SEV-SNP Firmware ABI
// specification (AMD publication 56860), table "SNP_CPUID_FUNCTION" and
// the CPUID page that holds up to 64 of them after a 16-byte header
// (COUNT, then reserved) — written out here as the spec lists it, field by
// field, and used to build pages without the package's own offsets or
// Marshal.
type specField struct {
	name  string
	off   int // byte offset in the structure
	width int // bytes
}

var (
	specHeader = []specField{{"COUNT", 0x00, 4}, {"RESERVED", 0x04, 4}, {"RESERVED", 0x08, 8}}
	specEntry  = []specField{
		{"EAX_IN", 0x00, 4}, {"ECX_IN", 0x04, 4}, {"XCR0_IN", 0x08, 8}, {"XSS_IN", 0x10, 8},
		{"EAX", 0x18, 4}, {"EBX", 0x1C, 4}, {"ECX", 0x20, 4}, {"EDX", 0x24, 4},
		{"RESERVED", 0x28, 8},
	}
)

// specSize checks the fields follow one another with no gap and returns
// the structure's size.
func specSize(t *testing.T, fields []specField) int {
	t.Helper()
	end := 0
	for _, f := range fields {
		if f.off != end {
			t.Fatalf("spec table: %s at %#x, want %#x (after the previous field)", f.name, f.off, end)
		}
		end = f.off + f.width
	}
	return end
}

func put(b []byte, f specField, v uint64) {
	switch f.width {
	case 4:
		binary.LittleEndian.PutUint32(b[f.off:], uint32(v))
	case 8:
		binary.LittleEndian.PutUint64(b[f.off:], v)
	}
}

// specPage builds a CPUID page from the spec's tables: entries[i] maps a
// field name to its value.
func specPage(t *testing.T, entries []map[string]uint64) []byte {
	t.Helper()
	hdr, ent := specSize(t, specHeader), specSize(t, specEntry)
	page := make([]byte, PageSize)
	put(page, specHeader[0], uint64(len(entries)))
	for i, e := range entries {
		b := page[hdr+ent*i:]
		for _, f := range specEntry {
			put(b, f, e[f.name])
		}
	}
	return page
}

func TestSpecLayout(t *testing.T) {
	hdr, ent := specSize(t, specHeader), specSize(t, specEntry)
	if hdr != HeaderSize || ent != EntrySize || hdr+MaxEntries*ent > PageSize {
		t.Fatalf("header %d, entry %d bytes per the spec; the package has %d and %d", hdr, ent, HeaderSize, EntrySize)
	}
	// Every field a distinct value, the reserved ones too, at two
	// positions in the table.
	entries := []map[string]uint64{
		{"EAX_IN": 0xD, "ECX_IN": 1, "XCR0_IN": 0x0102030405060708, "XSS_IN": 0x1112131415161718,
			"EAX": 0x21222324, "EBX": 0x31323334, "ECX": 0x41424344, "EDX": 0x51525354, "RESERVED": 0x6162636465666768},
		{"EAX_IN": 0x8000_001F, "EAX": 0x0001_B09F, "EBX": 0x0000_4173, "ECX": 0x1FD, "EDX": 0x1},
	}
	page := specPage(t, entries)
	tab, err := Parse(page)
	if err != nil {
		t.Fatalf("Parse(page built from the spec) = %v", err)
	}
	if len(tab.Functions) != len(entries) {
		t.Fatalf("Parse: %d functions, the page's COUNT is %d", len(tab.Functions), len(entries))
	}
	for i, e := range entries {
		f := tab.Functions[i]
		got := map[string]uint64{"EAX_IN": uint64(f.EAXIn), "ECX_IN": uint64(f.ECXIn), "XCR0_IN": f.XCR0In, "XSS_IN": f.XSSIn,
			"EAX": uint64(f.EAX), "EBX": uint64(f.EBX), "ECX": uint64(f.ECX), "EDX": uint64(f.EDX)}
		for name, v := range got {
			if v != e[name] {
				t.Errorf("entry %d: %s = %#x, the spec's offset holds %#x", i, name, v, e[name])
			}
		}
	}
	// Marshal writes the same bytes, reserved fields zero.
	entries[0]["RESERVED"] = 0
	out, err := tab.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if want := specPage(t, entries); !bytes.Equal(out, want) {
		for i := range out {
			if out[i] != want[i] {
				t.Fatalf("Marshal differs from the spec's layout first at byte %#x: %#x, want %#x", i, out[i], want[i])
			}
		}
	}
}

// TestSpecCount checks COUNT bounds the entries read: the slots after it
// are not part of the table even when they hold data.
func TestSpecCount(t *testing.T) {
	entries := []map[string]uint64{{"EAX_IN": 0x1, "EAX": 0xA00F11}, {"EAX_IN": 0x7, "EBX": 0x219C97A9}, {"EAX_IN": 0x1, "EAX": 0xBAD}}
	page := specPage(t, entries)
	put(page, specHeader[0], 2) // the third slot, a duplicate leaf 1, lies past COUNT
	tab, err := Parse(page)
	if err != nil || len(tab.Functions) != 2 {
		t.Fatalf("Parse with COUNT 2 = %v, %v; want two functions", tab, err)
	}
	if r, err := tab.Lookup(0x1, 0); err != nil || r.EAX != 0xA00F11 {
		t.Errorf("Lookup(1) = %+v, %v; want the entry within COUNT", r, err)
	}
}
