package efiimage

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	diskfs "github.com/diskfs/go-diskfs"
	"github.com/diskfs/go-diskfs/filesystem"
	"github.com/diskfs/go-diskfs/partition/gpt"
)

func TestWriteDisk(t *testing.T) {
	_, epochSet := os.LookupEnv(sourceDate)
	efi, err := Build(defaultKernel(), Options{Initrd: bytes.Repeat([]byte{1, 2, 3}, 100000)})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "a.img")
	if err := WriteDisk(path, efi); err != nil {
		t.Fatalf("WriteDisk: %v", err)
	}
	got, err := ReadDisk(path)
	if err != nil {
		t.Fatalf("ReadDisk: %v", err)
	}
	if !bytes.Equal(got, efi) {
		t.Errorf("ReadDisk = %d bytes, want the %d-byte application", len(got), len(efi))
	}

	// Read the layout back with the library.
	d, err := diskfs.Open(path, diskfs.WithOpenMode(diskfs.ReadOnly))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	pt, err := d.GetPartitionTable()
	if err != nil {
		t.Fatal(err)
	}
	table, ok := pt.(*gpt.Table)
	if !ok || len(table.Partitions) != 1 || !table.ProtectiveMBR {
		t.Fatalf("partition table %+v, want a GPT with one partition and a protective MBR", pt)
	}
	p := table.Partitions[0]
	if p.Type != gpt.EFISystemPartition || p.Start != espStart || (p.End-p.Start+1)*sectorSize < minESP {
		t.Errorf("partition %+v, want an EFI system partition of at least %d MiB from sector %d", p, minESP>>20, espStart)
	}
	fs, err := d.GetFilesystem(1)
	if err != nil {
		t.Fatal(err)
	}
	if fs.Type() != filesystem.TypeFat32 || fs.Label() != espLabel {
		t.Errorf("ESP file system %v labelled %q, want FAT32 %q", fs.Type(), fs.Label(), espLabel)
	}
	head := make([]byte, 1024)
	f, _ := os.Open(path)
	f.Read(head)
	f.Close()
	if !IsDisk(head) {
		t.Error("IsDisk(disk image) = false")
	}
	if IsDisk(efi) {
		t.Error("IsDisk(EFI application) = true")
	}

	// The same input gives the same disk.
	path2 := filepath.Join(dir, "b.img")
	if err := WriteDisk(path2, efi); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(path)
	b, _ := os.ReadFile(path2)
	if !bytes.Equal(a, b) {
		t.Error("two disk images of the same application differ")
	}
	if _, ok := os.LookupEnv(sourceDate); ok && !epochSet {
		t.Errorf("WriteDisk left %s set", sourceDate)
	}
}

func TestReadDiskErrors(t *testing.T) {
	dir := t.TempDir()
	blank := filepath.Join(dir, "blank.img")
	if err := os.WriteFile(blank, make([]byte, 4<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadDisk(blank); err == nil {
		t.Error("ReadDisk(blank disk) succeeded")
	}
	if err := WriteDisk(filepath.Join(dir, "empty.img"), nil); err == nil {
		t.Error("WriteDisk(nothing) succeeded")
	}
}
