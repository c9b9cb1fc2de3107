package main

// QEMU integration tests of attestation end to end: an application inside
// Cocoon fetches a report from the simulated PSP through /dev/sev-guest,
// and the host verifies it. They skip where QEMU is missing.

import (
	"bytes"
	"context"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cocoon-vm/cocoon/internal/testenv"
	"github.com/cocoon-vm/cocoon/north/attest"
	"github.com/cocoon-vm/cocoon/north/cmdline"
	"github.com/cocoon-vm/cocoon/qemu"
	"github.com/cocoon-vm/cocoon/tools/appimage"
	"github.com/cocoon-vm/cocoon/tools/kbuild"
)

// repoRoot is the module root, relative to this package.
const repoRoot = "../.."

var (
	kernelOnce sync.Once
	kernelDir  string
	kernelErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if kernelDir != "" {
		os.RemoveAll(kernelDir)
	}
	os.Exit(code)
}

// attestImage builds the cocoon kernel (once) and an image of it with the
// Go main package pkg as /init and files, and returns the image name.
func attestImage(t testing.TB, pkg string, files ...appimage.File) string {
	t.Helper()
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		testenv.Missing(t, "qemu-system-x86_64 not found: install the qemu-system-x86 package to run VM tests")
	}
	kernelOnce.Do(func() {
		if kernelDir, kernelErr = os.MkdirTemp("", "cocoon-attest-vm"); kernelErr != nil {
			return
		}
		kernelErr = kbuild.Kernel(context.Background(), "./north/cocoon", filepath.Join(kernelDir, "cocoon.elf"), kbuild.Options{Dir: repoRoot})
	})
	if kernelErr != nil {
		t.Fatalf("building the cocoon kernel: %v", kernelErr)
	}
	name := filepath.Join(t.TempDir(), filepath.Base(pkg))
	k, err := os.ReadFile(filepath.Join(kernelDir, "cocoon.elf"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name+".elf", k, 0o644); err != nil {
		t.Fatal(err)
	}
	app, err := appimage.BuildGo(context.Background(), pkg, repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(app)
	if err := packArchive(app, files, name+".cpio", io.Discard); err != nil {
		t.Fatal(err)
	}
	return name
}

// boot runs image with the simulated PSP and the application arguments
// args, and returns its console.
func boot(t testing.TB, image string, args ...string) string {
	t.Helper()
	line, err := cmdline.Line(cmdline.App{Args: args})
	if err != nil {
		t.Fatal(err)
	}
	res, psp, err := qemu.RunWithPSP(context.Background(), qemu.Config{
		Kernel:  image + ".elf",
		Initrd:  image + ".cpio",
		Append:  line,
		Timeout: 3 * time.Minute,
	}, qemu.PSP{})
	if err != nil {
		t.Fatalf("boot %s: %v", image, err)
	}
	if psp.Err != nil {
		t.Errorf("simulated PSP: %v", psp.Err)
	}
	if psp.Rejected != 0 {
		t.Errorf("the simulated PSP refused %d requests", psp.Rejected)
	}
	return res.Console
}

func TestAttestVM(t *testing.T) {
	t.Parallel()
	image := attestImage(t, "./images/attest")
	nonce := []byte("vm test nonce: 0123456789abcdef")
	console := boot(t, image, hex.EncodeToString(nonce))
	e, err := attest.ParseEvidence(strings.NewReader(console))
	if err != nil {
		t.Fatalf("%v in the console:\n%s", err, console)
	}
	if len(e.KeySHA256) != 32 {
		t.Errorf("derived key fingerprint %x", e.KeySHA256)
	}
	evidence := writeFile(t, "console.txt", []byte(console))
	raw := append(bytes.Clone(e.Report), e.Certs...)
	flipped := bytes.Clone(raw)
	flipped[0x60] ^= 0x80 // inside the signed part
	n := hex.EncodeToString(nonce)
	for _, c := range []struct {
		name string
		args []string
		code int
	}{
		{"verified", []string{"--test-root", "--nonce", n, "--image", image, evidence}, 0},
		{"flipped byte", []string{"--test-root", "--nonce", n, "--image", image, writeFile(t, "flipped", flipped)}, exitSignature},
		{"other nonce", []string{"--test-root", "--nonce", "0123", "--image", image, evidence}, exitClaims},
		{"unexpected measurement", []string{"--test-root", "--nonce", n, "--measurement", strings.Repeat("ab", 48), evidence}, exitClaims},
		{"AMD's roots", []string{"--nonce", n, "--measurement", strings.Repeat("ab", 48), evidence}, exitSignature},
	} {
		code, stdout, stderr := mkimage(append([]string{"verify"}, c.args...)...)
		if code != c.code {
			t.Errorf("%s: exit %d, want %d\n%s%s", c.name, code, c.code, stdout, stderr)
		}
	}

	// The demo command: boot, fresh nonce, verify.
	code, stdout, stderr := mkimage("attest", image)
	if code != 0 || !strings.Contains(stdout, "VERDICT: VERIFIED") {
		t.Errorf("mkimage attest: exit %d\n%s%s", code, stdout, stderr)
	}
}

// TestGoSevGuestToolVM runs go-sev-guest's own attest tool, built from the
// module with plain go build, inside Cocoon: an unmodified Linux SNP
// client. The host verifies the Attestation it prints.
func TestGoSevGuestToolVM(t *testing.T) {
	t.Parallel()
	image := attestImage(t, "github.com/google/go-sev-guest/tools/attest")
	nonce := hex.EncodeToString([]byte("unmodified go-sev-guest client"))
	console := boot(t, image, "-in", nonce, "-inform", "hex", "-extended", "-outform", "textproto")
	path := writeFile(t, "console.txt", []byte(console))
	code, stdout, stderr := mkimage("verify", "--test-root", "--nonce", nonce, "--image", image, path)
	if code != 0 {
		t.Errorf("verify the go-sev-guest tool's attestation: exit %d\n%s%s\nconsole:\n%s", code, stdout, stderr, console)
	}
}

// BenchmarkAttestRoundTripVM reports the median time of a report request
// inside the guest under TCG: from images/attest's SNP_GET_REPORT ioctl to
// the authenticated report in hand, through the simulated PSP.
func BenchmarkAttestRoundTripVM(b *testing.B) {
	image := attestImage(b, "./images/attest")
	console := boot(b, image, "-rounds", "21", hex.EncodeToString([]byte("bench")))
	for _, line := range strings.Split(console, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), attest.EvidencePrefix+"round-trip-median-ns "); ok {
			ns, err := strconv.ParseFloat(v, 64)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(ns, "ns/op")
			return
		}
	}
	b.Fatalf("no round-trip time in the console:\n%s", console)
}
