// Package skimage is the format of Cocoon's LVBS image: the two files the
// LVBS VTL0 kernel loads as a secure kernel (heki-linux/lvbs-linux
// drivers/hv/hv_vsm_boot.c copies /usr/lib/firmware/skloader.bin to the
// start of the securekernel= reservation and /usr/lib/firmware/vmlinux.bin
// to start + 2 MiB, then starts VTL1 at the reservation's first byte).
//
// vmlinux.bin is Cocoon's kernel ELF as it lies in memory, from its ELF
// header (at layout.ImagePhys) to the end of its last file-backed byte,
// followed by the application archive (the cpio initrd). skloader.bin is
// Cocoon's stage 0, two pages:
//
//	0x000  E9 rel32    JMP to boot.lvbsEntry in the kernel copy at start + 2 MiB
//	0x005  0xCC...     (INT3) to 0x10
//	0x010  8  magic "COCOSK01"
//	0x018  8  KernelLen: vmlinux.bin bytes that are the kernel
//	0x020  8  MemLen: the kernel's memory size from layout.ImagePhys, bss included
//	0x028  8  InitrdLen: vmlinux.bin bytes after KernelLen, the application archive
//	0x030  8  Mailbox: 0 on Hyper-V; the simulated VSM's mailbox GPA (SIMULATED)
//	0x038  8  zero
//	0x1000 the kernel command line, NUL-terminated, at most 4095 bytes
//
// The kernel is linked at fixed addresses (KernBase + layout.ImagePhys), so
// the reservation must start at Base: securekernel=SIZE@0x1e00000. The
// entry checks that it runs where it was linked and stops with a message
// on COM1 otherwise.
package skimage

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cocoon-vm/cocoon/kernel/layout"
	"github.com/cocoon-vm/cocoon/lvbs/vtl0load"
)

// Header offsets in skloader.bin.
const (
	OffMagic     = 0x10
	OffKernelLen = 0x18
	OffMemLen    = 0x20
	OffInitrdLen = 0x28
	OffMailbox   = 0x30
	OffCmdline   = 0x1000
	// LoaderSize is the length of skloader.bin.
	LoaderSize = 0x2000
	// MaxCmdline is the longest command line (without its NUL).
	MaxCmdline = LoaderSize - OffCmdline - 1
)

// Magic identifies skloader.bin's header.
const Magic = "COCOSK01"

// Base is the only reservation start Cocoon's image runs at: its kernel,
// copied to Base + 2 MiB, must lie at layout.ImagePhys.
const Base = layout.ImagePhys - vtl0load.KernelOffset

// EntrySymbol is the linker name of the LVBS entry.
const EntrySymbol = "github.com/cocoon-vm/cocoon/boot.lvbsEntry"

// Header is skloader.bin's header.
type Header struct {
	KernelLen, MemLen, InitrdLen uint64
	Mailbox                      uint64
	Cmdline                      string
}

// Build makes skloader.bin and vmlinux.bin from a kernel ELF (as kbuild
// writes it), the application archive and the kernel command line.
func Build(kernel, initrd []byte, cmdline string) (loader, vmlinux []byte, err error) {
	if len(cmdline) > MaxCmdline || bytes.IndexByte([]byte(cmdline), 0) >= 0 {
		return nil, nil, fmt.Errorf("skimage: the command line is longer than %d bytes or holds a NUL", MaxCmdline)
	}
	f, err := elf.NewFile(bytes.NewReader(kernel))
	if err != nil {
		return nil, nil, fmt.Errorf("skimage: the kernel: %v", err)
	}
	base := uint64(layout.KernBase) + layout.ImagePhys
	var fileEnd, memEnd uint64
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD {
			continue
		}
		// vmlinux.bin is copied flat: each segment's file offset must be
		// its distance from the ELF header in memory.
		if p.Vaddr < base || p.Vaddr-base != p.Off {
			return nil, nil, fmt.Errorf("skimage: kernel segment at %#x has file offset %#x: not a flat image at %#x", p.Vaddr, p.Off, base)
		}
		fileEnd = max(fileEnd, p.Off+p.Filesz)
		memEnd = max(memEnd, p.Vaddr-base+p.Memsz)
	}
	if fileEnd == 0 || fileEnd > uint64(len(kernel)) {
		return nil, nil, errors.New("skimage: the kernel ELF has no loadable segments")
	}
	syms, err := f.Symbols()
	if err != nil {
		return nil, nil, fmt.Errorf("skimage: the kernel's symbols: %v", err)
	}
	var entry uint64
	for _, s := range syms {
		// The assembly itself (ABI0), not the wrapper Go calls it by.
		if s.Name == EntrySymbol+".abi0" {
			entry = s.Value
		}
	}
	if entry < base || entry-base >= fileEnd {
		return nil, nil, errors.New("skimage: the kernel has no LVBS entry (boot.lvbsEntry): build it with kbuild from a main package importing boot")
	}
	vmlinux = append(append([]byte(nil), kernel[:fileEnd]...), initrd...)
	loader = make([]byte, LoaderSize)
	for i := 0; i < OffMagic; i++ {
		loader[i] = 0xCC
	}
	loader[0] = 0xE9 // JMP rel32, from the end of the 5-byte instruction
	binary.LittleEndian.PutUint32(loader[1:], uint32(vtl0load.KernelOffset+(entry-base)-5))
	copy(loader[OffMagic:], Magic)
	le := binary.LittleEndian
	le.PutUint64(loader[OffKernelLen:], fileEnd)
	le.PutUint64(loader[OffMemLen:], memEnd)
	le.PutUint64(loader[OffInitrdLen:], uint64(len(initrd)))
	copy(loader[OffCmdline:], cmdline)
	if err := vtl0load.Check(Base, Base+MinReservation(memEnd, uint64(len(initrd))), loader, vmlinux); err != nil {
		return nil, nil, fmt.Errorf("skimage: %v (the kernel is %d bytes, the application archive %d)", err, fileEnd, len(initrd))
	}
	return loader, vmlinux, nil
}

// MinReservation is the smallest reservation that holds an image whose
// kernel needs memLen bytes from layout.ImagePhys and whose application
// archive is initrdLen bytes, with 64 MiB for the kernel to run in.
func MinReservation(memLen, initrdLen uint64) uint64 {
	need := vtl0load.KernelOffset + memLen + initrdLen + 64<<20
	return (need + 1<<20 - 1) &^ (1<<20 - 1)
}

// Parse reads skloader.bin's header.
func Parse(loader []byte) (Header, error) {
	if len(loader) < LoaderSize || string(loader[OffMagic:OffMagic+8]) != Magic {
		return Header{}, errors.New("skimage: not Cocoon's skloader.bin (no COCOSK01 header)")
	}
	le := binary.LittleEndian
	h := Header{
		KernelLen: le.Uint64(loader[OffKernelLen:]),
		MemLen:    le.Uint64(loader[OffMemLen:]),
		InitrdLen: le.Uint64(loader[OffInitrdLen:]),
		Mailbox:   le.Uint64(loader[OffMailbox:]),
	}
	line := loader[OffCmdline:LoaderSize]
	n := bytes.IndexByte(line, 0)
	if n < 0 {
		return Header{}, errors.New("skimage: the command line has no NUL")
	}
	h.Cmdline = string(line[:n])
	if h.KernelLen == 0 || h.MemLen < h.KernelLen {
		return Header{}, fmt.Errorf("skimage: kernel length %#x, memory size %#x", h.KernelLen, h.MemLen)
	}
	return h, nil
}
