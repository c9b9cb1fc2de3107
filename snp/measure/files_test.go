package measure

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMeasureFilesVector measures vector 1 of VECTORS.md from files, as
// QEMU would be given them: the fixture firmware, an empty kernel and
// initrd, and the command line.
func TestMeasureFilesVector(t *testing.T) {
	dir := t.TempDir()
	kernel, initrd := filepath.Join(dir, "kernel"), filepath.Join(dir, "initrd")
	for _, p := range []string{kernel, initrd} {
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	in := Inputs{
		Firmware: filepath.Join(referenceDir, "ovmf_AmdSev_suffix.bin"),
		Kernel:   kernel,
		Initrd:   initrd,
		Cmdline:  "console=ttyS0 loglevel=7",
	}
	sig, err := VCPUTypeSignature("EPYC-v4")
	if err != nil {
		t.Fatal(err)
	}
	r, err := MeasureFiles(in, Options{VCPUs: 1, VCPUSignature: sig, GuestFeatures: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := mustDigest(t, "6d287813eb5222d770f75005c664e34c204f385ce832cc2ce7d0d6f354454362f390ef83a92046c042e706363b4b08fa")
	if r.Measurement != want {
		t.Errorf("MeasureFiles(%+v).Measurement = %v, want %v", in, r.Measurement, want)
	}
	if want := mustDigest(t, "086e2e9149ebf45abdc3445fba5b2da8270bdbb04094d7a2c37faaa4b24af3aa16aff8c374c2a55c467a50da6d466b74"); r.FirmwareDigest != want {
		t.Errorf("MeasureFiles(%+v).FirmwareDigest = %v, want %v", in, r.FirmwareDigest, want)
	}
}

// TestMeasureFilesRealImage measures a firmware, a kernel, an initrd and a
// command line given as files, and checks the result against the same
// inputs hashed in memory.
func TestMeasureFilesRealImage(t *testing.T) {
	dir := t.TempDir()
	files := map[string][]byte{
		"OVMF.fd":     syntheticAmdSev(16 * PageSize),
		"bzImage":     bytes.Repeat([]byte("kernel "), 300000),
		"initrd.cpio": bytes.Repeat([]byte("070701"), 200000),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	in := Inputs{
		Firmware: filepath.Join(dir, "OVMF.fd"),
		Kernel:   filepath.Join(dir, "bzImage"),
		Initrd:   filepath.Join(dir, "initrd.cpio"),
		Cmdline:  "console=ttyS0 init=/init",
	}
	opts := Options{VCPUs: 2, VCPUSignature: 0xa00f11, GuestFeatures: 1}
	r, err := MeasureFiles(in, opts)
	if err != nil {
		t.Fatal(err)
	}
	fw, err := ParseOVMF(files["OVMF.fd"])
	if err != nil {
		t.Fatal(err)
	}
	opts.KernelHashes = NewKernelHashes(files["bzImage"], files["initrd.cpio"], in.Cmdline)
	want, err := Measure(fw, opts)
	if err != nil {
		t.Fatal(err)
	}
	if r.Measurement != want {
		t.Errorf("MeasureFiles(%+v).Measurement = %v, want %v", in, r.Measurement, want)
	}

	path, err := WriteExpected(filepath.Join(dir, "app.img"), r)
	if err != nil {
		t.Fatal(err)
	}
	if path != filepath.Join(dir, "app.img.measurement.json") {
		t.Errorf("WriteExpected wrote %s, want app.img.measurement.json beside the image", path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Measurement  Digest `json:"measurement"`
		VCPUs        int    `json:"vcpus"`
		Signature    string `json:"vcpu_signature"`
		VMM          string `json:"vmm_type"`
		KernelHashes struct {
			Kernel string `json:"kernel_sha256"`
		} `json:"kernel_hashes"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if got.Measurement != want || got.VCPUs != 2 || got.Signature != "0xa00f11" || got.VMM != "qemu" ||
		len(got.KernelHashes.Kernel) != 64 {
		t.Errorf("%s = %s, want measurement %v, 2 vCPUs, signature 0xa00f11, qemu, a kernel hash", path, b, want)
	}
}

func TestMeasureFilesErrors(t *testing.T) {
	opts := Options{VCPUs: 1, VCPUSignature: 0x800f12, GuestFeatures: 1}
	tests := []struct {
		name string
		in   Inputs
		opts Options
		want string
	}{
		{"initrd without kernel", Inputs{Firmware: "OVMF.fd", Initrd: "initrd"}, opts, "needs a kernel"},
		{"missing firmware", Inputs{Firmware: filepath.Join(t.TempDir(), "OVMF.fd")}, opts, "reading firmware"},
		{"hashes twice", Inputs{Firmware: "OVMF.fd"}, Options{KernelHashes: &KernelHashes{}}, "Inputs"},
	}
	for _, tt := range tests {
		_, err := MeasureFiles(tt.in, tt.opts)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: MeasureFiles error = %v, want one mentioning %q", tt.name, err, tt.want)
		}
	}
}
