package qemu

import (
	"encoding/binary"
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

// TestMinMemory checks the minimum for a kernel at 2..12 MiB and an
// initrd whose /init is a program loading 3 MiB and a page: the kernel's
// image, the initrd and the first MiB, then the RAM the kernel manages,
// whose eighth (at least 8 MiB) is its reserve, must hold the kernel's
// runtime, the program's segments and its first pages. The command line
// does not matter to a program that is not Go.
func TestMinMemory(t *testing.T) {
	dir := t.TempDir()
	kernel := filepath.Join(dir, "k.elf")
	writeELF(t, kernel, 0x200000, 10<<20)
	initrd := filepath.Join(dir, "app.cpio")
	prog := elfBytes(0x400000, 3<<20+1)
	a := newc([2]string{"init", string(prog)})
	if err := os.WriteFile(initrd, a, 0o644); err != nil {
		t.Fatal(err)
	}
	// 1 + 10 MiB + the archive; the managed RAM holds 1 MiB for the
	// kernel, 3 MiB and a page for the segments, 1 MiB for the program's
	// start and the 8 MiB reserve: 24 MiB and some, 25.
	for _, line := range []string{"", "sysctl.vm.overcommit_memory=1"} {
		if got, err := MinMemoryMiB(kernel, initrd, line); err != nil || got != 25 {
			t.Errorf("%q: MinMemoryMiB = %d, %v; want 25", line, got, err)
		}
	}
	// A 600 MiB program: the reserve would be an eighth of the managed
	// RAM, but is at most 64 MiB.
	big := elfBytes(0x400000, 600<<20)
	if err := os.WriteFile(initrd, newc([2]string{"init", string(big)}), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := MinMemoryMiB(kernel, initrd, ""); err != nil || got != 11+602+64+1 {
		t.Errorf("600 MiB program: MinMemoryMiB = %d, %v; want %d", got, err, 11+602+64+1)
	}
	// A 70 MiB program: an eighth, 72 MiB * 8/7 (82.3 MiB).
	if err := os.WriteFile(initrd, newc([2]string{"init", string(elfBytes(0x400000, 70<<20))}), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := MinMemoryMiB(kernel, initrd, ""); err != nil || got != 94 {
		t.Errorf("70 MiB program: MinMemoryMiB = %d, %v; want 94", got, err)
	}
}

// TestMinMemoryGoInit checks that the minimum for an initrd whose /init
// is a Go program (this test's own binary) leaves the Go runtime's heap
// index room past the kernel's image, the initrd and the first MiB under
// the default overcommit policy and not under overcommit always, and that
// another /init, or a Go program elsewhere in the archive, does not count.
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
	small := string(elfBytes(0x400000, 1<<20))
	for _, c := range []struct {
		name  string
		files [][2]string
		goApp bool
	}{
		{"go init", [][2]string{{"etc", "x"}, {"init", string(goProg)}}, true},
		{"./init", [][2]string{{"./init", string(goProg)}}, true},
		{"C init", [][2]string{{"init", small}, {"bin/app", string(goProg)}}, false},
		{"no init", [][2]string{{"bin/app", string(goProg)}}, false},
	} {
		a := newc(c.files...)
		initrd := filepath.Join(dir, "app.cpio")
		if err := os.WriteFile(initrd, a, 0o644); err != nil {
			t.Fatal(err)
		}
		const mib = 1 << 20
		kept := mib + 10<<20 + uint64(len(a))
		always, err := MinMemoryMiB(kernel, initrd, "a sysctl.vm.overcommit_memory=1 b")
		if min := int(kept>>20) + reserveMiB; err != nil || always <= min {
			t.Errorf("%s, overcommit always: MinMemoryMiB = %d, %v; want more than %d", c.name, always, err, min)
		}
		want := always
		if c.goApp {
			want = max(always, int((kept+goHeapIndexMiB*mib+mib/2+mib-1)/mib))
		}
		for _, line := range []string{"", "sysctl.vm.overcommit_memory=0", "sysctl.vm.overcommit_memory=1 sysctl.vm/overcommit_memory=0"} {
			if got, err := MinMemoryMiB(kernel, initrd, line); err != nil || got != want {
				t.Errorf("%s, %q: MinMemoryMiB = %d, %v; want %d", c.name, line, got, err, want)
			}
		}
	}
}

// elfBytes returns an ELF header with one loadable segment of memsz bytes
// at paddr (no contents).
func elfBytes(paddr, memsz uint64) []byte {
	b := make([]byte, 64+56)
	copy(b, "\x7fELF\x02\x01\x01")
	le := binary.LittleEndian
	le.PutUint16(b[16:], 2)    // ET_EXEC
	le.PutUint16(b[18:], 0x3e) // EM_X86_64
	le.PutUint32(b[20:], 1)
	le.PutUint64(b[32:], 64) // e_phoff
	le.PutUint16(b[52:], 64) // e_ehsize
	le.PutUint16(b[54:], 56) // e_phentsize
	le.PutUint16(b[56:], 1)  // e_phnum
	ph := b[64:]
	le.PutUint32(ph[0:], 1) // PT_LOAD
	le.PutUint64(ph[16:], paddr)
	le.PutUint64(ph[24:], paddr)
	le.PutUint64(ph[40:], memsz)
	return b
}
