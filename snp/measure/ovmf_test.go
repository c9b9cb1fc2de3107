package measure

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestParseGUID(t *testing.T) {
	const s = "96b582de-1fb2-45f7-baea-a366c55a082d"
	g, err := ParseGUID(s)
	if err != nil {
		t.Fatal(err)
	}
	// EFI_GUID byte order: Data1..Data3 little-endian.
	want := []byte{0xde, 0x82, 0xb5, 0x96, 0xb2, 0x1f, 0xf7, 0x45, 0xba, 0xea, 0xa3, 0x66, 0xc5, 0x5a, 0x08, 0x2d}
	if !bytes.Equal(g[:], want) {
		t.Errorf("ParseGUID(%q) = % x, want % x", s, g[:], want)
	}
	if got := g.String(); got != s {
		t.Errorf("ParseGUID(%q).String() = %q", s, got)
	}
	for _, bad := range []string{"", "96b582de1fb245f7baeaa366c55a082d", "96b582de-1fb2-45f7-baea-a366c55a082x"} {
		if _, err := ParseGUID(bad); err == nil {
			t.Errorf("ParseGUID(%q) succeeded, want an error", bad)
		}
	}
}

func TestParseOVMF(t *testing.T) {
	fw, err := ParseOVMF(syntheticAmdSev(2 * PageSize))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fw.GPA(), uint64(0xffffe000); got != want {
		t.Errorf("GPA() = %#x, want %#x", got, want)
	}
	if !fw.HasAPReset || fw.APResetAddress != 0x80b004 {
		t.Errorf("AP reset = %#x (present %v), want 0x80b004", fw.APResetAddress, fw.HasAPReset)
	}
	if fw.HashTable == nil || *fw.HashTable != (Region{0x810c00, 0x400}) {
		t.Errorf("HashTable = %+v, want {0x810c00 0x400}", fw.HashTable)
	}
	if !slices.Equal(fw.Sections, amdSevSections) {
		t.Errorf("Sections = %+v, want %+v", fw.Sections, amdSevSections)
	}
	if len(fw.Entries) != 4 || fw.Entries[0].GUID != SEVMetadataOffsetGUID {
		t.Errorf("Entries = %+v, want the metadata offset first, then 3 more", fw.Entries)
	}
	if !fw.HasSection(SectionSNPKernelHashes) || fw.HasSection(SectionType(0x99)) {
		t.Error("HasSection is wrong")
	}
}

func TestParseOVMFNoMetadata(t *testing.T) {
	fw, err := ParseOVMF(buildOVMF(PageSize, amdSevEntries, nil))
	if err != nil {
		t.Fatal(err)
	}
	if fw.Sections != nil {
		t.Errorf("Sections = %+v, want nil", fw.Sections)
	}
	_, err = Measure(fw, Options{VCPUs: 1, VCPUSignature: 0x800f12, GuestFeatures: 1})
	if err == nil || !strings.Contains(err.Error(), "no SEV metadata") {
		t.Errorf("Measure(no metadata) error = %v, want one about SEV metadata", err)
	}
}

func TestParseOVMFErrors(t *testing.T) {
	valid := syntheticAmdSev(PageSize)
	metaAt := 0 // the metadata sits at the start of the last page
	corrupt := func(f func(b []byte)) []byte {
		b := bytes.Clone(valid)
		f(b)
		return b
	}
	footer := len(valid) - footerEndOffset - entryHeaderSize
	tests := []struct {
		name    string
		image   []byte
		notOVMF bool
		want    string
	}{
		{"empty", nil, true, "size"},
		{"odd size", make([]byte, 100), true, "size"},
		{"zeros", make([]byte, PageSize), true, "footer"},
		{"footer length too small", corrupt(func(b []byte) { binary.LittleEndian.PutUint16(b[footer:], 3) }), true, "length"},
		{"footer length too big", corrupt(func(b []byte) { binary.LittleEndian.PutUint16(b[footer:], 0xffff) }), true, "length"},
		{"entry length zero", corrupt(func(b []byte) { binary.LittleEndian.PutUint16(b[footer-entryHeaderSize:], 0) }), false, "length"},
		{"bad signature", corrupt(func(b []byte) { b[metaAt] = 'X' }), false, "ASEV"},
		{"bad version", corrupt(func(b []byte) { b[metaAt+metadataVersion] = 2 }), false, "version"},
		{"too many sections", corrupt(func(b []byte) {
			binary.LittleEndian.PutUint32(b[metaAt+metadataNumSections:], 0xffffffff)
		}), false, "sections"},
		{"length beyond image", corrupt(func(b []byte) {
			binary.LittleEndian.PutUint32(b[metaAt+metadataLength:], 0x10000)
		}), false, "sections"},
		{"unaligned section", corrupt(func(b []byte) {
			binary.LittleEndian.PutUint32(b[metaAt+metadataHeaderSize+sectionBase:], 0x800010)
		}), false, "whole number of pages"},
		{"section past 4 GiB", corrupt(func(b []byte) {
			binary.LittleEndian.PutUint32(b[metaAt+metadataHeaderSize+sectionBase:], 0xfffff000)
			binary.LittleEndian.PutUint32(b[metaAt+metadataHeaderSize+sectionSize:], 0x2000)
		}), false, "below 4 GiB"},
		{"metadata offset outside image", buildOVMF(PageSize, []testEntry{{SEVMetadataOffsetGUID, le32(0x2000)}}, nil), false, "outside"},
		{"short reset block", buildOVMF(PageSize, []testEntry{{SEVESResetBlockGUID, []byte{1, 2}}}, nil), false, "reset block"},
		{"short hash table entry", buildOVMF(PageSize, []testEntry{{SEVHashTableGUID, le32(1)}}, nil), false, "hash table"},
	}
	for _, tt := range tests {
		_, err := ParseOVMF(tt.image)
		if err == nil {
			t.Errorf("%s: ParseOVMF succeeded, want an error", tt.name)
			continue
		}
		if errors.Is(err, ErrNotOVMF) != tt.notOVMF || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: ParseOVMF error = %q, want one mentioning %q (ErrNotOVMF: %v)", tt.name, err, tt.want, tt.notOVMF)
		}
	}
}

func TestReadOVMFNotOVMF(t *testing.T) {
	path := t.TempDir() + "/kernel"
	if err := os.WriteFile(path, bytes.Repeat([]byte{0x90}, 3*PageSize), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ReadOVMF(path)
	if !errors.Is(err, ErrNotOVMF) || !strings.Contains(err.Error(), path) {
		t.Errorf("ReadOVMF(non-OVMF) error = %v, want ErrNotOVMF naming the file", err)
	}
}
