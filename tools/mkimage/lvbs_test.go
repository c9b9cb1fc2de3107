package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cocoon-vm/cocoon/lvbs/skimage"
)

// TestBuildLVBS builds an LVBS image as docs/LVBS.md says, and reads it
// back: the two files the VTL0 loader takes, the application archive in
// vmlinux.bin, the application's arguments embedded, and inspect's
// description and host interface.
func TestBuildLVBS(t *testing.T) {
	name := filepath.Join(t.TempDir(), "sk")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"build", "--platform", "lvbs", "--arg", "serve", "-o", name, "github.com/cocoon-vm/cocoon/images/hello"}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("build exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "securekernel=") || !strings.Contains(stdout.String(), "@0x1e00000") {
		t.Errorf("build does not say how to reserve the secure kernel's memory: %q", stdout.String())
	}
	loader, err := os.ReadFile(filepath.Join(name+".lvbs", "skloader.bin"))
	if err != nil {
		t.Fatal(err)
	}
	vmlinux, err := os.ReadFile(filepath.Join(name+".lvbs", "vmlinux.bin"))
	if err != nil {
		t.Fatal(err)
	}
	archive, err := os.ReadFile(name + ".cpio")
	if err != nil {
		t.Fatal(err)
	}
	h, err := skimage.Parse(loader)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(vmlinux[h.KernelLen:], archive) {
		t.Error("vmlinux.bin does not end with the application archive")
	}
	if !strings.Contains(h.Cmdline, "serve") {
		t.Errorf("embedded command line %q lacks the argument", h.Cmdline)
	}
	stdout.Reset()
	if code := run([]string{"inspect", name}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("inspect exit %d: %s", code, stderr.String())
	}
	for _, want := range []string{"LVBS image", "vmlinux.bin", "LVBS, Hyper-V VTL1 platform", "0x40000001", "0x000c (rep)", "VTL return"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("inspect output lacks %q", want)
		}
	}
}

func TestBuildLVBSUsage(t *testing.T) {
	for _, args := range [][]string{
		{"build", "--platform", "lvbs", "--format", "efi", "x"},
		{"build", "--platform", "lvbs", "--embed", "x"},
		{"build", "--platform", "mars", "x"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(args, nil, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "platform") {
			t.Errorf("%q: exit %d, stderr %q", args, code, stderr.String())
		}
	}
}
