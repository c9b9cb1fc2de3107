package north_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cocoon-vm/cocoon/internal/testenv"
	"github.com/cocoon-vm/cocoon/qemu"
	"github.com/cocoon-vm/cocoon/tools/efiimage"
)

// TestVMNetPCIQ35 drives virtio-net-pci on q35 (SeaBIOS, PVH): HTTP and
// UDP from the host to a server in the guest, and HTTP from the guest
// to a server on the host, over QEMU's user network with the address
// from DHCP.
func TestVMNetPCIQ35(t *testing.T) {
	publishAndFetch(t, qemu.Config{Profile: qemu.Q35, Kernel: cocoonKernel(t)})
}

// TestVMNetPCIBridge is TestVMNetPCIQ35 with the device behind a PCI
// Express root port, on bus 1: the kernel finds it behind the bridge.
func TestVMNetPCIBridge(t *testing.T) {
	publishAndFetch(t, qemu.Config{Profile: qemu.Q35, Kernel: cocoonKernel(t), Net: &qemu.Net{Bridged: true}})
}

// TestVMNetPCIOVMF is TestVMNetPCIQ35 under UEFI firmware, which leaves
// the device's 64-bit BAR above 4 GiB: the kernel moves it into the PCI
// hole below.
func TestVMNetPCIOVMF(t *testing.T) {
	if _, err := os.Stat(qemu.DefaultOVMFCode); err != nil {
		testenv.Missing(t, "%v: install the ovmf package to run UEFI VM tests", err)
	}
	elf, err := os.ReadFile(cocoonKernel(t))
	if err != nil {
		t.Fatal(err)
	}
	img, err := efiimage.Build(elf, efiimage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	efi := filepath.Join(t.TempDir(), "cocoon.efi")
	if err := os.WriteFile(efi, img, 0o644); err != nil {
		t.Fatal(err)
	}
	publishAndFetch(t, qemu.Config{Profile: qemu.OVMF, Kernel: efi})
}

// publishAndFetch boots images/nettest serve on cfg's machine with a
// network (what 'mkimage run --publish' gives it) and talks to it both
// ways.
func publishAndFetch(t *testing.T, cfg qemu.Config) {
	app := packELF(t, buildGo(t, "./images/nettest"))
	hostLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "host says hi to %s", r.URL.Path)
	})}
	go srv.Serve(hostLn)
	defer srv.Close()
	hp, up := freePort(t, "tcp"), freePort(t, "udp")
	watch := qemu.NewWatch("nettest: serving")
	seen := watch.Seen()
	cfg.Initrd, cfg.Append = app, "serve"
	cfg.MemoryMiB, cfg.Timeout, cfg.Console = 256, 8*time.Minute, watch
	bridged := cfg.Net != nil && cfg.Net.Bridged
	cfg.Net = &qemu.Net{Forwards: []qemu.Forward{{HostPort: hp, GuestPort: 8080}, {UDP: true, HostPort: up, GuestPort: 8081}}, Bridged: bridged}
	done := make(chan error, 1)
	var res *qemu.Result
	go func() {
		var err error
		res, err = qemu.Run(context.Background(), cfg)
		done <- err
	}()
	select {
	case <-seen:
	case err := <-done:
		t.Fatalf("the guest ended before serving: %v\n%s", err, watch.String())
	}
	client := &http.Client{Timeout: 2 * time.Minute}
	get := func(path string) string {
		resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d%s", hp, path))
		if err != nil {
			t.Errorf("GET %s: %v", path, err)
			return ""
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	if body := get("/from-the-host"); body != "hello from cocoon /from-the-host" {
		t.Errorf("host to guest: body %q", body)
	}
	// A bigger answer than one frame, the other way: the guest fetches
	// from the host's server.
	u := fmt.Sprintf("http://10.0.2.2:%d/%s", hostLn.Addr().(*net.TCPAddr).Port, strings.Repeat("x", 3000))
	if body := get("/fetch?url=" + url.QueryEscape(u)); body != "guest fetched: host says hi to /"+strings.Repeat("x", 3000) {
		t.Errorf("guest to host: body %.100q", body)
	}
	c, err := net.Dial("udp", fmt.Sprintf("127.0.0.1:%d", up))
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(2 * time.Minute))
	c.Write([]byte("udp from the host"))
	buf := make([]byte, 100)
	n, err := c.Read(buf)
	c.Close()
	if err != nil || !bytes.Equal(buf[:n], []byte("UDP FROM THE HOST")) {
		t.Errorf("UDP echo %q: %v", buf[:n], err)
	}
	get("/quit")
	if err := <-done; err != nil {
		t.Fatalf("guest: %v\n%s", err, watch.String())
	}
	if !strings.Contains(res.Console, "nettest: PASS") {
		t.Errorf("console:\n%s", res.Console)
	}
}

// TestVMNetIPv6 has the guest form its IPv6 addresses on Ethernet (a
// link-local one from the MAC, a global one by SLAAC from QEMU's router
// advertisements, prefix fec0::/64) and fetch over IPv6 from a server
// the test runs on the host's [::1], which the user network makes
// fec0::2 inside.
func TestVMNetIPv6(t *testing.T) {
	kernel := cocoonKernel(t)
	app := packELF(t, buildGo(t, "./images/nettest"))
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		testenv.Missing(t, "the host has no IPv6 loopback: %v", err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "host over IPv6 says hi to %s", r.URL.Path)
	})}
	go srv.Serve(ln)
	defer srv.Close()
	res, err := qemu.Run(context.Background(), qemu.Config{
		Profile: qemu.Microvm, Kernel: kernel, Initrd: app,
		Append:    fmt.Sprintf("fetch6 http://[fec0::2]:%d/six", ln.Addr().(*net.TCPAddr).Port),
		MemoryMiB: 256, Timeout: 5 * time.Minute, Net: &qemu.Net{},
	})
	if res == nil {
		t.Fatalf("qemu: %v", err)
	}
	console := strings.ReplaceAll(res.Console, "\r", "")
	t.Logf("%v\n%s", err, console)
	for _, want := range []string{"nettest: ipv6 link-local fe80::", " global fec0::", `nettest: fetched6 "host over IPv6 says hi to /six"`, "nettest: PASS"} {
		if !strings.Contains(console, want) {
			t.Errorf("console lacks %q", want)
		}
	}
}
