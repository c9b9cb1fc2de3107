package efiimage

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	diskfs "github.com/diskfs/go-diskfs"
	"github.com/diskfs/go-diskfs/disk"
	"github.com/diskfs/go-diskfs/filesystem"
	"github.com/diskfs/go-diskfs/partition/gpt"
)

// BootPath is where UEFI firmware looks for the boot loader of a
// removable disk on x86-64 (UEFI 2.10, 3.5.1.1 "Removable Media Boot
// Behavior").
const BootPath = "/EFI/BOOT/BOOTX64.EFI"

// Disk layout: a GPT disk (UEFI 2.10, 5.3) of 512-byte sectors with one
// partition, the EFI system partition, formatted FAT32 (5.3.3 and 13.3.1.1:
// the firmware must understand FAT32 on fixed media).
const (
	sectorSize = 512
	// espStart is the ESP's first sector: 1 MiB, the usual alignment.
	espStart = 2048
	// minESP is the smallest ESP: FAT32 needs at least 65525 clusters,
	// 32 MiB with the 512-byte clusters small volumes get.
	minESP = 64 << 20
	// gptTail is the backup partition array and header at the end of the
	// disk (33 sectors), rounded up.
	gptTail = 1 << 20
)

// Fixed identifiers so that the same input gives the same disk. GUIDs in
// the GPT are otherwise random (UEFI 2.10, 5.3.2); a disk is told apart by
// its contents' hash instead.
const (
	diskGUID   = "c0c0a000-0000-4000-8000-000000000001"
	espGUID    = "c0c0a000-0000-4000-8000-000000000002"
	espLabel   = "COCOON"
	sourceDate = "SOURCE_DATE_EPOCH"
	// fixedDate is the FAT timestamp of every file (1980-01-01, the FAT
	// epoch) unless SOURCE_DATE_EPOCH says otherwise.
	fixedDate = 315532800
)

// WriteDisk writes a raw GPT disk image to path whose EFI system partition
// holds efi, a self-contained image from Build, as BootPath.
//
// go-diskfs stamps FAT entries with the time SOURCE_DATE_EPOCH names, or
// the current time: WriteDisk sets that variable for the duration of the
// call when it is unset, so concurrent callers in one process must not
// rely on the variable meanwhile.
func WriteDisk(path string, efi []byte) error { return WriteDiskSize(path, efi, 0) }

// WriteDiskSize is WriteDisk with a disk of at least size bytes (the
// space past the EFI system partition unpartitioned), for platforms that
// want a given size, such as Compute Engine's whole GiB.
func WriteDiskSize(path string, efi []byte, size int64) error {
	if len(efi) == 0 {
		return errors.New("efiimage: empty EFI application")
	}
	espSize := int64(minESP)
	for espSize < int64(len(efi))*2+(16<<20) {
		espSize *= 2
	}
	diskSize := max(espStart*sectorSize+espSize+gptTail, size)
	if diskSize%sectorSize != 0 {
		return fmt.Errorf("efiimage: disk size %d is not a whole number of %d-byte sectors", diskSize, sectorSize)
	}

	if _, ok := os.LookupEnv(sourceDate); !ok {
		os.Setenv(sourceDate, strconv.Itoa(fixedDate))
		defer os.Unsetenv(sourceDate)
	}

	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	d, err := diskfs.Create(path, diskSize, diskfs.SectorSize512)
	if err != nil {
		return fmt.Errorf("efiimage: create %s: %v", path, err)
	}
	defer d.Close()
	table := &gpt.Table{
		LogicalSectorSize:  sectorSize,
		PhysicalSectorSize: sectorSize,
		ProtectiveMBR:      true,
		GUID:               diskGUID,
		Partitions: []*gpt.Partition{{
			Index: 1,
			Start: espStart,
			End:   espStart + uint64(espSize/sectorSize) - 1,
			Type:  gpt.EFISystemPartition,
			Name:  "EFI system partition",
			GUID:  espGUID,
		}},
	}
	if err := d.Partition(table); err != nil {
		return fmt.Errorf("efiimage: partition %s: %v", path, err)
	}
	fs, err := d.CreateFilesystem(disk.FilesystemSpec{
		Partition:    1,
		FSType:       filesystem.TypeFat32,
		VolumeLabel:  espLabel,
		Reproducible: true,
	})
	if err != nil {
		return fmt.Errorf("efiimage: format the ESP of %s: %v", path, err)
	}
	if err := fs.Mkdir("/EFI/BOOT"); err != nil {
		return fmt.Errorf("efiimage: %s: %v", path, err)
	}
	f, err := fs.OpenFile(BootPath, os.O_CREATE|os.O_RDWR)
	if err != nil {
		return fmt.Errorf("efiimage: %s: %v", path, err)
	}
	if _, err := f.Write(efi); err != nil {
		return fmt.Errorf("efiimage: write %s into %s: %v", BootPath, path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("efiimage: %s: %v", path, err)
	}
	return fs.Close()
}

// ReadDisk returns the file BootPath from the EFI system partition of the
// GPT disk image at path.
func ReadDisk(path string) ([]byte, error) {
	d, err := diskfs.Open(path, diskfs.WithOpenMode(diskfs.ReadOnly))
	if err != nil {
		return nil, fmt.Errorf("efiimage: open %s: %v", path, err)
	}
	defer d.Close()
	pt, err := d.GetPartitionTable()
	if err != nil {
		return nil, fmt.Errorf("efiimage: %s: %v", path, err)
	}
	t, ok := pt.(*gpt.Table)
	if !ok {
		return nil, fmt.Errorf("efiimage: %s has no GPT", path)
	}
	for i, p := range t.Partitions {
		if p.Type != gpt.EFISystemPartition {
			continue
		}
		fs, err := d.GetFilesystem(i + 1)
		if err != nil {
			return nil, fmt.Errorf("efiimage: %s: EFI system partition: %v", path, err)
		}
		f, err := fs.OpenFile(BootPath, os.O_RDONLY)
		if err != nil {
			return nil, fmt.Errorf("efiimage: %s: %s: %v", path, BootPath, err)
		}
		defer f.Close()
		return io.ReadAll(f)
	}
	return nil, fmt.Errorf("efiimage: %s has no EFI system partition", path)
}
