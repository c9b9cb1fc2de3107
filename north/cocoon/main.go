// Command cocoon is Cocoon's kernel with the Linux personality: it boots,
// loads /init from the application archive (the initrd) and runs it at
// CPL3 until it exits, then powers off with its exit status.
//
// The kernel command line gives the application's arguments, environment
// and working directory, exactly, in the words of package north/cmdline
// (cocoon.args=, cocoon.env=, cocoon.dir=, cocoon.argv0=), which 'mkimage
// run' writes. Plain words, as a command line written by hand has them,
// work as Linux gives them to init: words with '=' are environment, the
// rest arguments ("--" makes every later word an argument). Other words
// starting with "cocoon." configure the kernel:
//
//	cocoon.trace=syscalls   print every system call with its result
//	cocoon.ip=ADDR/PREFIX[,GATEWAY[,DNS...]]
//	                        the network device's IPv4 address (default: DHCP)
//	cocoon.ip6=ADDR/PREFIX[,GATEWAY]
//	                        a static IPv6 address besides the link-local one
//	                        and those router advertisements give (SLAAC)
//	cocoon.stdio=serial     the application's standard input and output
//	                        are COM3 and its standard error COM4, byte
//	                        streams apart from the console (qemu/stdio.go)
//	cocoon.prof=PERIOD_US   sample the kernel's own stacks every PERIOD_US
//	                        microseconds and print the samples ("PROF"
//	                        lines) on the console when the application
//	                        exits, for tools/pgo (make pgo)
//
// Words starting with "sysctl." set a sysctl before /init starts, as on
// Linux ('/' or '.' between the parts); the one there is:
//
//	sysctl.vm.overcommit_memory=0|1
//	                        0 (default): refuse one mapping that must be
//	                        backed and exceeds RAM; 1: accept every
//	                        mapping, take pages as they are touched and
//	                        kill (SIGKILL) a process that touches one
//	                        when memory is exhausted
//
// The application's environment starts with Linux's defaults for init
// (init/main.c): HOME=/ and, when its standard streams are the console
// (a terminal, not cocoon.stdio=serial), TERM=linux; and PATH=/sbin:/usr/sbin:/bin:/usr/bin, as
// init systems set it. Entries on the command line override them.
//
// default.pgo is a CPU profile of this kernel serving make bench-net's
// HTTP load (samples of its own stacks, taken by a timer interrupt every
// 20 µs of -icount time with cocoon.prof=20, converted to pprof's format by
// tools/pgo; make pgo regenerates it, docs/KERNEL.md "Profile-guided
// optimisation"): go build uses it (-pgo=auto)
// to inline the hot calls across packages and devirtualize hot interface
// calls, in gVisor's netstack, the Go runtime and north. A profile of an
// older kernel still applies where the code it names is unchanged.
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	_ "github.com/cocoon-vm/cocoon/boot"
	"github.com/cocoon-vm/cocoon/kernel"
	"github.com/cocoon-vm/cocoon/north"
	"github.com/cocoon-vm/cocoon/north/cmdline"
	"github.com/cocoon-vm/cocoon/north/run"
	"github.com/cocoon-vm/cocoon/north/vfs"
)

func main() {
	kernel.Mark(kernel.PhaseKernelMain)
	cfg, stdio, err := options(os.Args[1:], os.Environ())
	if err != nil {
		fmt.Printf("cocoon: bad kernel command line: %v\n", err)
		os.Exit(127)
	}
	if v, ok := os.LookupEnv("cocoon.prof"); ok {
		us, _ := profPeriod(v) // options checked it
		kernel.StartProfile(us * 1000)
	}
	cfg.Stdout, cfg.Stdin = os.Stdout, os.Stdin
	if stdio {
		in, out, errOut, err := kernel.Stdio()
		if err != nil {
			fmt.Printf("cocoon: cocoon.stdio=serial, but %v\n", err)
			os.Exit(127)
		}
		cfg.Stdio = &vfs.Stdio{In: &run.StdinReader{R: in}, Out: out, Err: errOut}
	}
	status, err := run.Init(cfg)
	if err != nil {
		fmt.Printf("cocoon: %v\n", err)
		os.Exit(127)
	}
	if _, ok := os.LookupEnv("cocoon.prof"); ok {
		n, err := kernel.WriteProfile(os.Stdout)
		if err != nil {
			fmt.Printf("cocoon: cocoon.prof: %v\n", err)
		}
		fmt.Printf("cocoon: cocoon.prof: %d samples\n", n)
	}
	os.Exit(status)
}

// profPeriod parses cocoon.prof's value, the sampling period in
// microseconds.
func profPeriod(v string) (int64, error) {
	us, err := strconv.ParseInt(v, 10, 64)
	if err != nil || us < 10 || us > 1_000_000 {
		return 0, fmt.Errorf("cocoon.prof=%s: want a period in microseconds, 10 to 1000000", v)
	}
	return us, nil
}

// defaultEnv is the application's environment before the command line's
// entries: Linux's envp_init (init/main.c) and the PATH init systems set.
// TERM=linux goes only to an application on the console.
var defaultEnv = []string{"PATH=/sbin:/usr/sbin:/bin:/usr/bin", "HOME=/", "TERM=linux"}

// options turns the kernel's arguments and environment (the command line
// as the kernel split it) into the application's, and reports whether the
// application's streams are the serial ones (cocoon.stdio=serial).
func options(args, environ []string) (cfg run.Options, stdio bool, err error) {
	cfg = run.Options{Argv0: "/init"}
	var app cmdline.App
	var env []string
	for _, a := range args {
		if !strings.HasPrefix(a, "cocoon.") && !strings.HasPrefix(a, "sysctl.") {
			cfg.Args = append(cfg.Args, a)
		}
	}
	for _, e := range environ {
		if e == kernel.RuntimeGodebug {
			continue // the kernel's own, not the application's
		}
		k, v, _ := strings.Cut(e, "=")
		known, err := app.Parse(k, v)
		switch {
		case err != nil:
			return cfg, false, err
		case known:
		case k == "cocoon.trace":
			cfg.Trace = v == "syscalls" || v == "1"
		case k == "cocoon.ip":
			cfg.IP = v
		case k == "cocoon.ip6":
			cfg.IP6 = v
		case k == "cocoon.stdio":
			if v != "serial" {
				return cfg, false, fmt.Errorf("cocoon.stdio=%s: the only kind is serial", v)
			}
			stdio = true
		case k == "cocoon.prof":
			if _, err := profPeriod(v); err != nil {
				return cfg, false, err
			}
		case strings.HasPrefix(k, "sysctl."):
			if err := sysctl(&cfg, k, v); err != nil {
				return cfg, false, err
			}
		case !strings.HasPrefix(k, "cocoon."):
			env = append(env, e)
		}
	}
	if app.Argv0 != "" {
		cfg.Argv0 = app.Argv0
	}
	cfg.Args = append(cfg.Args, app.Args...)
	cfg.Dir = app.Dir
	cfg.Env = withDefaults(append(env, app.Env...), !stdio)
	return cfg, stdio, nil
}

// withDefaults prepends the defaultEnv entries whose keys env does not
// set, TERM only if console.
func withDefaults(env []string, console bool) []string {
	set := map[string]bool{}
	for _, e := range env {
		k, _, _ := strings.Cut(e, "=")
		set[k] = true
	}
	var out []string
	for _, d := range defaultEnv {
		if k, _, _ := strings.Cut(d, "="); !set[k] && (k != "TERM" || console) {
			out = append(out, d)
		}
	}
	return append(out, env...)
}

// sysctl sets the sysctl a command-line word key=value names. Linux
// warns about an unknown one and boots; here the word is refused, so that
// a setting the image asks for is never silently lost.
func sysctl(cfg *run.Options, key, value string) error {
	switch strings.ReplaceAll(key, "/", ".") {
	case cmdline.KeyOvercommit:
		switch value {
		case "0":
			cfg.Overcommit = north.OvercommitGuess
		case "1":
			cfg.Overcommit = north.OvercommitAlways
		case "2":
			return fmt.Errorf("%s=2: strict overcommit accounting is not implemented; use 0 or 1", key)
		default:
			return fmt.Errorf("%s=%s: want 0 or 1", key, value)
		}
		return nil
	}
	return fmt.Errorf("%s: no such sysctl here (the one there is: %s)", key, cmdline.KeyOvercommit)
}
