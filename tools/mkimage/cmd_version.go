package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

func init() {
	commands["version"] = command{
		summary: "print mkimage's version and the Cocoon kernel version it builds",
		run:     runVersion,
	}
}

func runVersion(args []string, _ io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		fmt.Fprintln(stderr, "Usage: mkimage version\n\nPrints mkimage's version, and the version and source directory of the Cocoon kernel 'mkimage build' builds.")
		if args[0] == "-h" || args[0] == "--help" {
			return nil
		}
		return errUsage
	}
	version := "(unknown)"
	if bi, ok := debug.ReadBuildInfo(); ok {
		version = bi.Main.Path + " " + bi.Main.Version
	}
	fmt.Fprintf(stdout, "mkimage: %s, %s\n", version, runtime.Version())
	src, err := findKernelSource(context.Background())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "kernel:  %s@%s, from %s (%s)\n", DefaultKernel, src.Version, src.Dir, src.From)
	return nil
}
