package main

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/cocoon-vm/cocoon/boot/pvhelf"
	"github.com/cocoon-vm/cocoon/hal"
	"github.com/cocoon-vm/cocoon/lvbs/skimage"
	"github.com/cocoon-vm/cocoon/tools/efiimage"
	"github.com/cocoon-vm/cocoon/tools/kbuild"
)

func init() {
	commands["inspect"] = command{
		summary: "show what an image is made of and every way it can reach the host",
		run:     runInspect,
	}
}

func runInspect(args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mkimage inspect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, `Usage: mkimage inspect [IMAGE]

Prints what IMAGE contains: for NAME or NAME.elf the kernel's ELF layout
and PVH entry; for NAME.efi or NAME.img (UEFI application, GPT disk) the
PE sections, entry, payload, embedded command line and SHA-256 of each
part; whether the kernel has a network ('mkimage build --network'); the application archive (NAME.cpio) if there is one; and the LVBS
image NAME.lvbs/skloader.bin and NAME.lvbs/vmlinux.bin if there is one. Then the
image's host interface: every I/O port, MMIO range, MSR and intercepted
instruction Cocoon uses on the generic PC platform, and every GHCB event
and MSR on the SEV-SNP platform, and every hypercall, MSR and SynIC use
on the LVBS platform. Without IMAGE, only the host interface.`)
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return nil
		}
		return errUsage
	}
	if fs.NArg() > 1 {
		fs.Usage()
		return errUsage
	}
	if fs.NArg() == 1 {
		if err := inspectImage(fs.Arg(0), stdout); err != nil {
			return err
		}
	}
	for _, p := range hal.InventoryPlatforms {
		exits := hal.Inventory(p)
		title := map[string]string{"pc": "generic PC", "snp": "SEV-SNP", "lvbs": "LVBS, Hyper-V VTL1"}[p]
		fmt.Fprintf(stdout, "Host interface (%s platform, %d entries, checked against the kernel's code):\n", title, len(exits))
		printExits(stdout, exits)
		fmt.Fprintf(stdout, "  time: %s\n", hal.TimeSources[p])
	}
	return nil
}

func printExits(w io.Writer, exits []hal.HostExit) {
	for _, e := range exits {
		fmt.Fprintf(w, "  %-12s %-24s %s\n", e.Kind, e.Place(), e.What)
	}
}

func inspectImage(image string, w io.Writer) error {
	// A UEFI application or a GPT disk image.
	if strings.HasSuffix(image, ".efi") || strings.HasSuffix(image, ".img") {
		b, err := os.ReadFile(image)
		if err != nil {
			return err
		}
		if efiimage.IsDisk(b) {
			fmt.Fprintf(w, "Disk %s: GPT, %d MiB, sha256 %x, ESP file \\EFI\\BOOT\\BOOTX64.EFI:\n", image, len(b)>>20, sha256.Sum256(b))
			if b, err = efiimage.ReadDisk(image); err != nil {
				return err
			}
		}
		info, err := efiimage.Inspect(b)
		if err != nil {
			return fmt.Errorf("%s: %v", image, err)
		}
		info.Write(w, image)
		writeNetwork(w, b)
		name := strings.TrimSuffix(strings.TrimSuffix(image, ".efi"), ".img")
		if a, err := os.ReadFile(name + ".cpio"); err == nil {
			fmt.Fprintf(w, "Application %s.cpio: %d KiB, sha256 %x\n", name, len(a)>>10, sha256.Sum256(a))
		}
		return nil
	}
	name := strings.TrimSuffix(image, ".elf")
	img, err := os.ReadFile(name + ".elf")
	if err != nil {
		return fmt.Errorf("%v (build one with 'mkimage build')", err)
	}
	f, err := elf.NewFile(bytes.NewReader(img))
	if err != nil {
		return fmt.Errorf("%s.elf: %v", name, err)
	}
	entry, err := pvhelf.Entry(img)
	if err != nil {
		return fmt.Errorf("%s.elf: %v (not a Cocoon kernel?)", name, err)
	}
	fmt.Fprintf(w, "Kernel %s.elf: %d KiB, PVH entry %#x (physical), ELF entry %#x\n", name, len(img)>>10, entry, f.Entry)
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			fmt.Fprintf(w, "  load %#x-%#x (physical %#x) %v, %d KiB in the file\n", p.Vaddr, p.Vaddr+p.Memsz, p.Paddr, p.Flags, p.Filesz>>10)
		}
	}
	writeNetwork(w, img)
	if a, err := os.ReadFile(name + ".cpio"); err == nil {
		fmt.Fprintf(w, "Application %s.cpio: %d KiB, sha256 %x\n", name, len(a)>>10, sha256.Sum256(a))
	}
	return inspectLVBS(name, w)
}

// writeNetwork says whether the kernel image img was built with a
// network ('mkimage build --network').
func writeNetwork(w io.Writer, img []byte) {
	if kbuild.WithoutNetwork(img) {
		fmt.Fprintln(w, "  network: none (built without: socket(2) fails with EAFNOSUPPORT for AF_INET, AF_INET6 and AF_NETLINK)")
	} else {
		fmt.Fprintln(w, "  network: gVisor's TCP/IP stack, a virtio-net device if the machine has one")
	}
}

// inspectLVBS describes the LVBS image NAME.lvbs/skloader.bin and
// NAME.lvbs/vmlinux.bin, if the build wrote one.
func inspectLVBS(name string, w io.Writer) error {
	dir := name + ".lvbs"
	loader, err := os.ReadFile(filepath.Join(dir, "skloader.bin"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	h, err := skimage.Parse(loader)
	if err != nil {
		return fmt.Errorf("%s/skloader.bin: %v", dir, err)
	}
	k, err := os.ReadFile(filepath.Join(dir, "vmlinux.bin"))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "LVBS image %s/: skloader.bin %d bytes (sha256 %x), vmlinux.bin %d KiB (sha256 %x): kernel %d KiB (%d KiB in memory), application archive %d KiB\n",
		dir, len(loader), sha256.Sum256(loader), len(k)>>10, sha256.Sum256(k), h.KernelLen>>10, h.MemLen>>10, h.InitrdLen>>10)
	fmt.Fprintf(w, "  load with securekernel=%dM@%#x or larger; command line %q\n", skimage.MinReservation(h.MemLen, h.InitrdLen)>>20, skimage.Base, h.Cmdline)
	return nil
}
