// Command cocoon is Cocoon's kernel with the Linux personality: it boots,
// loads /init from the application archive (the initrd) and runs it at
// CPL3 until it exits, then powers off with its exit status.
//
// The kernel command line gives the application's arguments and
// environment (words with '=' are environment, as Linux does for init).
// Words starting with "cocoon." configure the kernel instead:
//
//	cocoon.trace=syscalls   print every system call with its result
//	cocoon.argv0=NAME       the application's argv[0] (default /init)
package main

import (
	"fmt"
	"os"
	"strings"

	_ "github.com/cocoon-vm/cocoon/boot"
	"github.com/cocoon-vm/cocoon/kernel"
	"github.com/cocoon-vm/cocoon/north/run"
)

func main() {
	cfg := run.Options{Argv0: "/init", Stdout: os.Stdout, Stdin: os.Stdin}
	for _, a := range os.Args[1:] {
		if !strings.HasPrefix(a, "cocoon.") {
			cfg.Args = append(cfg.Args, a)
		}
	}
	for _, e := range os.Environ() {
		if e == kernel.RuntimeGodebug {
			continue // the kernel's own, not the application's
		}
		k, v, _ := strings.Cut(e, "=")
		switch k {
		case "cocoon.trace":
			cfg.Trace = v == "syscalls" || v == "1"
		case "cocoon.argv0":
			cfg.Argv0 = v
		default:
			if !strings.HasPrefix(k, "cocoon.") {
				cfg.Env = append(cfg.Env, e)
			}
		}
	}
	status, err := run.Init(cfg)
	if err != nil {
		fmt.Printf("cocoon: %v\n", err)
		os.Exit(127)
	}
	os.Exit(status)
}
