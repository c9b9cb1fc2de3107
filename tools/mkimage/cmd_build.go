package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cocoon-vm/cocoon/tools/kbuild"
)

func init() {
	commands["build"] = command{
		summary: "build a bootable Cocoon kernel image with the stock Go toolchain",
		run:     runBuild,
	}
}

func runBuild(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mkimage build", flag.ContinueOnError)
	fs.SetOutput(stderr)
	kernelPkg := fs.String("kernel", "", "Go main `PACKAGE` of the kernel (it must import github.com/cocoon-vm/cocoon/boot), e.g. ./images/selftest")
	out := fs.String("o", "", "output `FILE` (default out/<package name>.elf)")
	verbose := fs.Bool("v", false, "print the go command and its output")
	fs.Usage = func() {
		fmt.Fprintln(stderr, `Usage: mkimage build --kernel PACKAGE [-o FILE]

Builds PACKAGE (GOOS=linux GOARCH=amd64 CGO_ENABLED=0, stock toolchain),
links it at the kernel's address with the PVH entry point, and writes the
PVH note so that QEMU -kernel (microvm or q35), Firecracker and Cloud
Hypervisor boot it. Run it with 'mkimage run FILE'.

Flags:`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return nil
		}
		return errUsage
	}
	if *kernelPkg == "" || fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	if *out == "" {
		*out = filepath.Join("out", filepath.Base(strings.TrimRight(*kernelPkg, "/"))+".elf")
	}
	o := kbuild.Options{}
	if *verbose {
		o.Log = stderr
	}
	start := time.Now()
	fmt.Fprintf(stderr, "mkimage: building %s\n", *kernelPkg)
	if err := kbuild.Kernel(context.Background(), *kernelPkg, *out, o); err != nil {
		return err
	}
	st, err := os.Stat(*out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s (%d KiB) built in %v\n", *out, st.Size()>>10, time.Since(start).Round(time.Millisecond))
	return nil
}
