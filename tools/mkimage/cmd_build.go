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

	"github.com/cocoon-vm/cocoon/tools/appimage"
	"github.com/cocoon-vm/cocoon/tools/kbuild"
)

func init() {
	commands["build"] = command{
		summary: "build a bootable image: Cocoon's kernel plus one application",
		run:     runBuild,
	}
}

// DefaultKernel is the kernel that runs applications: boot, the kernel and
// the Linux personality.
const DefaultKernel = "github.com/cocoon-vm/cocoon/north/cocoon"

func runBuild(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mkimage build", flag.ContinueOnError)
	fs.SetOutput(stderr)
	kernelPkg := fs.String("kernel", DefaultKernel, "Go main `PACKAGE` of the kernel (it must import github.com/cocoon-vm/cocoon/boot)")
	elfPath := fs.String("elf", "", "use the static linux/amd64 executable `FILE` as the application instead of building PACKAGE")
	var files fileFlags
	fs.Var(&files, "file", "add the host file or directory `SRC[:DST]` to the application's files (default DST /<base name>); repeatable")
	out := fs.String("o", "", "output `NAME`: writes NAME.elf (kernel) and NAME.cpio (application); default out/<application name>")
	verbose := fs.Bool("v", false, "print the go commands and their output")
	fs.Usage = func() {
		fmt.Fprintln(stderr, `Usage: mkimage build [flags] [PACKAGE | --elf FILE]

Builds a Cocoon image: the kernel (NAME.elf, a PVH ELF that QEMU -kernel,
Firecracker and Cloud Hypervisor boot) and the application archive
(NAME.cpio, the initrd, with the program as /init). PACKAGE is a Go main
package built with the stock toolchain (static: CGO_ENABLED=0); --elf
takes any static linux/amd64 program instead. Dynamically linked or
non-x86-64 programs are refused here, before anything boots. With neither,
only the kernel is built (give --kernel, e.g. ./images/selftest).

Run the image with 'mkimage run NAME [ARGS...]'.

Flags:`)
		fs.PrintDefaults()
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				return nil
			}
			return errUsage
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) > 1 || len(pos) == 1 && *elfPath != "" {
		fmt.Fprintln(stderr, "mkimage build: give one PACKAGE or --elf FILE")
		fs.Usage()
		return errUsage
	}
	kernelSet := false
	fs.Visit(func(f *flag.Flag) { kernelSet = kernelSet || f.Name == "kernel" })
	app := ""
	if len(pos) == 1 {
		app = pos[0]
	}
	if app == "" && *elfPath == "" && !kernelSet {
		fmt.Fprintln(stderr, "mkimage build: nothing to build: give PACKAGE, --elf FILE or --kernel PACKAGE")
		fs.Usage()
		return errUsage
	}
	name := *out
	if name == "" {
		base := app
		switch {
		case *elfPath != "":
			base = *elfPath
		case base == "":
			base = *kernelPkg
		}
		name = filepath.Join("out", strings.TrimSuffix(filepath.Base(strings.TrimRight(base, "/")), filepath.Ext(base)))
	}
	name = strings.TrimSuffix(name, ".elf")
	o := kbuild.Options{}
	if *verbose {
		o.Log = stderr
	}
	start := time.Now()

	// The application first: a refused program should stop the build.
	if app != "" || *elfPath != "" {
		init := *elfPath
		if app != "" {
			fmt.Fprintf(stderr, "mkimage: building %s\n", app)
			built, err := appimage.BuildGo(context.Background(), app, "")
			if err != nil {
				return err
			}
			defer os.Remove(built)
			init = built
		}
		if err := packArchive(init, files, name+".cpio", stdout); err != nil {
			return err
		}
	}
	fmt.Fprintf(stderr, "mkimage: building the kernel %s\n", *kernelPkg)
	if err := kbuild.Kernel(context.Background(), *kernelPkg, name+".elf", o); err != nil {
		return err
	}
	st, err := os.Stat(name + ".elf")
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s.elf (%d KiB), built in %v\n", name, st.Size()>>10, time.Since(start).Round(time.Millisecond))
	return nil
}
