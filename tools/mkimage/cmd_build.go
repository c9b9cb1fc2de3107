package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/cocoon-vm/cocoon/lvbs/skimage"
	"github.com/cocoon-vm/cocoon/qemu"
	"github.com/cocoon-vm/cocoon/snp/measure"
	"github.com/cocoon-vm/cocoon/tools/appimage"
	"github.com/cocoon-vm/cocoon/tools/efiimage"
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

func runBuild(args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mkimage build", flag.ContinueOnError)
	fs.SetOutput(stderr)
	kernelPkg := fs.String("kernel", DefaultKernel, "Go main `PACKAGE` of the kernel (it must import github.com/cocoon-vm/cocoon/boot)")
	elfPath := fs.String("elf", "", "use the static linux/amd64 executable `FILE` as the application instead of building PACKAGE")
	var files fileFlags
	fs.Var(&files, "file", "add the host file or directory `SRC[:DST]` to the application's files (default DST /<base name>); repeatable")
	out := fs.String("o", "", "output `NAME`: writes NAME.elf (kernel) and NAME.cpio (application); default out/<application name>")
	verbose := fs.Bool("v", false, "print the go commands and their output")
	format := fs.String("format", "elf", "image `FORMAT`: elf (PVH kernel NAME.elf), efi (UEFI application NAME.efi), disk (raw GPT disk NAME.img booting a self-contained NAME.efi) or gce (that disk as disk.raw in NAME.tar.gz, for Google Compute Engine)")
	embed := fs.Bool("embed", false, "with --format efi: put the application archive inside NAME.efi (no NAME.cpio, no initrd needed)")
	platform := fs.String("platform", "pc", "`PLATFORM` the image runs on: pc (QEMU, Firecracker, Cloud Hypervisor, OVMF; SEV-SNP with --measure) or lvbs (a Hyper-V VTL1 secure kernel: also writes NAME.lvbs/skloader.bin and NAME.lvbs/vmlinux.bin)")
	measureLaunch := fs.Bool("measure", false, "also write NAME.efi.measurement.json, the SEV-SNP launch measurement of NAME.efi booted by QEMU with the OVMF --ovmf (implies --format efi)")
	var launch launchFlags
	launch.register(fs)
	var rc runConfig
	fs.Func("arg", "an argument `A` 'mkimage run' gives the application by default (NAME.run.json); repeatable", func(v string) error {
		rc.Args = append(rc.Args, v)
		return nil
	})
	fs.Func("env", "`KEY=VALUE` for the application's environment under 'mkimage run' (NAME.run.json); repeatable", func(v string) error {
		if k, _, ok := strings.Cut(v, "="); !ok || k == "" {
			return errors.New("want KEY=VALUE")
		}
		rc.Env = append(rc.Env, v)
		return nil
	})
	fs.StringVar(&rc.Workdir, "workdir", "", "the application's working `DIR` under 'mkimage run' (NAME.run.json)")
	fs.IntVar(&rc.Memory, "m", 0, "guest RAM in `MiB` for 'mkimage run' (NAME.run.json)")
	fs.Func("publish", "publish the guest's port under 'mkimage run': `HOSTPORT:GUESTPORT[/udp]` (NAME.run.json); repeatable", func(v string) error {
		if err := checkPort(v); err != nil {
			return err
		}
		rc.Ports = append(rc.Ports, v)
		return nil
	})
	fs.Func("overcommit", "the kernel's overcommit `POLICY` (NAME.run.json; measured, and embedded in a disk): guess (Linux's default heuristic: one mapping that must be backed and exceeds RAM is refused) or always (every mapping is accepted, pages are taken when touched, and a process that touches one when memory is exhausted is killed, status 137)", func(v string) error {
		if err := checkOvercommit(v); err != nil {
			return err
		}
		rc.Overcommit = v
		if v == overcommitGuess {
			rc.Overcommit = ""
		}
		return nil
	})
	network := fs.String("network", networkAuto, "link the kernel's TCP/IP stack: `MODE` auto (only if a program of the archive may make sockets or --publish is given), on or off (socket(2) then fails with EAFNOSUPPORT for AF_INET, AF_INET6 and AF_NETLINK)")
	specPath := fs.String("spec", SpecFile, "read the image's definition from the spec `FILE` (if present; \"none\" reads none)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, `Usage: mkimage build [flags] [PACKAGE | --elf FILE]

Builds a Cocoon image: the kernel (NAME.elf, a PVH ELF that QEMU -kernel,
Firecracker and Cloud Hypervisor boot) and the application archive
(NAME.cpio, the initrd, with the program as /init). PACKAGE is a Go main
package built with the stock toolchain (static: CGO_ENABLED=0); --elf
takes any static linux/amd64 program instead. Dynamically linked or
non-x86-64 programs are refused here, before anything boots. With neither,
only the kernel is built (give --kernel, e.g. ./images/selftest).

--format efi also writes NAME.efi, the same kernel as a UEFI application
(PE32+) that OVMF boots with QEMU -kernel NAME.efi -initrd NAME.cpio
-append ARGS; with --embed the archive is inside it instead. --format
disk writes NAME.img, a raw GPT disk whose EFI system partition holds the
self-contained application as \EFI\BOOT\BOOTX64.EFI. The same inputs
give byte-identical files.

--measure also computes the SEV-SNP launch measurement (MEASUREMENT of
the guest's attestation reports) of NAME.efi launched as 'mkimage run
NAME.efi' would launch it, under SEV-SNP with QEMU's measured direct boot
(sev-snp-guest kernel-hashes=on): the firmware --ovmf FILE (an OVMF with
an SNP_KERNEL_HASHES section, such as OvmfPkg/AmdSev/AmdSevX64.dsc
builds), -kernel NAME.efi, -initrd NAME.cpio if that file exists, and the
command line of --arg, --env and --workdir (none: no -append); 'mkimage
run' starts a measured NAME.efi that way, with the application's output
on the console and no standard input (the serial streams' command-line
word is not measured, and an SEV-SNP guest has no serial streams). It writes the result as JSON to NAME.efi.measurement.json, where
'mkimage verify --image NAME' finds it. --measure implies --format efi:
QEMU hashes no PVH ELF, and OVMF loads a disk after the launch is
measured. The launch flags (--ovmf, --vcpus, --vcpu-type or --vcpu-sig,
--guest-features, --vmm-type, ...) are those of 'mkimage measure'.
Arguments given to 'mkimage run' become the command line, which is
measured too: measure such a launch with 'mkimage measure --append'. A
build that writes NAME.efi without --measure removes the measurement an
earlier one recorded.

PACKAGE is built in the current module, with its go.mod. The kernel is
Cocoon's, from mkimage's own version of the Cocoon module (the Go module
cache's copy; 'mkimage version' says which), so any module can be built;
--kernel PACKAGE builds another kernel in the current module instead.

--platform lvbs builds a Hyper-V VTL1 (LVBS) secure kernel: beside
NAME.elf and NAME.cpio it writes NAME.lvbs/skloader.bin and NAME.lvbs/vmlinux.bin,
which the LVBS VTL0 kernel loads into its securekernel= reservation
(which must start at 0x1e00000; the build says how large it must be).
The application's arguments, environment and directory are embedded.

--arg, --env, --workdir, -m, --vcpus and --publish say how 'mkimage run'
starts the image; they go to NAME.run.json.

--network chooses the kernel's build. A kernel with network links gVisor's
TCP/IP stack: loopback, and a virtio-net device when 'mkimage run' gives
one. One without it boots faster (under QEMU's emulation the stack's
package initialisers are about a sixth of the code translated before a
small application's main) and is half the size, but is Linux built without
TCP/IP: socket(2) fails with EAFNOSUPPORT for AF_INET, AF_INET6 and
AF_NETLINK, loopback included (the kernel says why on the console the
first time), and 'mkimage run' gives it no network device. AF_UNIX
sockets work in both. auto, the default, builds without network only
when no program of the archive (/init and every --file that is an ELF
program) links a socket call (Go's net, syscall or x/sys/unix sockets,
the C library's socket, connect or getaddrinfo; a program without a
symbol table counts as one that does) and no --publish is given; say
--network on for a program that makes sockets by raw system calls.

--overcommit always makes the kernel accept every mapping, as Linux does
with vm.overcommit_memory=1, and take a page only when it is touched; a
process that touches one when memory is exhausted is killed (SIGKILL,
status 137). The default, guess, is Linux's heuristic: one mapping that
must be backed and is larger than RAM is refused. Every Go program's
runtime maps a 32 MiB heap index at start, so under guess a Go
application needs RAM past the kernel's own above 32 MiB; with always
it starts in far less (hello: 'mkimage run -m 32'). The policy goes to
NAME.run.json, as the kernel command-line word
sysctl.vm.overcommit_memory=1, which a measurement covers and a disk
embeds.

A spec file keeps all of this in the project's repository: cocoon.json in
the current directory (or --spec FILE) is read when present, as JSON
whose fields are the flags' (flags on the command line override it):

  {"package": "./cmd/app", "elf": "FILE", "args": ["A"], "env": ["K=V"],
   "workdir": "/srv", "files": [{"src": "static", "dst": "/srv/static"}],
   "memory": 256, "vcpus": 2, "platform": "pc" | "snp" | "lvbs", "ports": ["8080:80"],
   "format": "elf" | "efi" | "disk" | "gce", "output": "out/app",
   "overcommit": "guess" | "always", "network": "auto" | "on" | "off",
   "measure": {"ovmf": FILE, "vcpuType": T, "vcpuSig": S,
               "guestFeatures": "0x1", "vmmType": "qemu" | "ec2" | "gce"}}

Paths are relative to the spec file. "platform": "snp" needs "measure".
Unknown fields and bad values are refused, naming the field.

Run the image with 'mkimage run NAME [ARGS...]'.

Flags:`)
		fs.PrintDefaults()
	}
	// The spec file, if any, comes first: the command line's flags
	// follow and override it.
	spec, specDir, err := findSpec(args)
	if err != nil {
		return err
	}
	if spec != nil {
		args = append(spec.flags(specDir), args...)
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
	_ = specPath // read by findSpec before parsing
	if spec != nil && len(pos) == 0 && !flagSet(fs, "elf") {
		if p := spec.pkg(specDir); p != "" {
			pos = []string{p}
		} else if spec.ELF != "" {
			*elfPath = spec.path(specDir, spec.ELF)
		}
	}
	if flagSet(fs, "vcpus") {
		rc.VCPUs = launch.vcpus
	}
	if err := checkNetworkMode(*network, rc.Ports); err != nil {
		fmt.Fprintf(stderr, "mkimage build: %v\n", err)
		return errUsage
	}
	if len(pos) > 1 || len(pos) == 1 && *elfPath != "" {
		fmt.Fprintln(stderr, "mkimage build: give one PACKAGE or --elf FILE")
		fs.Usage()
		return errUsage
	}
	switch *format {
	case "elf", "efi", "disk", "gce":
	default:
		fmt.Fprintf(stderr, "mkimage build: unknown --format %q: use elf, efi, disk or gce\n", *format)
		return errUsage
	}
	switch *platform {
	case "pc":
	case "lvbs":
		if *format != "elf" || *measureLaunch || *embed {
			fmt.Fprintln(stderr, "mkimage build: --platform lvbs writes the LVBS loader's two files beside NAME.elf: no --format, --measure or --embed")
			return errUsage
		}
	case "snp":
		fmt.Fprintln(stderr, "mkimage build: an SEV-SNP image is a pc image built with --measure (--format efi)")
		return errUsage
	default:
		fmt.Fprintf(stderr, "mkimage build: unknown --platform %q: use pc or lvbs\n", *platform)
		return errUsage
	}
	var launchOpts measure.Options
	if *measureLaunch {
		formatSet := false
		fs.Visit(func(f *flag.Flag) { formatSet = formatSet || f.Name == "format" })
		switch {
		case !formatSet:
			*format = "efi"
		case *format == "gce":
		case *format != "efi":
			fmt.Fprintf(stderr, "mkimage build: --measure measures a QEMU -kernel boot of NAME.efi and needs --format efi, not %s: "+
				"QEMU hashes no PVH ELF, and OVMF loads a disk after the launch is measured\n", *format)
			return errUsage
		}
		var err error
		if launchOpts, err = launch.options(); err != nil {
			fmt.Fprintf(stderr, "mkimage build: --measure: %v\nRun 'mkimage build --help' for the flags.\n", err)
			return errUsage
		}
		if *format == "gce" && launchOpts.VMM != measure.VMMGCE {
			fmt.Fprintln(stderr, "mkimage build: --format gce --measure measures a Compute Engine launch: give --vmm-type gce")
			return errUsage
		}
		// Refuse a firmware or options that cannot measure a kernel
		// before spending time on the build.
		if err := checkLaunch(launch.ovmf, &launchOpts, *format != "gce"); err != nil {
			return err
		}
	} else if given := slices.DeleteFunc(launch.given(), func(f string) bool { return f == "--vcpus" }); len(given) > 0 {
		fmt.Fprintf(stderr, "mkimage build: %s describe the launch --measure measures: give --measure too\n", strings.Join(given, ", "))
		return errUsage
	}
	if *embed && *format != "efi" {
		fmt.Fprintln(stderr, "mkimage build: --embed goes with --format efi (--format disk always embeds)")
		return errUsage
	}
	selfContained := *embed || *format == "disk" || *format == "gce"
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
	// A PVH-only kernel lies at 2 MiB, not 32: it boots in less memory.
	// UEFI formats need it where OVMF's memory is not, and the LVBS
	// loader where its reservation puts it (layout.ImagePhys).
	o := kbuild.Options{PVHOnly: *format == "elf" && *platform == "pc"}
	if *verbose {
		o.Log = stderr
	}
	start := time.Now()
	var payload []byte // the archive of a self-contained image
	archive := ""      // the application archive, if any

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
		report := stdout
		archive = name + ".cpio"
		if selfContained {
			dir, err := os.MkdirTemp("", "mkimage-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			archive, report = filepath.Join(dir, "app.cpio"), io.Discard
		}
		if err := packArchive(init, files, archive, report); err != nil {
			return err
		}
		if selfContained {
			b, err := os.ReadFile(archive)
			if err != nil {
				return err
			}
			payload = b
			if err := removeStaleArchive(name, stdout); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "application archive (inside the image: %d KiB, sha256 %x)\n", (len(b)+1023)>>10, sha256.Sum256(b))
		}
	}
	if err := writeRunConfig(name, &rc, stdout); err != nil {
		return err
	}
	net, why, err := kernelNetwork(*network, archive, rc.Ports)
	if err != nil {
		return err
	}
	o.NoNetwork = !net
	kernel := *kernelPkg
	if !kernelSet {
		// Cocoon's kernel, from mkimage's own version of Cocoon: the
		// user's module need not know it.
		src, err := findKernelSource(context.Background())
		if err != nil {
			return err
		}
		kernel, o.Dir = "./north/cocoon", src.Dir
		o.Env = []string{"GOWORK=off", "GOFLAGS=-mod=readonly"}
		fmt.Fprintf(stderr, "mkimage: building the kernel %s@%s from %s\n", DefaultKernel, src.Version, src.Dir)
	} else {
		fmt.Fprintf(stderr, "mkimage: building the kernel %s\n", kernel)
	}
	if net {
		fmt.Fprintf(stderr, "mkimage: the kernel has network: %s\n", why)
	} else {
		fmt.Fprintf(stderr, "mkimage: the kernel has no network (socket(2) fails with EAFNOSUPPORT for AF_INET, AF_INET6 and AF_NETLINK): %s; --network on links it\n", why)
	}
	elfOut, err := filepath.Abs(name + ".elf")
	if err != nil {
		return err
	}
	if err := kbuild.Kernel(context.Background(), kernel, elfOut, o); err != nil {
		return err
	}
	st, err := os.Stat(name + ".elf")
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s.elf (%d KiB), built in %v\n", name, st.Size()>>10, time.Since(start).Round(time.Millisecond))
	if *platform == "lvbs" {
		return writeLVBS(name, &rc, stdout)
	}
	if *format == "elf" {
		return checkRecordedMemory(name, &rc)
	}
	// A disk boots with no command line from the firmware: the
	// application's start goes into NAME.efi's own.
	var embedded string
	if *format == "disk" || *format == "gce" {
		if embedded, err = rc.line(); err != nil {
			return err
		}
	}
	if err := writeEFI(name, *format, payload, embedded, stdout); err != nil {
		return err
	}
	if *format == "gce" {
		if !*measureLaunch {
			return removeStale(measure.ExpectedPath(name+".tar.gz"), "it measured an earlier "+name+".tar.gz", stdout)
		}
		return writeGCEMeasurement(name, launch.ovmf, launchOpts, stdout)
	}
	if !*measureLaunch {
		return removeStaleMeasurement(name+".efi", stdout)
	}
	return writeMeasurement(name, launch.ovmf, launchOpts, &rc, stdout)
}

// writeLVBS writes the LVBS image of NAME.elf and NAME.cpio:
// NAME.lvbs/skloader.bin and NAME.lvbs/vmlinux.bin, the files the LVBS VTL0 kernel
// loads from /usr/lib/firmware (lvbs/skimage, docs/LVBS.md), with the
// application's start on the embedded command line: the loader passes
// none.
func writeLVBS(name string, rc *runConfig, stdout io.Writer) error {
	kernel, err := os.ReadFile(name + ".elf")
	if err != nil {
		return err
	}
	initrd, err := os.ReadFile(name + ".cpio")
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	line, err := rc.line()
	if err != nil {
		return err
	}
	loader, vmlinux, err := skimage.Build(kernel, initrd, line)
	if err != nil {
		return err
	}
	dir := name + ".lvbs"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range []struct {
		file string
		b    []byte
	}{{"skloader.bin", loader}, {"vmlinux.bin", vmlinux}} {
		if err := os.WriteFile(filepath.Join(dir, f.file), f.b, 0o644); err != nil {
			return err
		}
	}
	h, err := skimage.Parse(loader)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s/skloader.bin and %s/vmlinux.bin (%d KiB): an LVBS secure kernel; install them as /usr/lib/firmware/skloader.bin and vmlinux.bin and boot the LVBS VTL0 kernel with securekernel=%dM@%#x or larger (docs/LVBS.md)\n",
		dir, dir, len(vmlinux)>>10, skimage.MinReservation(h.MemLen, h.InitrdLen)>>20, skimage.Base)
	return nil
}

// removeStaleArchive removes the NAME.cpio an earlier build wrote beside
// an image that now embeds its archive: 'mkimage run' and --measure would
// otherwise hand it to QEMU as the initrd.
func removeStaleArchive(name string, stdout io.Writer) error {
	return removeStale(name+".cpio", "an earlier build's archive; the application is embedded now", stdout)
}

// removeStaleMeasurement removes the measurement recorded beside an
// earlier efi: it does not describe the one just written, and a verifier
// would otherwise accept reports of the old image as this one's.
func removeStaleMeasurement(efi string, stdout io.Writer) error {
	return removeStale(measure.ExpectedPath(efi), "it measured an earlier "+efi+" (build with --measure to record this one's)", stdout)
}

// removeStale removes an earlier build's output at path, if any, and says
// why.
func removeStale(path, why string, stdout io.Writer) error {
	switch err := os.Remove(path); {
	case err == nil:
		fmt.Fprintf(stdout, "%s removed: %s\n", path, why)
	case !errors.Is(err, os.ErrNotExist):
		return err
	}
	return nil
}

// checkLaunch checks that opts can measure a launch of the firmware ovmf
// with a kernel, by measuring one with placeholder hashes, and sets
// opts.FirmwareDigest so that the firmware pages are hashed only once.
func checkLaunch(ovmf string, opts *measure.Options, kernel bool) error {
	fw, err := measure.ReadOVMF(ovmf)
	if err != nil {
		return err
	}
	if opts.FirmwareDigest == nil {
		d := measure.FirmwareDigest(fw)
		opts.FirmwareDigest = &d
	}
	probe := *opts
	if kernel {
		probe.KernelHashes = &measure.KernelHashes{}
	}
	if _, err := measure.Measure(fw, probe); err != nil {
		return fmt.Errorf("%s: %w", ovmf, err)
	}
	return nil
}

// writeMeasurement measures the launch 'mkimage run NAME.efi' makes, run
// under SEV-SNP with QEMU's measured direct boot and the firmware ovmf,
// and writes it beside NAME.efi. The inputs are those run hands QEMU:
// -kernel NAME.efi, -initrd NAME.cpio if it exists, and the command line
// of the run configuration rc (its arguments, environment and working
// directory; none is no -append, which QEMU hashes as an empty command
// line). 'mkimage run' starts a measured image without the
// application's serial streams, whose command-line word is not measured
// (runMeasured).
func writeMeasurement(name, ovmf string, opts measure.Options, rc *runConfig, stdout io.Writer) error {
	in := measure.Inputs{Firmware: ovmf, Kernel: name + ".efi"}
	if _, err := os.Stat(name + ".cpio"); err == nil {
		in.Initrd = name + ".cpio"
	}
	line, err := rc.line()
	if err != nil {
		return err
	}
	in.Cmdline = line
	if err := measure.CheckQEMUKernel(in.Kernel); err != nil {
		return err
	}
	r, err := measure.MeasureFiles(in, opts)
	if err != nil {
		return err
	}
	path, err := measure.WriteExpected(in.Kernel, r)
	if err != nil {
		return err
	}
	initrd := "no -initrd"
	if in.Initrd != "" {
		initrd = "-initrd " + in.Initrd
	}
	appendArg := "no -append"
	if line != "" {
		appendArg = fmt.Sprintf("-append %q", line)
	}
	fmt.Fprintf(stdout, "%s: SEV-SNP launch measurement %s\n  of -kernel %s, %s, %s, with OVMF %s on %v, %d vCPU(s), signature %#x, guest features %#x\n",
		path, r.Measurement, in.Kernel, initrd, appendArg, ovmf, r.VMM, r.VCPUs, r.VCPUSignature, r.GuestFeatures)
	return nil
}

// writeGCEMeasurement measures a Compute Engine SEV-SNP launch of the
// firmware ovmf (Google's, for the digest to match) and writes it beside
// NAME.tar.gz. Compute Engine boots the disk after the launch is
// measured, so the digest covers the firmware and the launch options
// only: it does not identify the application, which must prove itself
// another way (a report whose REPORT_DATA or HOST_DATA binds it).
func writeGCEMeasurement(name, ovmf string, opts measure.Options, stdout io.Writer) error {
	r, err := measure.MeasureFiles(measure.Inputs{Firmware: ovmf}, opts)
	if err != nil {
		return err
	}
	path, err := measure.WriteExpected(name+".tar.gz", r)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: SEV-SNP launch measurement %s\n  of a Compute Engine launch of the firmware %s on %d vCPU(s), signature %#x, guest features %#x;\n"+
		"  the disk is loaded after the launch is measured: this digest does not cover the application\n",
		path, r.Measurement, ovmf, r.VCPUs, r.VCPUSignature, r.GuestFeatures)
	return nil
}

// writeEFI turns the kernel NAME.elf into NAME.efi and, for the disk
// format, NAME.img, embedding payload (if any) as the application archive.
func writeEFI(name, format string, payload []byte, embedded string, stdout io.Writer) error {
	kernel, err := os.ReadFile(name + ".elf")
	if err != nil {
		return err
	}
	efi, err := efiimage.Build(kernel, efiimage.Options{Initrd: payload, Cmdline: embedded})
	if err != nil {
		return err
	}
	if err := os.WriteFile(name+".efi", efi, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s.efi (%d KiB, sha256 %x)\n", name, (len(efi)+1023)>>10, sha256.Sum256(efi))
	switch format {
	case "gce":
		dir, err := os.MkdirTemp("", "mkimage-gce-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		raw := filepath.Join(dir, gceDiskName)
		if err := efiimage.WriteDiskSize(raw, efi, gceDiskSize); err != nil {
			return err
		}
		return writeGCE(name, raw, stdout)
	case "disk":
	default:
		return nil
	}
	if err := efiimage.WriteDisk(name+".img", efi); err != nil {
		return err
	}
	img, err := os.ReadFile(name + ".img")
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s.img (%d MiB, sha256 %x)\n", name, len(img)>>20, sha256.Sum256(img))
	return nil
}

// checkRecordedMemory refuses a build whose -m (NAME.run.json) is less
// than the PVH image NAME.elf with NAME.cpio needs: every 'mkimage run'
// of it would be refused.
func checkRecordedMemory(name string, rc *runConfig) error {
	if rc.Memory == 0 {
		return nil
	}
	initrd := name + ".cpio"
	if _, err := os.Stat(initrd); err != nil {
		initrd = ""
	}
	line, err := rc.line()
	if err != nil {
		return err
	}
	min, err := qemu.MinMemoryMiB(name+".elf", initrd, line)
	if err != nil || rc.Memory >= min {
		return err
	}
	return fmt.Errorf("-m %d: the image needs at least %d MiB ('mkimage run' would refuse it): record -m %d or more (or none: 'mkimage run' gives 256)", rc.Memory, min, min)
}
