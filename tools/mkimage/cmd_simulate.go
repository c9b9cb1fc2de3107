package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/cocoon-vm/cocoon/lvbs/vsmsim"
	"github.com/cocoon-vm/cocoon/lvbs/vtl0load"
)

func init() {
	commands["simulate-vsm"] = command{
		summary: "boot an LVBS image under QEMU with a SIMULATED Hyper-V VSM and play VTL0's demo",
		run:     runSimulateVSM,
	}
}

func runSimulateVSM(args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mkimage simulate-vsm", flag.ContinueOnError)
	fs.SetOutput(stderr)
	verbose := fs.Bool("v", false, "also print the guest's console")
	fs.Usage = func() {
		fmt.Fprintln(stderr, `Usage: mkimage simulate-vsm [-v] NAME

Boots the LVBS image NAME.lvbs/ ('mkimage build --platform lvbs', whose
application serves /dev/vtl0 as images/vtl0svc does) under QEMU with a
SIMULATED VSM: this process plays Hyper-V and the LVBS VTL0 kernel over
guest memory it shares with QEMU (lvbs/vsmsim, docs/LVBS.md). As VTL0 it
loads the image as hv_vsm_boot.c does, makes the boot call, protects one
of its pages read-only, pins CR4.SMEP, ends boot, tries to write the page
and clear SMEP (VTL1 must refuse both), and asks the application for its
public key and a signature of a message, which it verifies. Nothing here
runs on Hyper-V: every line says SIMULATED.`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return nil
		}
		return errUsage
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	dir := fs.Arg(0) + ".lvbs"
	loader, err := os.ReadFile(filepath.Join(dir, "skloader.bin"))
	if err != nil {
		return fmt.Errorf("%v (build the image with 'mkimage build --platform lvbs')", err)
	}
	kernel, err := os.ReadFile(filepath.Join(dir, "vmlinux.bin"))
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("/dev/shm", "cocoon-vsm-")
	if err != nil {
		if tmp, err = os.MkdirTemp("", "cocoon-vsm-"); err != nil {
			return err
		}
	}
	defer os.RemoveAll(tmp)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	o, err := vsmsim.Run(ctx, vtl0load.Image{Loader: loader, Kernel: kernel}, tmp, stdout)
	if o != nil && (*verbose || err != nil) {
		fmt.Fprintf(stdout, "guest console (Cocoon in VTL1, SIMULATED VSM):\n%s", o.Console)
	}
	if err != nil {
		return err
	}
	if !o.Verified {
		return errors.New("the signature did not verify")
	}
	fmt.Fprintln(stdout, "vtl0 (SIMULATED VSM): every check passed")
	return nil
}
