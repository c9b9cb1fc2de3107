package measure

import (
	"os"
	"path/filepath"
	"testing"
)

const (
	benchFirmwareSize = 4 << 20
	benchKernelSize   = 10 << 20
)

func benchKernel() []byte {
	k := make([]byte, benchKernelSize)
	for i := range k {
		k[i] = byte(i * 13)
	}
	return k
}

// BenchmarkMeasure4MiBFirmware10MiBKernel times a whole measurement from
// memory: parsing a 4 MiB firmware laid out like the AmdSev build, hashing
// a 10 MiB kernel, and computing the launch digest for 4 vCPUs.
func BenchmarkMeasure4MiBFirmware10MiBKernel(b *testing.B) {
	image, kernel := syntheticAmdSev(benchFirmwareSize), benchKernel()
	b.SetBytes(benchFirmwareSize + benchKernelSize)
	for b.Loop() {
		fw, err := ParseOVMF(image)
		if err != nil {
			b.Fatal(err)
		}
		opts := Options{VCPUs: 4, VCPUSignature: 0x800f12, GuestFeatures: 1,
			KernelHashes: NewKernelHashes(kernel, nil, "console=ttyS0")}
		if _, err := Measure(fw, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMeasureFiles4MiBFirmware10MiBKernel is the same measurement
// from files, as mkimage does it (the files stay in the page cache).
func BenchmarkMeasureFiles4MiBFirmware10MiBKernel(b *testing.B) {
	dir := b.TempDir()
	in := Inputs{Firmware: filepath.Join(dir, "OVMF.fd"), Kernel: filepath.Join(dir, "bzImage"), Cmdline: "console=ttyS0"}
	if err := os.WriteFile(in.Firmware, syntheticAmdSev(benchFirmwareSize), 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(in.Kernel, benchKernel(), 0o644); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(benchFirmwareSize + benchKernelSize)
	for b.Loop() {
		if _, err := MeasureFiles(in, Options{VCPUs: 4, VCPUSignature: 0x800f12, GuestFeatures: 1}); err != nil {
			b.Fatal(err)
		}
	}
}
