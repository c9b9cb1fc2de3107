package qemu

import (
	"bytes"
	"debug/pe"
	"encoding/binary"
)

// FloorEFIImage is a UEFI application that powers the machine off at its
// first instruction (status 0 through isa-debug-exit): the floor for
// boot-time figures under the ovmf profile, like FloorImage for PVH.
func FloorEFIImage() []byte {
	// mov al, 0; out 0xf4, al; hlt; jmp $-1
	return efiApp([]byte{0xb0, 0x00, 0xe6, 0xf4, 0xf4, 0xeb, 0xfd})
}

// efiApp returns a minimal UEFI application, a PE32+ image with one
// section holding code, for booting the OVMF profile. OVMF starts it in
// 64-bit long mode; the entry is the first byte of code and it never
// returns, so it ignores the ImageHandle and SystemTable arguments.
//
// QEMU's x86 -kernel takes it because it also has the Linux boot
// protocol's setup header (Documentation/arch/x86/boot.rst): "HdrS" at
// 0x202 and setup_sects at 0x1f1, which splits the file into the part
// QEMU calls setup (the headers, 0x400 bytes) and the rest; OVMF joins
// the two again and loads the PE.
//
// Layout from the Microsoft PE/COFF specification: the MS-DOS stub's
// e_lfanew at 0x3c points to the "PE\0\0" signature, followed by the COFF
// file header, the PE32+ optional header (240 bytes with 16 data
// directories) and the section table. The headers fill the first file
// alignment unit; the section follows. It has no .reloc section and does
// not set IMAGE_FILE_RELOCS_STRIPPED, so the loader may place it anywhere
// without fixups, which the code does not need.
func efiApp(code []byte) []byte {
	const (
		peOff        = 0x40
		fileAlign    = 0x200
		sectionAlign = 0x1000
		textRVA      = sectionAlign
		optSize      = 240
		headers      = 2 * fileAlign

		imageFileExecutableImage     = 0x0002
		imageFileLargeAddressAware   = 0x0020
		imageSubsystemEFIApplication = 10
		imageScnCntCode              = 0x00000020
		imageScnMemExecute           = 0x20000000
		imageScnMemRead              = 0x40000000
	)
	rawSize := (uint32(len(code)) + fileAlign - 1) &^ (fileAlign - 1)

	fh := pe.FileHeader{
		Machine:              pe.IMAGE_FILE_MACHINE_AMD64,
		NumberOfSections:     1,
		SizeOfOptionalHeader: optSize,
		Characteristics:      imageFileExecutableImage | imageFileLargeAddressAware,
	}
	oh := pe.OptionalHeader64{
		Magic:               0x20b, // PE32+
		SizeOfCode:          rawSize,
		AddressOfEntryPoint: textRVA,
		BaseOfCode:          textRVA,
		ImageBase:           0x400000,
		SectionAlignment:    sectionAlign,
		FileAlignment:       fileAlign,
		SizeOfImage:         textRVA + sectionAlign,
		SizeOfHeaders:       headers,
		Subsystem:           imageSubsystemEFIApplication,
		NumberOfRvaAndSizes: 16,
	}
	sh := pe.SectionHeader32{
		Name:             [8]uint8{'.', 't', 'e', 'x', 't'},
		VirtualSize:      uint32(len(code)),
		VirtualAddress:   textRVA,
		SizeOfRawData:    rawSize,
		PointerToRawData: headers,
		Characteristics:  imageScnCntCode | imageScnMemExecute | imageScnMemRead,
	}

	img := make([]byte, headers+rawSize)
	copy(img, "MZ")
	binary.LittleEndian.PutUint32(img[0x3c:], peOff)
	img[0x1f1] = headers/512 - 1                       // setup_sects
	binary.LittleEndian.PutUint16(img[0x1fe:], 0xaa55) // boot_flag
	copy(img[0x202:], "HdrS")                          // header
	binary.LittleEndian.PutUint16(img[0x206:], 0x0206) // version 2.06
	img[0x211] = 0x01                                  // loadflags: LOADED_HIGH
	var b bytes.Buffer
	b.WriteString("PE\x00\x00")
	for _, v := range []any{fh, oh, sh} {
		if err := binary.Write(&b, binary.LittleEndian, v); err != nil {
			panic(err)
		}
	}
	copy(img[peOff:], b.Bytes())
	copy(img[headers:], code)
	return img
}
