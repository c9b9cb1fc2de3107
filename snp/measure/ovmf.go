package measure

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
)

// The GUIDed structure table at the end of an OVMF image
// (edk2 OvmfPkg/ResetVector/Ia16/ResetVectorVtf0.asm, "GUIDed structure
// table"; QEMU hw/i386/pc_sysfw_ovmf.c reads it the same way).
//
// The table ends footerEndOffset bytes before the end of the image, where
// the reset vector and the VTF signature live. Its last entry is the footer.
// Every entry is its data followed by an 18-byte header placed *after* the
// data: a 16-bit length (data plus header) and the entry's GUID. The table
// is therefore walked backwards from the footer, whose length covers the
// whole table including itself.
const (
	footerEndOffset   = 0x20 // table end, counted back from the image end
	entryHeaderSize   = 18   // UINT16 length + EFI_GUID
	entryHeaderLength = 0    // offset of the 16-bit length within the header
	entryHeaderGUID   = 2    // offset of the GUID within the header
)

// GUIDs of the footer table entries this package reads.
var (
	// FooterGUID marks the end of the table: with the image ending at
	// 4 GiB it sits at 0xffffffd0, the table length at 0xffffffce
	// (ResetVectorVtf0.asm, comment above "guidedStructureStart").
	FooterGUID = mustGUID("96b582de-1fb2-45f7-baea-a366c55a082d")
	// SEVESResetBlockGUID: UINT32 reset address of the SEV-ES application
	// processors, CS base in bits 31:16 and IP in bits 15:0
	// (ResetVectorVtf0.asm, "SEV-ES Processor Reset support").
	SEVESResetBlockGUID = mustGUID("00f771de-1a7e-4fcb-890e-68c77e2fb44e")
	// SEVHashTableGUID: UINT32 base GPA and UINT32 size of the area where
	// QEMU writes the kernel-hashes table (ResetVectorVtf0.asm,
	// "SEV Hash Table Block"; PcdQemuHashTableBase/Size).
	SEVHashTableGUID = mustGUID("7255371f-3a3b-4b04-927b-1da6efa8d454")
	// SEVSecretBlockGUID: UINT32 base GPA and UINT32 size of the SEV launch
	// secret area (ResetVectorVtf0.asm, "SEV Secret block").
	SEVSecretBlockGUID = mustGUID("4c2eb361-7d9b-4cc3-8081-127c90d3d294")
	// SEVMetadataOffsetGUID: UINT32 offset, from the end of the image, of
	// the SEV metadata header (ResetVectorVtf0.asm, "OvmfSevMetadataOffset").
	SEVMetadataOffsetGUID = mustGUID("dc886566-984a-4798-a75e-5585a7bf67cc")
)

// Layout of the SEV metadata that SEVMetadataOffsetGUID points at
// (edk2 OvmfPkg/ResetVector/X64/OvmfSevMetadata.asm, "_DescriptorSev"; QEMU
// target/i386/sev.c, OvmfSevMetadata and OvmfSevMetadataDesc).
const (
	metadataSignature    = 0x00 // 'A','S','E','V'
	metadataLength       = 0x04 // UINT32: header plus descriptors
	metadataVersion      = 0x08 // UINT32: OVMF_SEV_METADATA_VERSION
	metadataNumSections  = 0x0c // UINT32
	metadataHeaderSize   = 0x10 // descriptors follow the header
	sectionBase          = 0x00 // UINT32 GPA
	sectionSize          = 0x04 // UINT32 bytes
	sectionType          = 0x08 // UINT32 OVMF_SECTION_TYPE_*
	sectionSizeInBytes   = 0x0c
	metadataVersionKnown = 1
)

// metadataMagic is the ASEV signature read as a little-endian UINT32.
var metadataMagic = binary.LittleEndian.Uint32([]byte("ASEV"))

// SectionType is the type of an SEV metadata section
// (OvmfSevMetadata.asm, OVMF_SECTION_TYPE_*).
type SectionType uint32

// Section types.
const (
	// SectionSNPSecMem is memory the VMM must pre-validate (measured as
	// ZERO pages by QEMU and EC2).
	SectionSNPSecMem SectionType = 0x1
	// SectionSNPSecrets is the SNP secrets page.
	SectionSNPSecrets SectionType = 0x2
	// SectionCPUID is the SNP CPUID page.
	SectionCPUID SectionType = 0x3
	// SectionSVSMCAA is the SVSM calling area page.
	SectionSVSMCAA SectionType = 0x4
	// SectionSNPKernelHashes is the page that holds the kernel-hashes table
	// for measured direct boot (-kernel).
	SectionSNPKernelHashes SectionType = 0x10
)

// String names t as OVMF does.
func (t SectionType) String() string {
	switch t {
	case SectionSNPSecMem:
		return "SNP_SEC_MEM"
	case SectionSNPSecrets:
		return "SNP_SECRETS"
	case SectionCPUID:
		return "CPUID"
	case SectionSVSMCAA:
		return "SVSM_CAA"
	case SectionSNPKernelHashes:
		return "SNP_KERNEL_HASHES"
	}
	return fmt.Sprintf("SectionType(%#x)", uint32(t))
}

// MetadataSection is one OvmfSevMetadataDesc: a guest-physical range the
// VMM must set up before launch.
type MetadataSection struct {
	GPA  uint32
	Size uint32
	Type SectionType
}

// TableEntry is one entry of the GUIDed footer table.
type TableEntry struct {
	GUID GUID
	Data []byte // aliases the image
}

// Region is a guest-physical range named by a footer table entry.
type Region struct {
	GPA  uint32
	Size uint32
}

// ErrNotOVMF reports an image without OVMF's GUIDed footer table.
var ErrNotOVMF = errors.New("not an OVMF image")

// Firmware is a parsed OVMF image, mapped by the VMM so that it ends at
// 4 GiB.
type Firmware struct {
	// Image is the whole firmware file.
	Image []byte
	// Entries are the footer table entries, nearest the footer first.
	Entries []TableEntry
	// Sections are the SEV metadata sections in image order; nil when the
	// image carries no SEV metadata.
	Sections []MetadataSection
	// APResetAddress is the SEV-ES reset address of the application
	// processors, valid when HasAPReset is set.
	APResetAddress uint32
	HasAPReset     bool
	// HashTable is where QEMU writes the kernel-hashes table; nil when the
	// image has no SEV hash table entry.
	HashTable *Region
}

// maxFirmwareSize bounds the image: it must fit below 4 GiB.
const maxFirmwareSize = 1 << 32

// ReadOVMF reads and parses the OVMF image at path.
func ReadOVMF(path string) (*Firmware, error) {
	image, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading firmware: %w", err)
	}
	fw, err := ParseOVMF(image)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return fw, nil
}

// ParseOVMF parses an OVMF image: the GUIDed footer table, the SEV-ES reset
// block, the kernel-hashes table location and the SEV metadata sections.
// The returned Firmware aliases image.
func ParseOVMF(image []byte) (*Firmware, error) {
	if len(image)%PageSize != 0 || len(image) == 0 {
		return nil, fmt.Errorf("%w: size %d is not a positive multiple of 4 KiB", ErrNotOVMF, len(image))
	}
	if uint64(len(image)) > maxFirmwareSize {
		return nil, fmt.Errorf("firmware is %d bytes: it must fit below 4 GiB", len(image))
	}
	fw := &Firmware{Image: image}
	if err := fw.parseTable(); err != nil {
		return nil, err
	}
	if data, ok := fw.Entry(SEVESResetBlockGUID); ok {
		if len(data) < 4 {
			return nil, fmt.Errorf("SEV-ES reset block entry has %d bytes, want at least 4", len(data))
		}
		fw.APResetAddress = binary.LittleEndian.Uint32(data)
		fw.HasAPReset = true
	}
	if data, ok := fw.Entry(SEVHashTableGUID); ok {
		if len(data) < 8 {
			return nil, fmt.Errorf("SEV hash table entry has %d bytes, want at least 8", len(data))
		}
		fw.HashTable = &Region{
			GPA:  binary.LittleEndian.Uint32(data[0:]),
			Size: binary.LittleEndian.Uint32(data[4:]),
		}
	}
	if err := fw.parseMetadata(); err != nil {
		return nil, err
	}
	return fw, nil
}

// GPA returns the guest physical address of the first byte of the image.
func (fw *Firmware) GPA() uint64 { return maxFirmwareSize - uint64(len(fw.Image)) }

// Entry returns the data of the footer table entry with the given GUID.
// Like QEMU, it returns the entry nearest the footer if there are several.
func (fw *Firmware) Entry(g GUID) ([]byte, bool) {
	for _, e := range fw.Entries {
		if e.GUID == g {
			return e.Data, true
		}
	}
	return nil, false
}

// HasSection reports whether the SEV metadata lists a section of type t.
func (fw *Firmware) HasSection(t SectionType) bool {
	for _, s := range fw.Sections {
		if s.Type == t {
			return true
		}
	}
	return false
}

func (fw *Firmware) parseTable() error {
	image := fw.Image
	if len(image) < footerEndOffset+entryHeaderSize {
		return fmt.Errorf("%w: too small for a GUIDed footer table", ErrNotOVMF)
	}
	end := len(image) - footerEndOffset
	footer := image[end-entryHeaderSize : end]
	if GUID(footer[entryHeaderGUID:]) != FooterGUID {
		return fmt.Errorf("%w: no GUIDed table footer (GUID %v) %#x bytes before the end of the image; "+
			"give the OVMF.fd (or OVMF_CODE.fd) that QEMU loads with -bios or pflash",
			ErrNotOVMF, FooterGUID, footerEndOffset+entryHeaderSize)
	}
	tableLen := int(binary.LittleEndian.Uint16(footer[entryHeaderLength:]))
	if tableLen < entryHeaderSize || tableLen > end {
		return fmt.Errorf("%w: footer table length %d is out of range", ErrNotOVMF, tableLen)
	}
	start := end - tableLen
	for pos := end - entryHeaderSize; pos > start; {
		if pos-start < entryHeaderSize {
			return fmt.Errorf("footer table: %d stray bytes at image offset %#x", pos-start, start)
		}
		hdr := image[pos-entryHeaderSize : pos]
		size := int(binary.LittleEndian.Uint16(hdr[entryHeaderLength:]))
		if size < entryHeaderSize || size > pos-start {
			return fmt.Errorf("footer table: entry %v at image offset %#x has length %d, want %d..%d",
				GUID(hdr[entryHeaderGUID:]), pos-entryHeaderSize, size, entryHeaderSize, pos-start)
		}
		fw.Entries = append(fw.Entries, TableEntry{
			GUID: GUID(hdr[entryHeaderGUID:]),
			Data: image[pos-size : pos-entryHeaderSize],
		})
		pos -= size
	}
	return nil
}

func (fw *Firmware) parseMetadata() error {
	data, ok := fw.Entry(SEVMetadataOffsetGUID)
	if !ok {
		return nil
	}
	if len(data) < 4 {
		return fmt.Errorf("SEV metadata offset entry has %d bytes, want at least 4", len(data))
	}
	offset := uint64(binary.LittleEndian.Uint32(data))
	if offset < metadataHeaderSize || offset > uint64(len(fw.Image)) {
		return fmt.Errorf("SEV metadata offset %#x is outside the %#x-byte image", offset, len(fw.Image))
	}
	meta := fw.Image[uint64(len(fw.Image))-offset:]
	if sig := binary.LittleEndian.Uint32(meta[metadataSignature:]); sig != metadataMagic {
		return fmt.Errorf("SEV metadata at offset %#x from the end has signature %#08x, want \"ASEV\"", offset, sig)
	}
	if v := binary.LittleEndian.Uint32(meta[metadataVersion:]); v != metadataVersionKnown {
		return fmt.Errorf("SEV metadata version %d is not supported (want %d)", v, metadataVersionKnown)
	}
	length := uint64(binary.LittleEndian.Uint32(meta[metadataLength:]))
	n := uint64(binary.LittleEndian.Uint32(meta[metadataNumSections:]))
	if length > uint64(len(meta)) || length < metadataHeaderSize+n*sectionSizeInBytes {
		return fmt.Errorf("SEV metadata length %d cannot hold %d sections within the image", length, n)
	}
	fw.Sections = make([]MetadataSection, 0, n)
	for i := range n {
		desc := meta[metadataHeaderSize+i*sectionSizeInBytes:]
		s := MetadataSection{
			GPA:  binary.LittleEndian.Uint32(desc[sectionBase:]),
			Size: binary.LittleEndian.Uint32(desc[sectionSize:]),
			Type: SectionType(binary.LittleEndian.Uint32(desc[sectionType:])),
		}
		if s.GPA%PageSize != 0 || s.Size%PageSize != 0 || s.Size == 0 ||
			uint64(s.GPA)+uint64(s.Size) > maxFirmwareSize {
			return fmt.Errorf("SEV metadata section %d (%v at %#x, %#x bytes) is not a whole number of pages below 4 GiB",
				i, s.Type, s.GPA, s.Size)
		}
		fw.Sections = append(fw.Sections, s)
	}
	return nil
}
