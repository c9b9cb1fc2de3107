package measure

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// The kernel-hashes table QEMU writes into guest memory for measured direct
// boot and OVMF checks before it runs the kernel (QEMU target/i386/sev.c,
// SevHashTable, SevHashTableEntry and PaddedSevHashTable; edk2
// OvmfPkg/Library/BlobVerifierLib/BlobVerifierSevHashes.c, HASH_TABLE and
// SEV_HASH_TABLE_ENTRY). All fields are packed:
//
//	table:  GUID (16) | UINT16 length of the table, unpadded | 3 entries
//	entry:  GUID (16) | UINT16 length of the entry | SHA-256 (32)
//
// The entries come in the order command line, initrd, kernel, and QEMU pads
// the table with zeros to a multiple of 16 bytes.
const (
	hashEntryGUID   = 0
	hashEntryLength = 16
	hashEntryHash   = 18
	hashEntrySize   = hashEntryHash + sha256.Size // 50

	hashTableGUID    = 0
	hashTableLength  = 16
	hashTableEntries = 18
	hashTableSize    = hashTableEntries + 3*hashEntrySize // 168

	// HashTableSize is the size of the padded table QEMU writes.
	HashTableSize = (hashTableSize + 15) &^ 15 // 176
)

// GUIDs of the kernel-hashes table (BlobVerifierSevHashes.c and QEMU
// target/i386/sev.c).
var (
	hashTableHeaderGUID = mustGUID("9438d606-4f22-4cc9-b479-a793d411fd21")
	cmdlineEntryGUID    = mustGUID("97d02dd8-bd20-4c94-aa78-e7714d36ab2a")
	initrdEntryGUID     = mustGUID("44baf731-3a2f-4bd7-9af1-41e29169781d")
	kernelEntryGUID     = mustGUID("4de79437-abd2-427f-b835-d5b172d2045b")
)

// KernelHashes are the SHA-256 digests QEMU puts in the kernel-hashes table
// when it is given -kernel: of the kernel file, of the initrd file (of
// nothing without -initrd), and of the -append string with its terminating
// NUL (a lone NUL without -append).
type KernelHashes struct {
	Cmdline [sha256.Size]byte
	Initrd  [sha256.Size]byte
	Kernel  [sha256.Size]byte
}

// NewKernelHashes hashes an in-memory kernel, initrd and command line.
func NewKernelHashes(kernel, initrd []byte, cmdline string) *KernelHashes {
	return &KernelHashes{
		Cmdline: cmdlineHash(cmdline),
		Initrd:  sha256.Sum256(initrd),
		Kernel:  sha256.Sum256(kernel),
	}
}

// HashKernelFiles hashes the files QEMU is given with -kernel and -initrd
// (initrd may be empty for none) and the -append command line. The files
// are streamed, not loaded whole.
func HashKernelFiles(kernel, initrd, cmdline string) (*KernelHashes, error) {
	h := &KernelHashes{Cmdline: cmdlineHash(cmdline)}
	var err error
	if h.Kernel, err = hashFile(kernel); err != nil {
		return nil, fmt.Errorf("hashing kernel: %w", err)
	}
	if initrd == "" {
		h.Initrd = sha256.Sum256(nil)
	} else if h.Initrd, err = hashFile(initrd); err != nil {
		return nil, fmt.Errorf("hashing initrd: %w", err)
	}
	return h, nil
}

func cmdlineHash(cmdline string) [sha256.Size]byte {
	return sha256.Sum256(append([]byte(cmdline), 0))
}

func hashFile(path string) (sum [sha256.Size]byte, err error) {
	f, err := os.Open(path)
	if err != nil {
		return sum, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return sum, err
	}
	h.Sum(sum[:0])
	return sum, nil
}

// Table returns the padded kernel-hashes table, byte for byte as QEMU
// writes it.
func (h *KernelHashes) Table() []byte {
	t := make([]byte, HashTableSize)
	copy(t[hashTableGUID:], hashTableHeaderGUID[:])
	binary.LittleEndian.PutUint16(t[hashTableLength:], hashTableSize)
	entries := []struct {
		guid GUID
		hash *[sha256.Size]byte
	}{
		{cmdlineEntryGUID, &h.Cmdline},
		{initrdEntryGUID, &h.Initrd},
		{kernelEntryGUID, &h.Kernel},
	}
	for i, e := range entries {
		b := t[hashTableEntries+i*hashEntrySize:]
		copy(b[hashEntryGUID:], e.guid[:])
		binary.LittleEndian.PutUint16(b[hashEntryLength:], hashEntrySize)
		copy(b[hashEntryHash:], e.hash[:])
	}
	return t
}

// sectionHead returns the leading pages QEMU gives the SNP_KERNEL_HASHES
// section, up to the last one the table touches: zeros, with the table at
// the hash table's offset within the section's first page (QEMU
// target/i386/sev.c, snp_launch_update_kernel_hashes). The rest of the
// section is zero-filled NORMAL pages.
func (h *KernelHashes) sectionHead(fw *Firmware, section MetadataSection) ([]byte, error) {
	if fw.HashTable == nil {
		return nil, fmt.Errorf("firmware has an SNP_KERNEL_HASHES section but no SEV hash table entry (GUID %v) in its footer table",
			SEVHashTableGUID)
	}
	if fw.HashTable.GPA == 0 || fw.HashTable.Size < HashTableSize {
		return nil, fmt.Errorf("firmware's SEV hash table area (GPA %#x, %d bytes) cannot hold the %d-byte table",
			fw.HashTable.GPA, fw.HashTable.Size, HashTableSize)
	}
	offset := fw.HashTable.GPA % PageSize
	end := uint64(offset) + HashTableSize
	if end > uint64(section.Size) {
		return nil, fmt.Errorf("kernel-hashes table at page offset %#x does not fit the %#x-byte SNP_KERNEL_HASHES section",
			offset, section.Size)
	}
	head := make([]byte, (end+PageSize-1)/PageSize*PageSize)
	copy(head[offset:], h.Table())
	return head, nil
}
