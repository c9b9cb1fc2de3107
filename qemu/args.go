package qemu

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// isaDebugExit is the device through which the guest reports its status:
// a write of v to port 0xf4 makes QEMU exit with (v<<1)|1.
const isaDebugExit = "isa-debug-exit,iobase=0xf4,iosize=0x04"

// Machine options, checked on QEMU 7.2 with "info qtree" and "info mtree"
// in the monitor.
var (
	// microvmMachine: with TCG, QEMU 7.2's microvm defaults already turn
	// on the PIT, PIC, RTC, COM1, ACPI and a second IO-APIC. The options
	// pin what the guest needs so it does not change with the accelerator
	// or QEMU version, and drop what it does not use.
	microvmMachine = []string{
		"microvm",
		// i8254 PIT at 0x40-0x43. "auto" picks KVM's in-kernel PIT or
		// none depending on the accelerator.
		"pit=on",
		// i8259 PICs at 0x20/0xa0, as on q35, so the kernel masks them
		// the same way on every profile.
		"pic=on",
		// CMOS RTC at 0x70/0x71.
		"rtc=on",
		// COM1 at 0x3f8, IRQ 4, wired to the first -serial.
		"isa-serial=on",
		// ACPI tables: the MADT lists the local APIC and IO-APIC.
		"acpi=on",
		// The second IO-APIC only serves virtio-mmio IRQs 24-47.
		"ioapic2=off",
		// No PCIe host bridge.
		"pcie=off",
		// qboot (the microvm firmware) boots a PVH ELF itself from
		// fw_cfg; the pvh.bin option ROM that x86 -kernel loading
		// queues is not needed (the floor image boots without it).
		"x-option-roms=off",
		// Do not add virtio_mmio.device= entries to -append: the
		// guest sees exactly Config.Append.
		"auto-kernel-cmdline=off",
	}

	// q35Machine: SeaBIOS runs QEMU's pvh.bin option ROM, which enters
	// the PVH image. Dropping the unused devices takes about 10 ms off a boot
	// under TCG.
	q35Machine = []string{
		"q35",
		// No System Management Mode: neither SeaBIOS, OVMF_CODE_4M.fd
		// (the build without Secure Boot) nor the kernel needs it.
		"smm=off",
		// No VMware backdoor port at 0x5658.
		"vmport=off",
		// No AHCI controller; disks, when wanted, come from Extra.
		"sata=off",
	}
)

// ovmfVarsFile is the OVMF run's copy of Config.OVMFVars, in its private
// directory.
const ovmfVarsFile = "OVMF_VARS.fd"

// ovmfMachine adds to q35Machine for OVMF. With S3 (suspend to RAM)
// enabled, which QEMU 7.2's ICH9 does by default, OVMF keeps memory at
// 8-9 MiB as ACPI NVS for the resume path (its "memmap" shell command
// shows it), and that range lies inside the kernel's image at its fixed
// physical address. Cocoon never suspends.
var ovmfMachine = []string{"-global", "ICH9-LPC.disable_s3=1"}

// args returns QEMU's arguments, without the binary, for c. c must have
// its defaults applied; accel is c.Accel resolved (never Auto); dir is the
// run's private directory, which only OVMF uses (see prepareOVMF).
func args(c Config, accel Accel, dir string) ([]string, error) {
	switch {
	case c.Kernel == "" && c.Disk == "":
		return nil, errors.New("qemu: Config.Kernel is empty: set it to the guest image")
	case c.Disk != "" && c.Profile != OVMF:
		return nil, fmt.Errorf("qemu: Config.Disk needs the %q profile: only UEFI firmware boots a disk", OVMF)
	case c.Disk != "" && (c.Kernel != "" || c.Initrd != "" || c.Append != ""):
		return nil, errors.New("qemu: give Config.Disk or Config.Kernel (with Initrd and Append), not both")
	}
	if c.MemoryMiB < 0 || c.CPUs < 0 {
		return nil, fmt.Errorf("qemu: MemoryMiB %d and CPUs %d must not be negative", c.MemoryMiB, c.CPUs)
	}

	var a []string
	switch c.Profile {
	case Microvm:
		a = append(a, "-machine", strings.Join(microvmMachine, ","))
	case Q35:
		a = append(a, "-machine", strings.Join(q35Machine, ","))
	case OVMF:
		a = append(a, "-machine", strings.Join(q35Machine, ","))
		a = append(a, ovmfMachine...)
		a = append(a,
			// The firmware: code read-only, variables writable (OVMF
			// records boot options there), hence the private copy.
			"-drive", "if=pflash,format=raw,unit=0,readonly=on,file="+optValue(c.OVMFCode),
			"-drive", "if=pflash,format=raw,unit=1,file="+optValue(filepath.Join(dir, ovmfVarsFile)))
	default:
		return nil, fmt.Errorf("qemu: unknown profile %q: use %q, %q or %q", c.Profile, Microvm, Q35, OVMF)
	}

	// The CPU model. Cocoon's kernel refuses to boot without RDRAND or
	// RDSEED, which QEMU's default model (qemu64) lacks. Under TCG "max"
	// is QEMU's full emulated feature set (RDRAND, RDSEED, XSAVE, AVX2).
	// Under KVM "host" passes the real CPU through; plain "host" (and
	// "max") made QEMU 7.2 abort under nested KVM, failing to set MSR
	// 0x10a (IA32_ARCH_CAPABILITIES), hence "-arch-capabilities".
	switch accel {
	case TCG, KVM:
		a = append(a, "-accel", string(accel))
	default:
		return nil, fmt.Errorf("qemu: unknown accelerator %q: use %q, %q or %q", accel, TCG, KVM, Auto)
	}
	cpuModel := c.CPU
	if cpuModel == "" {
		cpuModel = "max"
		if accel == KVM {
			cpuModel = "host,-arch-capabilities"
		}
	}
	a = append(a, "-cpu", cpuModel)

	a = append(a,
		"-m", strconv.Itoa(c.MemoryMiB),
		"-smp", strconv.Itoa(c.CPUs),
		// No default NIC, VGA, floppy, CD-ROM, parallel port or
		// monitor: the guest sees only what the profile lists.
		"-nodefaults",
		// Ignore the host's /etc/qemu configuration files.
		"-no-user-config",
		// No window.
		"-display", "none",
		// A guest reset (a triple fault, or a reboot request) stops
		// QEMU with exit status 0 instead of booting again.
		"-no-reboot",
		// COM1 is QEMU's stdout, which Run reads; its stdin is
		// /dev/null, so the guest reads no input.
		"-serial", "stdio",
		"-device", isaDebugExit,
	)

	if c.Net != nil {
		na, err := netArgs(c.Net, c.Profile)
		if err != nil {
			return nil, err
		}
		a = append(a, na...)
	}
	if c.Profile == OVMF {
		// No default NIC, so OVMF never tries PXE; -nodefaults already
		// drops it, this says so. Net's virtio-net-pci has no option
		// ROM, and with -kernel OVMF starts the kernel before any boot
		// option.
		a = append(a, "-net", "none")
		if c.Disk != "" {
			a = append(a,
				"-drive", "if=none,id=disk,format=raw,readonly=on,file="+optValue(c.Disk),
				"-device", "virtio-blk-pci,drive=disk,bootindex=0")
			return append(a, c.Extra...), nil
		}
	}

	a = append(a, "-kernel", c.Kernel)
	if c.Initrd != "" {
		a = append(a, "-initrd", c.Initrd)
	}
	if c.Append != "" {
		a = append(a, "-append", c.Append)
	}
	return append(a, c.Extra...), nil
}

// prepareOVMF fills dir, the private directory of an OVMF run, with the
// copy of the variable store args refers to.
func prepareOVMF(c Config, dir string) error {
	if _, err := os.Stat(c.OVMFCode); err != nil {
		return fmt.Errorf("qemu: OVMF firmware: %w (install the ovmf package)", err)
	}
	if err := copyFile(filepath.Join(dir, ovmfVarsFile), c.OVMFVars); err != nil {
		return fmt.Errorf("qemu: OVMF variable store: %w (install the ovmf package)", err)
	}
	return nil
}

func copyFile(dst, src string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o600)
}

// optValue escapes s for use as a value in a QEMU option list such as
// -drive's, where a comma is written as two.
func optValue(s string) string {
	return strings.ReplaceAll(s, ",", ",,")
}

// shellQuote returns words as a POSIX shell command line that runs them
// unchanged: words made only of safe characters stay bare, the rest are
// single-quoted.
func shellQuote(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = shellWord(w)
	}
	return strings.Join(q, " ")
}

func shellWord(w string) string {
	if w == "" {
		return "''"
	}
	if strings.IndexFunc(w, needsQuote) < 0 {
		return w
	}
	// Inside single quotes nothing is special except the closing quote,
	// which is written as: end quote, escaped quote, new quote.
	return "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
}

// needsQuote reports whether r is special to a POSIX shell (or is not
// plain ASCII, to keep the line readable everywhere).
func needsQuote(r rune) bool {
	switch {
	case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
		return false
	}
	return !strings.ContainsRune("@%+=:,./-_", r)
}
