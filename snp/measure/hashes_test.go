package measure

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

func TestKernelHashesTable(t *testing.T) {
	kernel, initrd := []byte("kernel"), []byte("initrd")
	h := NewKernelHashes(kernel, initrd, "console=ttyS0")
	table := h.Table()
	if len(table) != 176 {
		t.Fatalf("len(Table()) = %d, want 176 (168 padded to 16)", len(table))
	}
	if g := GUID(table[0:16]); g != hashTableHeaderGUID {
		t.Errorf("table GUID = %v, want %v", g, hashTableHeaderGUID)
	}
	if n := binary.LittleEndian.Uint16(table[16:]); n != 168 {
		t.Errorf("table length = %d, want 168 (unpadded)", n)
	}
	cmdline := sha256.Sum256([]byte("console=ttyS0\x00"))
	wantEntries := []struct {
		guid GUID
		hash [32]byte
	}{
		{cmdlineEntryGUID, cmdline},
		{initrdEntryGUID, sha256.Sum256(initrd)},
		{kernelEntryGUID, sha256.Sum256(kernel)},
	}
	for i, w := range wantEntries {
		e := table[18+50*i : 18+50*(i+1)]
		if GUID(e[0:16]) != w.guid || binary.LittleEndian.Uint16(e[16:]) != 50 || !bytes.Equal(e[18:], w.hash[:]) {
			t.Errorf("entry %d = % x, want GUID %v, length 50, hash %x", i, e, w.guid, w.hash)
		}
	}
	if !bytes.Equal(table[168:], make([]byte, 8)) {
		t.Errorf("padding = % x, want zeros", table[168:])
	}
}

func TestKernelHashesEmpty(t *testing.T) {
	h := NewKernelHashes(nil, nil, "")
	if want := sha256.Sum256([]byte{0}); h.Cmdline != want {
		t.Errorf("empty command line hash = %x, want SHA-256 of a lone NUL %x", h.Cmdline, want)
	}
	if want := sha256.Sum256(nil); h.Kernel != want || h.Initrd != want {
		t.Errorf("empty kernel/initrd hashes = %x/%x, want %x", h.Kernel, h.Initrd, want)
	}
}

func TestHashKernelFiles(t *testing.T) {
	dir := t.TempDir()
	kernel := bytes.Repeat([]byte("bzImage"), 100000)
	initrd := bytes.Repeat([]byte("cpio"), 50000)
	kpath, ipath := filepath.Join(dir, "bzImage"), filepath.Join(dir, "initrd.cpio")
	if err := os.WriteFile(kpath, kernel, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ipath, initrd, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := HashKernelFiles(kpath, ipath, "quiet")
	if err != nil {
		t.Fatal(err)
	}
	if want := NewKernelHashes(kernel, initrd, "quiet"); *got != *want {
		t.Errorf("HashKernelFiles = %x, want %x", *got, *want)
	}
	got, err = HashKernelFiles(kpath, "", "quiet")
	if err != nil {
		t.Fatal(err)
	}
	if want := NewKernelHashes(kernel, nil, "quiet"); *got != *want {
		t.Errorf("HashKernelFiles without initrd = %x, want %x", *got, *want)
	}
	if _, err := HashKernelFiles(filepath.Join(dir, "missing"), "", ""); err == nil {
		t.Error("HashKernelFiles(missing kernel) succeeded, want an error")
	}
}

func TestKernelHashesSectionContents(t *testing.T) {
	fw, err := ParseOVMF(syntheticAmdSev(PageSize))
	if err != nil {
		t.Fatal(err)
	}
	h := NewKernelHashes(nil, nil, "")
	section := MetadataSection{0x810000, 0x1000, SectionSNPKernelHashes}
	page, err := h.sectionHead(fw, section)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]byte, PageSize)
	copy(want[0xc00:], h.Table())
	if !bytes.Equal(page, want) {
		t.Error("kernel-hashes page does not hold the table at offset 0xc00 of a zero page")
	}

	fw.HashTable = &Region{GPA: 0x810fc0, Size: 0x400}
	if _, err := h.sectionHead(fw, section); err == nil {
		t.Error("table crossing the end of the section accepted")
	}
	two := MetadataSection{0x810000, 0x3000, SectionSNPKernelHashes}
	head, err := h.sectionHead(fw, two)
	if err != nil {
		t.Fatal(err)
	}
	if len(head) != 2*PageSize || !bytes.Equal(head[0xfc0:0xfc0+HashTableSize], h.Table()) {
		t.Errorf("table straddling a page: head is %d bytes, want 2 pages holding the table at 0xfc0", len(head))
	}
	fw.HashTable = &Region{GPA: 0x810c00, Size: 0x10}
	if _, err := h.sectionHead(fw, section); err == nil {
		t.Error("hash table area smaller than the table accepted")
	}
	fw.HashTable = nil
	if _, err := h.sectionHead(fw, section); err == nil {
		t.Error("firmware without a hash table entry accepted")
	}
}
