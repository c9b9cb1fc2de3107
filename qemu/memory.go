package qemu

import (
	"bytes"
	"debug/buildinfo"
	"debug/elf"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// freeMiB is the free RAM, in MiB, the kernel needs besides its image and
// the initrd: below 4 MiB it refuses to boot (kernel.Boot).
const freeMiB = 4

// goHeapIndexMiB is the heap index a Go program's runtime maps when it
// starts, on linux/amd64: the arena map (runtime/mheap.go, sysAlloc: 1<<22
// eight-byte entries), private and writable. Linux's overcommit heuristic,
// which Cocoon keeps (north's mayGrow; mm/util.c __vm_enough_memory,
// OVERCOMMIT_GUESS), refuses one mapping larger than all of RAM less
// what the kernel keeps for itself (its image, the initrd, the first MiB),
// so a Go application needs that RAM to be larger than 32 MiB: the
// program dies with "out of memory allocating heap arena map" otherwise,
// as it would on Linux.
const goHeapIndexMiB = 32

// MinMemoryMiB returns the least RAM, in MiB, a PVH kernel ELF and its
// initrd (if any) boot in: the kernel image, bss included, lies at its
// physical load addresses, which must be RAM; QEMU puts the initrd in RAM
// too; and the kernel needs freeMiB MiB free on top. When the initrd's
// /init is a Go program, the RAM less the kernel's image, the initrd and
// the first MiB must also exceed the Go runtime's heap index (with 1 MiB
// for boot data and rounding). It reports 0 for a kernel that is not an
// ELF (a UEFI application, whose firmware decides where it goes).
func MinMemoryMiB(kernel, initrd string) (int, error) {
	f, err := elf.Open(kernel)
	if err != nil {
		if _, ok := err.(*elf.FormatError); ok {
			return 0, nil
		}
		return 0, fmt.Errorf("qemu: %w", err)
	}
	defer f.Close()
	var start, end uint64 = ^uint64(0), 0
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			start, end = min(start, p.Paddr), max(end, p.Paddr+p.Memsz)
		}
	}
	if end == 0 {
		return 0, fmt.Errorf("qemu: %s has no loadable segment", kernel)
	}
	var rd uint64
	goInit := false
	if initrd != "" {
		b, err := os.ReadFile(initrd)
		if err != nil {
			return 0, fmt.Errorf("qemu: %w", err)
		}
		rd = uint64(len(b))
		goInit = isGoInit(b)
	}
	const mib = 1 << 20
	need := int((end+rd+mib-1)/mib) + freeMiB
	if goInit {
		kept := mib + (end - start) + rd
		need = max(need, int((kept+mib-1)/mib)+goHeapIndexMiB+1)
	}
	return need, nil
}

// isGoInit reports whether the newc cpio archive a (the kernel's initrd,
// north/run) holds an /init that is a Go program.
func isGoInit(a []byte) bool {
	// SVR4 "newc" format (Linux Documentation/driver-api/early-userspace/
	// buffer-format.rst): a 110-byte header of "070701" and 13 eight-digit
	// hex fields (c_namesize the 12th, c_filesize the 7th), the name, then
	// the data, each padded to 4 bytes.
	field := func(h []byte, i int) (uint64, bool) {
		v, err := strconv.ParseUint(string(h[6+8*i:14+8*i]), 16, 32)
		return v, err == nil
	}
	for off := 0; off+110 <= len(a); {
		h := a[off : off+110]
		if string(h[:6]) != "070701" {
			return false
		}
		size, ok1 := field(h, 6)
		nameSize, ok2 := field(h, 11)
		if !ok1 || !ok2 || nameSize == 0 {
			return false
		}
		nameEnd := off + 110 + int(nameSize)
		data := (nameEnd + 3) &^ 3
		if nameEnd > len(a) || data+int(size) > len(a) {
			return false
		}
		name := strings.TrimPrefix(string(a[off+110:nameEnd-1]), "./")
		switch name {
		case "TRAILER!!!":
			return false
		case "init":
			_, err := buildinfo.Read(bytes.NewReader(a[data : data+int(size)]))
			return err == nil
		}
		off = (data + int(size) + 3) &^ 3
	}
	return false
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
			"its kernel lies at physical addresses up to its end, bss included, then come the initrd and %d MiB free for the kernel; "+
			"a Go application needs RAM past the kernel's own to exceed the %d MiB heap index its runtime maps",
			c.MemoryMiB, c.Kernel, min, min, freeMiB, goHeapIndexMiB)
	}
	return nil
}
