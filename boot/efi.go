package boot

// UEFI entry: the kernel image booted as a UEFI application (OVMF
// -kernel, or \EFI\BOOT\BOOTX64.EFI on a disk).
//
// Design. tools/efiimage writes the kernel ELF as a PE32+ image whose
// sections are the ELF's PT_LOAD segments at their offsets from ImagePhys
// (RVA = physical address - ImagePhys), entered at efiEntry. There is no
// separate loader program: the entry code is part of the kernel, so one
// build of boot serves PVH and UEFI, and the measured image is exactly
// the kernel that runs. The kernel is linked for physical ImagePhys, but
// firmware loads the PE wherever it has room, and until ExitBootServices
// ImagePhys may hold firmware data, so the image can only be sure to
// reach ImagePhys after ExitBootServices. The entry therefore runs in two
// stages:
//
//  1. efiEntry (efi_amd64.s, position-independent) finds where the image
//     was loaded (P), builds page tables that keep the firmware's identity
//     map and add the kernel's link address KernBase+ImagePhys -> P, and
//     calls efiMain: ordinary //go:nosplit Go that calls UEFI services
//     through efiCall on the firmware's stack. It reads the command line
//     (the loaded image's options, which is QEMU's -append under OVMF;
//     else a .cmdline section embedded in the PE), the initrd (a .initrd
//     section embedded in the PE; else LoadFile2 on the Linux initrd
//     media device path, as the Linux EFI stub does, which is QEMU's
//     -initrd under OVMF), the SEV-SNP confidential-computing table, the
//     memory map, and calls ExitBootServices (again with a fresh map key
//     when the map changed in between).
//  2. efiAfterExit, on the kernel's boot stack, converts the UEFI memory
//     map into BootInfo, checks that the kernel's physical range is free
//     RAM now and overlaps nothing still in use, and efiEnterKernel copies
//     the image to ImagePhys, switches to the same boot page tables as the
//     PVH entry, and calls kernel.Boot as bootMain does.
//
// No boot service is called after ExitBootServices. Every address handed
// to firmware is physical: efiPhys translates the kernel's own variables,
// and Go code in stage 1 runs on the firmware's stack, which is
// identity-mapped (firmware drivers hand stack addresses to DMA).
//
// Like all boot code this must not grow the stack, allocate or run write
// barriers (tools/kbuild's trap-code check covers package boot).

import (
	"unsafe"

	"github.com/cocoon-vm/cocoon/kernel/cpu"
	"github.com/cocoon-vm/cocoon/snp"
	"github.com/cocoon-vm/cocoon/snp/ghcbmsr"
)

// efiEntry is the PE entry point (UEFI 2.10, 4.1 EFI_IMAGE_ENTRY_POINT):
// Microsoft x64 calling convention, RCX = image handle, RDX = system
// table, long mode with the firmware's identity-mapped page tables.
func efiEntry()

// efiCall calls the UEFI function fn with the Microsoft x64 calling
// convention and returns its EFI_STATUS.
func efiCall(fn, a1, a2, a3, a4, a5, a6 uintptr) uintptr

// efiStage2 switches to the kernel's boot stack and runs efiAfterExit.
func efiStage2()

// efiEnterKernel copies n bytes of image from physical src to ImagePhys
// (unless src is ImagePhys), switches to the PVH boot page tables and
// descriptors and calls efiBoot. It does not return.
func efiEnterKernel(src, n uintptr)

// EntryEFI is the linker name of efiEntry, the PE entry point
// tools/efiimage looks up in the kernel's symbol table.
const EntryEFI = "github.com/cocoon-vm/cocoon/boot.efiEntry"

// efiEntryAddr keeps efiEntry in the link: the linker keeps only what is
// reachable from the ELF entry (pvhEntry) and package initializers.
var efiEntryAddr uintptr

func init() {
	f := efiEntry
	// unsafe: a func value points at a word holding the code address.
	efiEntryAddr = **(**uintptr)(unsafe.Pointer(&f))
}

// EFI_SYSTEM_TABLE offsets (UEFI 2.10, 4.3.1).
const (
	stConOut      = 0x40
	stBootService = 0x60
	stNumTables   = 0x68
	stTables      = 0x70
)

// EFI_BOOT_SERVICES offsets (UEFI 2.10, 4.4.1): the 24-byte table header,
// then one function pointer per service in the order of the table.
const (
	bsAllocatePages    = 0x28
	bsGetMemoryMap     = 0x38
	bsHandleProtocol   = 0x98
	bsLocateDevicePath = 0xb8
	bsExitBootServices = 0xe8
	bsSetWatchdogTimer = 0x100
)

// AllocatePages arguments (UEFI 2.10, 7.2 EFI_ALLOCATE_TYPE, EFI_MEMORY_TYPE).
const (
	allocateAnyPages   = 0
	allocateMaxAddress = 1
)

// EFI_STATUS values (UEFI 2.10, appendix D).
const (
	efiSuccess          = 0
	efiErr              = 1 << 63
	efiLoadError        = efiErr | 1
	efiInvalidParameter = efiErr | 2
	efiBufferTooSmall   = efiErr | 5
	efiNotFound         = efiErr | 14
	efiUnsupported      = efiErr | 3
)

// EFI_LOADED_IMAGE_PROTOCOL offsets (UEFI 2.10, 9.1).
const (
	liLoadOptionsSize = 48 // u32
	liLoadOptions     = 56
)

// GUIDs in their in-memory byte order (EFI_GUID: u32, u16, u16 little
// endian, then 8 bytes).
var (
	// EFI_LOADED_IMAGE_PROTOCOL_GUID 5b1b31a1-9562-11d2-8e3f-00a0c969723b.
	guidLoadedImage = [16]byte{0xa1, 0x31, 0x1b, 0x5b, 0x62, 0x95, 0xd2, 0x11, 0x8e, 0x3f, 0x00, 0xa0, 0xc9, 0x69, 0x72, 0x3b}
	// EFI_LOAD_FILE2_PROTOCOL_GUID 4006c0c1-fcb3-403e-996d-4a6c8724e06d.
	guidLoadFile2 = [16]byte{0xc1, 0xc0, 0x06, 0x40, 0xb3, 0xfc, 0x3e, 0x40, 0x99, 0x6d, 0x4a, 0x6c, 0x87, 0x24, 0xe0, 0x6d}
	// The SEV-SNP confidential-computing blob table (Linux
	// EFI_CC_BLOB_GUID, OVMF gConfidentialComputingSevSnpBlobGuid)
	// 067b1f5f-cf26-44c5-8554-93d777912d42.
	guidSNPBlob = [16]byte{0x5f, 0x1f, 0x7b, 0x06, 0x26, 0xcf, 0xc5, 0x44, 0x85, 0x54, 0x93, 0xd7, 0x77, 0x91, 0x2d, 0x42}
)

// efiInitrdPath is the device path OVMF (QemuKernelLoaderFsDxe) and other
// loaders put a LoadFile2 protocol on to serve the initrd: a vendor media
// node with LINUX_EFI_INITRD_MEDIA_GUID 5568e427-68fc-4f3d-ac74-ca555231cc68,
// then the end node (UEFI 2.10, 10.3.5.6 "Vendor-Defined Media Device
// Path" and 10.3.1 "End of Hardware Device Path").
var efiInitrdPath = [24]byte{
	4, 3, 20, 0, // MEDIA_DEVICE_PATH, MEDIA_VENDOR_DP, length 20
	0x27, 0xe4, 0x68, 0x55, 0xfc, 0x68, 0x3d, 0x4f, 0xac, 0x74, 0xca, 0x55, 0x52, 0x31, 0xcc, 0x68,
	0x7f, 0xff, 4, 0, // END_DEVICE_PATH_TYPE, END_ENTIRE_DEVICE_PATH_SUBTYPE
}

// SNPBlob is struct cc_blob_sev_info (Linux arch/x86/include/asm/sev.h,
// OVMF CONFIDENTIAL_COMPUTING_SNP_BLOB_LOCATION): where the firmware put
// the SEV-SNP secrets and CPUID pages. Zero when the firmware published
// none.
type SNPBlob struct {
	Secrets, SecretsLen uint64
	CPUID, CPUIDLen     uint64
}

// snpBlobMagic is cc_blob_sev_info.magic, "AMDE".
const snpBlobMagic = 0x45444d41

// EFISNPBlob returns the SEV-SNP secrets and CPUID page locations the
// UEFI firmware published, for the SNP platform. Zero under PVH.
func EFISNPBlob() SNPBlob { return efiSNP }

// State of the UEFI entry. The entry assembly fills the first group
// before any Go code runs.
var (
	efiImageHandle uintptr
	efiSystemTable uintptr
	efiLoadBase    uintptr // physical address of the loaded PE image (P)
	efiKernelSize  uintptr // bytes from ImagePhys to the end of bss, page-rounded
	efiFirmware    [32]uint64

	efiBS      uintptr // EFI_BOOT_SERVICES
	efiOut     [4]uintptr
	efiUTF16   [256]uint16
	efiCmdline [cmdlineMax]byte
	efiSNP     SNPBlob
	efiSNPAddr uintptr

	// The initrd: LoadFile2 buffer or embedded section, physical.
	efiInitrd, efiInitrdSize uintptr

	// Stage-1 page tables (allocated from firmware memory).
	efiTables, efiTablesSize uintptr
	// efiCBit is the SEV-SNP page-table C-bit (efiEncryptionBit), 0 when
	// not an SNP guest: the entry assembly sets it in every table entry
	// that maps private memory.
	efiCBit uint64

	// The final UEFI memory map, in the image's bss.
	efiMemMap                        [efiMemMapMax]byte
	efiMapSize, efiMapKey, efiDescSz uintptr
	efiDescVer                       uintptr
)

const (
	cmdlineMax   = 4096
	efiMemMapMax = 64 << 10
)

// imageLink is the kernel's link address of physical ImagePhys.
const imageLink = cpu.KernBase + ImagePhys

// efiPhys returns the physical address of a kernel variable in stage 1,
// when the image still runs where the firmware loaded it.
//
//go:nosplit
func efiPhys(p unsafe.Pointer) uintptr { return uintptr(p) - imageLink + efiLoadBase }

//go:nosplit
func bsFn(off uintptr) uintptr { return uintptr(*cpu.Ptr64(efiBS + off)) }

// efiMain is stage 1. It returns only on failure, with the status the
// entry returns to the firmware.
//
//go:nosplit
func efiMain() uintptr {
	efiBS = uintptr(*cpu.Ptr64(efiSystemTable + stBootService))
	// The boot manager arms a 5-minute watchdog before starting an
	// application (UEFI 2.10, 3.1.2); under TCG reading a large initrd
	// should not race it.
	efiCall(bsFn(bsSetWatchdogTimer), 0, 0, 0, 0, 0, 0)

	// The platform is chosen here, while the firmware still serves
	// CPUID for an encrypted guest (its #VC handler).
	if why, ok := detect(); !ok {
		return efiFail(why, efiUnsupported)
	}
	// The entry assembly decided the C-bit the same way before any Go
	// code ran; its page tables are only right if both agree.
	if encryption.Kind == snp.SNP && efiCBit != encryption.CBitMask() || encryption.Kind != snp.SNP && efiCBit != 0 {
		return efiFail("cocoon: the entry's C-bit disagrees with SEV-SNP detection\r\n", efiUnsupported)
	}

	if st := efiCall(bsFn(bsHandleProtocol), efiImageHandle, efiPhys(unsafe.Pointer(&guidLoadedImage)),
		efiPhys(unsafe.Pointer(&efiOut[0])), 0, 0, 0); st != efiSuccess {
		return efiFail("cocoon: no EFI_LOADED_IMAGE_PROTOCOL on the image handle\r\n", st)
	}
	li := efiOut[0]
	optSize := uintptr(*cpu.Ptr32(li + liLoadOptionsSize))
	opts := uintptr(*cpu.Ptr64(li + liLoadOptions))

	hdr := cpu.Bytes(efiLoadBase, 4096)
	haveCmdline := false
	if opts != 0 && optSize > 0 {
		haveCmdline = loadOptionsCmdline(cpu.Bytes(opts, optSize), efiCmdline[:])
	}
	if rva, size, ok := peSection(hdr, secCmdline); ok && !haveCmdline {
		copyCmdline(cpu.Bytes(efiLoadBase+uintptr(rva), uintptr(size)), efiCmdline[:])
	}

	if rva, size, ok := peSection(hdr, secInitrd); ok {
		efiInitrd, efiInitrdSize = efiLoadBase+uintptr(rva), uintptr(size)
	} else if st := efiLoadInitrd(); st != efiSuccess && st != efiNotFound {
		return efiFail("cocoon: reading the initrd through LoadFile2 failed\r\n", st)
	}
	// An SNP guest reads the initrd through its private mapping, which
	// ends at 3 GiB (snp.go, privateEnd).
	if encryption.Kind == snp.SNP && uint64(efiInitrd+efiInitrdSize) > privateEnd {
		return efiFail("cocoon: the initrd lies above 3 GiB, outside an SEV-SNP guest's private memory\r\n", efiUnsupported)
	}

	efiFindSNPBlob()
	if encryption.Kind == snp.SNP {
		if efiSNPAddr == 0 {
			return efiFail("cocoon: an SEV-SNP guest, but the firmware published no SNP secrets and CPUID pages\r\n", efiUnsupported)
		}
		if st := efiAllocShared(); st != efiSuccess {
			return efiFail("cocoon: allocating the SEV-SNP shared window failed\r\n", st)
		}
	}

	// ExitBootServices needs the key of the current memory map; a timer
	// event between the two calls can change the map, and the firmware
	// then answers EFI_INVALID_PARAMETER (UEFI 2.10, 7.4.6): get the map
	// again and retry. Nothing that allocates may run in between.
	var st uintptr
	for try := 0; try < 8; try++ {
		efiMapSize = efiMemMapMax
		st = efiCall(bsFn(bsGetMemoryMap), efiPhys(unsafe.Pointer(&efiMapSize)), efiPhys(unsafe.Pointer(&efiMemMap[0])),
			efiPhys(unsafe.Pointer(&efiMapKey)), efiPhys(unsafe.Pointer(&efiDescSz)), efiPhys(unsafe.Pointer(&efiDescVer)), 0)
		if st != efiSuccess {
			return efiFail("cocoon: GetMemoryMap failed (a map over 64 KiB?)\r\n", st)
		}
		st = efiCall(bsFn(bsExitBootServices), efiImageHandle, efiMapKey, 0, 0, 0, 0)
		if st != efiInvalidParameter {
			break
		}
	}
	if st != efiSuccess {
		return efiFail("cocoon: ExitBootServices failed\r\n", st)
	}
	efiStage2()
	return efiLoadError // not reached
}

// efiLoadInitrd loads the initrd through the LoadFile2 protocol on the
// Linux initrd media device path, into pages below 4 GiB (the kernel reads
// it through its 4 GiB direct map). EFI_NOT_FOUND: there is none.
//
//go:nosplit
func efiLoadInitrd() uintptr {
	// LocateDevicePath advances the path pointer past the part it
	// matched; LoadFile2 takes that remainder (the end node).
	efiOut[1] = efiPhys(unsafe.Pointer(&efiInitrdPath[0]))
	st := efiCall(bsFn(bsLocateDevicePath), efiPhys(unsafe.Pointer(&guidLoadFile2)),
		efiPhys(unsafe.Pointer(&efiOut[1])), efiPhys(unsafe.Pointer(&efiOut[0])), 0, 0, 0)
	if st != efiSuccess {
		return efiNotFound
	}
	handle := efiOut[0]
	if st := efiCall(bsFn(bsHandleProtocol), handle, efiPhys(unsafe.Pointer(&guidLoadFile2)),
		efiPhys(unsafe.Pointer(&efiOut[2])), 0, 0, 0); st != efiSuccess {
		return st
	}
	lf := efiOut[2]
	loadFile := uintptr(*cpu.Ptr64(lf)) // EFI_LOAD_FILE2_PROTOCOL.LoadFile
	efiOut[3] = 0
	st = efiCall(loadFile, lf, efiOut[1], 0, efiPhys(unsafe.Pointer(&efiOut[3])), 0, 0)
	if st == efiSuccess && efiOut[3] == 0 {
		return efiNotFound // an empty initrd
	}
	if st != efiBufferTooSmall {
		return st
	}
	size := efiOut[3]
	efiOut[0] = 1<<32 - 1
	if efiCBit != 0 {
		efiOut[0] = privateEnd - 1 // snp.go
	}
	if st := efiCall(bsFn(bsAllocatePages), allocateMaxAddress, memLoaderData, (size+4095)>>12,
		efiPhys(unsafe.Pointer(&efiOut[0])), 0, 0); st != efiSuccess {
		return st
	}
	buf := efiOut[0]
	if st := efiCall(loadFile, lf, efiOut[1], 0, efiPhys(unsafe.Pointer(&efiOut[3])), buf, 0); st != efiSuccess {
		return st
	}
	efiInitrd, efiInitrdSize = buf, efiOut[3]
	return efiSuccess
}

// efiFindSNPBlob looks for the SEV-SNP confidential-computing blob in the
// configuration table (EFI_CONFIGURATION_TABLE: GUID, pointer; UEFI 2.10,
// 4.6) and records it.
//
//go:nosplit
func efiFindSNPBlob() {
	n := uintptr(*cpu.Ptr64(efiSystemTable + stNumTables))
	t := uintptr(*cpu.Ptr64(efiSystemTable + stTables))
	for i := uintptr(0); i < n && i < 1024; i++ {
		e := t + i*24
		if *(*[16]byte)(unsafe.Pointer(cpu.Ptr64(e))) != guidSNPBlob {
			continue
		}
		p := uintptr(*cpu.Ptr64(e + 16))
		if p == 0 || *cpu.Ptr32(p) != snpBlobMagic {
			return
		}
		efiSNPAddr = p
		efiSNP = SNPBlob{
			Secrets: *cpu.Ptr64(p + 8), SecretsLen: uint64(*cpu.Ptr32(p + 16)),
			CPUID: *cpu.Ptr64(p + 24), CPUIDLen: uint64(*cpu.Ptr32(p + 32)),
		}
		return
	}
}

// efiFail prints msg and the status on the firmware console and returns
// status for the entry to hand back to the firmware.
//
//go:nosplit
func efiFail(msg string, status uintptr) uintptr {
	conOut := uintptr(*cpu.Ptr64(efiSystemTable + stConOut))
	if conOut == 0 {
		return status
	}
	out := uintptr(*cpu.Ptr64(conOut + 8)) // OutputString
	n := 0
	for i := 0; i < len(msg) && n < len(efiUTF16)-1; i++ {
		efiUTF16[n] = uint16(msg[i])
		n++
	}
	efiUTF16[n] = 0
	efiCall(out, conOut, efiPhys(unsafe.Pointer(&efiUTF16[0])), 0, 0, 0, 0)
	var hexbuf [32]byte
	s := hexStatus(status, hexbuf[:])
	n = 0
	for _, c := range s {
		efiUTF16[n] = uint16(c)
		n++
	}
	efiUTF16[n] = 0
	efiCall(out, conOut, efiPhys(unsafe.Pointer(&efiUTF16[0])), 0, 0, 0, 0)
	return status
}

// hexStatus formats "status 0x...\r\n" (27 bytes) into b.
//
//go:nosplit
func hexStatus(v uintptr, b []byte) []byte {
	const digits = "0123456789abcdef"
	n := copy(b, "status 0x")
	for shift := 60; shift >= 0; shift -= 4 {
		b[n] = digits[(v>>uint(shift))&0xf]
		n++
	}
	b[n], b[n+1] = '\r', '\n'
	return b[:n+2]
}

// efiAfterExit is stage 2: boot services are gone, interrupts are off and
// it runs on the kernel's boot stack, still in the image where the
// firmware loaded it. An SNP guest prints nothing here (port I/O raises
// #VC, and no handler is safe to reach until efiSNPStart: snp.go).
//
//go:nosplit
func efiAfterExit() {
	quiet := efiCBit != 0
	if !quiet {
		platform.Init()
		say("cocoon: boot (UEFI)\n")
	}
	mm := efiMemMap[:efiMapSize]
	convertMemoryMap(mm, efiDescSz, &info)
	if quiet {
		clipRAM(&info, privateEnd)
	}

	target := memRange{ImagePhys, uint64(efiKernelSize)}
	if bad, ok := rangeIsRAM(mm, efiDescSz, target); !ok {
		if !quiet {
			sayRange("cocoon: the kernel's physical range ", target)
			sayHex(" is not free RAM after ExitBootServices; firmware memory at ", bad)
			say("\ncocoon: (OVMF keeps ACPI NVS there when S3 is enabled: QEMU -global ICH9-LPC.disable_s3=1)\n")
		}
		efiStop(ghcbmsr.ReasonBoot)
	}
	// What the copy to ImagePhys must not overwrite.
	live := [...]memRange{
		{uint64(efiLoadBase), uint64(efiKernelSize)},
		{uint64(efiInitrd), uint64(efiInitrdSize)},
		{uint64(efiTables), uint64(efiTablesSize)},
		efiSharedAlloc,
		{uint64(efiSNPAddr) &^ 4095, 4096},
		{efiSNP.Secrets, efiSNP.SecretsLen},
		{efiSNP.CPUID, efiSNP.CPUIDLen},
	}
	for i, r := range live {
		if i == 0 && efiLoadBase == ImagePhys {
			continue
		}
		if r.overlaps(target) {
			if !quiet {
				sayRange("cocoon: the kernel's physical range ", target)
				sayRange(" overlaps boot data at ", r)
				say("; cannot move the kernel there\n")
			}
			efiStop(ghcbmsr.ReasonBoot)
		}
	}

	if efiCmdline[0] != 0 {
		info.Cmdline = uint64(cpu.Phys(uintptr(unsafe.Pointer(&efiCmdline[0]))))
	}
	if efiInitrdSize > 0 {
		info.Initrd, info.InitrdSize = uint64(efiInitrd), uint64(efiInitrdSize)
		keep(&info, info.Initrd, info.InitrdSize)
	}
	if efiSNPAddr != 0 {
		keep(&info, uint64(efiSNPAddr)&^4095, 4096)
		keep(&info, efiSNP.Secrets, efiSNP.SecretsLen)
		keep(&info, efiSNP.CPUID, efiSNP.CPUIDLen)
	}
	if efiSharedAlloc.size != 0 {
		keep(&info, efiSharedAlloc.base, efiSharedAlloc.size)
	}
	info.ImageStart = imageLink
	info.ImageEnd = imageLink + efiKernelSize
	info.CBit = efiCBit
	efiEnterKernel(efiLoadBase, efiKernelSize)
}

//go:nosplit
func sayRange(prefix string, r memRange) {
	sayHex(prefix, r.base)
	sayHex("-", r.base+r.size)
}

// sayHex prints prefix and v in hexadecimal without allocating.
//
//go:nosplit
func sayHex(prefix string, v uint64) {
	say(prefix)
	var b [18]byte
	const digits = "0123456789abcdef"
	b[0], b[1] = '0', 'x'
	for i := 0; i < 16; i++ {
		b[2+i] = digits[(v>>uint(60-4*i))&0xf]
	}
	platform.ConsoleWrite(b[:])
}
