// Package vtl0load is the LVBS VTL0 kernel's secure-kernel loader, done in
// Go for the simulated VSM and for tests: it enables VTL1, builds the
// initial VP context and the memory it points at, and copies the image,
// exactly as heki-linux/lvbs-linux drivers/hv/hv_vsm_boot.c does
// (hv_vsm_enable_vtl1 and the functions it calls), with the page numbers
// of drivers/hv/hv_vsm_boot.h. It is host-side code: the simulator plays
// VTL0 with it, and Cocoon's image is checked against the layout it
// produces.
//
// Where the real loader would silently produce something unusable, Load
// refuses instead and says why: a reservation that is not 2 MiB-aligned
// (the loader's page tables then do not identity-map it), one whose first
// 16 MiB cross a 1 GiB boundary (its single page directory), and an image
// that would overwrite the tables (vmlinux.bin is copied after they are
// written).
package vtl0load

import (
	"encoding/binary"
	"fmt"

	"github.com/cocoon-vm/cocoon/lvbs/hv"
	"github.com/cocoon-vm/cocoon/lvbs/vtlcall"
)

// Pages of the reservation the loader uses, counted from its start
// (hv_vsm_boot.h).
const (
	FirstCodePage = 0    // VSM_FIRST_CODE_PAGE: RIP; skloader.bin is copied here
	ISRPage       = 2816 // VSM_ISRS_CODE_PAGE: the IDT's gates point here
	GDTPage       = 4081 // VSM_GDT_PAGE
	IDTPage       = 4082 // VSM_IDT_PAGE
	TSSPage       = 4083 // VSM_TSS_PAGE
	PML4Page      = 4084 // VSM_PML4E_PAGE
	PDPTPage      = 4085 // VSM_PDPE_PAGE
	PDPage        = 4086 // VSM_PDE_PAGE
	PTE0Page      = 4087 // VSM_PTE_0_PAGE: eight page tables from here
	StackPage     = 4095 // VSM_KERNEL_STACK_PAGE

	// InitialMap is SK_INITIAL_MAP_SIZE: what the page tables map.
	InitialMap = 16 << 20
	// KernelOffset is where vmlinux.bin goes (hv_vsm_load_secure_kernel:
	// vsm_skm_va + 2 MiB).
	KernelOffset = 2 << 20
	// MaxKernel is the longest vmlinux.bin that leaves the GDT page and
	// everything after it intact.
	MaxKernel = GDTPage*hv.PageSize - KernelOffset
	// MaxLoader is the longest skloader.bin that does not reach
	// vmlinux.bin.
	MaxLoader = KernelOffset

	pageSize  = hv.PageSize
	idtGates  = 22 // hv_vsm_init_idt: vectors 0-21
	gdtLimit  = 8 + 8 + 8 + 16 - 1
	tssSize   = 56 // sizeof(union vsm_tss): its largest member, ist[7]
	pteFlags  = 0x63
	tableFlag = 0x03
)

// Control register and MSR values of hv_vsm_init_cpu.
const (
	CR0  = 0x8001_0033           // PG | WP | NE | ET | MP | PE
	CR4  = 0xB0                  // PSE | PGE | PAE
	EFER = 0xD01                 // LMA | LME | NXE | SCE
	PAT  = 0x0007_0406_0007_0406 // WB WT UC- UC, twice (Intel SDM vol. 3, 11.12.2)
)

// Memory is guest physical memory as VTL0 writes it.
type Memory interface {
	WritePhys(gpa uint64, p []byte) error
}

// Check refuses a reservation the loader cannot lay out usably.
func Check(start, end uint64, loader, kernel []byte) error {
	switch {
	case start%(2<<20) != 0:
		return fmt.Errorf("vtl0load: reservation %#x is not 2 MiB-aligned: the loader's page tables would not identity-map it", start)
	case end < start || end-start < InitialMap:
		return fmt.Errorf("vtl0load: reservation %#x-%#x is smaller than %d MiB", start, end, InitialMap>>20)
	case start>>30 != (start+InitialMap-1)>>30:
		return fmt.Errorf("vtl0load: the first 16 MiB of %#x cross a 1 GiB boundary: one page directory cannot map them", start)
	case len(loader) > MaxLoader:
		return fmt.Errorf("vtl0load: skloader.bin is %d bytes; it must end before vmlinux.bin at 2 MiB", len(loader))
	case len(kernel) > MaxKernel:
		return fmt.Errorf("vtl0load: vmlinux.bin is %d bytes, more than the %d that fit before the loader's tables at page %d", len(kernel), MaxKernel, GDTPage)
	}
	return nil
}

func page(start uint64, n int) uint64 { return start + uint64(n)*pageSize }

// Context is the initial VP context hv_vsm_arch_init_vp_context builds for
// a reservation at start (hv_vsm_init_cpu, hv_vsm_init_gdt,
// hv_vsm_init_idt, hv_vsm_init_page_tables).
func Context(start uint64) hv.InitialVPContext {
	data := hv.SegmentRegister{Selector: 2 << 3, Attributes: 0x3 | 1<<4 | 1<<7 | 1<<14} // RW accessed, S, P, D/B
	return hv.InitialVPContext{
		Rip:    page(start, FirstCodePage),
		Rsp:    page(start, StackPage) + pageSize - 1,
		Rflags: 1 << 1,
		Cs:     hv.SegmentRegister{Selector: 1 << 3, Attributes: 0xB | 1<<4 | 1<<7 | 1<<13}, // execute/read accessed, S, P, L
		Ds:     data, Es: data, Fs: data, Gs: data,
		Tr:   hv.SegmentRegister{Base: page(start, TSSPage), Limit: tssSize - 1, Selector: 3 << 3, Attributes: 0xB | 1<<7}, // busy TSS, P
		Idtr: hv.TableRegister{Base: page(start, IDTPage), Limit: 16*idtGates - 1},
		Gdtr: hv.TableRegister{Base: page(start, GDTPage), Limit: gdtLimit},
		Efer: EFER, Cr0: CR0, Cr3: page(start, PML4Page), Cr4: CR4, MsrCrPat: PAT,
	}
}

// Tables returns the pages the context points at, as the loader writes
// them into the zeroed reservation: page number to contents.
func Tables(start uint64) map[int][]byte {
	pages := map[int][]byte{}
	get := func(n int) []byte {
		if pages[n] == nil {
			pages[n] = make([]byte, pageSize)
		}
		return pages[n]
	}
	le := binary.LittleEndian
	// GDT: a "null" entry made with MAKE_CSD_LM(0, 0, 0, 0), which
	// still sets the must-be-one bits 43, 44 and long-mode bit 53; code
	// (MAKE_CSD_LM(0, 0, 1, 0): the same and present, bit 47); data
	// (MAKE_DSD_LM(1, 0): bits 44, 47); the TSS descriptor (MAKE_SSD:
	// limit = sizeof(union vsm_tss), base, type 9 available TSS,
	// present).
	gdt := get(GDTPage)
	le.PutUint64(gdt[0:], 1<<43|1<<44|1<<53)
	le.PutUint64(gdt[8:], 1<<43|1<<44|1<<47|1<<53)
	le.PutUint64(gdt[16:], 1<<44|1<<47)
	tss := page(start, TSSPage)
	le.PutUint64(gdt[24:], tssSize|(tss&0xFF_FFFF)<<16|9<<40|1<<47|(tss>>24&0xFF)<<56)
	le.PutUint64(gdt[32:], tss>>32&0xFFFF_FFFF)
	// TSS: hv_vsm_init_gdt stores rsp0 through a union, so at offset 0.
	le.PutUint64(get(TSSPage)[0:], page(start, StackPage)+pageSize-1)
	// IDT: hv_vsm_init_idt's arithmetic, as written: target_lo |
	// (u128)target << 32 | selector << 16 | 0xE << 40 | 1 << 47.
	idt := get(IDTPage)
	for n := range idtGates {
		target := page(start, ISRPage) + uint64(n)*8
		lo := target&0xFFFF | 8<<16 | 0xE<<40 | 1<<47 | target<<32
		hi := target >> 32
		le.PutUint64(idt[16*n:], lo)
		le.PutUint64(idt[16*n+8:], hi)
	}
	// Page tables (hv_vsm_init_page_tables, hv_vsm_fill_pte_tables):
	// PML4[i4] -> PDPT, PDPT[i3] -> PD, PD[i2+k] -> page table k, which
	// maps start + (512k + j) pages; flags present|RW (tables) and
	// present|RW|accessed|dirty (page tables and their PD entries).
	i4, i3, i2 := start>>39&0x1FF, start>>30&0x1FF, start>>21&0x1FF
	le.PutUint64(get(PML4Page)[8*i4:], page(start, PDPTPage)|tableFlag)
	le.PutUint64(get(PDPTPage)[8*i3:], page(start, PDPage)|tableFlag)
	for k := range InitialMap / pageSize / 512 {
		le.PutUint64(get(PDPage)[8*(int(i2)+k):], page(start, PTE0Page+k)|pteFlags)
		pt := get(PTE0Page + k)
		for j := range 512 {
			le.PutUint64(pt[8*j:], page(start, 512*k+j)|pteFlags)
		}
	}
	return pages
}

// Image is what the loader copies: /usr/lib/firmware/skloader.bin and
// /usr/lib/firmware/vmlinux.bin.
type Image struct {
	Loader, Kernel []byte
}

// Load does what hv_vsm_enable_vtl1 does up to the boot call, whose
// arguments it returns: zero the reservation [start, end), read the VSM
// code page offsets, enable VTL1 for the partition (with MBEC) and for the
// VP with Context(start), write Tables(start), copy the image. c makes
// VTL0's hypercalls. cpus and maxPhys are what VTL0 reports in the boot
// call.
func Load(c *hv.Client, mem Memory, start, end uint64, img Image, cpus, maxPhys uint64) (hv.CodePageOffsets, vtlcall.BootArgs, error) {
	if err := Check(start, end, img.Loader, img.Kernel); err != nil {
		return 0, vtlcall.BootArgs{}, err
	}
	zero := make([]byte, 1<<20)
	for a := start; a < end; a += uint64(len(zero)) {
		if err := mem.WritePhys(a, zero[:min(uint64(len(zero)), end-a)]); err != nil {
			return 0, vtlcall.BootArgs{}, err
		}
	}
	off, err := c.GetVpRegister(hv.CurrentVTL, hv.RegVsmCodePageOffsets)
	if err != nil {
		return 0, vtlcall.BootArgs{}, fmt.Errorf("vtl0load: VSM code page offsets: %w", err)
	}
	if err := c.EnablePartitionVtl(1, true); err != nil {
		return 0, vtlcall.BootArgs{}, fmt.Errorf("vtl0load: enabling VTL1 for the partition: %w", err)
	}
	ctx := Context(start)
	if err := c.EnableVpVtl(1, &ctx); err != nil {
		return 0, vtlcall.BootArgs{}, fmt.Errorf("vtl0load: enabling VTL1 on the VP: %w", err)
	}
	for n, p := range Tables(start) {
		if err := mem.WritePhys(page(start, n), p); err != nil {
			return 0, vtlcall.BootArgs{}, err
		}
	}
	if err := mem.WritePhys(start, img.Loader); err != nil {
		return 0, vtlcall.BootArgs{}, err
	}
	if err := mem.WritePhys(start+KernelOffset, img.Kernel); err != nil {
		return 0, vtlcall.BootArgs{}, err
	}
	return hv.CodePageOffsets(off), vtlcall.BootArgs{CPUs: cpus, Start: start, End: end, MaxPhys: maxPhys}, nil
}
