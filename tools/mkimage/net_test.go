package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cocoon-vm/cocoon/qemu"
	"github.com/cocoon-vm/cocoon/tools/appimage"
	"github.com/u-root/u-root/pkg/cpio"
)

// packInit builds Go main package pkg and packs it as /init of a cpio
// archive.
func packInit(t *testing.T, pkg string) string {
	t.Helper()
	dir := t.TempDir()
	data, err := os.ReadFile(goProgram(t, dir, pkg))
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
	publish := []qemu.Forward{{HostPort: 8080, GuestPort: 80}}
	for _, c := range []struct {
		f         netFlags
		initrd    string
		kernelNet bool
		wantNet   bool
		wantErr   bool
	}{
		{netFlags{}, hello, true, false, false},
		{netFlags{}, nettest, true, true, false},
		{netFlags{mode: "none"}, nettest, true, false, false},
		{netFlags{mode: "user"}, hello, true, true, false},
		{netFlags{publish: publish}, hello, true, true, false},
		{netFlags{mode: "none", publish: publish}, hello, true, false, true},
		{netFlags{mode: "tap"}, hello, true, false, true},
		// A kernel without network gets no device, and refuses one.
		{netFlags{}, nettest, false, false, false},
		{netFlags{mode: "none"}, nettest, false, false, false},
		{netFlags{mode: "user"}, hello, false, false, true},
		{netFlags{publish: publish}, hello, false, false, true},
	} {
		n, err := c.f.config(c.initrd, c.kernelNet)
		if (err != nil) != c.wantErr || (n != nil) != c.wantNet {
			t.Errorf("%+v on %s, kernel network %v: net %v, error %v", c.f, filepath.Base(filepath.Dir(c.initrd)), c.kernelNet, n, err)
		}
		if err != nil && !c.kernelNet && !strings.Contains(err.Error(), "mkimage build --network on") {
			t.Errorf("%+v: error %q does not say how to build a kernel with network", c.f, err)
		}
	}
}

// TestKernelNetwork checks how 'mkimage build --network' chooses the
// kernel: auto gives one without network only to an archive none of
// whose programs links a socket call, with no port published.
func TestKernelNetwork(t *testing.T) {
	dir := t.TempDir()
	hello, nettest := goProgram(t, dir, "./images/hello"), goProgram(t, dir, "./images/nettest")
	archive := func(files ...appimage.File) string {
		out := filepath.Join(t.TempDir(), "app.cpio")
		if err := packArchive(hello, files, out, io.Discard); err != nil {
			t.Fatal(err)
		}
		return out
	}
	text := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(text, []byte("not a program\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	alone := archive(appimage.File{Src: text, Dst: "/notes.txt"})
	withNet := archive(appimage.File{Src: nettest, Dst: "/bin/fetch"})
	ports := []string{"8080:80"}
	for _, c := range []struct {
		mode, archive string
		ports         []string
		want          bool
		why           string
	}{
		{networkAuto, alone, nil, false, "no program"},
		{networkAuto, withNet, nil, true, "/bin/fetch may make sockets"},
		{networkAuto, alone, ports, true, "ports are published"},
		{networkAuto, "", nil, true, "no application"},
		{networkOn, alone, nil, true, "--network on"},
		{networkOff, withNet, nil, false, "--network off"},
	} {
		got, why, err := kernelNetwork(c.mode, c.archive, c.ports)
		if err != nil || got != c.want || !strings.Contains(why, c.why) {
			t.Errorf("kernelNetwork(%s, %s, %q) = %v, %q, %v; want %v, %q", c.mode, c.archive, c.ports, got, why, err, c.want, c.why)
		}
	}
	if err := checkNetworkMode(networkOff, ports); err == nil {
		t.Error("--network off with --publish was accepted")
	}
	if err := checkNetworkMode("maybe", nil); err == nil {
		t.Error("--network maybe was accepted")
	}
}

// goProgram builds Go main package pkg into dir.
func goProgram(t *testing.T, dir, pkg string) string {
	t.Helper()
	bin := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}
