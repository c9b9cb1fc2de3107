package qemu

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// newc returns a newc cpio archive of the given files, in order, with
// the trailer.
func newc(files ...[2]string) []byte {
	var b []byte
	add := func(name, data string, mode uint32) {
		b = fmt.Appendf(b, "070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
			1, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name)+1, 0)
		b = append(append(b, name...), 0)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
		b = append(b, data...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
	}
	for _, f := range files {
		add(f[0], f[1], 0o100755)
	}
	add("TRAILER!!!", "", 0)
	return b
}

// TestMinMemoryGoInit checks that the minimum for an initrd whose /init
// is a Go program (this test's own binary) leaves the Go runtime's heap
// index room past the kernel's image, the initrd and the first MiB, and
// that another /init, or a Go program elsewhere in the archive, does not
// count.
func TestMinMemoryGoInit(t *testing.T) {
	dir := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	goProg, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	kernel := filepath.Join(dir, "k.elf")
	writeELF(t, kernel, 0x200000, 10<<20) // 2 MiB .. 12 MiB
	for _, c := range []struct {
		name  string
		files [][2]string
		goApp bool
	}{
		{"go init", [][2]string{{"etc", "x"}, {"init", string(goProg)}}, true},
		{"./init", [][2]string{{"./init", string(goProg)}}, true},
		{"script init", [][2]string{{"init", "#!/bin/sh\necho hi\n"}, {"bin/app", string(goProg)}}, false},
		{"no init", [][2]string{{"bin/app", string(goProg)}}, false},
	} {
		a := newc(c.files...)
		initrd := filepath.Join(dir, "app.cpio")
		if err := os.WriteFile(initrd, a, 0o644); err != nil {
			t.Fatal(err)
		}
		const mib = 1 << 20
		rd := uint64(len(a))
		want := int((12<<20+rd+mib-1)/mib) + freeMiB
		if c.goApp {
			want = int((mib+10<<20+rd+mib-1)/mib) + goHeapIndexMiB + 1
		}
		if got, err := MinMemoryMiB(kernel, initrd); err != nil || got != want {
			t.Errorf("%s: MinMemoryMiB = %d, %v; want %d", c.name, got, err, want)
		}
	}
}
