package measure

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
)

// Inputs name the files a VMM is given, so that the measurement is
// computed from exactly what QEMU loads.
type Inputs struct {
	// Firmware is the OVMF image (QEMU -bios, or the code pflash).
	Firmware string
	// Kernel is the -kernel file for measured direct boot; empty when the
	// firmware boots from disk.
	Kernel string
	// Initrd is the -initrd file; it needs Kernel.
	Initrd string
	// Cmdline is the -append string; it needs Kernel.
	Cmdline string
}

// Result is a launch measurement together with the parameters that
// produced it, so a verifier can tell what it expects and why.
type Result struct {
	Measurement    Digest
	FirmwareDigest Digest
	VCPUs          int
	VCPUSignature  uint32
	GuestFeatures  uint64
	VMM            VMM
	KernelHashes   *KernelHashes
}

// MeasureFiles reads the firmware, hashes the kernel, initrd and command
// line if a kernel is given, and measures the launch with opts.
// opts.KernelHashes must be nil: the hashes come from in.
func MeasureFiles(in Inputs, opts Options) (*Result, error) {
	if opts.KernelHashes != nil {
		return nil, errors.New("MeasureFiles takes the kernel from Inputs, not Options.KernelHashes")
	}
	if in.Kernel == "" && (in.Initrd != "" || in.Cmdline != "") {
		return nil, errors.New("an initrd or a command line needs a kernel: QEMU only hashes them for -kernel")
	}
	fw, err := ReadOVMF(in.Firmware)
	if err != nil {
		return nil, err
	}
	if in.Kernel != "" {
		if opts.KernelHashes, err = HashKernelFiles(in.Kernel, in.Initrd, in.Cmdline); err != nil {
			return nil, err
		}
	}
	if opts.FirmwareDigest == nil {
		d := FirmwareDigest(fw)
		opts.FirmwareDigest = &d
	}
	m, err := Measure(fw, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", in.Firmware, err)
	}
	return &Result{
		Measurement:    m,
		FirmwareDigest: *opts.FirmwareDigest,
		VCPUs:          opts.VCPUs,
		VCPUSignature:  opts.VCPUSignature,
		GuestFeatures:  opts.GuestFeatures,
		VMM:            opts.VMM,
		KernelHashes:   opts.KernelHashes,
	}, nil
}

// KindSNPLaunchDigest is the "kind" of every JSON Result: the
// measurement is an SEV-SNP launch digest, what AMD hardware reports as
// MEASUREMENT, unlike the simulated launch digest of snp/simpsp.
const KindSNPLaunchDigest = "snp-launch-digest"

// resultJSON is the JSON form of a Result: digests in hex, register
// values as 0x-prefixed hex strings.
type resultJSON struct {
	Kind           string            `json:"kind"`
	Measurement    Digest            `json:"measurement"`
	FirmwareDigest Digest            `json:"ovmf_hash"`
	VCPUs          int               `json:"vcpus"`
	VCPUSignature  string            `json:"vcpu_signature"`
	GuestFeatures  string            `json:"guest_features"`
	VMM            VMM               `json:"vmm_type"`
	KernelHashes   *kernelHashesJSON `json:"kernel_hashes,omitempty"`
}

type kernelHashesJSON struct {
	Kernel  string `json:"kernel_sha256"`
	Initrd  string `json:"initrd_sha256"`
	Cmdline string `json:"cmdline_sha256"`
}

// MarshalJSON implements json.Marshaler.
func (r *Result) MarshalJSON() ([]byte, error) {
	j := resultJSON{
		Kind:           KindSNPLaunchDigest,
		Measurement:    r.Measurement,
		FirmwareDigest: r.FirmwareDigest,
		VCPUs:          r.VCPUs,
		VCPUSignature:  fmt.Sprintf("%#x", r.VCPUSignature),
		GuestFeatures:  fmt.Sprintf("%#x", r.GuestFeatures),
		VMM:            r.VMM,
	}
	if h := r.KernelHashes; h != nil {
		j.KernelHashes = &kernelHashesJSON{
			Kernel:  hex.EncodeToString(h.Kernel[:]),
			Initrd:  hex.EncodeToString(h.Initrd[:]),
			Cmdline: hex.EncodeToString(h.Cmdline[:]),
		}
	}
	return json.Marshal(j)
}

// UnmarshalJSON implements json.Unmarshaler for the form MarshalJSON
// writes; it refuses any kind but KindSNPLaunchDigest.
func (r *Result) UnmarshalJSON(b []byte) error {
	var j resultJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	if j.Kind != KindSNPLaunchDigest {
		return fmt.Errorf("kind %q is not %q", j.Kind, KindSNPLaunchDigest)
	}
	out := Result{Measurement: j.Measurement, FirmwareDigest: j.FirmwareDigest, VCPUs: j.VCPUs, VMM: j.VMM}
	sig, err := strconv.ParseUint(j.VCPUSignature, 0, 32)
	if err != nil {
		return fmt.Errorf("vcpu_signature %q: %v", j.VCPUSignature, err)
	}
	out.VCPUSignature = uint32(sig)
	if out.GuestFeatures, err = strconv.ParseUint(j.GuestFeatures, 0, 64); err != nil {
		return fmt.Errorf("guest_features %q: %v", j.GuestFeatures, err)
	}
	if h := j.KernelHashes; h != nil {
		out.KernelHashes = new(KernelHashes)
		for _, f := range []struct {
			name, hex string
			sum       *[sha256.Size]byte
		}{
			{"kernel_sha256", h.Kernel, &out.KernelHashes.Kernel},
			{"initrd_sha256", h.Initrd, &out.KernelHashes.Initrd},
			{"cmdline_sha256", h.Cmdline, &out.KernelHashes.Cmdline},
		} {
			// Check the length first: hex.Decode does not bound dst.
			if len(f.hex) != 2*sha256.Size {
				return fmt.Errorf("%s %q: want %d hex digits", f.name, f.hex, 2*sha256.Size)
			}
			if _, err := hex.Decode(f.sum[:], []byte(f.hex)); err != nil {
				return fmt.Errorf("%s %q: want %d hex digits", f.name, f.hex, 2*sha256.Size)
			}
		}
	}
	*r = out
	return nil
}

// ExpectedPath is where WriteExpected puts the measurement of image:
// beside it, with ".measurement.json" appended.
func ExpectedPath(image string) string { return image + ".measurement.json" }

// WriteExpected writes r as indented JSON to ExpectedPath(image) and
// returns that path.
func WriteExpected(image string, r *Result) (string, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", err
	}
	path := ExpectedPath(image)
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return "", fmt.Errorf("writing expected measurement: %w", err)
	}
	return path, nil
}

// ReadExpected reads a Result that WriteExpected wrote.
func ReadExpected(path string) (*Result, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r := new(Result)
	if err := json.Unmarshal(b, r); err != nil {
		return nil, fmt.Errorf("%s: not an expected measurement: %w", path, err)
	}
	return r, nil
}
