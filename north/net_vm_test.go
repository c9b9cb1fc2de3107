package north_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cocoon-vm/cocoon/qemu"
)

// TestVMNetLoopback runs images/nettest inside Cocoon: a Go net/http
// server and client over 127.0.0.1 and [::1] through gVisor's netstack,
// UDP echo, Linux's errors for a refused connection and a port in use,
// and AF_UNIX sockets (a socket pair passing a pipe, a listener on a
// path).
func TestVMNetLoopback(t *testing.T) {
	cocoonKernel(t)
	app := packELF(t, buildGo(t, "./images/nettest"))
	console, err := runApp(t, app, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"http-ipv4", "http-ipv6", "udp-echo", "tcp-refused", "tcp-addrinuse", "unix-pass-fd", "unix-stream-listener", "interfaces"} {
		if !strings.Contains(console, "nettest: "+c+": ok") {
			t.Errorf("check %s did not pass", c)
		}
	}
	if !strings.Contains(console, "nettest: PASS") {
		t.Error("nettest did not pass")
	}
}

// freePort returns a port nothing listens on at 127.0.0.1 now.
func freePort(t *testing.T, network string) int {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// netArgs give the guest a virtio-net device on QEMU's user network
// (slirp: the guest is 10.0.2.15, the host 10.0.2.2) with the forwards.
func netArgs(forwards ...string) []string {
	nd := "user,id=net0"
	for _, f := range forwards {
		nd += ",hostfwd=" + f
	}
	return []string{"-netdev", nd, "-device", "virtio-net-device,netdev=net0", "-global", "virtio-mmio.force-legacy=false"}
}

// TestVMNetPublish runs a Go HTTP server and a UDP echo server inside
// Cocoon, reached from the host through QEMU's port forwards (what
// 'mkimage run --publish' sets up), with the address from DHCP.
func TestVMNetPublish(t *testing.T) {
	kernel := cocoonKernel(t)
	app := packELF(t, buildGo(t, "./images/nettest"))
	hp, up := freePort(t, "tcp"), freePort(t, "udp")
	watch := qemu.NewWatch("nettest: serving")
	seen := watch.Seen()
	done := make(chan error, 1)
	var res *qemu.Result
	go func() {
		var err error
		res, err = qemu.Run(context.Background(), qemu.Config{
			Profile: qemu.Microvm, Kernel: kernel, Initrd: app, Append: "serve",
			MemoryMiB: 256, Timeout: 5 * time.Minute, Console: watch,
			Extra: netArgs(fmt.Sprintf("tcp:127.0.0.1:%d-:8080", hp), fmt.Sprintf("udp:127.0.0.1:%d-:8081", up)),
		})
		done <- err
	}()
	select {
	case <-seen:
	case err := <-done:
		t.Fatalf("the guest ended before serving: %v\n%s", err, watch.String())
	}
	client := &http.Client{Timeout: time.Minute}
	resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/from-the-host", hp))
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "hello from cocoon /from-the-host" {
		t.Errorf("body %q", body)
	}
	c, err := net.Dial("udp", fmt.Sprintf("127.0.0.1:%d", up))
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(time.Minute))
	c.Write([]byte("udp from the host"))
	buf := make([]byte, 100)
	n, err := c.Read(buf)
	c.Close()
	if err != nil || string(buf[:n]) != "UDP FROM THE HOST" {
		t.Errorf("UDP echo %q: %v", buf[:n], err)
	}
	if resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/quit", hp)); err == nil {
		resp.Body.Close()
	}
	if err := <-done; err != nil {
		t.Fatalf("guest: %v\n%s", err, watch.String())
	}
	if !strings.Contains(res.Console, "nettest: PASS") {
		t.Errorf("console:\n%s", res.Console)
	}
}

// TestVMNetFetch has a Go client inside Cocoon fetch from an HTTP server
// and talk to a UDP echo server that the test runs on the host.
func TestVMNetFetch(t *testing.T) {
	cocoonKernel(t)
	app := packELF(t, buildGo(t, "./images/nettest"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "host says hi to %s", r.URL.Path)
	})}
	go srv.Serve(ln)
	defer srv.Close()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo(bytes.ToUpper(buf[:n]), from)
		}
	}()
	hp, up := ln.Addr().(*net.TCPAddr).Port, pc.LocalAddr().(*net.UDPAddr).Port
	res, err := qemu.Run(context.Background(), qemu.Config{
		Profile: qemu.Microvm, Kernel: cocoonKernel(t), Initrd: app,
		Append:    fmt.Sprintf("fetch http://10.0.2.2:%d/guest 10.0.2.2:%d", hp, up),
		MemoryMiB: 256, Timeout: 5 * time.Minute, Extra: netArgs(),
	})
	if res == nil {
		t.Fatalf("qemu: %v", err)
	}
	console := strings.ReplaceAll(res.Console, "\r", "")
	t.Logf("%v\n%s", err, console)
	for _, want := range []string{`nettest: fetched "host says hi to /guest"`, `nettest: udp echo "DATAGRAM FROM COCOON"`, "nettest: PASS"} {
		if !strings.Contains(console, want) {
			t.Errorf("console lacks %q", want)
		}
	}
}

// TestVMNetDifferentialC runs a static C program (gcc -static) that uses
// getaddrinfo, non-blocking connect, poll, SO_ERROR, accept4, UDP and
// SCM_RIGHTS, natively and inside Cocoon: the outputs must be equal.
func TestVMNetDifferentialC(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/netc/netc.c"), "netc: done")
}
