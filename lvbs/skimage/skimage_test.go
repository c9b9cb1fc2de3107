package skimage

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/cocoon-vm/cocoon/kernel/layout"
	"github.com/cocoon-vm/cocoon/lvbs/vtl0load"
	"github.com/cocoon-vm/cocoon/tools/kbuild"
)

var (
	kernelOnce sync.Once
	kernelImg  []byte
	kernelErr  error
)

// kernelELF builds Cocoon's kernel once for the tests.
func kernelELF(t *testing.T) []byte {
	t.Helper()
	kernelOnce.Do(func() {
		dir, err := os.MkdirTemp("", "skimage-test")
		if err != nil {
			kernelErr = err
			return
		}
		defer os.RemoveAll(dir)
		out := filepath.Join(dir, "k.elf")
		if kernelErr = kbuild.Kernel(context.Background(), "github.com/cocoon-vm/cocoon/north/cocoon", out, kbuild.Options{}); kernelErr == nil {
			kernelImg, kernelErr = os.ReadFile(out)
		}
	})
	if kernelErr != nil {
		t.Fatal(kernelErr)
	}
	return kernelImg
}

func TestBuildLayout(t *testing.T) {
	k := kernelELF(t)
	initrd := bytes.Repeat([]byte("cpio"), 1000)
	loader, vmlinux, err := Build(k, initrd, "cocoon.args=x")
	if err != nil {
		t.Fatal(err)
	}
	if err := vtl0load.Check(Base, Base+256<<20, loader, vmlinux); err != nil {
		t.Fatalf("the VTL0 loader refuses the image: %v", err)
	}
	h, err := Parse(loader)
	if err != nil {
		t.Fatal(err)
	}
	if h.Cmdline != "cocoon.args=x" || h.InitrdLen != uint64(len(initrd)) || h.Mailbox != 0 {
		t.Fatalf("header %+v", h)
	}
	if !bytes.Equal(vmlinux[:h.KernelLen], k[:h.KernelLen]) || !bytes.Equal(vmlinux[h.KernelLen:], initrd) {
		t.Fatal("vmlinux.bin is not the kernel's first KernelLen bytes followed by the archive")
	}

	// The kernel's memory image, as the ELF describes it, is vmlinux.bin's
	// first KernelLen bytes then zeros up to MemLen.
	f, err := elf.NewFile(bytes.NewReader(k))
	if err != nil {
		t.Fatal(err)
	}
	base := uint64(layout.KernBase) + layout.ImagePhys
	mem := make([]byte, h.MemLen)
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			if _, err := p.ReadAt(mem[p.Vaddr-base:p.Vaddr-base+p.Filesz], 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	if !bytes.Equal(mem[:h.KernelLen], vmlinux[:h.KernelLen]) || bytes.Count(mem[h.KernelLen:], []byte{0}) != len(mem)-int(h.KernelLen) {
		t.Fatal("the flat kernel differs from the ELF's memory image")
	}

	// skloader.bin's JMP lands on boot.lvbsEntry's code in the copy at
	// Base + 2 MiB, computed independently from the symbol table.
	syms, _ := f.Symbols()
	var entry uint64
	for _, s := range syms {
		if s.Name == EntrySymbol+".abi0" {
			entry = s.Value
		}
	}
	if loader[0] != 0xE9 || entry == 0 {
		t.Fatalf("loader starts %#x, entry %#x", loader[:5], entry)
	}
	target := Base + 5 + uint64(int64(int32(binary.LittleEndian.Uint32(loader[1:]))))
	if target != entry-uint64(layout.KernBase) {
		t.Fatalf("skloader.bin jumps to %#x, boot.lvbsEntry is at physical %#x", target, entry-uint64(layout.KernBase))
	}
	if target-Base-vtl0load.KernelOffset >= h.KernelLen {
		t.Fatal("the entry is not in the copied kernel")
	}
}

func TestBuildRefuses(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	exe, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Build(exe, nil, ""); err == nil || !strings.Contains(err.Error(), "not a flat image") {
		t.Errorf("an ordinary executable: %v", err)
	}
	k := kernelELF(t)
	if _, _, err := Build(k, nil, strings.Repeat("x", MaxCmdline+1)); err == nil {
		t.Error("an over-long command line was accepted")
	}
	if _, _, err := Build(k, make([]byte, vtl0load.MaxKernel), ""); err == nil || !strings.Contains(err.Error(), "loader's tables") {
		t.Errorf("an archive that overwrites the loader's tables: %v", err)
	}
	loader, _, err := Build(k, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	bad := append([]byte(nil), loader...)
	bad[OffMagic] = 'X'
	if _, err := Parse(bad); err == nil {
		t.Error("a bad magic was accepted")
	}
	bad = append([]byte(nil), loader...)
	for i := OffCmdline; i < LoaderSize; i++ {
		bad[i] = 'a'
	}
	if _, err := Parse(bad); err == nil {
		t.Error("a command line without NUL was accepted")
	}
}
