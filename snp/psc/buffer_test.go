package psc

import (
	"encoding/binary"
	"strings"
	"testing"
)

func TestEntryEncoding(t *testing.T) {
	// Bit layout from GHCB spec section 4.1.6, "Page State Change Entry".
	for _, tc := range []struct {
		e    Entry
		want uint64
	}{
		{Entry{GFN: 0x12345, Op: OpPrivate, Size: Size4K}, 0x0010_0000_1234_5000},
		{Entry{GFN: 0xFF_FFFF_FFFF, Op: OpShared, Size: Size4K}, 0x002F_FFFF_FFFF_F000},
		{Entry{CurPage: 0x1FF, GFN: 0x200, Op: OpShared, Size: Size2M}, 0x0120_0000_0020_01FF},
		{Entry{GFN: 0x400, Op: OpPSMASH, Size: Size2M}, 0x0130_0000_0040_0000},
		{Entry{GFN: 0x400, Op: OpUNSMASH, Size: Size2M}, 0x0140_0000_0040_0000},
	} {
		got, err := tc.e.encode()
		if err != nil || got != tc.want {
			t.Errorf("encode(%+v) = %#016x, %v; want %#016x", tc.e, got, err, tc.want)
		}
		back, err := decodeEntry(got)
		if err != nil || back != tc.e {
			t.Errorf("decodeEntry(%#x) = %+v, %v; want %+v", got, back, err, tc.e)
		}
	}
	for _, bad := range []Entry{
		{CurPage: 4096, Op: OpPrivate},
		{GFN: 1 << 40, Op: OpPrivate},
		{Op: 0},
		{Op: 5},
		{Op: OpPrivate, Size: 2},
	} {
		if _, err := bad.encode(); err == nil {
			t.Errorf("encode(%+v) succeeded", bad)
		}
	}
	if _, err := decodeEntry(1 << 57); err == nil {
		t.Error("decodeEntry accepted reserved bit 57")
	}
}

func TestBufferRoundTrip(t *testing.T) {
	entries := make([]Entry, MaxEntries)
	for i := range entries {
		entries[i] = Entry{GFN: uint64(0x1000 + i), Op: OpShared}
	}
	b, err := NewBuffer(entries)
	if err != nil {
		t.Fatal(err)
	}
	if MaxEntries != 253 || b.Size() != 2032 {
		t.Fatalf("MaxEntries = %d, Size = %d; want 253, 2032", MaxEntries, b.Size())
	}
	raw := make([]byte, b.Size())
	if err := b.Marshal(raw); err != nil {
		t.Fatal(err)
	}
	if cur, end := binary.LittleEndian.Uint16(raw[0:]), binary.LittleEndian.Uint16(raw[2:]); cur != 0 || end != 252 {
		t.Errorf("header = cur %d end %d", cur, end)
	}
	back, err := Unmarshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	if back.Header != b.Header || len(back.Entries) != len(b.Entries) || back.Entries[252] != b.Entries[252] {
		t.Errorf("Unmarshal(Marshal(b)) = %+v", back.Header)
	}
	if _, err := NewBuffer(nil); err == nil {
		t.Error("NewBuffer(nil) succeeded")
	}
	if _, err := NewBuffer(make([]Entry, MaxEntries+1)); err == nil {
		t.Error("NewBuffer with 254 entries succeeded")
	}
	if err := b.Marshal(raw[:100]); err == nil {
		t.Error("Marshal into a short buffer succeeded")
	}
}

func TestUnmarshalBounds(t *testing.T) {
	hdr := func(cur, end uint16, n int) []byte {
		b := make([]byte, HeaderSize+EntrySize*n)
		binary.LittleEndian.PutUint16(b[0:], cur)
		binary.LittleEndian.PutUint16(b[2:], end)
		for i := 0; i < n; i++ {
			binary.LittleEndian.PutUint64(b[HeaderSize+EntrySize*i:], 0x0010_0000_0000_0000)
		}
		return b
	}
	for _, tc := range []struct {
		name string
		raw  []byte
		ok   bool
	}{
		{"short", []byte{1, 2, 3}, false},
		{"one entry", hdr(0, 0, 1), true},
		{"done", hdr(1, 0, 1), true},
		{"cur past end+1", hdr(2, 0, 1), false},
		{"end past max", hdr(0, MaxEntries, MaxEntries+1), false},
		{"truncated entries", hdr(0, 3, 2), false},
	} {
		_, err := Unmarshal(tc.raw)
		if (err == nil) != tc.ok {
			t.Errorf("%s: Unmarshal = %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}

func TestCheck(t *testing.T) {
	base := func() *Buffer {
		b, _ := NewBuffer([]Entry{
			{GFN: 10, Op: OpPrivate},
			{GFN: 0x200, Op: OpPrivate, Size: Size2M},
			{GFN: 12, Op: OpPrivate},
		})
		return b
	}
	for _, tc := range []struct {
		name     string
		mutate   func(*Buffer)
		progress bool
		errSub   string
	}{
		{"untouched", func(*Buffer) {}, false, ""},
		{"one entry", func(b *Buffer) { b.Header.CurEntry = 1 }, true, ""},
		{"all", func(b *Buffer) { b.Header.CurEntry = 3 }, true, ""},
		{"partial 2M", func(b *Buffer) { b.Header.CurEntry = 1; b.Entries[1].CurPage = 100 }, true, ""},
		{"past end", func(b *Buffer) { b.Header.CurEntry = 4 }, false, "beyond end_entry"},
		{"end changed", func(b *Buffer) { b.Header.EndEntry = 1; b.Entries = b.Entries[:2] }, false, "end_entry changed"},
		{"gfn changed", func(b *Buffer) { b.Entries[2].GFN = 99 }, false, "entry 2 changed"},
		{"op changed", func(b *Buffer) { b.Header.CurEntry = 3; b.Entries[0].Op = OpShared }, false, "entry 0 changed"},
		{"size changed", func(b *Buffer) { b.Entries[0].Size = Size2M }, false, "entry 0 changed"},
		{"cur_page past 2M", func(b *Buffer) { b.Header.CurEntry = 1; b.Entries[1].CurPage = 513 }, false, "cur_page"},
		{"future cur_page", func(b *Buffer) { b.Entries[2].CurPage = 1 }, false, "not yet reached"},
	} {
		sent, got := base(), base()
		tc.mutate(got)
		progress, err := Check(sent, got)
		if tc.errSub == "" && err != nil || tc.errSub != "" && (err == nil || !strings.Contains(err.Error(), tc.errSub)) {
			t.Errorf("%s: Check = %v, want error containing %q", tc.name, err, tc.errSub)
		}
		if err == nil && progress != tc.progress {
			t.Errorf("%s: progress = %v, want %v", tc.name, progress, tc.progress)
		}
	}
	// cur_entry may not move backwards.
	sent, got := base(), base()
	sent.Header.CurEntry = 2
	if _, err := Check(sent, got); err == nil || !strings.Contains(err.Error(), "moved back") {
		t.Errorf("Check with cur_entry moving back = %v", err)
	}
	// cur_page of the entry in progress may not move backwards.
	sent, got = base(), base()
	sent.Header.CurEntry, got.Header.CurEntry = 1, 1
	sent.Entries[1].CurPage = 50
	got.Entries[1].CurPage = 49
	if _, err := Check(sent, got); err == nil {
		t.Error("Check accepted cur_page moving back")
	}
}

func FuzzUnmarshal(f *testing.F) {
	b, _ := NewBuffer([]Entry{{GFN: 1, Op: OpPrivate}, {GFN: 0x200, Op: OpShared, Size: Size2M}})
	raw := make([]byte, b.Size())
	_ = b.Marshal(raw)
	f.Add(raw)
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, err := Unmarshal(raw)
		if err != nil {
			return
		}
		if int(got.Header.CurEntry) > len(got.Entries) || len(got.Entries) > MaxEntries {
			t.Fatalf("Unmarshal accepted header %+v with %d entries", got.Header, len(got.Entries))
		}
		_, _ = Check(b, got)
		_, _ = Check(got, got)
	})
}
