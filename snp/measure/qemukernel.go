package measure

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// The fields of the Linux x86 setup header that QEMU's -kernel loader reads
// to decide how to load a file and how to split it (Linux
// Documentation/arch/x86/boot.rst, "The Real-Mode Kernel Header"; QEMU
// hw/i386/x86-common.c, x86_load_linux), as offsets into the kernel file.
const (
	setupSectsOffset = 0x1f1 // u8 setup_sects: 512-byte sectors of setup after the boot sector
	setupMagicOffset = 0x202 // u32 header: "HdrS"
	setupEnd         = setupMagicOffset + 4

	// setupSectsDefault is what a setup_sects of zero stands for.
	setupSectsDefault = 4
	setupSectorSize   = 512
)

var setupMagic = []byte("HdrS")

// qemuSetupSize returns the size of the "setup" part QEMU cuts from the
// front of a kernel file whose first bytes are header, as x86_load_linux
// computes it, or false if header carries no Linux setup header.
func qemuSetupSize(header []byte) (int, bool) {
	if len(header) < setupEnd || !bytes.Equal(header[setupMagicOffset:setupEnd], setupMagic) {
		return 0, false
	}
	sects := int(header[setupSectsOffset])
	if sects == 0 {
		sects = setupSectsDefault
	}
	return (sects + 1) * setupSectorSize, true
}

// CheckQEMUKernel reports whether QEMU's x86 -kernel loader takes the file
// at path through its Linux path, the only one that fills the
// kernel-hashes table, and accepts it. Then the kernel hash QEMU computes
// is SHA-256 of the file exactly as given, which is what HashKernelFiles
// computes (see the package documentation). A PVH ELF or a multiboot
// file, for instance, boots without kernel hashes, and OVMF cannot start
// either.
func CheckQEMUKernel(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	header := make([]byte, setupEnd)
	n, err := io.ReadFull(f, header)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return err
	}
	header = header[:n]
	if st.Size() == 0 {
		return fmt.Errorf("%s is empty: QEMU refuses an empty -kernel file", path)
	}
	// x86_load_linux looks for the setup header first; only without one
	// does it try multiboot and then PVH ELF.
	setup, ok := qemuSetupSize(header)
	switch {
	case !ok && bytes.HasPrefix(header, []byte("\x7fELF")):
		return fmt.Errorf("%s is an ELF file: QEMU boots it as PVH or multiboot, without kernel hashes, "+
			"and OVMF cannot start it; give the UEFI image ('mkimage build --format efi' writes NAME.efi)", path)
	case !ok:
		return fmt.Errorf("%s has no Linux setup header (%q at %#x): QEMU does not load it as a Linux kernel "+
			"and fills no kernel hashes; give a bzImage or an EFI application with a setup header ('mkimage build --format efi')",
			path, setupMagic, setupMagicOffset)
	case int64(setup) > st.Size():
		return fmt.Errorf("%s: setup_sects %d at %#x makes a %d-byte setup part, longer than the %d-byte file: "+
			"QEMU refuses it (\"invalid kernel header\")", path, header[setupSectsOffset], setupSectsOffset, setup, st.Size())
	}
	return nil
}
