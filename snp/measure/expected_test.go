package measure

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestReadExpectedRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for _, r := range []*Result{
		{
			Measurement: Digest{1, 2, 3}, FirmwareDigest: Digest{4}, VCPUs: 4, VCPUSignature: 0xa00f11,
			GuestFeatures: 0x21, VMM: VMMQEMU,
			KernelHashes: NewKernelHashes([]byte("kernel"), nil, "console=ttyS0"),
		},
		{Measurement: Digest{9}, VCPUs: 1, GuestFeatures: 1, VMM: VMMEC2},
	} {
		path, err := WriteExpected(filepath.Join(dir, "img.efi"), r)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ReadExpected(path)
		if err != nil {
			t.Fatalf("ReadExpected(%s) = %v", path, err)
		}
		if !reflect.DeepEqual(got, r) {
			t.Errorf("ReadExpected(WriteExpected(%+v)) = %+v", r, got)
		}
	}
}

func TestReadExpectedErrors(t *testing.T) {
	hash := strings.Repeat("ab", 32)
	good := `"kind": "snp-launch-digest", "vcpus": 1, "vcpu_signature": "0x800f12", "guest_features": "0x1", "vmm_type": "qemu"`
	tests := []struct {
		name, json, want string
	}{
		{"no kind", `{"measurement": "` + strings.Repeat("00", 48) + `"}`, "kind"},
		{"other kind", `{"kind": "simulated"}`, "kind"},
		{"bad VMM", `{"kind": "snp-launch-digest", "vcpu_signature": "0x1", "guest_features": "0x1", "vmm_type": "xen"}`, "xen"},
		{"bad signature", `{"kind": "snp-launch-digest", "vcpu_signature": "EPYC", "guest_features": "0x1", "vmm_type": "qemu"}`, "vcpu_signature"},
		{"bad features", `{"kind": "snp-launch-digest", "vcpu_signature": "0x1", "guest_features": "", "vmm_type": "qemu"}`, "guest_features"},
		{"long hash", `{` + good + `, "kernel_hashes": {"kernel_sha256": "` + hash + `00", "initrd_sha256": "` + hash + `", "cmdline_sha256": "` + hash + `"}}`, "kernel_sha256"},
		{"bad hex", `{` + good + `, "kernel_hashes": {"kernel_sha256": "` + hash + `", "initrd_sha256": "` + strings.Repeat("x", 64) + `", "cmdline_sha256": "` + hash + `"}}`, "initrd_sha256"},
		{"not JSON", `measurement`, "not an expected measurement"},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		path := filepath.Join(dir, "m.json")
		if err := os.WriteFile(path, []byte(tt.json), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadExpected(path); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: ReadExpected(%s) error = %v, want one mentioning %q", tt.name, tt.json, err, tt.want)
		}
	}
	if _, err := ReadExpected(filepath.Join(dir, "missing")); err == nil {
		t.Error("ReadExpected(missing file) = nil error")
	}
}
