package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/cocoon-vm/cocoon/qemu"
)

func init() {
	commands["run"] = command{
		summary: "boot an image under QEMU and show its console",
		run:     runRun,
	}
}

// exitStatus carries the guest's exit status to main's exit code.
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("guest exited with status %d", int(e)) }

func runRun(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mkimage run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	profile := fs.String("profile", string(qemu.DefaultProfile), "QEMU machine `PROFILE`: microvm, q35 or ovmf")
	mem := fs.Int("m", 256, "guest RAM in `MiB`")
	accel := fs.String("accel", string(qemu.DefaultAccel), "accelerator: tcg, kvm, or auto (kvm if a quick probe shows it works)")
	timeout := fs.Duration("timeout", 10*time.Minute, "kill the guest after `DURATION`")
	initrd := fs.String("initrd", "", "initrd `FILE` (the application archive; default IMAGE.cpio if it exists)")
	trace := fs.Bool("trace-syscalls", false, "print every system call of the application with its result")
	quiet := fs.Bool("q", false, "do not print the QEMU command line")
	fs.Usage = func() {
		fmt.Fprintln(stderr, `Usage: mkimage run [flags] IMAGE [ARGS...]

Boots IMAGE (NAME or NAME.elf, as 'mkimage build' wrote it, with NAME.cpio
as the application; NAME.efi or a NAME.img disk boot through OVMF) under QEMU with software emulation (TCG) unless
--accel says otherwise, copies the guest's serial console to standard
output, and exits with the guest's exit status (128+N if the application
was killed by signal N). ARGS become the kernel command line: the
application's arguments, and KEY=VALUE words its environment; a word
cocoon.argv0=NAME sets its argv[0].

Flags:`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return nil
		}
		return errUsage
	}
	if fs.NArg() < 1 {
		fs.Usage()
		return errUsage
	}
	image := fs.Arg(0)
	if _, err := os.Stat(image); err != nil {
		if _, err2 := os.Stat(image + ".elf"); err2 != nil {
			return fmt.Errorf("%v (build one with 'mkimage build')", err)
		}
		image += ".elf"
	}
	// A UEFI image (.efi) or disk (.img) boots through OVMF.
	disk := ""
	switch {
	case strings.HasSuffix(image, ".img"):
		disk, image = image, ""
		*profile = string(qemu.OVMF)
	case strings.HasSuffix(image, ".efi"):
		*profile = string(qemu.OVMF)
	}
	base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(image, ".elf"), ".efi"), ".img")
	if *initrd == "" && disk == "" {
		if c := base + ".cpio"; c != image {
			if _, err := os.Stat(c); err == nil {
				*initrd = c
			}
		}
	}
	words := fs.Args()[1:]
	if *trace {
		words = append([]string{"cocoon.trace=syscalls"}, words...)
	}
	for i, w := range words {
		if strings.ContainsAny(w, " \t") {
			words[i] = `"` + w + `"`
		}
	}
	cfg := qemu.Config{
		Profile:   qemu.Profile(*profile),
		Kernel:    image,
		Disk:      disk,
		Initrd:    *initrd,
		Append:    strings.Join(words, " "),
		MemoryMiB: *mem,
		Accel:     qemu.Accel(*accel),
		Timeout:   *timeout,
		Console:   stdout,
	}
	if !*quiet {
		cfg.Log = stderr
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	_, err := qemu.Run(ctx, cfg)
	var ee *qemu.ExitError
	if errors.As(err, &ee) {
		return exitStatus(ee.Status)
	}
	return err
}
