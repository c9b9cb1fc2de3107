package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/cocoon-vm/cocoon/qemu"
	"github.com/u-root/u-root/pkg/cpio"
)

// packInit builds Go main package pkg and packs it as /init of a cpio
// archive.
func packInit(t *testing.T, pkg string) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "init")
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w := cpio.Newc.Writer(&buf)
	if err := cpio.WriteRecordsAndDirs(w, []cpio.Record{cpio.StaticFile("init", string(data), 0o755)}); err != nil {
		t.Fatal(err)
	}
	if err := cpio.WriteTrailer(w); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "app.cpio")
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRunNetworkDefault(t *testing.T) {
	hello, nettest := packInit(t, "./images/hello"), packInit(t, "./images/nettest")
	if usesNetwork(hello) {
		t.Error("hello (no sockets) was given a network")
	}
	if !usesNetwork(nettest) {
		t.Error("nettest (net/http) was not given a network")
	}
	for _, c := range []struct {
		f       netFlags
		initrd  string
		wantNet bool
		wantErr bool
	}{
		{netFlags{}, hello, false, false},
		{netFlags{}, nettest, true, false},
		{netFlags{mode: "none"}, nettest, false, false},
		{netFlags{mode: "user"}, hello, true, false},
		{netFlags{publish: []qemu.Forward{{HostPort: 8080, GuestPort: 80}}}, hello, true, false},
		{netFlags{mode: "none", publish: []qemu.Forward{{HostPort: 8080, GuestPort: 80}}}, hello, false, true},
		{netFlags{mode: "tap"}, hello, false, true},
	} {
		n, err := c.f.config(c.initrd)
		if (err != nil) != c.wantErr || (n != nil) != c.wantNet {
			t.Errorf("%+v on %s: net %v, error %v", c.f, filepath.Base(filepath.Dir(c.initrd)), n, err)
		}
	}
}
