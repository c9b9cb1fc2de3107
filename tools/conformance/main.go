// Command conformance runs Go packages' own tests inside Cocoon and, for
// reference, natively on the host, and reports the two side by side. It
// is what `make conformance` runs.
//
// For each package it builds the test binary with the stock toolchain
// (go test -c, static), packs it as /init of a Cocoon image together with
// the package's directory (sources and testdata), boots it under QEMU
// with -test.v, and reads the per-test results from the console. The
// same binary then runs on the host with the same flags. The table goes
// to standard output, the whole report to OUT/conformance.json and
// OUT/conformance.md.
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if err != errUsage {
			fmt.Fprintln(os.Stderr, "conformance:", err)
		}
		os.Exit(1)
	}
}
