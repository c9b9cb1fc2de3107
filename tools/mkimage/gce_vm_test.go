package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	diskfs "github.com/diskfs/go-diskfs"
	"github.com/diskfs/go-diskfs/partition/gpt"

	"github.com/cocoon-vm/cocoon/snp/measure"
	"github.com/cocoon-vm/cocoon/tools/efiimage"
)

// TestGCEImageVM builds a --format gce image and reads it back as Compute
// Engine would: one file, disk.raw, a whole number of GiB, in a GNU tar
// compressed with gzip; a GPT whose EFI system partition holds the
// self-contained application; and that disk boots under OVMF in QEMU,
// running the application with the arguments and the overcommit policy
// built into it (those NAME.run.json records too are not given again).
func TestGCEImageVM(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "app")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"build", "--spec", "none", "--format", "gce", "--arg", "show", "--arg", "a b", "--overcommit", "always", "-o", out, "./testdata/guestapp"}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("build: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	f, err := os.Open(out + ".tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	hdr, err := tr.Next()
	if err != nil {
		t.Fatal(err)
	}
	if hdr.Name != "disk.raw" || hdr.Format != tar.FormatGNU || hdr.Size%(1<<30) != 0 || hdr.Size == 0 {
		t.Errorf("entry %q, format %v, size %d; want disk.raw, GNU, whole GiB", hdr.Name, hdr.Format, hdr.Size)
	}
	raw := out + ".img" // beside app.run.json
	w, err := os.Create(raw)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(w, tr); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if _, err := tr.Next(); err != io.EOF {
		t.Errorf("a second entry in the tarball: %v", err)
	}

	d, err := diskfs.Open(raw, diskfs.WithOpenMode(diskfs.ReadOnly))
	if err != nil {
		t.Fatal(err)
	}
	table, err := d.GetPartitionTable()
	d.Close()
	if err != nil {
		t.Fatal(err)
	}
	parts := table.(*gpt.Table).Partitions
	if len(parts) != 1 || parts[0].Type != gpt.EFISystemPartition {
		t.Errorf("partitions %+v, want one EFI system partition", parts)
	}
	boot, err := efiimage.ReadDisk(raw)
	if err != nil {
		t.Fatal(err)
	}
	efi, err := os.ReadFile(out + ".efi")
	if err != nil || !bytes.Equal(boot, efi) {
		t.Errorf("the ESP's BOOTX64.EFI is not %s.efi (%v)", out, err)
	}
	info, err := efiimage.Inspect(efi)
	if err != nil || info.Cmdline != "sysctl.vm.overcommit_memory=1 cocoon.args=show,a%20b," {
		t.Errorf("embedded command line %q (%v), want the overcommit word and the --arg values", info.Cmdline, err)
	}

	// Boot it from the disk, as the cloud's firmware would.
	stdout.Reset()
	stderr.Reset()
	if code := run([]string{"run", raw}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("run %s: exit %d\n%s", raw, code, stderr.String())
	}
	args, env, _ := shown(t, strings.ReplaceAll(stdout.String(), "\r", ""))
	if strings.Join(args, "|") != "/init|show|a b" || slices.ContainsFunc(env, func(e string) bool { return strings.HasPrefix(e, "sysctl.") }) {
		t.Errorf("the disk's application got args %q, env %q; console:\n%s", args, env, stdout.String())
	}
}

// TestGCEMeasure checks --format gce --measure: it needs --vmm-type gce,
// and records the digest of a Compute Engine launch of the firmware alone
// (the disk is read after the launch is measured), the one 'mkimage
// measure' gives without a kernel.
func TestGCEMeasure(t *testing.T) {
	t.Parallel()
	fw := filepath.Join(snpReference, "ovmf_AmdSev_suffix.bin")
	out := filepath.Join(t.TempDir(), "app")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"build", "--spec", "none", "--format", "gce", "--measure", "--vcpu-sig", "0xa00f11", "--ovmf", fw, "-o", out, "./testdata/guestapp"}, nil, &stdout, &stderr); code != 2 ||
		!strings.Contains(stderr.String(), "--vmm-type gce") {
		t.Errorf("gce --measure without --vmm-type gce: exit %d, stderr %q", code, stderr.String())
	}
	stderr.Reset()
	if code := run([]string{"build", "--spec", "none", "--format", "gce", "--measure", "--vmm-type", "gce", "--vcpus", "2", "--ovmf", fw, "-o", out, "./testdata/guestapp"}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("build: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	got, err := measure.ReadExpected(measure.ExpectedPath(out + ".tar.gz"))
	if err != nil {
		t.Fatal(err)
	}
	vmm, _ := measure.ParseVMM("gce")
	want, err := measure.MeasureFiles(measure.Inputs{Firmware: fw}, measure.Options{VCPUs: 2, VMM: vmm, GuestFeatures: measure.DefaultGuestFeatures, VCPUSignature: got.VCPUSignature})
	if err != nil {
		t.Fatal(err)
	}
	if got.Measurement != want.Measurement {
		t.Errorf("recorded %s, want %s", got.Measurement, want.Measurement)
	}
}
