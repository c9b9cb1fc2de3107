// Command linuxguest prints the figures of the Linux baseline: it boots
// images/sysbench as /init of Debian's cloud kernel under QEMU several
// times and prints the medians of the time from starting QEMU to
// sysbench's main and of the per-call costs sysbench measured. Run it
// from inside the Cocoon module:
//
//	go run ./tools/linuxguest/cmd/linuxguest [-runs 5] [-profile microvm] [-n 200000]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/cocoon-vm/cocoon/qemu"
	"github.com/cocoon-vm/cocoon/tools/linuxguest"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("linuxguest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	runs := fs.Int("runs", 5, "boots (medians are printed)")
	profile := fs.String("profile", string(qemu.Microvm), "QEMU machine profile: microvm or q35")
	calls := fs.Int("n", 200000, "calls per sysbench measurement")
	binary := fs.String("binary", "", "sysbench binary to boot (default: build "+linuxguest.SysbenchPackage+")")
	kernel := fs.String("kernel", "", "vmlinuz to boot (default: Debian's cloud kernel, fetched if needed)")
	verbose := fs.Bool("v", false, "copy QEMU command lines and guest consoles to standard error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("linuxguest: unexpected arguments %q", fs.Args())
	}

	if *binary == "" {
		dir, err := os.MkdirTemp("", "linuxguest-")
		if err != nil {
			return fmt.Errorf("linuxguest: %w", err)
		}
		defer os.RemoveAll(dir)
		*binary = filepath.Join(dir, "sysbench")
		if err := linuxguest.BuildStatic(ctx, linuxguest.SysbenchPackage, *binary); err != nil {
			return err
		}
	}
	o := linuxguest.Options{
		Binary:  *binary,
		Args:    []string{fmt.Sprintf("-n=%d", *calls)},
		Profile: qemu.Profile(*profile),
		Runs:    *runs,
		Kernel:  *kernel,
	}
	if *verbose {
		o.Console, o.Log = stderr, stderr
	}
	res, err := linuxguest.Run(ctx, o)
	if err != nil {
		return err
	}

	m := res.Median()
	fmt.Fprintf(stdout, "Linux guest (%s) under QEMU %s, TCG, %d MiB, medians of %d boots:\n",
		filepath.Base(res.Kernel), o.Profile, qemu.DefaultMemoryMiB, len(res.Boots))
	fmt.Fprintf(stdout, "  %-44s %s\n", "QEMU start -> sysbench main reached", ms(m.ToMain))
	fmt.Fprintf(stdout, "  %-44s %s\n", "QEMU start -> powered off", ms(m.Wall))
	fmt.Fprintf(stdout, "  %-44s %.1f ns/call\n", "getpid (RawSyscall)", m.Figures.Getpid)
	fmt.Fprintf(stdout, "  %-44s %.1f ns/call\n", "getpid (syscall.Syscall)", m.Figures.GetpidSyscall)
	fmt.Fprintf(stdout, "  %-44s %.1f ns/call\n", "clock_gettime (time.Now, vDSO)", m.Figures.ClockGettime)
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/1e6) }
