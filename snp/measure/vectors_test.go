package measure

import (
	"errors"
	"path/filepath"
	"testing"
)

// referenceDir is the copy, in this package's testdata, of the published
// SNP reference vectors (shared/reference/snp: VECTORS.md and the OVMF
// fixtures it was computed from).
const referenceDir = "testdata/reference"

func readFirmware(tb testing.TB, name string) *Firmware {
	tb.Helper()
	fw, err := ReadOVMF(filepath.Join(referenceDir, name))
	if err != nil {
		tb.Fatal(err)
	}
	return fw
}

func mustDigest(tb testing.TB, s string) Digest {
	tb.Helper()
	d, err := ParseDigest(s)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// TestVectors reproduces the launch measurement table of
// testdata/reference/VECTORS.md, computed there with sev-snp-measure.
func TestVectors(t *testing.T) {
	epycV4, err := VCPUTypeSignature("EPYC-v4")
	if err != nil {
		t.Fatal(err)
	}
	empty := func(cmdline string) *KernelHashes { return NewKernelHashes(nil, nil, cmdline) }
	tests := []struct {
		firmware string
		opts     Options
		want     string
	}{
		{"ovmf_AmdSev_suffix.bin", Options{VCPUs: 1, VCPUSignature: epycV4, GuestFeatures: 0x1, KernelHashes: empty("console=ttyS0 loglevel=7")},
			"6d287813eb5222d770f75005c664e34c204f385ce832cc2ce7d0d6f354454362f390ef83a92046c042e706363b4b08fa"},
		{"ovmf_AmdSev_suffix.bin", Options{VCPUs: 1, VCPUSignature: epycV4, GuestFeatures: 0x21, KernelHashes: empty("console=ttyS0 loglevel=7")},
			"803f691094946e42068aaa3a8f9e26a5c89f36f7b73ecfb28c653360fe4b3aba7e534442e7e1e17895dfe778d0228977"},
		{"ovmf_AmdSev_suffix.bin", Options{VCPUs: 1, VCPUSignature: epycV4, GuestFeatures: 0x1},
			"19358ba9a7615534a9a1e2f0dfc29384dcd4dcb7062ff9c6013b26869a5fc6ecabe033c48dd6f6db5d6d76e7c5df632d"},
		{"ovmf_AmdSev_suffix.bin", Options{VCPUs: 4, VCPUSignature: epycV4, GuestFeatures: 0x1, KernelHashes: empty("")},
			"5061fffb019493a903613d56d54b94912a1a2f9e4502385f5c194616753720a92441310ba6c4933de877c36e23046ad5"},
		{"ovmf_OvmfX64_suffix.bin", Options{VCPUs: 1, VCPUSignature: epycV4, GuestFeatures: 0x1},
			"da0296de8193586a5512078dcd719eccecbd87e2b825ad4148c44f665dc87df21e5b49e21523a9ad993afdb6a30b4005"},
		{"ovmf_AmdSev_suffix.bin", Options{VCPUs: 1, VCPUSignature: epycV4, GuestFeatures: 0x1, VMM: VMMEC2},
			"fb789cb6b947b7bb7cfd108d5f654ca1937e94e29c00a8ae5e529b6ed23b84216c4f6e898127ccd3b34975b4d4cf3988"},
	}
	for _, tt := range tests {
		fw := readFirmware(t, tt.firmware)
		got, err := Measure(fw, tt.opts)
		if err != nil {
			t.Errorf("Measure(%s, %+v): %v", tt.firmware, tt.opts, err)
			continue
		}
		if want := mustDigest(t, tt.want); got != want {
			t.Errorf("Measure(%s, %+v) = %v, want %v", tt.firmware, tt.opts, got, want)
		}
	}
}

// TestFirmwareDigestVector reproduces the "OVMF hash" line of VECTORS.md,
// and checks that seeding Measure with it changes nothing.
func TestFirmwareDigestVector(t *testing.T) {
	fw := readFirmware(t, "ovmf_AmdSev_suffix.bin")
	want := mustDigest(t, "086e2e9149ebf45abdc3445fba5b2da8270bdbb04094d7a2c37faaa4b24af3aa16aff8c374c2a55c467a50da6d466b74")
	got := FirmwareDigest(fw)
	if got != want {
		t.Errorf("FirmwareDigest(ovmf_AmdSev_suffix.bin) = %v, want %v", got, want)
	}
	opts := Options{VCPUs: 2, VCPUSignature: 0x800f12, GuestFeatures: 1}
	full, err := Measure(fw, opts)
	if err != nil {
		t.Fatal(err)
	}
	opts.FirmwareDigest = &got
	seeded, err := Measure(fw, opts)
	if err != nil {
		t.Fatal(err)
	}
	if seeded != full {
		t.Errorf("Measure with FirmwareDigest = %v, want %v (as without)", seeded, full)
	}
}

// TestKernelHashesWithoutSection checks the VECTORS.md note: the OvmfX64
// build cannot take kernel hashes.
func TestKernelHashesWithoutSection(t *testing.T) {
	fw := readFirmware(t, "ovmf_OvmfX64_suffix.bin")
	_, err := Measure(fw, Options{VCPUs: 1, VCPUSignature: 0x800f12, GuestFeatures: 1, KernelHashes: NewKernelHashes(nil, nil, "")})
	if !errors.Is(err, ErrNoKernelHashesSection) {
		t.Errorf("Measure(OvmfX64 with kernel hashes) error = %v, want %v", err, ErrNoKernelHashesSection)
	}
}
