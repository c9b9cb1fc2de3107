package kernel

// W^X for the kernel's own mappings: no kernel page is both writable and
// executable. The kernel image is linked inside the direct map (at
// KernBase + ImagePhys), which the entry paths map with writable,
// executable 2 MiB pages; protectKernel remaps it so that the image's
// text is read-only and executable, its read-only data read-only and
// non-executable, its data and bss writable and non-executable (each as
// its ELF program header says), and the rest of physical memory
// writable and non-executable. Trap context: //go:nosplit, no allocation.

import (
	"encoding/binary"

	"github.com/cocoon-vm/cocoon/kernel/cpu"
)

// ELF program header (System V gABI, "Program Header"): p_type PT_LOAD,
// p_flags PF_X and PF_W.
const (
	elfPTLoad = 1
	elfPFX    = 1
	elfPFW    = 2
	elfPhSize = 56 // Elf64_Phdr
)

// Page-table entry bits beyond mm.go's (AMD APM vol. 2, 5.4.1, figures
// 5-20 and 5-21): in a 2 MiB entry the PAT bit is bit 12, in a 4 KiB
// entry bit 7 (where a directory entry has PS).
const (
	ptePATHuge   = 1 << 12
	ptePAT4K     = 1 << 7
	pteLowFlags  = 0x17f // P, R/W, U/S, PWT, PCD, A, D, G: same place at both sizes
	hugePageSize = 2 << 20
)

// EFER.NXE (AMD APM vol. 2, 3.1.7): without it bit 63 of an entry is
// reserved. CR0.WP (3.1.1): without it supervisor writes ignore R/W.
const (
	msrEFER = 0xc000_0080
	eferNXE = 1 << 11
	cr0WP   = 1 << 16
)

// imageSeg is one PT_LOAD segment of the kernel image, page-rounded.
type imageSeg struct {
	start, end  uintptr
	write, exec bool
}

var (
	imageSegs  [8]imageSeg
	nImageSegs int
)

// loadImageSegments reads the image's segments at boot (from its ELF
// program headers, or on the UEFI path its PE section table), or stops.
//
//go:nosplit
func loadImageSegments() {
	if !readImageSegments() {
		kprint("cocoon: the kernel image's ELF program headers are missing or overlap; cannot protect it (rebuild the image)\n")
		powerOff(1)
	}
}

// readImageSegments reads the kernel's ELF program headers, which the
// entry paths load with the image (its first segment starts with the ELF
// header, at imageStart). It reports false if they are not there, if
// there are more than imageSegs holds, or if two segments with different
// permissions share a page.
//
//go:nosplit
func readImageSegments() bool {
	eh := cpu.Bytes(imageStart, 64)
	if eh[0] == 'M' && eh[1] == 'Z' {
		return readPESections()
	}
	if eh[0] != 0x7f || eh[1] != 'E' || eh[2] != 'L' || eh[3] != 'F' {
		return false
	}
	le := binary.LittleEndian
	phoff := uintptr(le.Uint64(eh[0x20:]))
	phnum := uintptr(le.Uint16(eh[0x38:]))
	nImageSegs = 0
	for i := uintptr(0); i < phnum; i++ {
		ph := cpu.Bytes(imageStart+phoff+i*elfPhSize, elfPhSize)
		if le.Uint32(ph[0:]) != elfPTLoad {
			continue
		}
		flags := le.Uint32(ph[4:])
		va := uintptr(le.Uint64(ph[0x10:]))
		memsz := uintptr(le.Uint64(ph[0x28:]))
		if !addImageSeg(va, memsz, flags&elfPFW != 0, flags&elfPFX != 0) {
			return false
		}
	}
	return nImageSegs > 0
}

// PE/COFF (Microsoft PE Format, "MS-DOS Stub", "COFF File Header",
// "Section Table"): e_lfanew, the section header's size and fields, and
// the IMAGE_SCN_MEM_EXECUTE and IMAGE_SCN_MEM_WRITE characteristics.
const (
	peLfanew      = 0x3c
	peSectionSize = 40
	peScnExecute  = 0x2000_0000
	peScnWrite    = 0x8000_0000
)

// readPESections reads the segments of an image the UEFI entry copied:
// tools/efiimage writes the PE headers over the ELF headers' page and one
// section per PT_LOAD segment, at RVA = link address - imageStart, with
// the segment's permissions. Sections past the image (the initrd) are
// not part of it.
//
//go:nosplit
func readPESections() bool {
	le := binary.LittleEndian
	pe := imageStart + uintptr(le.Uint32(cpu.Bytes(imageStart+peLfanew, 4)))
	coff := cpu.Bytes(pe, 24)
	if coff[0] != 'P' || coff[1] != 'E' || coff[2] != 0 || coff[3] != 0 {
		return false
	}
	n := uintptr(le.Uint16(coff[6:]))
	sections := pe + 24 + uintptr(le.Uint16(coff[20:]))
	nImageSegs = 0
	for i := uintptr(0); i < n; i++ {
		sh := cpu.Bytes(sections+i*peSectionSize, peSectionSize)
		va := imageStart + uintptr(le.Uint32(sh[12:]))
		size := uintptr(le.Uint32(sh[8:]))
		if va >= imageEnd {
			continue
		}
		flags := le.Uint32(sh[36:])
		if !addImageSeg(va, size, flags&peScnWrite != 0, flags&peScnExecute != 0) {
			return false
		}
	}
	return nImageSegs > 0
}

// addImageSeg records a segment, page-rounded; false if imageSegs is
// full or a page would get two different permissions.
//
//go:nosplit
func addImageSeg(va, size uintptr, write, exec bool) bool {
	if nImageSegs == len(imageSegs) {
		return false
	}
	s := imageSeg{
		start: va &^ (pageSize - 1),
		end:   (va + size + pageSize - 1) &^ (pageSize - 1),
		write: write,
		exec:  exec,
	}
	for j := 0; j < nImageSegs; j++ {
		o := imageSegs[j]
		if s.start < o.end && o.start < s.end && (s.write != o.write || s.exec != o.exec) {
			return false
		}
	}
	imageSegs[nImageSegs] = s
	nImageSegs++
	return true
}

// pagePerm returns what the kernel page at va may be: inImage says va is
// part of the kernel image; there write and exec are its segment's (the
// vDSO's code page, which the kernel's runtime calls, is executable and
// read-only; a page between segments neither). Elsewhere only exec is
// meaningful: false.
//
//go:nosplit
func pagePerm(va uintptr) (write, exec, inImage bool) {
	if va < imageStart || va >= imageEnd {
		return true, false, false
	}
	if va == vdsoBase() {
		return false, true, true
	}
	for i := 0; i < nImageSegs; i++ {
		if s := imageSegs[i]; va >= s.start && va < s.end {
			return s.write, s.exec, true
		}
	}
	return false, false, true
}

// overlapsImage reports whether [va, va+n) holds part of the image.
//
//go:nosplit
func overlapsImage(va, n uintptr) bool { return va < imageEnd && imageStart < va+n }

// protectKernel applies W^X to the direct map (PML4 slot 252), splitting
// the 2 MiB pages that hold the image into 4 KiB pages, as the segments
// loadImageSegments read say. It runs at boot, on the one CPU, with
// interrupts off, after initVDSO wrote the vDSO's code page, before the
// runtime starts. Every entry keeps its other bits, the SEV-SNP C-bit
// (ptePrivate) included.
//
// The order is the one that keeps every TLB state the processor may be
// in well defined, as Linux's __split_large_page does for the same job:
//
//  1. split: each 2 MiB page holding the image is replaced, by one 8-byte
//     store, with a page table mapping the same frames with the same
//     attributes (splitHuge);
//  2. flush the whole TLB (flushTLB), global entries included, which also
//     drops the paging-structure caches;
//  3. only then narrow the permissions of the 4 KiB entries and set NX on
//     everything else;
//  4. flush again, so no translation from before step 3 survives.
//
// Between 1 and 2 a TLB may hold the old 2 MiB translation and new 4 KiB
// ones for the same address (AMD APM vol. 2, 5.5 "Translation-Lookaside
// Buffer (TLB)": the TLB is not coherent with the page tables until
// software invalidates; Intel SDM vol. 3A, 4.10.2.3 "Details of TLB
// Use": translations of two page sizes for one address are harmless only
// if they agree in frame and attributes, otherwise behaviour is
// undefined). Step 1 makes them agree, so that window is safe; step 3
// changes attributes only once no 2 MiB translation can remain. Strict
// break-before-make (entry not present, flush, new entry) is not possible
// here: the pages being split hold the code doing the split, its stack
// and the page tables, so the next fetch in the not-present window would
// fault with no handler able to run.
//
//go:nosplit
func protectKernel() {
	if cpu.Rdmsr(msrEFER)&eferNXE == 0 {
		kprint("cocoon: EFER.NXE is off (the entry path sets it); cannot make data non-executable\n")
		powerOff(1)
	}
	slot := *cpu.Ptr64(cpu.Virt(kernelPML4) + (cpu.KernBase>>39&511)*8)
	pdpt := cpu.Virt(uintptr(slot & pteFrame))
	for pass := 0; pass < 2; pass++ {
		for i := uintptr(0); i < 512; i++ {
			e := cpu.Ptr64(pdpt + i*8)
			base := cpu.KernBase + i<<30
			if *e&ptePresent == 0 {
				continue
			}
			if *e&pteHuge != 0 {
				if overlapsImage(base, 1<<30) {
					kprint("cocoon: the kernel image lies in a 1 GiB page; cannot protect it\n")
					powerOff(1)
				}
				if pass == 1 {
					*e |= pteNX
				}
				continue
			}
			if pass == 0 {
				splitImagePages(cpu.Virt(uintptr(*e&pteFrame)), base)
			} else {
				protectPD(cpu.Virt(uintptr(*e&pteFrame)), base)
			}
		}
		flushTLB()
	}
	cpu.Lcr0(cpu.Rcr0() | cr0WP)
	kprint("cocoon: protections: W^X (kernel text read-only, data and the direct map non-executable)\n")
}

// splitImagePages splits the 2 MiB pages of the page directory pd
// (mapping from base) that hold part of the image (protectKernel step 1).
//
//go:nosplit
func splitImagePages(pd, base uintptr) {
	for j := uintptr(0); j < 512; j++ {
		d := cpu.Ptr64(pd + j*8)
		if *d&(ptePresent|pteHuge) == ptePresent|pteHuge && overlapsImage(base+j*hugePageSize, hugePageSize) {
			splitHuge(d)
		}
	}
}

// protectPD narrows the permissions under the page directory pd (mapping
// from base) as pagePerm says (protectKernel step 3). No 2 MiB page left
// in it holds part of the image.
//
//go:nosplit
func protectPD(pd, base uintptr) {
	for j := uintptr(0); j < 512; j++ {
		d := cpu.Ptr64(pd + j*8)
		va := base + j*hugePageSize
		if *d&ptePresent == 0 {
			continue
		}
		if *d&pteHuge != 0 {
			*d |= pteNX
			continue
		}
		pt := cpu.Virt(uintptr(*d & pteFrame))
		for k := uintptr(0); k < 512; k++ {
			p := cpu.Ptr64(pt + k*8)
			if *p&ptePresent == 0 {
				continue
			}
			write, exec, inImage := pagePerm(va + k*pageSize)
			if inImage && !write {
				*p &^= pteWrite
			}
			if !exec {
				*p |= pteNX
			}
		}
	}
}

// cr4PGE is CR4.PGE (AMD APM vol. 2, 3.1.3): global pages enabled.
const cr4PGE = 1 << 7

// flushTLB invalidates every TLB entry and the paging-structure caches
// of this CPU. Writing CR3 leaves global translations in place; changing
// CR4.PGE removes them all (AMD APM vol. 2, 5.5 "Translation-Lookaside
// Buffer (TLB)", global pages and TLB management). The entry paths do not
// set PGE, but UEFI firmware may have.
//
//go:nosplit
func flushTLB() {
	if cr4 := cpu.Rcr4(); cr4&cr4PGE != 0 {
		cpu.Lcr4(cr4 &^ cr4PGE)
		cpu.Lcr4(cr4)
		return
	}
	cpu.Lcr3(cpu.Rcr3())
}

// splitHuge replaces the 2 MiB entry *d by a page table of 512 4 KiB
// entries with the same frames and attributes, in one store. The caller
// flushes the TLB before changing any of them (protectKernel).
//
//go:nosplit
func splitHuge(d *uint64) {
	p, ok := phys.Alloc()
	if !ok {
		kprint("cocoon: out of memory for page tables\n")
		powerOff(1)
	}
	pt := cpu.Virt(uintptr(p))
	old := *d
	frame := old & pteFrame &^ (hugePageSize - 1)
	flags := old&pteLowFlags&^pteHuge | old&(pteNX|ptePrivate)
	if old&ptePATHuge != 0 {
		flags |= ptePAT4K
	}
	for k := uint64(0); k < 512; k++ {
		*cpu.Ptr64(pt + uintptr(k)*8) = frame + k*pageSize | flags
	}
	*d = p | ptePresent | pteWrite | ptePrivate
}

// WXReport counts the 4 KiB pages the kernel half of the live page tables
// (PML4 slots 252..255) maps, by what they allow.
type WXReport struct {
	// Text and ReadOnly and Data count the image's pages whose segment is
	// executable, read-only and writable; Other counts the rest.
	Text, ReadOnly, Data, Other int
	// WritableExec counts pages both writable and executable; TextWritable
	// image pages of an executable segment that are writable;
	// DataExec image pages of a non-executable segment that are
	// executable; OtherExec executable pages outside the image. W^X
	// holds if all four are zero.
	WritableExec, TextWritable, DataExec, OtherExec int
	// VDSOExec says the vDSO's code page is executable and read-only.
	VDSOExec bool
}

// CheckWX walks the kernel half of the loaded page tables (the kernel's
// own; every address space shares those slots) and counts its pages. An
// access is allowed only if every level of the walk allows it.
//
//go:nosplit
func CheckWX() WXReport {
	var r WXReport
	pml4 := cpu.Virt(kernelPML4)
	for slot := uintptr(252); slot < 256; slot++ {
		e3 := *cpu.Ptr64(pml4 + slot*8)
		if e3&ptePresent == 0 {
			continue
		}
		w3, x3 := e3&pteWrite != 0, e3&pteNX == 0
		pdpt := cpu.Virt(uintptr(e3 & pteFrame))
		for i := uintptr(0); i < 512; i++ {
			e2 := *cpu.Ptr64(pdpt + i*8)
			va2 := slot<<39 + i<<30
			w2, x2 := w3 && e2&pteWrite != 0, x3 && e2&pteNX == 0
			if e2&ptePresent == 0 {
				continue
			}
			if e2&pteHuge != 0 {
				wxPages(&r, va2, 1<<30, w2, x2)
				continue
			}
			pd := cpu.Virt(uintptr(e2 & pteFrame))
			for j := uintptr(0); j < 512; j++ {
				e1 := *cpu.Ptr64(pd + j*8)
				va1 := va2 + j*hugePageSize
				w1, x1 := w2 && e1&pteWrite != 0, x2 && e1&pteNX == 0
				if e1&ptePresent == 0 {
					continue
				}
				if e1&pteHuge != 0 {
					wxPages(&r, va1, hugePageSize, w1, x1)
					continue
				}
				pt := cpu.Virt(uintptr(e1 & pteFrame))
				for k := uintptr(0); k < 512; k++ {
					e0 := *cpu.Ptr64(pt + k*8)
					if e0&ptePresent != 0 {
						wxPages(&r, va1+k*pageSize, pageSize, w1 && e0&pteWrite != 0, x1 && e0&pteNX == 0)
					}
				}
			}
		}
	}
	return r
}

//go:nosplit
func wxPages(r *WXReport, va, n uintptr, w, x bool) {
	for p := va; p < va+n; p += pageSize {
		wxPage(r, p, w, x)
	}
}

//go:nosplit
func wxPage(r *WXReport, va uintptr, w, x bool) {
	if w && x {
		r.WritableExec++
	}
	segWrite, segExec, inImage := pagePerm(va)
	switch {
	case !inImage:
		r.Other++
		if x {
			r.OtherExec++
		}
	case va == vdsoBase():
		r.VDSOExec = x && !w
	case segExec:
		r.Text++
		if w {
			r.TextWritable++
		}
	case segWrite:
		r.Data++
		if x {
			r.DataExec++
		}
	default:
		r.ReadOnly++
		if x {
			r.DataExec++
		}
	}
}
