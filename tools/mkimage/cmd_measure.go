package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/cocoon-vm/cocoon/snp/measure"
)

func init() {
	commands["measure"] = command{
		summary: "print the SEV-SNP launch measurement of an OVMF (+ kernel) launch",
		run:     runMeasure,
	}
}

// launchFlags are the flags that describe an SEV-SNP launch to measure.
// "mkimage measure" uses them, and "mkimage build --measure" registers
// the same ones so both commands read a launch the same way.
type launchFlags struct {
	fs            *flag.FlagSet
	names         map[string]bool // the flags register added
	ovmf          string
	ovmfHash      string
	vcpus         int
	vcpuType      string
	vcpuSig       string
	family        uint
	model         uint
	stepping      uint
	guestFeatures string
	vmm           string
}

// register adds the launch flags to fs.
func (l *launchFlags) register(fs *flag.FlagSet) {
	l.fs = fs
	before := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) { before[f.Name] = true })
	fs.StringVar(&l.ovmf, "ovmf", "", "OVMF firmware `FILE` the VMM loads (QEMU -bios)")
	fs.StringVar(&l.ovmfHash, "ovmf-hash", "", "precomputed OVMF hash (`HEX`, 96 digits) to start from instead of hashing the firmware pages")
	fs.IntVar(&l.vcpus, "vcpus", 1, "number `N` of vCPUs at launch (QEMU -smp)")
	fs.StringVar(&l.vcpuType, "vcpu-type", "", "QEMU -cpu model `TYPE`, one of: "+strings.Join(measure.VCPUTypes(), ", "))
	fs.StringVar(&l.vcpuSig, "vcpu-sig", "", "vCPU signature `S`, CPUID Fn0000_0001_EAX (e.g. 0xa00f11), instead of --vcpu-type")
	fs.UintVar(&l.family, "vcpu-family", 0, "vCPU `FAMILY` (e.g. 25), with --vcpu-model and --vcpu-stepping, instead of --vcpu-type")
	fs.UintVar(&l.model, "vcpu-model", 0, "vCPU `MODEL` (with --vcpu-family)")
	fs.UintVar(&l.stepping, "vcpu-stepping", 0, "vCPU `STEPPING` (with --vcpu-family)")
	fs.StringVar(&l.guestFeatures, "guest-features", fmt.Sprintf("%#x", measure.DefaultGuestFeatures),
		"SEV_FEATURES `F` of every VMSA: bit 0 is SNPActive; QEMU's default is 0x1")
	fs.StringVar(&l.vmm, "vmm-type", "qemu", "`VMM` that launches the guest: qemu (QEMU/KVM), ec2 (Amazon EC2) or gce (Google Compute Engine)")
	l.names = map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) { l.names[f.Name] = !before[f.Name] })
}

// given returns the launch flags set on the command line, as "--name".
func (l *launchFlags) given() []string {
	var set []string
	l.fs.Visit(func(f *flag.Flag) {
		if l.names[f.Name] {
			set = append(set, "--"+f.Name)
		}
	})
	return set
}

// options turns the parsed flags into measurement options.
func (l *launchFlags) options() (measure.Options, error) {
	set := map[string]bool{}
	l.fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	if l.ovmf == "" {
		return measure.Options{}, errors.New("--ovmf is required")
	}
	vmm, err := measure.ParseVMM(l.vmm)
	if err != nil {
		return measure.Options{}, fmt.Errorf("--vmm-type: %v", err)
	}
	features, err := strconv.ParseUint(l.guestFeatures, 0, 64)
	if err != nil {
		return measure.Options{}, fmt.Errorf("--guest-features %q: want a number such as 0x1", l.guestFeatures)
	}
	opts := measure.Options{VCPUs: l.vcpus, GuestFeatures: features, VMM: vmm}

	fms := set["vcpu-family"] || set["vcpu-model"] || set["vcpu-stepping"]
	given := 0
	for _, b := range []bool{l.vcpuType != "", l.vcpuSig != "", fms} {
		if b {
			given++
		}
	}
	switch {
	case given > 1:
		return opts, errors.New("give only one of --vcpu-type, --vcpu-sig and --vcpu-family/--vcpu-model/--vcpu-stepping")
	case l.vcpuType != "":
		opts.VCPUSignature, err = measure.VCPUTypeSignature(l.vcpuType)
	case l.vcpuSig != "":
		var sig uint64
		sig, err = strconv.ParseUint(l.vcpuSig, 0, 32)
		if err != nil {
			err = fmt.Errorf("--vcpu-sig %q: want a 32-bit number such as 0xa00f11", l.vcpuSig)
		}
		opts.VCPUSignature = uint32(sig)
	case fms:
		if !set["vcpu-family"] || !set["vcpu-model"] || !set["vcpu-stepping"] {
			return opts, errors.New("--vcpu-family, --vcpu-model and --vcpu-stepping go together")
		}
		if l.family > math.MaxUint32 || l.model > math.MaxUint32 || l.stepping > math.MaxUint32 {
			return opts, fmt.Errorf("vCPU family %d, model %d, stepping %d are out of range", l.family, l.model, l.stepping)
		}
		opts.VCPUSignature, err = measure.CPUSignature(uint32(l.family), uint32(l.model), uint32(l.stepping))
	case vmm == measure.VMMQEMU:
		return opts, errors.New("QEMU puts the vCPU signature in RDX, so the measurement depends on it: " +
			"give --vcpu-type (as QEMU's -cpu), --vcpu-sig, or --vcpu-family/--vcpu-model/--vcpu-stepping")
	}
	if err != nil {
		return opts, err
	}

	if l.ovmfHash != "" {
		d, err := measure.ParseDigest(l.ovmfHash)
		if err != nil {
			return opts, fmt.Errorf("--ovmf-hash: %v", err)
		}
		opts.FirmwareDigest = &d
	}
	return opts, nil
}

func runMeasure(args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("measure", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var launch launchFlags
	launch.register(fs)
	kernel := fs.String("kernel", "", "kernel `FILE` for measured direct boot (QEMU -kernel)")
	initrd := fs.String("initrd", "", "initrd `FILE` (QEMU -initrd); needs --kernel")
	cmdline := fs.String("append", "", "kernel command line `CMDLINE` (QEMU -append); needs --kernel")
	asJSON := fs.Bool("json", false, "print the measurement and its inputs as JSON instead of hex")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: mkimage measure --ovmf FILE [--kernel K [--initrd I] [--append CMDLINE]]
                       [--vcpus N] [--vcpu-type T | --vcpu-sig S | --vcpu-family F --vcpu-model M --vcpu-stepping S]
                       [--guest-features F] [--vmm-type qemu|ec2|gce] [--ovmf-hash HEX] [--json]

Computes the SEV-SNP launch digest that the AMD secure processor will report
as MEASUREMENT for a guest launched with these inputs, and prints it in hex.
Give the same files and settings the VMM is given: a different firmware,
kernel, initrd, command line, vCPU count or vCPU type changes the value.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	usageError := func(err error) error {
		fmt.Fprintf(stderr, "mkimage measure: %v\nRun 'mkimage measure --help' for the flags.\n", err)
		return errUsage
	}
	if fs.NArg() > 0 {
		return usageError(fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	opts, err := launch.options()
	if err != nil {
		return usageError(err)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *kernel == "" && (set["initrd"] || set["append"]) {
		return usageError(errors.New("--initrd and --append need --kernel: QEMU only hashes them for measured direct boot"))
	}

	r, err := measure.MeasureFiles(measure.Inputs{
		Firmware: launch.ovmf,
		Kernel:   *kernel,
		Initrd:   *initrd,
		Cmdline:  *cmdline,
	}, opts)
	if err != nil {
		return err
	}
	if *kernel != "" {
		if err := measure.CheckQEMUKernel(*kernel); err != nil {
			fmt.Fprintf(stderr, "mkimage measure: warning: %v\n", err)
		}
	}
	if !*asJSON {
		_, err = fmt.Fprintln(stdout, r.Measurement)
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s\n", b)
	return err
}
