// Command mkimage builds, runs, measures and inspects Cocoon images.
//
// Each subcommand lives in its own file (cmd_<name>.go) and registers itself
// in commands from an init function, so the dispatcher below never changes
// when a subcommand is added.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
)

// command is one mkimage subcommand.
type command struct {
	summary string
	run     func(args []string, stdin io.Reader, stdout, stderr io.Writer) error
}

var commands = map[string]command{}

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

// run dispatches args[0] to its subcommand and returns the process exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "mkimage: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	if err := c.run(args[1:], stdin, stdout, stderr); err != nil {
		if err == errUsage {
			return 2
		}
		if st, ok := err.(exitStatus); ok {
			fmt.Fprintf(stderr, "mkimage %s: %v\n", args[0], err)
			return int(st)
		}
		var ec exitCoder
		if errors.As(err, &ec) {
			fmt.Fprintf(stderr, "mkimage %s: %v\n", args[0], err)
			return ec.ExitCode()
		}
		fmt.Fprintf(stderr, "mkimage %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

// exitCoder is an error that chooses mkimage's exit status, such as
// verify's distinct codes for bad signatures and mismatched claims.
type exitCoder interface{ ExitCode() int }

// errUsage reports a flag-parsing failure whose message was already printed.
var errUsage = fmt.Errorf("usage")

func usage(w io.Writer) {
	fmt.Fprintln(w, "mkimage builds and runs Cocoon images: a Go kernel plus one application, booted as a VM.")
	fmt.Fprintln(w, "\nUsage: mkimage <command> [flags]\n\nCommands:")
	names := make([]string, 0, len(commands))
	width := 0
	for n := range commands {
		names = append(names, n)
		width = max(width, len(n))
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-*s %s\n", width, n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'mkimage <command> --help' for the flags of one command.")
}
