package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cocoon-vm/cocoon/hal"
	"github.com/cocoon-vm/cocoon/internal/testenv"
	"github.com/cocoon-vm/cocoon/snp/measure"
	"github.com/cocoon-vm/cocoon/snp/simpsp"
)

func TestBuildRefusesDynamicELF(t *testing.T) {
	if _, err := os.Stat("/bin/ls"); err != nil {
		testenv.Missing(t, "no /bin/ls to refuse as a dynamic executable: apt-get install coreutils")
	}
	out := filepath.Join(t.TempDir(), "img")
	var stdout, stderr bytes.Buffer
	code := run([]string{"build", "--elf", "/bin/ls", "-o", out}, nil, &stdout, &stderr)
	if code == 0 {
		t.Fatal("build --elf /bin/ls succeeded")
	}
	if !strings.Contains(stderr.String(), "dynamically linked") {
		t.Errorf("stderr %q does not say why", stderr.String())
	}
	if _, err := os.Stat(out + ".elf"); err == nil {
		t.Error("a kernel was built for a refused application")
	}
}

func TestBuildUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"build"}, nil, &stdout, &stderr); code != 2 {
		t.Errorf("build with no arguments exit %d, want 2", code)
	}
	if !strings.Contains(stderr.String(), "nothing to build") {
		t.Errorf("stderr %q", stderr.String())
	}
	stderr.Reset()
	if code := run([]string{"build", "--help"}, nil, &stdout, &stderr); code != 0 || !strings.Contains(stderr.String(), "--elf") {
		t.Errorf("build --help exit %d, text %q", code, stderr.String())
	}
	if code := run([]string{"run", "/nonexistent/image"}, nil, &stdout, &stderr); code != 1 {
		t.Errorf("run of a missing image exit %d, want 1", code)
	}
}

func TestInspectListsHostInterface(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"inspect"}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("inspect exit %d: %s", code, stderr.String())
	}
	for _, want := range []string{"0x3f8-0x3ff", "isa-debug-exit", "0xfee00000", "cpuid", "0xc0000081-0xc0000084",
		"SEV-SNP platform", "0xc0010130", "SNP guest request",
		"time: host-controlled: the hypervisor sets", "unless the launch enables Secure TSC", "0xc0010134"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("inspect output lacks %q", want)
		}
	}
	if code := run([]string{"inspect", filepath.Join(t.TempDir(), "missing")}, nil, &stdout, &stderr); code != 1 {
		t.Errorf("inspect of a missing image exit %d, want 1", code)
	}
}

// TestREADMEHostInterfaceCounts checks the size of each platform's host
// interface as README states it against the registry mkimage inspect
// prints (hal.Inventory), so that the README's numbers cannot go stale.
func TestREADMEHostInterfaceCounts(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := strings.Join(strings.Fields(string(b)), " ")
	want := fmt.Sprintf("`mkimage inspect` lists %d entries for the generic PC platform, %d for SEV-SNP and %d for LVBS, the kernel's own %d included in each",
		len(hal.Inventory("pc")), len(hal.Inventory("snp")), len(hal.Inventory("lvbs")), len(hal.KernelExits))
	if !strings.Contains(readme, want) {
		t.Errorf("README.md does not say %q", want)
	}
}

func TestInspectRejectsBadEFI(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bad.efi")
	os.WriteFile(p, []byte("not a PE file at all"), 0o644)
	var stdout, stderr bytes.Buffer
	if code := run([]string{"inspect", p}, nil, &stdout, &stderr); code != 1 {
		t.Errorf("inspect of a bad .efi exit %d, want 1 (stderr %q)", code, stderr.String())
	}
}

func TestBuildMeasureErrors(t *testing.T) {
	ref := snpReference
	amdSev := filepath.Join(ref, "ovmf_AmdSev_suffix.bin")
	dir := t.TempDir()
	notOVMF := filepath.Join(dir, "bzImage")
	if err := os.WriteFile(notOVMF, bytes.Repeat([]byte{0x90}, 8192), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "img")
	const app = "github.com/cocoon-vm/cocoon/images/hello"
	tests := []struct {
		name string
		args []string
		code int
		want string // on stderr
	}{
		{"no firmware", []string{"--measure", "--vcpu-type", "EPYC-v4"}, 2, "--ovmf is required"},
		{"no vCPU type", []string{"--measure", "--ovmf", amdSev}, 2, "--vcpu-type"},
		{"bad features", []string{"--measure", "--ovmf", amdSev, "--vcpu-type", "EPYC-v4", "--guest-features", "x"}, 2, "--guest-features"},
		{"ELF format", []string{"--measure", "--format", "elf", "--ovmf", amdSev, "--vcpu-type", "EPYC-v4"}, 2, "needs --format efi"},
		{"disk format", []string{"--measure", "--format", "disk", "--ovmf", amdSev, "--vcpu-type", "EPYC-v4"}, 2, "needs --format efi"},
		{"launch flags without --measure", []string{"--format", "efi", "--ovmf", amdSev, "--vcpus", "2"}, 2, "--ovmf describe the launch"},
		{"not OVMF", []string{"--measure", "--ovmf", notOVMF, "--vcpu-type", "EPYC-v4"}, 1, "not an OVMF image"},
		{"missing firmware", []string{"--measure", "--ovmf", filepath.Join(dir, "OVMF.fd"), "--vcpu-type", "EPYC-v4"}, 1, "no such file"},
		{"no kernel-hashes section", []string{"--measure", "--ovmf", filepath.Join(ref, "ovmf_OvmfX64_suffix.bin"), "--vcpu-type", "EPYC-v4"}, 1, "SNP_KERNEL_HASHES"},
		{"GCE", []string{"--measure", "--ovmf", amdSev, "--vmm-type", "gce"}, 1, "GCE does not boot a kernel"},
		{"no vCPUs", []string{"--measure", "--ovmf", amdSev, "--vcpu-type", "EPYC-v4", "--vcpus", "0"}, 1, "0 vCPUs"},
	}
	for _, tt := range tests {
		args := append(append([]string{"build", "-o", out}, tt.args...), app)
		code, stdout, stderr := mkimage(args...)
		if code != tt.code || !strings.Contains(stderr, tt.want) {
			t.Errorf("%s: mkimage %q: exit %d, want %d with %q on stderr; stdout %q, stderr %q", tt.name, args, code, tt.code, tt.want, stdout, stderr)
		}
		if matches, _ := filepath.Glob(out + ".*"); len(matches) > 0 {
			t.Errorf("%s: mkimage %q wrote %q before refusing", tt.name, args, matches)
			for _, m := range matches {
				os.Remove(m)
			}
		}
	}
}

// kernelEntryGUID names the kernel's entry of the kernel-hashes table
// (QEMU target/i386/sev.c, sev_kernel_entry_guid; edk2
// BlobVerifierSevHashes.c, SEV_KERNEL_HASH_GUID).
const kernelEntryGUID = "4de79437-abd2-427f-b835-d5b172d2045b"

// qemuKernelHash is the kernel hash QEMU puts in the kernel-hashes table
// for -kernel file under SEV, modelled on hw/i386/x86-common.c
// (x86_load_linux) and target/i386/sev.c: the file is cut into the setup
// part, (setup_sects+1) sectors of 512 bytes with setup_sects at 0x1f1 (0
// meaning 4), and the kernel part; the setup part keeps the file's bytes
// (QEMU patches a copy only without SEV); the hash covers setup then
// kernel, as OVMF's QemuKernelLoaderFsDxe concatenates them before
// verifying.
func qemuKernelHash(t *testing.T, file []byte) [sha256.Size]byte {
	t.Helper()
	if len(file) < 0x206 || string(file[0x202:0x206]) != "HdrS" {
		t.Fatal("no Linux setup header: QEMU would not load the file as Linux, nor hash it")
	}
	sects := int(file[0x1f1])
	if sects == 0 {
		sects = 4
	}
	setupSize := (sects + 1) * 512
	if setupSize > len(file) {
		t.Fatalf("setup part of %d bytes in a %d-byte file: QEMU refuses it", setupSize, len(file))
	}
	setup, kernel := file[:setupSize], file[setupSize:]
	h := sha256.New()
	h.Write(setup)
	h.Write(kernel)
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

// tableKernelHash finds the kernel's entry in a kernel-hashes table as
// OVMF's VerifyBlob does: by GUID, then a UINT16 entry length of 50, then
// the SHA-256.
func tableKernelHash(t *testing.T, table []byte) []byte {
	t.Helper()
	g, err := measure.ParseGUID(kernelEntryGUID)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(table, g[:])
	if i < 0 || i+50 > len(table) || binary.LittleEndian.Uint16(table[i+16:]) != 50 {
		t.Fatalf("kernel-hashes table %x has no kernel entry", table)
	}
	return table[i+18 : i+50]
}

// TestBuildMeasure builds real images with --measure and checks the
// measurement recorded beside them against 'mkimage measure' of the same
// files, and the kernel hash against QEMU's.
func TestBuildMeasure(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds Cocoon images (-short)")
	}
	ref := snpReference
	amdSev := filepath.Join(ref, "ovmf_AmdSev_suffix.bin")
	tests := []struct {
		name   string
		build  []string // besides --measure --ovmf and -o
		launch []string // the launch flags, for build and measure alike
		initrd bool     // whether NAME.cpio is the initrd
	}{
		{"application", []string{"github.com/cocoon-vm/cocoon/images/hello"}, []string{"--vcpu-type", "EPYC-v4"}, true},
		{"embedded", []string{"--embed", "github.com/cocoon-vm/cocoon/images/hello"}, []string{"--vcpu-type", "EPYC-Milan"}, false},
		{"kernel only, launch options", []string{"--format", "efi", "--kernel", "github.com/cocoon-vm/cocoon/images/selftest"},
			[]string{"--vcpus", "4", "--vcpu-sig", "0xa00f11", "--guest-features", "0x21"}, false},
	}
	var name string
	for _, tt := range tests {
		name = filepath.Join(t.TempDir(), "img")
		if tt.name == "embedded" {
			// An earlier build's archive: neither measured nor left for
			// 'mkimage run' to pass as the initrd.
			if err := os.WriteFile(name+".cpio", []byte("070701stale"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		args := append(append([]string{"build", "--measure", "--ovmf", amdSev, "-o", name}, tt.launch...), tt.build...)
		code, stdout, stderr := mkimage(args...)
		if code != 0 {
			t.Fatalf("%s: mkimage %q: exit %d\n%s%s", tt.name, args, code, stdout, stderr)
		}
		path := name + ".efi.measurement.json"
		got, err := measure.ReadExpected(path)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if !strings.Contains(stdout, path) || !strings.Contains(stdout, got.Measurement.String()) {
			t.Errorf("%s: build printed %q, want the path %s and the measurement %v", tt.name, stdout, path, got.Measurement)
		}

		// 'mkimage measure' of the files 'mkimage run NAME.efi' hands QEMU.
		margs := append([]string{"--ovmf", amdSev, "--kernel", name + ".efi", "--json"}, tt.launch...)
		if _, err := os.Stat(name + ".cpio"); (err == nil) != tt.initrd {
			t.Fatalf("%s: %s.cpio exists: %v, want %v", tt.name, name, err == nil, tt.initrd)
		}
		if tt.initrd {
			margs = append(margs, "--initrd", name+".cpio")
		}
		mout, merr, err := runMeasureArgs(margs...)
		if err != nil {
			t.Fatalf("%s: mkimage measure %q: %v\n%s", tt.name, margs, err, merr)
		}
		if merr != "" {
			t.Errorf("%s: mkimage measure %q warned: %s", tt.name, margs, merr)
		}
		want := new(measure.Result)
		if err := json.Unmarshal([]byte(mout), want); err != nil {
			t.Fatalf("%s: mkimage measure --json printed %q: %v", tt.name, mout, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: build --measure recorded %+v, mkimage measure %+v", tt.name, got, want)
		}

		// The kernel hash is QEMU's, in the table and in the file.
		efi, err := os.ReadFile(name + ".efi")
		if err != nil {
			t.Fatal(err)
		}
		qemu := qemuKernelHash(t, efi)
		if got.KernelHashes == nil || got.KernelHashes.Kernel != qemu {
			t.Fatalf("%s: recorded kernel hashes %+v, QEMU hashes the kernel as %x", tt.name, got.KernelHashes, qemu)
		}
		if h := tableKernelHash(t, got.KernelHashes.Table()); !bytes.Equal(h, qemu[:]) {
			t.Errorf("%s: kernel-hashes table holds kernel hash %x, QEMU's is %x", tt.name, h, qemu)
		}
		if noArgs := sha256.Sum256([]byte{0}); got.KernelHashes.Cmdline != noArgs {
			t.Errorf("%s: command line hash %x, want that of no -append (a lone NUL) %x", tt.name, got.KernelHashes.Cmdline, noArgs)
		}

		// A simulated launch of the same image (make run, mkimage
		// attest) still verifies with --image: the simulated PSP reports
		// the simulated launch digest, not the one recorded.
		if tt.initrd {
			sim, err := simpsp.LaunchDigestFiles(name+".elf", name+".cpio")
			if err != nil {
				t.Fatal(err)
			}
			rep, certs := simulatedReport(t, testNonce, sim)
			report := writeFile(t, "report.bin", append(rep, certs...))
			if code, stdout, stderr := mkimage("verify", "--test-root", "--image", name, report); code != 0 || !strings.Contains(stdout, "warning: MEASUREMENT checked against the simulated launch digest") {
				t.Errorf("%s: verify --test-root --image of a simulated launch: exit %d\n%s%s", tt.name, code, stdout, stderr)
			}
		}
	}

	// Rebuilt without --measure, the image loses the measurement of the
	// one before.
	args := []string{"build", "--format", "efi", "--kernel", "github.com/cocoon-vm/cocoon/images/selftest", "-o", name}
	code, stdout, stderr := mkimage(args...)
	if _, err := os.Stat(name + ".efi.measurement.json"); code != 0 || err == nil || !strings.Contains(stdout, "removed") {
		t.Errorf("mkimage %q over a measured image: exit %d, measurement left: %v\n%s%s", args, code, err == nil, stdout, stderr)
	}
}

// TestHelpOnce checks that every way of asking for help prints the
// summary line once.
func TestHelpOnce(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {}} {
		var stdout, stderr bytes.Buffer
		run(args, nil, &stdout, &stderr)
		all := stdout.String() + stderr.String()
		if n := strings.Count(all, "mkimage builds and runs Cocoon images"); n != 1 {
			t.Errorf("mkimage %q prints the summary %d times:\n%s", args, n, all)
		}
	}
}
