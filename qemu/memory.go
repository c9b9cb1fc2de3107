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

// The memory a kernel needs besides its image and the initrd, in MiB.
// setReserve (kernel/usermem.go) keeps an eighth of the RAM it manages,
// between reserveMiB and reserveMaxMiB, for the kernel's own allocations:
// the application never gets it. The kernel's runtime takes some less than kernelMiB
// before /init starts (720 KiB measured for hello, microvm, 26 to 48 MiB).
const (
	reserveMiB    = 8
	reserveMaxMiB = 64
	kernelMiB     = 1
)

// appMiB is what an application takes besides its loaded segments when
// it starts: its stack, page tables and first heap pages (a Go program's
// runtime took 600 KiB for hello).
const appMiB = 1

// goHeapIndexMiB is the heap index a Go program's runtime maps when it
// starts, on linux/amd64: the arena map (runtime/mheap.go, sysAlloc: 1<<22
// eight-byte entries), private and writable. Under Linux's default
// overcommit heuristic, which Cocoon keeps (north's mayGrow; mm/util.c
// __vm_enough_memory, OVERCOMMIT_GUESS), one mapping larger than all of
// RAM less what the kernel keeps for itself (its image, the initrd, the
// first MiB) is refused, so a Go application needs that RAM to be larger
// than 32 MiB: the program dies with "out of memory allocating heap arena
// map" otherwise, as it would on Linux. An image that runs with
// overcommit always (sysctl.vm.overcommit_memory=1; mkimage build
// --overcommit always) needs no such room: the index's pages are taken as
// the runtime touches them.
const goHeapIndexMiB = 32

// MinMemoryMiB returns the least RAM, in MiB, a PVH kernel ELF and its
// initrd (if any) boot in and start the initrd's /init with, given the
// kernel command line (its sysctl.vm.overcommit_memory word): the kernel
// image, bss included, lies at its physical load addresses, which must
// be RAM; QEMU puts the initrd in RAM too; the kernel keeps its reserve
// and its runtime's memory; and /init's loaded segments, with appMiB
// more, must fit in what is left. When /init is a Go program and the
// overcommit policy is Linux's default heuristic, the RAM less the
// kernel's image, the initrd and the first MiB must also exceed the Go
// runtime's heap index (with half a MiB for the boot data the kernel
// keeps besides: start info, command line, memory map). It
// reports 0 for a kernel that is not an ELF (a UEFI application, whose
// firmware decides where it goes).
func MinMemoryMiB(kernel, initrd, cmdline string) (int, error) {
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
	var rd, app uint64
	goInit := false
	if initrd != "" {
		b, err := os.ReadFile(initrd)
		if err != nil {
			return 0, fmt.Errorf("qemu: %w", err)
		}
		rd = uint64(len(b))
		if prog := initFile(b); prog != nil {
			_, err := buildinfo.Read(bytes.NewReader(prog))
			goInit = err == nil
			app = loadSize(prog)
		}
	}
	const mib = 1 << 20
	mibs := func(n uint64) int { return int((n + mib - 1) / mib) }
	// The RAM the kernel manages: all of it less the first MiB, the
	// image and the initrd. The kernel's reserve is an eighth of it,
	// within bounds: use must fit in the other seven.
	kept := mib + (end - start) + rd
	use := app + (appMiB+kernelMiB)*mib
	managed := max(use+reserveMiB*mib, min((use*8+6)/7, use+reserveMaxMiB*mib))
	need := max(mibs(end+rd), mibs(kept+managed))
	if goInit && !overcommitAlways(cmdline) {
		need = max(need, mibs(kept+goHeapIndexMiB*mib+mib/2))
	}
	return need, nil
}

// overcommitAlways reports whether the kernel command line sets the
// overcommit policy to always (north/cocoon: the last word counts).
func overcommitAlways(cmdline string) bool {
	always := false
	for _, w := range strings.Fields(cmdline) {
		k, v, ok := strings.Cut(w, "=")
		if ok && strings.ReplaceAll(k, "/", ".") == "sysctl.vm.overcommit_memory" {
			always = v == "1"
		}
	}
	return always
}

// loadSize returns the memory the loadable segments of the ELF program
// prog take (the loader copies them), 0 if it is not an ELF.
func loadSize(prog []byte) uint64 {
	f, err := elf.NewFile(bytes.NewReader(prog))
	if err != nil {
		return 0
	}
	var n uint64
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			n += (p.Vaddr%4096 + p.Memsz + 4095) &^ 4095
		}
	}
	return n
}

// initFile returns the bytes of /init in the newc cpio archive a (the
// kernel's initrd, north/run), nil if it holds none.
func initFile(a []byte) []byte {
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
			return nil
		}
		size, ok1 := field(h, 6)
		nameSize, ok2 := field(h, 11)
		if !ok1 || !ok2 || nameSize == 0 {
			return nil
		}
		nameEnd := off + 110 + int(nameSize)
		data := (nameEnd + 3) &^ 3
		if nameEnd > len(a) || data+int(size) > len(a) {
			return nil
		}
		name := strings.TrimPrefix(string(a[off+110:nameEnd-1]), "./")
		switch name {
		case "TRAILER!!!":
			return nil
		case "init":
			return a[data : data+int(size)]
		}
		off = (data + int(size) + 3) &^ 3
	}
	return nil
}

// ovmfMinMiB is the least memory Debian's OVMF (OVMF_CODE_4M.fd) reaches
// its boot manager in: with 32 MiB it faults, with 24 or 28 the machine
// resets, with 16 it hangs without a word.
const ovmfMinMiB = 40

// checkMemory refuses a PVH run whose memory is smaller than its image
// needs, before QEMU starts: such a guest would hang with nothing on the
// console, its kernel loaded past the end of RAM, or fail to start its
// application.
func checkMemory(c Config) error {
	if c.Profile == OVMF {
		if c.MemoryMiB < ovmfMinMiB {
			return fmt.Errorf("qemu: %d MiB of memory is less than the firmware (OVMF) itself needs: give it at least %d MiB, "+
				"and room for the image and its initrd besides (hello's .efi needs 88 MiB)", c.MemoryMiB, ovmfMinMiB)
		}
		return nil // where the firmware puts what is its own; Run watches it
	}
	if c.Kernel == "" {
		return nil
	}
	min, err := MinMemoryMiB(c.Kernel, c.Initrd, c.Append)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // QEMU says which file is missing
	}
	if err != nil || min == 0 {
		return err
	}
	if c.MemoryMiB >= min {
		return nil
	}
	msg := fmt.Sprintf("qemu: %d MiB of memory is less than %s needs: give it at least %d MiB (-m %d); "+
		"its kernel lies at physical addresses up to its end, bss included, then come the initrd, the kernel's %d MiB reserve and what /init needs to start",
		c.MemoryMiB, c.Kernel, min, min, reserveMiB)
	if always, err := MinMemoryMiB(c.Kernel, c.Initrd, c.Append+" sysctl.vm.overcommit_memory=1"); err == nil && always < min {
		msg += fmt.Sprintf("; its Go application needs RAM past the kernel's own to exceed the %d MiB heap index its runtime maps, "+
			"under Linux's default overcommit heuristic: an image built with 'mkimage build --overcommit always' "+
			"(the kernel word sysctl.vm.overcommit_memory=1) needs only %d MiB", goHeapIndexMiB, always)
	}
	return errors.New(msg)
}
