package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBuildRefusesDynamicELF(t *testing.T) {
	if _, err := os.Stat("/bin/ls"); err != nil {
		t.Skip("no /bin/ls")
	}
	out := filepath.Join(t.TempDir(), "img")
	var stdout, stderr bytes.Buffer
	code := run([]string{"build", "--elf", "/bin/ls", "-o", out}, &stdout, &stderr)
	if code == 0 {
		t.Fatal("build --elf /bin/ls succeeded")
	}
	if !strings.Contains(stderr.String(), "dynamically linked") {
		t.Errorf("stderr %q does not say why", stderr.String())
	}
	if _, err := os.Stat(out + ".elf"); err == nil {
		t.Error("a kernel was built for a refused application")
	}
}

func TestBuildUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"build"}, &stdout, &stderr); code != 2 {
		t.Errorf("build with no arguments exit %d, want 2", code)
	}
	if !strings.Contains(stderr.String(), "nothing to build") {
		t.Errorf("stderr %q", stderr.String())
	}
	stderr.Reset()
	if code := run([]string{"build", "--help"}, &stdout, &stderr); code != 0 || !strings.Contains(stderr.String(), "--elf") {
		t.Errorf("build --help exit %d, text %q", code, stderr.String())
	}
	if code := run([]string{"run", "/nonexistent/image"}, &stdout, &stderr); code != 1 {
		t.Errorf("run of a missing image exit %d, want 1", code)
	}
}

func TestInspectListsHostInterface(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"inspect"}, &stdout, &stderr); code != 0 {
		t.Fatalf("inspect exit %d: %s", code, stderr.String())
	}
	for _, want := range []string{"0x3f8-0x3ff", "isa-debug-exit", "0xfee00000", "cpuid", "0xc0000081-0xc0000084"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("inspect output lacks %q", want)
		}
	}
	if code := run([]string{"inspect", filepath.Join(t.TempDir(), "missing")}, &stdout, &stderr); code != 1 {
		t.Errorf("inspect of a missing image exit %d, want 1", code)
	}
}

func TestInspectRejectsBadEFI(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bad.efi")
	os.WriteFile(p, []byte("not a PE file at all"), 0o644)
	var stdout, stderr bytes.Buffer
	if code := run([]string{"inspect", p}, &stdout, &stderr); code != 1 {
		t.Errorf("inspect of a bad .efi exit %d, want 1 (stderr %q)", code, stderr.String())
	}
}
