package vsmsim

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cocoon-vm/cocoon/internal/testenv"
	"github.com/cocoon-vm/cocoon/lvbs/skimage"
	"github.com/cocoon-vm/cocoon/lvbs/vtl0load"
	"github.com/cocoon-vm/cocoon/tools/appimage"
	"github.com/cocoon-vm/cocoon/tools/kbuild"
)

// buildImage builds the LVBS image of images/vtl0svc, as 'mkimage build
// --platform lvbs' does.
func buildImage(t *testing.T) vtl0load.Image {
	t.Helper()
	dir := t.TempDir()
	ctx := context.Background()
	kernel := filepath.Join(dir, "k.elf")
	if err := kbuild.Kernel(ctx, "github.com/cocoon-vm/cocoon/north/cocoon", kernel, kbuild.Options{}); err != nil {
		t.Fatal(err)
	}
	app, err := appimage.BuildGo(ctx, "github.com/cocoon-vm/cocoon/images/vtl0svc", "")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(app)
	var archive bytes.Buffer
	if err := appimage.Pack(&archive, app, nil); err != nil {
		t.Fatal(err)
	}
	k, err := os.ReadFile(kernel)
	if err != nil {
		t.Fatal(err)
	}
	loader, vmlinux, err := skimage.Build(k, archive.Bytes(), "")
	if err != nil {
		t.Fatal(err)
	}
	return vtl0load.Image{Loader: loader, Kernel: vmlinux}
}

// TestVMSimulatedVSM (SIMULATED VSM: the hypervisor and VTL0 are this
// test, over guest memory shared with QEMU) boots Cocoon's LVBS image the
// way the LVBS VTL0 kernel loads a secure kernel and then, as VTL0
// (Run): reads the log ring's place, protects a page of its memory
// read-only, pins CR4.SMEP, ends boot; a later write to the page and a
// CR4 write clearing SMEP are refused (#GP injected, memory and CR4
// unchanged, both in the log ring); and the Go application at CPL3 in
// VTL1 answers through /dev/vtl0: it returns its public key and signs
// VTL0's message, and the signature verifies. VTL0's other registers
// survive every call.
func TestVMSimulatedVSM(t *testing.T) {
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		testenv.Missing(t, "qemu-system-x86_64 not found: install the qemu-system-x86 package to run VM tests")
	}
	img := buildImage(t)
	dir := t.TempDir()
	if d, err := os.MkdirTemp("/dev/shm", "cocoon-vsm-"); err == nil {
		dir = d // guest RAM in memory, not on disk
		t.Cleanup(func() { os.RemoveAll(d) })
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var report bytes.Buffer
	o, err := Run(ctx, img, dir, &report)
	t.Logf("%s", report.String())
	if err != nil || testing.Verbose() {
		t.Logf("console (SIMULATED VSM):\n%s", o.Console)
	}
	if err != nil {
		t.Fatal(err)
	}
	for name, st := range map[string]int{"COCOON_LOG_INFO": 0, "COCOON_PROTECT_PAGES": 0, "COCOON_PIN_REGISTER": 0, "SIGNAL_END_OF_BOOT": 0, "APP_0x2": 0, "APP_0x7": -38} {
		if got, ok := o.Statuses[name]; !ok || got != st {
			t.Errorf("%s: status %d (made: %v), want %d", name, got, ok, st)
		}
	}
	if !o.WriteIntercepted || !o.PageKept || !o.CR4Intercepted || !o.CR4Kept || o.Injected != 2 {
		t.Errorf("refusals: %+v", o)
	}
	for _, want := range []string{"refused VTL0 write of GPA 0x1600000", "to Cr4"} {
		if !strings.Contains(o.Log, want) {
			t.Errorf("log ring lacks %q:\n%s", want, o.Log)
		}
	}
	if !ed25519.Verify(o.PublicKey, Message, o.Signature) || !o.RegsKept || !o.DebugKept {
		t.Errorf("signature verifies %v, VTL0 registers kept %v, CR2 and debug registers kept %v", ed25519.Verify(o.PublicKey, Message, o.Signature), o.RegsKept, o.DebugKept)
	}
	for _, want := range []string{"SIMULATED VSM", "vtl0svc: serving VTL0", "vtl0svc: request 2: function 1, 26 bytes"} {
		if !strings.Contains(o.Console, want) {
			t.Errorf("console lacks %q", want)
		}
	}
	if o.Requests[2] < 9 || o.Requests[1] == 0 {
		t.Errorf("guest requests by op: %v; want hypercalls and a VTL return per call", o.Requests)
	}
	t.Logf("SIMULATED VSM: guest requests by op (1 hypercall, 2 VTL return, 3 CPUID, 4 RDMSR, 5 WRMSR): %v", o.Requests)
}
