package efiimage

// QEMU integration tests: Cocoon images booted by OVMF under TCG, through
// QEMU's -kernel (OVMF's LoadImage, LoadFile2 initrd and load options)
// and from a GPT disk. OVMF takes seconds per boot under TCG, so there
// are three boots in all.

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cocoon-vm/cocoon/internal/testenv"
	"github.com/cocoon-vm/cocoon/qemu"
	"github.com/cocoon-vm/cocoon/tools/appimage"
	"github.com/cocoon-vm/cocoon/tools/kbuild"
)

// moduleRoot is where go builds run, relative to this package.
const moduleRoot = "../.."

func needOVMF(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		testenv.Missing(t, "qemu-system-x86_64 not found: install the qemu-system-x86 package to run VM tests")
	}
	if _, err := os.Stat(qemu.DefaultOVMFCode); err != nil {
		testenv.Missing(t, "%v: install the ovmf package to run UEFI VM tests", err)
	}
}

// buildEFI builds kernel package kpkg with application package app (none
// if "") and returns the UEFI application and, unless embed, the archive.
func buildEFI(t *testing.T, kpkg, app string, embed bool) (efi, cpio string) {
	t.Helper()
	dir := t.TempDir()
	elfPath := filepath.Join(dir, "kernel.elf")
	if err := kbuild.Kernel(t.Context(), kpkg, elfPath, kbuild.Options{Dir: moduleRoot}); err != nil {
		t.Fatalf("building %s: %v", kpkg, err)
	}
	kernel, err := os.ReadFile(elfPath)
	if err != nil {
		t.Fatal(err)
	}
	var archive []byte
	if app != "" {
		init, err := appimage.BuildGo(t.Context(), app, moduleRoot)
		if err != nil {
			t.Fatalf("building %s: %v", app, err)
		}
		defer os.Remove(init)
		var b bytes.Buffer
		if err := appimage.Pack(&b, init, nil); err != nil {
			t.Fatal(err)
		}
		archive = b.Bytes()
	}
	var o Options
	if embed {
		o.Initrd = archive
	} else if archive != nil {
		cpio = filepath.Join(dir, "app.cpio")
		if err := os.WriteFile(cpio, archive, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	img, err := Build(kernel, o)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	efi = filepath.Join(dir, "cocoon.efi")
	if err := os.WriteFile(efi, img, 0o644); err != nil {
		t.Fatal(err)
	}
	return efi, cpio
}

func boot(t *testing.T, cfg qemu.Config) (string, error) {
	t.Helper()
	cfg.Profile = qemu.OVMF
	cfg.Accel = qemu.TCG
	cfg.Timeout = 5 * time.Minute
	res, err := qemu.Run(context.Background(), cfg)
	if res == nil {
		t.Fatalf("qemu: %v", err)
	}
	console := strings.ReplaceAll(res.Console, "\r", "")
	t.Logf("OVMF boot: %v in %v\n%s", err, res.Wall.Round(time.Millisecond), console)
	return console, err
}

func wantConsole(t *testing.T, console string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(console, w) {
			t.Errorf("console lacks %q", w)
		}
	}
}

// TestVMOVMFKernelInitrd boots hello as QEMU -kernel cocoon.efi -initrd
// app.cpio -append ...: the path OVMF's measured direct boot covers.
func TestVMOVMFKernelInitrd(t *testing.T) {
	t.Parallel()
	needOVMF(t)
	efi, cpio := buildEFI(t, "./north/cocoon", "./images/hello", false)
	console, err := boot(t, qemu.Config{Kernel: efi, Initrd: cpio, Append: "one two GREETING=hi"})
	if err != nil {
		t.Fatalf("hello under OVMF -kernel: %v", err)
	}
	wantConsole(t, console, "cocoon: boot (UEFI)", `hello from /init: args=["one" "two"]`, `hello: env=["PATH=/sbin:/usr/sbin:/bin:/usr/bin" "HOME=/" "TERM=linux" "GREETING=hi"]`)
}

// TestVMOVMFDisk boots stress from a GPT disk whose ESP holds the
// self-contained application.
func TestVMOVMFDisk(t *testing.T) {
	t.Parallel()
	needOVMF(t)
	efi, _ := buildEFI(t, "./north/cocoon", "./images/stress", true)
	img, err := os.ReadFile(efi)
	if err != nil {
		t.Fatal(err)
	}
	disk := filepath.Join(t.TempDir(), "stress.img")
	if err := WriteDisk(disk, img); err != nil {
		t.Fatal(err)
	}
	console, err := boot(t, qemu.Config{Disk: disk})
	if err != nil {
		t.Fatalf("stress from an OVMF disk: %v", err)
	}
	wantConsole(t, console, "cocoon: boot (UEFI)", "stress: nil dereference: ok", "stress: files: ok", "stress: PASS")
}

// TestVMOVMFOtherWay boots each application the other way round too:
// stress through -kernel/-initrd, hello from a disk (with its command
// line embedded, since a disk boot gets no load options).
func TestVMOVMFOtherWay(t *testing.T) {
	t.Parallel()
	needOVMF(t)
	efi, cpio := buildEFI(t, "./north/cocoon", "./images/stress", false)
	console, err := boot(t, qemu.Config{Kernel: efi, Initrd: cpio})
	if err != nil {
		t.Fatalf("stress under OVMF -kernel: %v", err)
	}
	wantConsole(t, console, "cocoon: boot (UEFI)", "stress: PASS")

	efi, _ = buildEFI(t, "./north/cocoon", "./images/hello", true)
	img, err := os.ReadFile(efi)
	if err != nil {
		t.Fatal(err)
	}
	disk := filepath.Join(t.TempDir(), "hello.img")
	if err := WriteDisk(disk, img); err != nil {
		t.Fatal(err)
	}
	console, err = boot(t, qemu.Config{Disk: disk})
	if err != nil {
		t.Fatalf("hello from an OVMF disk: %v", err)
	}
	wantConsole(t, console, "cocoon: boot (UEFI)", "hello from /init")
}

// TestVMOVMFSelftestExit boots the selftest kernel alone (no initrd) and
// checks that its exit status comes through.
func TestVMOVMFSelftestExit(t *testing.T) {
	t.Parallel()
	needOVMF(t)
	efi, _ := buildEFI(t, "./images/selftest", "", false)
	console, err := boot(t, qemu.Config{Kernel: efi, Append: "exit 7"})
	var ee *qemu.ExitError
	if !errors.As(err, &ee) || ee.Status != 7 {
		t.Errorf("selftest exit 7 under OVMF = %v, want exit status 7", err)
	}
	wantConsole(t, console, "cocoon: boot (UEFI)", "selftest: main reached")
}

// TestVMOVMFWX checks W^X on the UEFI path, whose entry copies the kernel
// and runs on its own boot tables: the selftest kernel walks its live page
// tables and fails unless no page is writable and executable, the text
// read-only and data and the direct map non-executable.
func TestVMOVMFWX(t *testing.T) {
	t.Parallel()
	needOVMF(t)
	efi, _ := buildEFI(t, "./images/selftest", "", false)
	console, err := boot(t, qemu.Config{Kernel: efi, Append: "wx"})
	if err != nil {
		t.Errorf("selftest wx under OVMF: %v", err)
	}
	wantConsole(t, console, "cocoon: boot (UEFI)", "W^X", "wx: ok", "selftest: PASS")
}
