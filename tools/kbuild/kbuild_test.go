package kbuild

import (
	"context"
	"debug/elf"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/cocoon-vm/cocoon/boot/pvhelf"
	"github.com/cocoon-vm/cocoon/kernel/layout"
)

// testKernel is a kernel the tests build once per run.
type testKernel struct {
	pkg, file string
	opts      Options
	once      sync.Once
	path      string
	err       error
}

// get builds the kernel the first time it is asked for.
func (k *testKernel) get(t *testing.T) string {
	t.Helper()
	k.once.Do(func() {
		dir, err := os.MkdirTemp("", "kbuild-test")
		if err != nil {
			k.err = err
			return
		}
		k.path = filepath.Join(dir, k.file)
		k.err = Kernel(context.Background(), k.pkg, k.path, k.opts)
	})
	if k.err != nil {
		t.Fatalf("Kernel(%s, %+v) = %v", k.pkg, k.opts, k.err)
	}
	return k.path
}

var (
	selftest = testKernel{pkg: "./images/selftest", file: "selftest.elf", opts: Options{Dir: "../.."}}
	// The kernel that runs applications, PVH-only as mkimage builds it
	// for --format elf, and without network (Options.NoNetwork) as
	// mkimage builds it for an image without sockets.
	application = testKernel{pkg: "./north/cocoon", file: "cocoon.elf", opts: Options{Dir: "../..", PVHOnly: true}}
	noNetwork   = testKernel{pkg: "./north/cocoon", file: "cocoon-nonet.elf", opts: Options{Dir: "../..", PVHOnly: true, NoNetwork: true}}
)

func selftestKernel(t *testing.T) string    { return selftest.get(t) }
func applicationKernel(t *testing.T) string { return application.get(t) }
func noNetworkKernel(t *testing.T) string   { return noNetwork.get(t) }

// TestNoNetwork checks the two builds of north/cocoon: the one without
// network links no gVisor package and carries NoNetworkMarker, by which
// WithoutNetwork knows it; the one with network links gVisor's TCP/IP
// stack and carries no marker.
func TestNoNetwork(t *testing.T) {
	for name, c := range map[string]struct {
		build func(*testing.T) string
		net   bool
	}{
		"network": {applicationKernel, true}, "no network": {noNetworkKernel, false},
	} {
		t.Run(name, func(t *testing.T) {
			path := c.build(t)
			img, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if WithoutNetwork(img) == c.net {
				t.Errorf("WithoutNetwork = %v, want %v", c.net, !c.net)
			}
			f, err := elf.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			syms, err := f.Symbols()
			if err != nil {
				t.Fatal(err)
			}
			gvisor, stack := 0, false
			for _, s := range syms {
				if strings.HasPrefix(s.Name, "gvisor.dev/") {
					gvisor++
				}
				stack = stack || s.Name == "gvisor.dev/gvisor/pkg/tcpip/stack.New"
			}
			if c.net && !stack {
				t.Errorf("no gvisor.dev/gvisor/pkg/tcpip/stack.New among %d gVisor symbols", gvisor)
			}
			if !c.net && gvisor > 0 {
				t.Errorf("%d gVisor symbols linked", gvisor)
			}
		})
	}
}

// TestKernelImageLayout checks the physical addresses pvhelf gave each
// kernel: the image (its ELF header) at layout.ImagePhys, or at
// layout.PVHImagePhys for a PVH-only one, each segment at its virtual
// address less KernBase, and the PVH entry at the ELF entry's.
func TestKernelImageLayout(t *testing.T) {
	for name, c := range map[string]struct {
		build func(*testing.T) string
		phys  uint64
	}{
		"selftest":              {selftestKernel, layout.ImagePhys},
		"north/cocoon PVH-only": {applicationKernel, layout.PVHImagePhys},
	} {
		t.Run(name, func(t *testing.T) {
			path := c.build(t)
			f, err := elf.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			first := true
			for _, p := range f.Progs {
				if p.Type != elf.PT_LOAD {
					continue
				}
				if first && p.Paddr != c.phys {
					t.Errorf("the image starts at physical %#x, want %#x", p.Paddr, c.phys)
				}
				first = false
				if p.Paddr != p.Vaddr-uint64(layout.KernBase) {
					t.Errorf("segment at %#x has physical address %#x, want %#x", p.Vaddr, p.Paddr, p.Vaddr-uint64(layout.KernBase))
				}
			}
			img, _ := os.ReadFile(path)
			entry, err := pvhelf.Entry(img)
			if err != nil {
				t.Fatalf("Entry = %v", err)
			}
			if uint64(entry) != f.Entry-uint64(layout.KernBase) {
				t.Errorf("PVH entry %#x, want physical ELF entry %#x", entry, f.Entry-uint64(layout.KernBase))
			}
		})
	}
}

// TestTrimmedBSS checks that both kernels' images end where
// UntouchedBSS begins: the linker's runtime.end lies past the last
// segment's memory size by exactly that variable, and the section
// holding it ends where the segment does.
func TestTrimmedBSS(t *testing.T) {
	for name, build := range map[string]func(*testing.T) string{
		"selftest": selftestKernel, "north/cocoon": applicationKernel,
	} {
		t.Run(name, func(t *testing.T) {
			f, err := elf.Open(build(t))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			syms, err := f.Symbols()
			if err != nil {
				t.Fatal(err)
			}
			var buf, end, endWord elf.Symbol
			for _, s := range syms {
				switch s.Name {
				case UntouchedBSS:
					buf = s
				case "runtime.end":
					end = s
				case imageEndSymbol:
					endWord = s
				}
			}
			if buf.Size < 1<<20 || end.Value == 0 {
				t.Fatalf("%s = %#x (%d bytes), runtime.end = %#x: want both, the buffer MiBs long", UntouchedBSS, buf.Value, buf.Size, end.Value)
			}
			var last *elf.Prog
			for _, p := range f.Progs {
				if p.Type == elf.PT_LOAD {
					last = p
				}
			}
			if got := last.Vaddr + last.Memsz; got != buf.Value || buf.Value+buf.Size != end.Value {
				t.Errorf("the image ends at %#x; want %#x, where %s begins (it ends at runtime.end %#x)", got, buf.Value, UntouchedBSS, end.Value)
			}
			// The UEFI entry's word for the image's end: the trimmed end.
			for _, sec := range f.Sections {
				if sec.Type == elf.SHT_PROGBITS && sec.Addr <= endWord.Value && endWord.Value+8 <= sec.Addr+sec.Size {
					var w [8]byte
					if _, err := sec.ReadAt(w[:], int64(endWord.Value-sec.Addr)); err != nil {
						t.Fatal(err)
					}
					if got := binary.LittleEndian.Uint64(w[:]); got != buf.Value {
						t.Errorf("%s = %#x, want the trimmed end %#x", imageEndSymbol, got, buf.Value)
					}
				}
			}
			bss := f.Section(".noptrbss")
			if bss == nil || bss.Addr+bss.Size != buf.Value {
				t.Errorf(".noptrbss %+v does not end at %#x", bss, buf.Value)
			}
		})
	}
}

// TestTrapCodeRules is the check that keeps trap-context code honest: no
// stack growth, no allocation, no write barriers.
// It runs on the selftest kernel and on the kernel that runs applications
// (north/cocoon), whose trap paths are the ones an application reaches.
func TestTrapCodeRules(t *testing.T) {
	for name, build := range map[string]func(*testing.T) string{
		"selftest": selftestKernel, "north/cocoon": applicationKernel, "north/cocoon without network": noNetworkKernel,
	} {
		t.Run(name, func(t *testing.T) {
			skip, err := GoroutineFiles("../..")
			if err != nil {
				t.Fatal(err)
			}
			boot, err := BootFiles("../..")
			if err != nil {
				t.Fatal(err)
			}
			vs, err := CheckTrapCode(build(t), skip, boot)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range vs {
				t.Errorf("trap-context rule broken: %v", v)
			}
		})
	}
}

// TestSNPCodeChecked makes sure TestTrapCodeRules covers the SEV-SNP
// platform: every image links it (the UEFI entry selects it at run time),
// so its #VC handler, decoders and boot steps must be in the kernel the
// check disassembles.
func TestSNPCodeChecked(t *testing.T) {
	f, err := elf.Open(selftestKernel(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{
		"github.com/cocoon-vm/cocoon/snp.(*Platform).HandleVC": false,
		"github.com/cocoon-vm/cocoon/snp.(*Platform).Start":    false,
		"github.com/cocoon-vm/cocoon/snp/vc.DecodeMMIO":        false,
		"github.com/cocoon-vm/cocoon/boot.efiSNPStart":         false,
	}
	for _, s := range syms {
		if _, ok := want[s.Name]; ok {
			want[s.Name] = true
		}
	}
	for name, found := range want {
		if !found {
			t.Errorf("%s is not in the kernel: the trap-code check did not check it", name)
		}
	}
}

func TestKernelRejectsPackageWithoutBoot(t *testing.T) {
	out := filepath.Join(t.TempDir(), "k.elf")
	err := Kernel(context.Background(), "./tools/kbuild/testdata/noboot", out, Options{Dir: "../.."})
	if err == nil {
		t.Fatal("Kernel(testdata/noboot) = nil, want an error: it does not import boot")
	}
}

// TestGoroutineFiles: only files that say "Goroutine context" in their
// header escape the trap-code check.
func TestGoroutineFiles(t *testing.T) {
	skip, err := GoroutineFiles("../..")
	if err != nil {
		t.Fatal(err)
	}
	const m = "github.com/cocoon-vm/cocoon/"
	for _, f := range []string{"kernel/uspace.go", "snp/guest.go", "snp/ghcb/exit.go"} {
		if !skip[m+f] {
			t.Errorf("%s says Goroutine context but is checked", f)
		}
	}
	for _, f := range []string{"kernel/trap.go", "kernel/user.go", "kernel/privcall.go", "kernel/userpt.go", "kernel/lazyfp.go", "kernel/fatal.go", "snp/ghcb/raw.go", "snp/vc.go", "snp/exit.go", "snp/platform.go"} {
		if skip[m+f] {
			t.Errorf("%s is trap context but escapes the check", f)
		}
	}
	boot, err := BootFiles("../..")
	if err != nil {
		t.Fatal(err)
	}
	if !boot[m+"snp/boot.go"] || boot[m+"snp/exit.go"] || boot[m+"snp/vc.go"] {
		t.Errorf("boot-context files %v: want snp/boot.go and not snp/exit.go or snp/vc.go", boot)
	}
}
