package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cocoon-vm/cocoon/snp/measure"
)

// TestCheckMeasured checks how 'mkimage run' treats a measured .efi: it
// runs as measured (no serial streams), saying so, and warns when the
// launch's command line or initrd is not the measured one; an image
// without a measurement, or not a UEFI application, runs as before.
func TestCheckMeasured(t *testing.T) {
	dir := t.TempDir()
	efi, cpio := filepath.Join(dir, "img.efi"), filepath.Join(dir, "img.cpio")
	for _, f := range []string{efi, cpio} {
		if err := os.WriteFile(f, []byte("contents of "+f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var stderr bytes.Buffer
	if m, err := checkMeasured(efi, cpio, "", &stderr); m || err != nil || stderr.Len() != 0 {
		t.Errorf("no measurement: %v, %v, %q; want false and nothing said", m, err, stderr.String())
	}
	const line = "cocoon.args=show,"
	h, err := measure.HashKernelFiles(efi, cpio, line)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := measure.WriteExpected(efi, &measure.Result{KernelHashes: h}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		image, initrd, line string
		measured, warned    bool
	}{
		{efi, cpio, line, true, false},
		{efi, cpio, "cocoon.stdio=serial " + line, true, true},
		{efi, cpio, "", true, true},
		{efi, "", line, true, true},
		{filepath.Join(dir, "img.elf"), cpio, line, false, false},
	} {
		stderr.Reset()
		m, err := checkMeasured(c.image, c.initrd, c.line, &stderr)
		said := strings.Contains(stderr.String(), "runs as measured")
		warned := strings.Contains(stderr.String(), "warning: this launch")
		if err != nil || m != c.measured || said != c.measured || warned != c.warned {
			t.Errorf("%s, initrd %q, -append %q: %v, %v, stderr %q; want measured %v, warned %v",
				filepath.Base(c.image), c.initrd, c.line, m, err, stderr.String(), c.measured, c.warned)
		}
	}
}
