package measure

import "encoding/binary"

// testEntry is a footer table entry for buildOVMF.
type testEntry struct {
	guid GUID
	data []byte
}

// buildOVMF synthesizes an OVMF-like image of size bytes: the GUIDed footer
// table ending 0x20 bytes before the end (entries listed nearest the footer
// first), and, when sections is not nil, SEV metadata holding them placed
// at the start of the last page, with an SEVMetadataOffsetGUID entry
// pointing at it. The rest of the image is a repeating byte pattern.
func buildOVMF(size int, entries []testEntry, sections []MetadataSection) []byte {
	image := make([]byte, size)
	for i := range image {
		image[i] = byte(i * 7)
	}
	if sections != nil {
		at := size - PageSize
		meta := image[at:]
		length := metadataHeaderSize + len(sections)*sectionSizeInBytes
		copy(meta, "ASEV")
		binary.LittleEndian.PutUint32(meta[metadataLength:], uint32(length))
		binary.LittleEndian.PutUint32(meta[metadataVersion:], metadataVersionKnown)
		binary.LittleEndian.PutUint32(meta[metadataNumSections:], uint32(len(sections)))
		for i, s := range sections {
			d := meta[metadataHeaderSize+i*sectionSizeInBytes:]
			binary.LittleEndian.PutUint32(d[sectionBase:], s.GPA)
			binary.LittleEndian.PutUint32(d[sectionSize:], s.Size)
			binary.LittleEndian.PutUint32(d[sectionType:], uint32(s.Type))
		}
		off := make([]byte, 4)
		binary.LittleEndian.PutUint32(off, uint32(size-at))
		entries = append([]testEntry{{SEVMetadataOffsetGUID, off}}, entries...)
	}
	pos := size - footerEndOffset
	putHeader := func(length int, g GUID) {
		binary.LittleEndian.PutUint16(image[pos-entryHeaderSize+entryHeaderLength:], uint16(length))
		copy(image[pos-entryHeaderSize+entryHeaderGUID:], g[:])
	}
	total := entryHeaderSize
	for _, e := range entries {
		total += len(e.data) + entryHeaderSize
	}
	putHeader(total, FooterGUID)
	pos -= entryHeaderSize
	for _, e := range entries {
		putHeader(len(e.data)+entryHeaderSize, e.guid)
		pos -= entryHeaderSize
		pos -= copy(image[pos-len(e.data):], e.data)
	}
	return image
}

func le32(vs ...uint32) []byte {
	b := make([]byte, 4*len(vs))
	for i, v := range vs {
		binary.LittleEndian.PutUint32(b[4*i:], v)
	}
	return b
}

// amdSevSections are the SEV metadata sections of the edk2-stable202405
// AmdSev build.
var amdSevSections = []MetadataSection{
	{0x800000, 0x9000, SectionSNPSecMem},
	{0x80a000, 0x3000, SectionSNPSecMem},
	{0x80d000, 0x1000, SectionSNPSecrets},
	{0x80e000, 0x1000, SectionCPUID},
	{0x80f000, 0x1000, SectionSVSMCAA},
	{0x810000, 0x1000, SectionSNPKernelHashes},
	{0x811000, 0xf000, SectionSNPSecMem},
}

// amdSevEntries are the footer table entries of that build, besides the
// metadata offset.
var amdSevEntries = []testEntry{
	{SEVESResetBlockGUID, le32(0x80b004)},
	{SEVSecretBlockGUID, le32(0x810000, 0xc00)},
	{SEVHashTableGUID, le32(0x810c00, 0x400)},
}

// syntheticAmdSev returns a size-byte image laid out like the AmdSev build.
func syntheticAmdSev(size int) []byte { return buildOVMF(size, amdSevEntries, amdSevSections) }
