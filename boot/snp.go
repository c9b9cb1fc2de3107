package boot

// The SEV-SNP steps of the UEFI entry (docs/SNP.md, "The SNP boot
// path"). Boot context: //go:nosplit, no allocation, no write barriers
// (the runtime does not exist yet).
//
// Order matters: from ExitBootServices until kernel.InstallVC nothing may
// raise #VC (no CPUID, port or MMIO access), because the firmware's #VC
// handler lives in memory that is free RAM from then on and the copy to
// ImagePhys may overwrite it:
//
//  1. efiMain (boot services up; the firmware's #VC handler serves
//     CPUID): detection, the SNP blob, and efiAllocShared: the shared
//     window's pages.
//  2. efiAfterExit: the memory map, no console; failures terminate the
//     guest through the GHCB MSR protocol (efiStop), which never #VCs.
//  3. efiKernelHigh, on the boot page tables (C-bit everywhere but the
//     MMIO hole), calls efiSNPStart before the first CPUID: the window is
//     shared and remapped (snp.Platform.Start, efiMapShared), the GHCB
//     registered, and kernel.InstallVC loads the IDT whose #VC gate
//     reaches snp.Platform.ServeVC.
//     Unaccepted memory, if the firmware left any, is validated then.
//  4. efiBoot: kernel.Boot on the SNP platform.

import (
	"unsafe"

	"github.com/cocoon-vm/cocoon/kernel"
	"github.com/cocoon-vm/cocoon/kernel/cpu"
	"github.com/cocoon-vm/cocoon/snp"
	"github.com/cocoon-vm/cocoon/snp/ghcbmsr"
)

var (
	snpPlatform snp.Platform
	snpMachine  snp.CPUMachine
	snpConfig   snp.Config

	// efiShared is the guest-physical address of the shared window
	// (snp.SharedPages pages, within one 2 MiB page), inside
	// efiSharedAlloc, the pages stage 1 allocated for it.
	efiShared      uint64
	efiSharedAlloc memRange
)

const (
	pageSize   = 4096
	largePage  = 2 << 20
	sharedSize = snp.SharedPages * pageSize
	// privateEnd bounds memory the boot tables map private (write-back,
	// C-bit set): 3-4 GiB is the shared MMIO hole (efiEnterKernel).
	privateEnd = 3 << 30
	// bootPT is the page of bootTables (after PML4, PDPT and four page
	// directories) that maps the window's 2 MiB page in 4 KiB pages.
	bootPT = 6
	// Page-table entry bits (AMD APM vol. 2, 5.3.3 "4-Kbyte page
	// translation"): present, writable.
	ptePresentWrite = 0x3
)

// efiAllocShared allocates the shared window below privateEnd: twice its
// size, so that a window that does not cross a 2 MiB boundary lies
// inside (windowIn).
//
//go:nosplit
func efiAllocShared() uintptr {
	efiOut[0] = privateEnd - 1
	if st := efiCall(bsFn(bsAllocatePages), allocateMaxAddress, memLoaderData, 2*snp.SharedPages,
		efiPhys(unsafe.Pointer(&efiOut[0])), 0, 0); st != efiSuccess {
		return st
	}
	efiSharedAlloc = memRange{uint64(efiOut[0]), 2 * sharedSize}
	efiShared = windowIn(uint64(efiOut[0]))
	return efiSuccess
}

// windowIn returns where in 2*sharedSize bytes at base the shared window
// goes so that it stays inside one 2 MiB page (it is remapped as one
// 4 KiB page table): at base, or else at the 2 MiB boundary it would
// cross, which leaves sharedSize bytes before the end because
// 2*sharedSize is far below 2 MiB.
//
//go:nosplit
func windowIn(base uint64) uint64 {
	last := base + sharedSize - 1
	if base/largePage == last/largePage {
		return base
	}
	return last &^ (largePage - 1)
}

// splitShared fills pt, the page table that replaces the 2 MiB page at
// physical region, with 4 KiB pages: private (cbit) except for the
// physical range [lo, hi), which is mapped shared.
//
//go:nosplit
func splitShared(pt *[512]uint64, region, cbit, lo, hi uint64) {
	for i := range pt {
		pa := region + uint64(i)*pageSize
		e := pa | ptePresentWrite
		if pa < lo || pa >= hi {
			e |= cbit
		}
		pt[i] = e
	}
}

// efiMapShared is the mapShared of snp.Platform.Start: it replaces the
// boot tables' 2 MiB direct-map page holding the window by a page table
// that maps the window with the C-bit clear, and flushes the TLB.
//
//go:nosplit
func efiMapShared(va uintptr, pages int) {
	lo := uint64(cpu.Phys(va))
	region := lo &^ (largePage - 1)
	tables := (uintptr(unsafe.Pointer(&bootTables[0])) + pageSize - 1) &^ (pageSize - 1)
	pt := (*[512]uint64)(unsafe.Pointer(cpu.Ptr64(tables + bootPT*pageSize)))
	splitShared(pt, region, efiCBit, lo, lo+uint64(pages)*pageSize)
	pde := cpu.Ptr64(tables + 2*pageSize + uintptr(region/largePage)*8) // page directories at +8 KiB
	*pde = uint64(cpu.Phys(uintptr(unsafe.Pointer(pt)))) | ptePresentWrite | efiCBit
	cpu.Lcr3(cpu.Rcr3())
}

// efiSNPStart brings the SNP platform up and loads the kernel's IDT,
// before anything raises #VC (see the top of this file). It returns only
// on success.
//
//go:nosplit
func efiSNPStart() {
	snpMachine.CBit = efiCBit
	if efiSNPAddr == 0 || efiShared == 0 {
		efiStop(ghcbmsr.ReasonBoot)
	}
	if !privatePage(efiSNP.CPUID) {
		efiStop(ghcbmsr.ReasonCPUID)
	}
	if !privatePage(efiSNP.Secrets) {
		efiStop(ghcbmsr.ReasonSecretsPage)
	}
	window := cpu.Virt(uintptr(efiShared))
	snpConfig = snp.Config{
		Machine:     &snpMachine,
		Status:      encryption,
		SharedGPA:   efiShared,
		Shared:      cpu.Bytes(window, sharedSize),
		CPUIDPage:   cpu.Bytes(cpu.Virt(uintptr(efiSNP.CPUID)), pageSize),
		SecretsPage: cpu.Bytes(cpu.Virt(uintptr(efiSNP.Secrets)), pageSize),
		Exclusive:   kernel.Exclusive,
	}
	// Cache lines the private mapping may still hold must not be written
	// back over the page once it is shared, as Linux flushes before it
	// shares a page in early boot.
	cpu.FlushCache(window, sharedSize)
	if r, ok := snpPlatform.Start(&snpConfig, window, efiMapShared); !ok {
		snpPlatform.Terminate(r)
		cpu.Halt()
	}
	kernel.InstallVC(&snpPlatform, &snpPlatform)
	snpPlatform.PC.Init()
	say("cocoon: boot (UEFI, SEV-SNP)\n")
	// Memory the firmware left unaccepted (it accepts everything at
	// ExitBootServices unless the OS announces support, which Cocoon does
	// not, so normally none): validated here, then RAM.
	forUnaccepted(efiMemMap[:efiMapSize], efiDescSz, privateEnd, efiAccept)
}

// efiAccept validates unaccepted memory at physical base (PVALIDATE
// through the direct map, 2 MiB pages where possible) and adds it to the
// kernel's RAM; a failure terminates the guest.
//
//go:nosplit
func efiAccept(base, size uint64) bool {
	if r, ok := snpPlatform.Validate(base, size, cpu.Virt(uintptr(base))); !ok {
		snpPlatform.Terminate(r)
		cpu.Halt()
	}
	addRegion(&info, base, size, e820RAM)
	return true
}

// privatePage reports whether the page at physical pa is mapped private
// by the boot tables.
//
//go:nosplit
func privatePage(pa uint64) bool {
	return pa != 0 && pa%pageSize == 0 && pa+pageSize <= privateEnd
}

// efiStop ends a boot that cannot go on after ExitBootServices. An SNP
// guest before its own #VC handler asks the hypervisor to terminate it
// with reason code (GHCB MSR protocol: WRMSR of the GHCB MSR and VMGEXIT
// never raise #VC); others power off with status 1 (the message is
// already printed).
//
//go:nosplit
func efiStop(code ghcbmsr.ReasonCode) {
	if efiCBit != 0 {
		snpMachine.WriteGHCBMSR(uint64(ghcbmsr.TerminateRequest(ghcbmsr.Reason{Set: ghcbmsr.ReasonSetCocoon, Code: code})))
		snpMachine.VMGEXIT()
		cpu.Halt()
	}
	platform.PowerOff(1)
}
