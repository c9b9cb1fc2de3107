package main

// Attested TLS end to end: images/secret runs an attested-TLS server
// inside Cocoon with the simulated PSP, reached from the host through a
// QEMU port forward; a relying party verifies it and provisions a key.

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cocoon-vm/cocoon/north/attest/atls"
	"github.com/cocoon-vm/cocoon/north/attest/provision"
	"github.com/cocoon-vm/cocoon/north/cmdline"
	"github.com/cocoon-vm/cocoon/qemu"
	"github.com/cocoon-vm/cocoon/snp/simpsp"
	"github.com/cocoon-vm/cocoon/tools/appimage"
)

// serving boots image with the simulated PSP and a user network whose
// host port forwards to the guest's 8443, waits until the application
// listens, and returns the address to dial and a function that waits for
// the guest to end and returns its console and exit status.
func serving(t *testing.T, image string, args ...string) (addr string, wait func() (string, int)) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	line, err := cmdline.Line(cmdline.App{Args: args})
	if err != nil {
		t.Fatal(err)
	}
	w := qemu.NewWatch("secret: attested TLS server")
	seen := w.Seen()
	done := make(chan error, 1)
	go func() {
		_, _, err := qemu.RunWithPSP(context.Background(), qemu.Config{
			Kernel: image + ".elf", Initrd: image + ".cpio", Append: line,
			MemoryMiB: 256, Timeout: 4 * time.Minute, Console: w,
			Extra: []string{
				"-netdev", fmt.Sprintf("user,id=net0,hostfwd=tcp:127.0.0.1:%d-:8443", port),
				"-device", "virtio-net-device,netdev=net0", "-global", "virtio-mmio.force-legacy=false",
			},
		}, qemu.PSP{})
		done <- err
	}()
	// wait returns the console and the guest's exit status.
	wait = func() (string, int) {
		err := <-done
		var exit *qemu.ExitError
		switch {
		case errors.As(err, &exit):
			return w.String(), exit.Status
		case err != nil:
			t.Fatalf("boot %s: %v\n%s", image, err, w.String())
		}
		return w.String(), 0
	}
	select {
	case <-seen:
	case err := <-done:
		done <- err
		console, code := wait()
		t.Fatalf("the guest ended (status %d) before serving:\n%s", code, console)
	}
	return fmt.Sprintf("127.0.0.1:%d", port), wait
}

func TestVMAttestedTLS(t *testing.T) {
	t.Parallel()
	key := [provision.KeySize]byte{1, 2, 3, 4}
	data := []byte("the database password, sealed into the image")
	sealed, err := provision.Seal(key, data)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sealedPath := filepath.Join(dir, "data.sealed")
	otherPath := filepath.Join(dir, "other")
	os.WriteFile(sealedPath, sealed, 0o644)
	os.WriteFile(otherPath, []byte("makes another image"), 0o644)
	image := attestImage(t, "./images/secret", appimage.File{Src: sealedPath, Dst: "/secret.sealed"})
	other := attestImage(t, "./images/secret", appimage.File{Src: sealedPath, Dst: "/secret.sealed"}, appimage.File{Src: otherPath, Dst: "/etc/other"})
	m, err := simpsp.LaunchDigestFiles(image+".elf", image+".cpio")
	if err != nil {
		t.Fatal(err)
	}
	chip, err := simpsp.DefaultChip()
	if err != nil {
		t.Fatal(err)
	}
	p := atls.Policy{Measurement: m[:], TestRoots: chip.TestRoots(), AllowTestRoots: true, Warn: io.Discard}
	p.GuestPolicy.SMT = true
	cfg, err := atls.ClientConfig(p)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("right image gets the key", func(t *testing.T) {
		addr, wait := serving(t, image)
		c, err := tls.Dial("tcp", addr, cfg)
		if err != nil {
			t.Fatalf("the relying party refused the right image: %v", err)
		}
		sum, err := provision.Send(c, key)
		c.Close()
		if err != nil {
			t.Fatal(err)
		}
		if sum != sha256.Sum256(data) {
			t.Errorf("the guest opened data with SHA-256 %x, want %x", sum, sha256.Sum256(data))
		}
		console, code := wait()
		proof := fmt.Sprintf("opened %d bytes with the provisioned key, SHA-256 %x", len(data), sha256.Sum256(data))
		if code != 0 || !strings.Contains(console, proof) {
			t.Errorf("guest status %d, want 0 and %q in:\n%s", code, proof, console)
		}
		if strings.Contains(console, string(data)) {
			t.Error("the secret reached the console")
		}
	})
	for _, c := range []struct {
		name  string
		image string
		args  []string
		want  error
	}{
		{"another program is refused", other, nil, atls.ErrClaims},
		{"a report for another key is refused", image, []string{"-misbind"}, atls.ErrBinding},
	} {
		t.Run(c.name, func(t *testing.T) {
			addr, wait := serving(t, c.image, append(c.args, "-tries", "1")...)
			conn, err := tls.Dial("tcp", addr, cfg)
			if err == nil {
				conn.Close()
				t.Fatal("the relying party accepted the guest")
			}
			console, code := wait()
			if !errors.Is(err, c.want) {
				t.Errorf("handshake: %v, want %v; the guest's console:\n%s", err, c.want, console)
			}
			if code == 0 || strings.Contains(console, "opened") {
				t.Errorf("the guest got a key (status %d):\n%s", code, console)
			}
		})
	}
}
