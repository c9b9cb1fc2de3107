package kbuild

import (
	"context"
	"debug/elf"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/cocoon-vm/cocoon/boot/pvhelf"
	"github.com/cocoon-vm/cocoon/kernel/layout"
)

var (
	buildOnce sync.Once
	built     string
	buildErr  error

	appOnce  sync.Once
	appBuilt string
	appErr   error
)

// selftestKernel builds images/selftest once per test run.
func selftestKernel(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kbuild-test")
		if err != nil {
			buildErr = err
			return
		}
		built = filepath.Join(dir, "selftest.elf")
		buildErr = Kernel(context.Background(), "./images/selftest", built, Options{Dir: "../.."})
	})
	if buildErr != nil {
		t.Fatalf("Kernel(images/selftest) = %v", buildErr)
	}
	return built
}

// applicationKernel builds north/cocoon, the kernel that runs
// applications, once per test run.
func applicationKernel(t *testing.T) string {
	t.Helper()
	appOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kbuild-test")
		if err != nil {
			appErr = err
			return
		}
		appBuilt = filepath.Join(dir, "cocoon.elf")
		appErr = Kernel(context.Background(), "./north/cocoon", appBuilt, Options{Dir: "../.."})
	})
	if appErr != nil {
		t.Fatalf("Kernel(north/cocoon) = %v", appErr)
	}
	return appBuilt
}

func TestKernelImageLayout(t *testing.T) {
	path := selftestKernel(t)
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && p.Paddr != p.Vaddr-uint64(layout.KernBase) {
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
}

// TestTrapCodeRules is the check that keeps trap-context code honest: no
// stack growth, no allocation, no write barriers.
// It runs on the selftest kernel and on the kernel that runs applications
// (north/cocoon), whose trap paths are the ones an application reaches.
func TestTrapCodeRules(t *testing.T) {
	for name, build := range map[string]func(*testing.T) string{
		"selftest": selftestKernel, "north/cocoon": applicationKernel,
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
