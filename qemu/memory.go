package qemu

import (
	"debug/elf"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// freeMiB is the free RAM, in MiB, the kernel needs besides its image and
// the initrd: below 4 MiB it refuses to boot (kernel.Boot).
const freeMiB = 4

// MinMemoryMiB returns the least RAM, in MiB, a PVH kernel ELF and its
// initrd (if any) boot in: the kernel image, bss included, lies at its
// physical load addresses, which must be RAM; QEMU puts the initrd in RAM
// too; and the kernel needs freeMiB MiB free on top. It reports 0 for a
// kernel that is not an ELF (a UEFI application, whose firmware decides
// where it goes).
func MinMemoryMiB(kernel, initrd string) (int, error) {
	f, err := elf.Open(kernel)
	if err != nil {
		if _, ok := err.(*elf.FormatError); ok {
			return 0, nil
		}
		return 0, fmt.Errorf("qemu: %w", err)
	}
	defer f.Close()
	var end uint64
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && p.Paddr+p.Memsz > end {
			end = p.Paddr + p.Memsz
		}
	}
	if initrd != "" {
		st, err := os.Stat(initrd)
		if err != nil {
			return 0, fmt.Errorf("qemu: %w", err)
		}
		end += uint64(st.Size())
	}
	return int((end+1<<20-1)>>20) + freeMiB, nil
}

// checkMemory refuses a PVH run whose memory is smaller than its image
// needs, before QEMU starts: such a guest would hang with nothing on the
// console, its kernel loaded past the end of RAM.
func checkMemory(c Config) error {
	if c.Profile == OVMF || c.Kernel == "" {
		return nil
	}
	min, err := MinMemoryMiB(c.Kernel, c.Initrd)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // QEMU says which file is missing
	}
	if err != nil || min == 0 {
		return err
	}
	if c.MemoryMiB < min {
		return fmt.Errorf("qemu: %d MiB of memory is less than %s needs: give it at least %d MiB (-m %d); "+
			"its kernel lies at physical addresses up to its end, bss included, then come the initrd and %d MiB free for the kernel",
			c.MemoryMiB, c.Kernel, min, min, freeMiB)
	}
	return nil
}
