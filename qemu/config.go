package qemu

import (
	"io"
	"time"
)

// Profile names a machine configuration: a QEMU machine type and the
// options that shape it for Cocoon.
type Profile string

// The guest kernel relies on these devices: COM1 at 0x3f8, the i8254 PIT
// (ports 0x40-0x43, and port 0x61 for the channel 2 gate), a local APIC,
// the CMOS RTC (0x70/0x71) and isa-debug-exit at 0xf4. Every profile adds
// isa-debug-exit and wires COM1 to the console; the rest comes from the
// machine type.
const (
	// Microvm is QEMU's minimal x86 machine booted by qboot. It gives
	// COM1, the PIT on 0x40-0x43, a local APIC (listed in the ACPI MADT),
	// the CMOS RTC and isa-debug-exit. It has no port 0x61: QEMU 7.2
	// cannot add the PC speaker device that implements it to microvm, so
	// reads return 0xff and the PIT channel 2 gate stays low. A kernel
	// calibrating on microvm must count with channel 0 instead. It also
	// has no HPET and no ACPI PM timer.
	Microvm Profile = "microvm"

	// Q35 is the ICH9 PC; SeaBIOS runs QEMU's pvh.bin option ROM, which
	// enters the PVH image. It gives everything the kernel needs, port
	// 0x61 included, plus an HPET and the ACPI PM timer.
	Q35 Profile = "q35"

	// OVMF is Q35 booted by UEFI firmware (OVMF) from pflash: the
	// read-only code image and a fresh copy of the variable store for
	// every run, with S3 off (see args.go). It boots either Kernel, a
	// UEFI application that also carries a Linux boot-protocol header
	// (what 'mkimage build --format efi' writes; QEMU's x86 -kernel
	// takes no other PE file), through QEMU's -kernel, -initrd and
	// -append, which OVMF turns into LoadImage, a LoadFile2 initrd and
	// the load options; or Disk, a raw disk image with an EFI system
	// partition, on virtio-blk. The devices are those of Q35, plus that
	// disk; no NIC, so the firmware never tries network boot. Under TCG,
	// OVMF takes seconds to reach the application.
	OVMF Profile = "ovmf"
)

// Accel chooses how QEMU executes guest code.
type Accel string

const (
	// TCG is QEMU's translator: slow but works everywhere, the default.
	TCG Accel = "tcg"
	// KVM uses hardware virtualization through /dev/kvm.
	KVM Accel = "kvm"
	// Auto uses KVM if KVMWorks says it does, TCG otherwise.
	Auto Accel = "auto"
)

// Defaults for the zero values of Config fields.
const (
	DefaultProfile   = Microvm
	DefaultMemoryMiB = 256
	DefaultCPUs      = 1
	DefaultAccel     = TCG
	DefaultTimeout   = 60 * time.Second

	// DefaultOVMFCode and DefaultOVMFVars are the 4 MiB flash images of
	// Debian's ovmf package.
	DefaultOVMFCode = "/usr/share/OVMF/OVMF_CODE_4M.fd"
	DefaultOVMFVars = "/usr/share/OVMF/OVMF_VARS_4M.fd"
)

// BinaryEnv is the environment variable that overrides the QEMU binary
// when Config.QEMU is empty.
const BinaryEnv = "COCOON_QEMU"

// Config describes one guest run. The zero value of every field except
// Kernel has a useful default.
type Config struct {
	// Profile is the machine; default DefaultProfile.
	Profile Profile

	// Kernel is the guest image, passed with -kernel: a PVH ELF for
	// Microvm and Q35, a UEFI application with a Linux boot header for
	// OVMF.
	Kernel string
	// Initrd, if set, is passed with -initrd.
	Initrd string
	// Append, if set, is the kernel command line, -append.
	Append string
	// Disk, for OVMF instead of Kernel, is a raw disk image the firmware
	// boots from (its EFI system partition's \EFI\BOOT\BOOTX64.EFI).
	// QEMU opens it read-only.
	Disk string

	// MemoryMiB is guest RAM in MiB; default DefaultMemoryMiB.
	MemoryMiB int
	// CPUs is the number of virtual CPUs; default DefaultCPUs.
	CPUs int
	// Accel is the accelerator; default DefaultAccel.
	Accel Accel
	// CPU is the -cpu model; default "max" under TCG and
	// "host,-arch-capabilities" under KVM (see args.go).
	CPU string

	// Timeout bounds the whole run; QEMU is killed when it expires.
	// Default DefaultTimeout.
	Timeout time.Duration

	// Console, if set, receives the bytes of the guest's COM1 as they
	// arrive. Result.Console has them too.
	Console io.Writer
	// Stdio, if set, gives the application standard streams of their
	// own instead of the console (see Stdio); it needs Kernel, not Disk.
	Stdio *Stdio

	// Log, if set, receives the command line, quoted for a POSIX shell,
	// before QEMU starts.
	Log io.Writer

	// Extra arguments are appended to the command line. QEMU takes the
	// last of repeated options such as -cpu or -m, so Extra can override
	// a profile's choice. Further serial ports go here for now, as
	// "-chardev BACKEND,id=ID -device isa-serial,chardev=ID,index=N",
	// which works on every profile (microvm wires only the first -serial).
	Extra []string

	// Net, if set, gives the guest a network device (see Net).
	Net *Net
	// QEMU is the qemu-system-x86_64 binary, a path or a name looked up in
	// PATH. Default: $COCOON_QEMU, then qemu-system-x86_64.
	QEMU string

	// OVMFCode and OVMFVars are the firmware images of the OVMF profile;
	// defaults DefaultOVMFCode and DefaultOVMFVars. OVMFVars is only read:
	// each run boots a private copy of it.
	OVMFCode string
	OVMFVars string
}

// withDefaults returns c with its zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.Profile == "" {
		c.Profile = DefaultProfile
	}
	if c.MemoryMiB == 0 {
		c.MemoryMiB = DefaultMemoryMiB
	}
	if c.CPUs == 0 {
		c.CPUs = DefaultCPUs
	}
	if c.Accel == "" {
		c.Accel = DefaultAccel
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.OVMFCode == "" {
		c.OVMFCode = DefaultOVMFCode
	}
	if c.OVMFVars == "" {
		c.OVMFVars = DefaultOVMFVars
	}
	return c
}
