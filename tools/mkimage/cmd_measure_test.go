package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// snpReference is the repository's copy of the published SNP reference
// vectors (VECTORS.md and the OVMF fixtures), kept in snp/measure's
// testdata.
const snpReference = "../../snp/measure/testdata/reference"

func runMeasureArgs(args ...string) (stdout, stderr string, err error) {
	var out, errOut bytes.Buffer
	err = runMeasure(args, nil, &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestMeasureCommandVectors(t *testing.T) {
	ref := snpReference
	amdSev := filepath.Join(ref, "ovmf_AmdSev_suffix.bin")
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--ovmf", amdSev, "--vcpu-type", "EPYC-v4", "--kernel", empty, "--initrd", empty, "--append", "console=ttyS0 loglevel=7"},
			"6d287813eb5222d770f75005c664e34c204f385ce832cc2ce7d0d6f354454362f390ef83a92046c042e706363b4b08fa"},
		{[]string{"--ovmf", amdSev, "--vcpu-type", "EPYC-v4", "--guest-features", "0x21", "--kernel", empty, "--initrd", empty, "--append", "console=ttyS0 loglevel=7"},
			"803f691094946e42068aaa3a8f9e26a5c89f36f7b73ecfb28c653360fe4b3aba7e534442e7e1e17895dfe778d0228977"},
		{[]string{"--ovmf", amdSev, "--vcpus", "1", "--vcpu-sig", "0x800f12"},
			"19358ba9a7615534a9a1e2f0dfc29384dcd4dcb7062ff9c6013b26869a5fc6ecabe033c48dd6f6db5d6d76e7c5df632d"},
		{[]string{"--ovmf", amdSev, "--vcpus", "4", "--vcpu-family", "23", "--vcpu-model", "1", "--vcpu-stepping", "2", "--kernel", empty, "--initrd", empty, "--append", ""},
			"5061fffb019493a903613d56d54b94912a1a2f9e4502385f5c194616753720a92441310ba6c4933de877c36e23046ad5"},
		{[]string{"--ovmf", filepath.Join(ref, "ovmf_OvmfX64_suffix.bin"), "--vcpu-type", "EPYC-v4"},
			"da0296de8193586a5512078dcd719eccecbd87e2b825ad4148c44f665dc87df21e5b49e21523a9ad993afdb6a30b4005"},
		{[]string{"--ovmf", amdSev, "--vmm-type", "ec2"},
			"fb789cb6b947b7bb7cfd108d5f654ca1937e94e29c00a8ae5e529b6ed23b84216c4f6e898127ccd3b34975b4d4cf3988"},
		{[]string{"--ovmf", amdSev, "--vcpu-type", "EPYC-v4", "--ovmf-hash",
			"086e2e9149ebf45abdc3445fba5b2da8270bdbb04094d7a2c37faaa4b24af3aa16aff8c374c2a55c467a50da6d466b74"},
			"19358ba9a7615534a9a1e2f0dfc29384dcd4dcb7062ff9c6013b26869a5fc6ecabe033c48dd6f6db5d6d76e7c5df632d"},
	}
	for _, tt := range tests {
		stdout, stderr, err := runMeasureArgs(tt.args...)
		if err != nil || stdout != tt.want+"\n" {
			t.Errorf("runMeasure(%q) = %q, %v (stderr %q), want %q", tt.args, stdout, err, stderr, tt.want+"\n")
		}
	}
}

func TestMeasureCommandJSON(t *testing.T) {
	ref := snpReference
	stdout, stderr, err := runMeasureArgs("--ovmf", filepath.Join(ref, "ovmf_AmdSev_suffix.bin"), "--vcpu-type", "EPYC-v4", "--json")
	if err != nil {
		t.Fatalf("runMeasure --json: %v (stderr %q)", err, stderr)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("runMeasure --json printed %q: %v", stdout, err)
	}
	want := map[string]any{
		"measurement":    "19358ba9a7615534a9a1e2f0dfc29384dcd4dcb7062ff9c6013b26869a5fc6ecabe033c48dd6f6db5d6d76e7c5df632d",
		"ovmf_hash":      "086e2e9149ebf45abdc3445fba5b2da8270bdbb04094d7a2c37faaa4b24af3aa16aff8c374c2a55c467a50da6d466b74",
		"vcpus":          1.0,
		"vcpu_signature": "0x800f12",
		"guest_features": "0x1",
		"vmm_type":       "qemu",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("runMeasure --json: %s = %v, want %v", k, got[k], v)
		}
	}
	if _, ok := got["kernel_hashes"]; ok {
		t.Error("runMeasure --json without --kernel printed kernel_hashes")
	}
}

func TestMeasureCommandErrors(t *testing.T) {
	dir := t.TempDir()
	notOVMF := filepath.Join(dir, "bzImage")
	if err := os.WriteFile(notOVMF, bytes.Repeat([]byte{0x90}, 8192), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		usage   bool   // want errUsage, with the message on stderr
		message string // in the error, or on stderr for usage errors
	}{
		{"no firmware", nil, true, "--ovmf is required"},
		{"stray argument", []string{"--ovmf", notOVMF, "extra"}, true, "unexpected argument"},
		{"unknown flag", []string{"--ovfm", notOVMF}, true, "flag provided but not defined"},
		{"unknown vCPU type", []string{"--ovmf", notOVMF, "--vcpu-type", "Skylake"}, true, "EPYC-Milan"},
		{"two vCPU sources", []string{"--ovmf", notOVMF, "--vcpu-type", "EPYC", "--vcpu-sig", "1"}, true, "only one"},
		{"partial family", []string{"--ovmf", notOVMF, "--vcpu-family", "25"}, true, "go together"},
		{"no vCPU for QEMU", []string{"--ovmf", notOVMF}, true, "--vcpu-type"},
		{"bad features", []string{"--ovmf", notOVMF, "--vcpu-sig", "1", "--guest-features", "x"}, true, "--guest-features"},
		{"bad VMM", []string{"--ovmf", notOVMF, "--vmm-type", "xen"}, true, "qemu, ec2, gce"},
		{"bad OVMF hash", []string{"--ovmf", notOVMF, "--vmm-type", "ec2", "--ovmf-hash", "abc"}, true, "--ovmf-hash"},
		{"initrd without kernel", []string{"--ovmf", notOVMF, "--vmm-type", "ec2", "--initrd", notOVMF}, true, "need --kernel"},
		{"append without kernel", []string{"--ovmf", notOVMF, "--vmm-type", "ec2", "--append", ""}, true, "need --kernel"},
		{"not OVMF", []string{"--ovmf", notOVMF, "--vcpu-type", "EPYC-v4"}, false, "not an OVMF image"},
		{"missing firmware", []string{"--ovmf", filepath.Join(dir, "OVMF.fd"), "--vcpu-type", "EPYC-v4"}, false, "no such file"},
	}
	for _, tt := range tests {
		stdout, stderr, err := runMeasureArgs(tt.args...)
		switch {
		case err == nil:
			t.Errorf("%s: runMeasure(%q) succeeded with %q, want an error", tt.name, tt.args, stdout)
		case tt.usage && (err != errUsage || !strings.Contains(stderr, tt.message)):
			t.Errorf("%s: runMeasure(%q) = %v, stderr %q; want errUsage and %q on stderr", tt.name, tt.args, err, stderr, tt.message)
		case !tt.usage && !strings.Contains(err.Error(), tt.message):
			t.Errorf("%s: runMeasure(%q) error = %v, want one mentioning %q", tt.name, tt.args, err, tt.message)
		}
	}
}

func TestMeasureCommandKernelNeedsHashesSection(t *testing.T) {
	ref := snpReference
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := runMeasureArgs("--ovmf", filepath.Join(ref, "ovmf_OvmfX64_suffix.bin"), "--vcpu-type", "EPYC-v4", "--kernel", empty)
	if err == nil || !strings.Contains(err.Error(), "SNP_KERNEL_HASHES") {
		t.Errorf("runMeasure(OvmfX64 --kernel) error = %v, want one about the missing SNP_KERNEL_HASHES section", err)
	}
}

func TestMeasureCommandHelp(t *testing.T) {
	stdout, stderr, err := runMeasureArgs("--help")
	if err != nil || stdout != "" {
		t.Fatalf("runMeasure(--help) = %q, %v, want nil and help on stderr", stdout, err)
	}
	for _, flag := range []string{"-ovmf", "-kernel", "-initrd", "-append", "-vcpus", "-vcpu-type", "-vcpu-sig",
		"-vcpu-family", "-vcpu-model", "-vcpu-stepping", "-guest-features", "-vmm-type", "-ovmf-hash", "-json", "EPYC-v4"} {
		if !strings.Contains(stderr, flag) {
			t.Errorf("runMeasure(--help) does not explain %s:\n%s", flag, stderr)
		}
	}
	if _, ok := commands["measure"]; !ok {
		t.Error(`commands["measure"] is not registered`)
	}
}

func TestMeasureCommandWarnsOfUnhashedKernel(t *testing.T) {
	ref := snpReference
	elf := filepath.Join(t.TempDir(), "app.elf")
	if err := os.WriteFile(elf, append([]byte("\x7fELF\x02\x01\x01"), make([]byte, 4096)...), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := runMeasureArgs("--ovmf", filepath.Join(ref, "ovmf_AmdSev_suffix.bin"), "--vcpu-type", "EPYC-v4", "--kernel", elf)
	if err != nil || len(stdout) != 97 {
		t.Fatalf("runMeasure(--kernel ELF) = %q, %v; want a measurement", stdout, err)
	}
	if !strings.Contains(stderr, "warning") || !strings.Contains(stderr, "without kernel hashes") {
		t.Errorf("runMeasure(--kernel ELF) stderr %q does not warn that QEMU hashes no ELF kernel", stderr)
	}
}
