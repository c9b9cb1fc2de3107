// Package kbuild builds Cocoon kernel images with the stock Go toolchain:
// a Go main package that imports boot is linked at the kernel's virtual
// address with the PVH entry as ELF entry, then post-processed by pvhelf
// so that PVH loaders boot it.
package kbuild

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/cocoon-vm/cocoon/boot/pvhelf"
	"github.com/cocoon-vm/cocoon/kernel/layout"
)

// GodebugDefaults are baked into every kernel: the kernel delivers no
// signals to its own runtime, so asynchronous preemption is off, and it
// names no mappings.
const GodebugDefaults = "asyncpreemptoff=1,decoratemappings=0"

// LinkFlags returns the -ldflags that link a kernel whose image (its ELF
// header) lies at physical address phys.
func LinkFlags(phys uint64) string {
	text := uint64(layout.KernBase) + phys + 0x1000
	return fmt.Sprintf("-T %#x -R 0x1000 -E %s -X runtime.godebugDefault=%s -s=false",
		text, layout.EntrySymbol, GodebugDefaults)
}

// Options tune a build.
type Options struct {
	// Log receives the go command line and its output; nil discards.
	Log io.Writer
	// Dir is the directory to run go build in (the module); "" = current.
	Dir string
	// Env is added to the go command's environment (after the caller's,
	// so it wins).
	Env []string
	// AllowNoSMEPSMAP builds a kernel that boots on a CPU without SMEP
	// or SMAP (and says so on the console); without it such a kernel
	// refuses to boot.
	AllowNoSMEPSMAP bool
	// PVHOnly links the image at layout.PVHImagePhys (2 MiB) instead of
	// layout.ImagePhys (32 MiB), which only a UEFI boot needs: it boots
	// through PVH in 30 MiB less memory, and not through UEFI
	// (tools/efiimage refuses it).
	PVHOnly bool
	// NoNetwork builds the kernel with the tag NoNetworkTag: north/run
	// without gVisor's TCP/IP stack (north/run/nonet.go), whose package
	// initialisers cost every boot. Its applications' socket(2) fails
	// with EAFNOSUPPORT for AF_INET, AF_INET6 and AF_NETLINK, as on a
	// Linux built without TCP/IP: not even loopback.
	NoNetwork bool
}

// NoNetworkTag is the build tag of a kernel without network.
const NoNetworkTag = "nonet"

// NoNetworkMarker is in the image of a kernel built with NoNetwork (the
// linker sets north/run.variant to it, and the kernel's message about a
// refused socket names it), and in no other: WithoutNetwork finds it.
const NoNetworkMarker = "cocoon-kernel-without-network"

// WithoutNetwork reports whether img, a kernel image (ELF, UEFI
// application or a disk holding one), was built with NoNetwork.
func WithoutNetwork(img []byte) bool {
	return bytes.Contains(img, []byte(NoNetworkMarker))
}

// Kernel builds the Go main package pkg (an import path or ./relative
// directory) as a kernel image at out.
func Kernel(ctx context.Context, pkg, out string, o Options) error {
	if o.Log == nil {
		o.Log = io.Discard
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	tmp := out + ".link"
	phys := uint64(layout.ImagePhys)
	if o.PVHOnly {
		phys = layout.PVHImagePhys
	}
	ldflags := LinkFlags(phys)
	if o.AllowNoSMEPSMAP {
		ldflags += " -X github.com/cocoon-vm/cocoon/kernel.noSMEPSMAPOptOut=yes"
	}
	var tags []string
	if o.NoNetwork {
		ldflags += " -X github.com/cocoon-vm/cocoon/north/run.variant=" + NoNetworkMarker
		tags = []string{"-tags", NoNetworkTag}
	}
	args := append(append([]string{"build", "-trimpath", "-ldflags", ldflags}, tags...), "-o", tmp, pkg)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = o.Dir
	cmd.Env = append(append(os.Environ(), o.Env...), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stdout = o.Log
	cmd.Stderr = io.MultiWriter(o.Log, &stderr)
	fmt.Fprintf(o.Log, "GOOS=linux GOARCH=amd64 CGO_ENABLED=0 go %s\n", quote(args))
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, stderr.String())
	}
	defer os.Remove(tmp)
	img, err := os.ReadFile(tmp)
	if err != nil {
		return err
	}
	if err := checkEntry(img); err != nil {
		return fmt.Errorf("%s: %v", pkg, err)
	}
	cut, why, err := trimBSS(img)
	if err != nil {
		return fmt.Errorf("%s: %v", pkg, err)
	}
	if cut != 0 {
		fmt.Fprintf(o.Log, "kbuild: %d KiB of bss (%s) trimmed from the image's memory size\n", cut>>10, UntouchedBSS)
	} else {
		fmt.Fprintf(o.Log, "kbuild: no bss trimmed: %s\n", why)
	}
	if _, err := pvhelf.Patch(img, uint64(layout.KernBase)); err != nil {
		return fmt.Errorf("%s: %v", pkg, err)
	}
	return os.WriteFile(out, img, 0o755)
}

// checkEntry makes sure the linker used boot's PVH entry: -E names a
// symbol that only exists if the package imports boot, and the linker
// silently keeps its default entry when it does not.
func checkEntry(img []byte) error {
	f, err := elf.NewFile(bytes.NewReader(img))
	if err != nil {
		return err
	}
	syms, err := f.Symbols()
	if err != nil {
		return err
	}
	for _, s := range syms {
		if s.Name == layout.EntrySymbol || s.Name == layout.EntrySymbol+".abi0" {
			if s.Value != f.Entry {
				return fmt.Errorf("ELF entry %#x is not the PVH entry %#x", f.Entry, s.Value)
			}
			return nil
		}
	}
	return errors.New("no PVH entry: a kernel's main package must import github.com/cocoon-vm/cocoon/boot")
}

func quote(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, " \t\"'$") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}
