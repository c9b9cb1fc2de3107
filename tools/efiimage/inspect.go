package efiimage

import (
	"bytes"
	"crypto/sha256"
	"debug/pe"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Info is what Inspect finds in a UEFI application.
type Info struct {
	Size        int
	SHA256      [32]byte
	ImageBase   uint64
	Entry       uint32 // RVA
	SizeOfImage uint32
	Subsystem   uint16
	// BootProtocol is the Linux boot protocol version of the setup
	// header QEMU's -kernel needs, 0 without one.
	BootProtocol uint16
	Sections     []Section
	// Cmdline is the embedded command line (.cmdline), if any.
	Cmdline string
}

// Section is one PE section.
type Section struct {
	Name        string
	RVA         uint32
	VirtualSize uint32
	FileSize    uint32
	Flags       string // "rwx"-style
	// SHA256 is the hash of the section's bytes in the file (the first
	// min(VirtualSize, FileSize) bytes: what the firmware loads).
	SHA256 [32]byte
}

// Inspect parses img, a PE32+ UEFI application, without trusting it.
func Inspect(img []byte) (*Info, error) {
	f, err := pe.NewFile(bytes.NewReader(img))
	if err != nil {
		return nil, fmt.Errorf("efiimage: not a PE image: %v", err)
	}
	oh, ok := f.OptionalHeader.(*pe.OptionalHeader64)
	if !ok || f.Machine != pe.IMAGE_FILE_MACHINE_AMD64 {
		return nil, errors.New("efiimage: not a PE32+ x86-64 image")
	}
	info := &Info{
		Size:        len(img),
		SHA256:      sha256.Sum256(img),
		ImageBase:   oh.ImageBase,
		Entry:       oh.AddressOfEntryPoint,
		SizeOfImage: oh.SizeOfImage,
		Subsystem:   oh.Subsystem,
	}
	if len(img) > hdrVersion+2 && string(img[hdrMagic:hdrMagic+4]) == "HdrS" {
		info.BootProtocol = binary.LittleEndian.Uint16(img[hdrVersion:])
	}
	for _, s := range f.Sections {
		n := min(s.VirtualSize, s.Size)
		if uint64(s.Offset)+uint64(n) > uint64(len(img)) {
			return nil, fmt.Errorf("efiimage: section %q runs past the end of the file", s.Name)
		}
		data := make([]byte, n)
		if n > 0 {
			if _, err := s.ReadAt(data, 0); err != nil {
				return nil, fmt.Errorf("efiimage: section %q: %v", s.Name, err)
			}
		}
		info.Sections = append(info.Sections, Section{
			Name: s.Name, RVA: s.VirtualAddress, VirtualSize: s.VirtualSize, FileSize: s.Size,
			Flags: flags(s.Characteristics), SHA256: sha256.Sum256(data),
		})
		if s.Name == SecCmdline {
			if i := bytes.IndexByte(data, 0); i >= 0 {
				data = data[:i]
			}
			info.Cmdline = string(data)
		}
	}
	return info, nil
}

func flags(c uint32) string {
	b := []byte("---")
	if c&scnMemRead != 0 {
		b[0] = 'r'
	}
	if c&scnMemWrite != 0 {
		b[1] = 'w'
	}
	if c&scnMemExecute != 0 {
		b[2] = 'x'
	}
	return string(b)
}

// Section returns the section called name, if there is one.
func (i *Info) Section(name string) (Section, bool) {
	for _, s := range i.Sections {
		if s.Name == name {
			return s, true
		}
	}
	return Section{}, false
}

// Write prints the report 'mkimage inspect' shows for a UEFI image.
func (i *Info) Write(w io.Writer, name string) {
	kind := "UEFI application"
	if i.Subsystem != imageSubsystemEFIApplication {
		kind = fmt.Sprintf("PE32+ image, subsystem %d", i.Subsystem)
	}
	fmt.Fprintf(w, "%s: %s, %d KiB, sha256 %x\n", name, kind, (i.Size+1023)>>10, i.SHA256)
	fmt.Fprintf(w, "  entry RVA %#x, preferred base %#x, %d KiB in memory\n", i.Entry, i.ImageBase, i.SizeOfImage>>10)
	if i.BootProtocol != 0 {
		fmt.Fprintf(w, "  Linux boot protocol %d.%02d header: QEMU -kernel loads it\n", i.BootProtocol>>8, i.BootProtocol&0xff)
	}
	for _, s := range i.Sections {
		fmt.Fprintf(w, "  %-8s RVA %#09x %s %8d KiB (%d KiB in the file) sha256 %x\n",
			s.Name, s.RVA, s.Flags, (s.VirtualSize+1023)>>10, (s.FileSize+1023)>>10, s.SHA256)
	}
	if s, ok := i.Section(SecInitrd); ok {
		fmt.Fprintf(w, "  payload: application archive inside (.initrd, %d bytes)\n", s.VirtualSize)
	} else {
		fmt.Fprintln(w, "  payload: none inside; the initrd comes from the firmware (QEMU -initrd)")
	}
	if i.Cmdline != "" {
		fmt.Fprintf(w, "  command line (when the firmware gives none): %q\n", i.Cmdline)
	}
}

// IsDisk reports whether b starts like a GPT disk: a protective MBR and
// the "EFI PART" header in LBA 1 (UEFI 2.10, 5.3.2).
func IsDisk(b []byte) bool {
	return len(b) >= 2*sectorSize && b[510] == 0x55 && b[511] == 0xaa &&
		strings.HasPrefix(string(b[sectorSize:sectorSize+8]), "EFI PART")
}
