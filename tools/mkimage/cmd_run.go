package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/cocoon-vm/cocoon/internal/timeline"
	"github.com/cocoon-vm/cocoon/north/cmdline"
	"github.com/cocoon-vm/cocoon/qemu"
	"github.com/cocoon-vm/cocoon/snp/measure"
)

func init() {
	commands["run"] = command{
		summary: "boot an image under QEMU and run its application",
		run:     runRun,
	}
}

// exitStatus carries the guest's exit status to main's exit code.
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("guest exited with status %d", int(e)) }

// runFlags are the flags of 'mkimage run'. Each group registers its own
// flags, so a new group (networking, say) is one more field and one more
// register call.
type runFlags struct {
	profile, accel, initrd string
	mem, vcpus             int
	timeout                time.Duration
	trace, verbose, psp    bool
	timeline               bool
	overcommit             string
	app                    appFlags
	net                    netFlags
}

func (f *runFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.profile, "profile", string(qemu.DefaultProfile), "QEMU machine `PROFILE`: microvm, q35 or ovmf")
	fs.IntVar(&f.mem, "m", 256, "guest RAM in `MiB`")
	fs.IntVar(&f.vcpus, "vcpus", 1, "number `N` of vCPUs")
	fs.StringVar(&f.accel, "accel", string(qemu.DefaultAccel), "accelerator: tcg, kvm, or auto (kvm if a quick probe shows it works)")
	fs.DurationVar(&f.timeout, "timeout", 10*time.Minute, "kill the guest after `DURATION`")
	fs.StringVar(&f.initrd, "initrd", "", "initrd `FILE` (the application archive; default IMAGE.cpio if it exists)")
	fs.BoolVar(&f.trace, "trace-syscalls", false, "print every system call of the application with its result")
	fs.BoolVar(&f.verbose, "v", false, "print the QEMU command line and the kernel's console on standard error")
	fs.BoolVar(&f.psp, "psp", false, "attach Cocoon's SIMULATED PSP (reports signed by go-sev-guest's TEST-ONLY keys), so the application can attest through /dev/sev-guest (microvm or q35)")
	fs.BoolVar(&f.timeline, "timeline", false, "print the boot timeline (where the time from the first instruction to the application's first write went) on standard error")
	fs.Func("overcommit", "the kernel's overcommit `POLICY` for this run: guess or always (default: the image's, NAME.run.json; see 'mkimage build --help')", func(v string) error {
		if err := checkOvercommit(v); err != nil {
			return err
		}
		f.overcommit = v
		return nil
	})
	f.app.register(fs)
	f.net.register(fs)
}

// appFlags are the application's environment and working directory.
type appFlags struct {
	env   []string
	dir   string
	argv0 string
}

func (f *appFlags) register(fs *flag.FlagSet) {
	fs.Func("env", "set `KEY=VALUE` in the application's environment (KEY alone: the value it has here); repeatable", func(s string) error {
		if s == "" || strings.HasPrefix(s, "=") {
			return errors.New("want KEY=VALUE or KEY")
		}
		if !strings.Contains(s, "=") {
			v, ok := os.LookupEnv(s)
			if !ok {
				return fmt.Errorf("%s is not set here: give --env %s=VALUE", s, s)
			}
			s += "=" + v
		}
		f.env = append(f.env, s)
		return nil
	})
	fs.StringVar(&f.dir, "workdir", "", "start the application in `DIR` of its file tree (default /)")
	fs.StringVar(&f.argv0, "argv0", "", "the application's argv[0] (default /init)")
}

// app returns the application's start as the command line carries it.
func (f *appFlags) app(args []string) cmdline.App {
	return cmdline.App{Argv0: f.argv0, Args: args, Env: f.env, Dir: f.dir}
}

func runRun(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mkimage run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f runFlags
	f.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, `Usage: mkimage run [flags] IMAGE [ARGS...]

Boots IMAGE (NAME or NAME.elf, as 'mkimage build' wrote it, with NAME.cpio
as the application; NAME.efi or a NAME.img disk boot through OVMF) under
QEMU with software emulation (TCG) unless --accel says otherwise, and
exits with the guest's exit status (128+N if the application was killed
by signal N). SIGINT, SIGTERM or SIGHUP to mkimage kills QEMU (the
guest and its published ports go with it) and mkimage exits 128+N.

The application's standard input, output and error are this command's,
byte for byte: 'mkimage run IMG > out 2> err < in' gives its exact
bytes, with end of file when the input ends (in the guest they are
pipes, not a terminal). The kernel's own messages go to standard error
only with -v or --trace-syscalls, or when the run fails. A disk image
(NAME.img) has no command line to ask for the streams: its application
writes to the console, which is then copied to standard output.

Defaults for ARGS, --env, --workdir, -m, --vcpus and --overcommit come
from what 'mkimage build' recorded in NAME.run.json, if anything.

ARGS, everything after IMAGE, are the application's arguments exactly as
given: spaces, quotes, '=', empty strings and non-ASCII bytes included.
Its environment is PATH=/sbin:/usr/sbin:/bin:/usr/bin and HOME=/ (and
TERM=linux on the console of a disk image), then what --env gives. Arguments and environment travel on
the kernel command line, which holds 4095 bytes; longer ones are refused
(put long data in a file of the image: mkimage build --file).

An application that uses the network gets a virtio-net device on QEMU's
user network (--net user): virtio-net over virtio-mmio on microvm, a
virtio-net-pci function on q35 and ovmf. Its address comes by DHCP,
the host's loopback is 10.0.2.2, and --publish 8080:80 makes the guest's
port 80 reachable at 127.0.0.1:8080 on the host. --net none gives none.
An image whose kernel was built without network (see 'mkimage build
--help', --network) gets none, and --net user or --publish is refused.

Flags (before IMAGE):`)
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
	// What 'mkimage build' recorded (NAME.run.json) is the default; the
	// command line overrides it, and adds to its environment.
	rc, err := readRunConfig(strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(image, ".elf"), ".efi"), ".img"))
	if err != nil {
		return err
	}
	for i, p := range rc.Ports {
		fw, err := qemu.ParseForward(p)
		if err != nil {
			return fmt.Errorf("the image's run configuration: %v (rebuild it)", err)
		}
		f.net.publish = slices.Insert(f.net.publish, i, fw)
	}
	appArgs := fs.Args()[1:]
	if strings.HasSuffix(image, ".img") {
		// A disk holds its command line, what NAME.run.json says
		// included; only this command's own words would be refused.
		rc.Args, rc.Env, rc.Workdir, rc.Overcommit = nil, nil, "", ""
	}
	if len(appArgs) == 0 {
		appArgs = rc.Args
	}
	f.app.env = append(rc.Env, f.app.env...)
	if f.app.dir == "" {
		f.app.dir = rc.Workdir
	}
	if !flagSet(fs, "m") && rc.Memory != 0 {
		f.mem = rc.Memory
	}
	if !flagSet(fs, "vcpus") && rc.VCPUs != 0 {
		f.vcpus = rc.VCPUs
	}
	if f.overcommit == overcommitGuess {
		rc.Overcommit = ""
	} else if f.overcommit != "" {
		rc.Overcommit = f.overcommit
	}
	// The image's kernel settings come first, as 'mkimage build' wrote
	// them into a measured or embedded command line.
	pre := rc.kernelWords()
	if f.trace {
		pre = append(pre, "cocoon.trace=syscalls")
	}
	if f.timeline {
		pre = append(pre, timeline.CmdlineWord)
	}
	line, err := cmdline.Line(f.app.app(appArgs), pre...)
	if err != nil {
		return err
	}
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
		f.profile = string(qemu.OVMF)
		if line != "" {
			return errors.New("a disk image boots with the command line it holds: no ARGS, --env, --workdir, --argv0, --overcommit or --trace-syscalls")
		}
	case strings.HasSuffix(image, ".efi"):
		f.profile = string(qemu.OVMF)
	}
	base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(image, ".elf"), ".efi"), ".img")
	if f.initrd == "" && disk == "" {
		if c := base + ".cpio"; c != image {
			if _, err := os.Stat(c); err == nil {
				f.initrd = c
			}
		}
	}
	measured, err := checkMeasured(image, f.initrd, line, stderr)
	if err != nil {
		return err
	}
	kernelNet, err := kernelHasNetwork(image, disk)
	if err != nil {
		return err
	}
	netcfg, err := f.net.config(f.initrd, kernelNet)
	if err != nil {
		return err
	}
	cfg := qemu.Config{
		Net:       netcfg,
		Profile:   qemu.Profile(f.profile),
		Kernel:    image,
		Disk:      disk,
		Initrd:    f.initrd,
		Append:    line,
		MemoryMiB: f.mem,
		CPUs:      f.vcpus,
		Accel:     qemu.Accel(f.accel),
		Timeout:   f.timeout,
	}
	// The console: the application's streams for a disk image; else the
	// kernel's messages, shown live with -v or --trace-syscalls, and
	// after a failure.
	var console bytes.Buffer
	switch {
	case disk != "" || measured:
		cfg.Console = stdout
	case f.verbose || f.trace:
		cfg.Console = stderr
		cfg.Stdio = &qemu.Stdio{Stdin: stdin, Stdout: stdout, Stderr: stderr}
	default:
		cfg.Console = &console
		cfg.Stdio = &qemu.Stdio{Stdin: stdin, Stdout: stdout, Stderr: stderr}
	}
	var tl bytes.Buffer
	if f.timeline {
		cfg.Console = io.MultiWriter(cfg.Console, &tl)
	}
	if f.verbose {
		cfg.Log = stderr
	}
	ctx, stop := stopContext()
	if f.psp {
		fmt.Fprintln(stderr, "mkimage: SIMULATED PSP attached: its reports verify only against go-sev-guest's TEST-ONLY roots")
		var ran *qemu.PSPResult
		if _, ran, err = qemu.RunWithPSP(ctx, cfg, qemu.PSP{}); ran != nil && ran.Err != nil {
			fmt.Fprintf(stderr, "mkimage: simulated PSP: %v\n", ran.Err)
		}
	} else {
		_, err = qemu.Run(ctx, cfg)
	}
	if sig := stop(); sig != nil {
		return sig
	}
	if f.timeline {
		if t, terr := timeline.Find(tl.String()); terr != nil {
			fmt.Fprintf(stderr, "mkimage run: --timeline: %v\n", terr)
		} else {
			fmt.Fprintln(stderr, "Boot timeline (guest TSC, from the first instruction):")
			t.Write(stderr)
		}
	}
	var ee *qemu.ExitError
	if errors.As(err, &ee) && ee.Status < 126 {
		return exitStatus(ee.Status)
	}
	if err != nil && console.Len() > 0 {
		fmt.Fprintf(stderr, "mkimage run: the kernel's console:\n%s", strings.ReplaceAll(console.String(), "\r\n", "\n"))
	}
	if ee != nil {
		return exitStatus(ee.Status)
	}
	return err
}

// checkMeasured reports whether image is a UEFI application with a
// launch measurement beside it ('mkimage build --measure'). Such an image
// runs as measured: without the application's serial streams, whose
// command-line word (cocoon.stdio=serial) the measurement does not hold
// and an SEV-SNP guest could not serve, so its output shares the console
// and it gets no standard input; it says so on stderr. If this launch's
// kernel, initrd or command line is not the measured one, it says that
// too: the guest's attestation reports would not match the measurement.
func checkMeasured(image, initrd, line string, stderr io.Writer) (bool, error) {
	if !strings.HasSuffix(image, ".efi") {
		return false, nil
	}
	path := measure.ExpectedPath(image)
	r, err := measure.ReadExpected(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("%s: %v (rebuild the image with --measure, or remove it)", path, err)
	}
	fmt.Fprintf(stderr, "mkimage run: %s is measured (%s): it runs as measured, with its output and the kernel's messages on the console (standard output) and no standard input\n", image, path)
	h, err := measure.HashKernelFiles(image, initrd, line)
	if err != nil {
		return false, err
	}
	if r.KernelHashes == nil || *h != *r.KernelHashes {
		fmt.Fprintf(stderr, "mkimage run: warning: this launch (-kernel %s, -initrd %q, -append %q) is not the one %s measured: "+
			"the guest's attestation reports will not match it (give 'mkimage run' no arguments, or measure this launch with 'mkimage measure')\n",
			image, initrd, line, path)
	}
	return true, nil
}
