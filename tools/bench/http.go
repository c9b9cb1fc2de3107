package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/cocoon-vm/cocoon/qemu"
	"github.com/cocoon-vm/cocoon/tools/appimage"
	"github.com/cocoon-vm/cocoon/tools/kbuild"
	"github.com/cocoon-vm/cocoon/tools/linuxguest"
)

// HTTP load: a fixed number of GET requests from the host, over
// keep-alive connections, to images/nettest's server inside the guest
// through QEMU's port forward (mkimage run --publish). -pgo sends more.
var httpRequests = 400

// httpConcurrency is how many connections send requests at once (-conns).
var httpConcurrency = 4

// httpFigures are what one guest served.
type httpFigures struct {
	rps    float64
	median time.Duration
	// p10, p90 and p99 are the latency distribution's quantiles: which
	// requests wait (at the same throughput, and so the same mean
	// latency by Little's law, a guest that answers some requests at
	// once and lets others wait has a lower median than one that
	// answers all in turn).
	p10, p90, p99, max time.Duration
	// mean is the mean latency: with a fixed number of connections
	// each sending its next request when the last is answered, it is
	// connections / throughput (Little's law), whatever the order in
	// which the guest answers.
	mean time.Duration
}

// dist prints f's latency mean and quantiles.
func (f httpFigures) dist() string {
	return fmt.Sprintf("%.1f; %.1f/%.1f/%.1f/%.1f/%.1f", float64(f.mean)/1e6, float64(f.p10)/1e6, float64(f.median)/1e6, float64(f.p90)/1e6, float64(f.p99)/1e6, float64(f.max)/1e6)
}

// runHTTP measures requests per second and the median latency of
// images/nettest serving HTTP inside Cocoon and, with withLinux, the same
// static binary as the Linux guest's application (Debian's cloud kernel
// with its virtio-net modules, eth0 at the address Cocoon gets by DHCP):
// same QEMU machine, same port forward, same load.
func runHTTP(kernelDir string, withLinux bool, w io.Writer) error {
	ctx := context.Background()
	cfg, app, err := cocoonHTTPGuest(ctx, kernelDir)
	if err != nil {
		return err
	}
	cocoon, err := serveHTTP(cfg)
	if err != nil {
		return fmt.Errorf("Cocoon: %v", err)
	}
	var lx *httpFigures
	if withLinux {
		cfg, err := linuxHTTPGuest(ctx, kernelDir, app)
		if err == nil {
			var f httpFigures
			if f, err = serveHTTP(cfg); err == nil {
				lx = &f
			}
		}
		if err != nil {
			return fmt.Errorf("Linux guest: %v", err)
		}
	}
	linux := func(s string) string {
		if lx == nil {
			return "-"
		}
		return s
	}
	fmt.Fprintf(w, "\nHTTP from the host through --publish to images/nettest (Go net/http, the same static binary), QEMU microvm, TCG, %d GETs, %d connections:\n", httpRequests/httpConcurrency*httpConcurrency, httpConcurrency)
	fmt.Fprintf(w, "  %-44s %12s %12s\n", "", "Cocoon", "Linux guest")
	var lrps, lmed string
	if lx != nil {
		lrps, lmed = fmt.Sprintf("%.0f", lx.rps), ms(lx.median)
	}
	fmt.Fprintf(w, "  %-44s %12s %12s\n", "requests per second", fmt.Sprintf("%.0f", cocoon.rps), linux(lrps))
	fmt.Fprintf(w, "  %-44s %12s %12s\n", "median latency", ms(cocoon.median), linux(lmed))
	var ldist string
	if lx != nil {
		ldist = lx.dist()
	}
	fmt.Fprintf(w, "  %-44s %24s %24s\n", "latency mean; p10/p50/p90/p99/max, ms", cocoon.dist(), linux(ldist))
	return nil
}

// cocoonHTTPGuest builds images/nettest (kept in dir as nettest, the
// binary the Linux guest runs too), its application archive and the
// cocoon kernel in dir, and returns the QEMU configuration of the guest
// that serves with it.
func cocoonHTTPGuest(ctx context.Context, dir string) (qemu.Config, string, error) {
	built, err := appimage.BuildGo(ctx, "./images/nettest", "")
	if err != nil {
		return qemu.Config{}, "", err
	}
	app := filepath.Join(dir, "nettest")
	if err := os.Rename(built, app); err != nil {
		return qemu.Config{}, "", err
	}
	cpio := filepath.Join(dir, "nettest.cpio")
	f, err := os.Create(cpio)
	if err != nil {
		return qemu.Config{}, "", err
	}
	err = appimage.Pack(f, app, nil)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return qemu.Config{}, "", err
	}
	kernel := filepath.Join(dir, "cocoon.elf")
	if err := kbuild.Kernel(ctx, "./north/cocoon", kernel, kbuild.Options{}); err != nil {
		return qemu.Config{}, "", err
	}
	return qemu.Config{Profile: qemu.Microvm, Kernel: kernel, Initrd: cpio, Append: "serve"}, app, nil
}

// linuxHTTPGuest returns the QEMU configuration of the Linux guest that
// serves with app: /init is tools/linuxguest/netinit, which loads the
// virtio-net modules, sets eth0 up and runs app serve.
func linuxHTTPGuest(ctx context.Context, dir, app string) (qemu.Config, error) {
	vmlinuz, err := linuxguest.Kernel(ctx, "")
	if err != nil {
		return qemu.Config{}, err
	}
	mods, err := linuxguest.FetchNetModules(ctx, vmlinuz, "")
	if err != nil {
		return qemu.Config{}, err
	}
	initBin := filepath.Join(dir, "netinit")
	if err := linuxguest.BuildStatic(ctx, "./tools/linuxguest/netinit", initBin); err != nil {
		return qemu.Config{}, err
	}
	initB, err := os.ReadFile(initBin)
	if err != nil {
		return qemu.Config{}, err
	}
	appB, err := os.ReadFile(app)
	if err != nil {
		return qemu.Config{}, err
	}
	var b bytes.Buffer
	if err := linuxguest.WriteNetInitramfs(&b, initB, appB, mods); err != nil {
		return qemu.Config{}, err
	}
	initrd := filepath.Join(dir, "linux-net.cpio")
	if err := os.WriteFile(initrd, b.Bytes(), 0o644); err != nil {
		return qemu.Config{}, err
	}
	cmdline, err := linuxguest.CommandLine([]string{"serve"})
	if err != nil {
		return qemu.Config{}, err
	}
	return qemu.Config{Profile: qemu.Microvm, Kernel: vmlinuz, Initrd: initrd, Append: cmdline}, nil
}

// serveHTTP boots cfg (a guest running nettest serve) with port 8080
// published and puts the load on it.
func serveHTTP(cfg qemu.Config) (httpFigures, error) {
	f, _, err := serveHTTPConsole(cfg)
	return f, err
}

// serveHTTPConsole is serveHTTP that also returns the guest's console.
func serveHTTPConsole(cfg qemu.Config) (httpFigures, string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return httpFigures{}, "", err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	ready := &markWriter{marker: []byte("nettest: serving")}
	ready.start = time.Now()
	cfg.MemoryMiB, cfg.Timeout, cfg.Console = 256, 10*time.Minute, ready
	cfg.Net = &qemu.Net{Forwards: []qemu.Forward{{HostPort: port, GuestPort: 8080}}}
	done := make(chan error, 1)
	go func() {
		_, err := qemu.Run(context.Background(), cfg)
		done <- err
	}()
	for !ready.seen() {
		select {
		case err := <-done:
			return httpFigures{}, "", fmt.Errorf("the guest stopped before serving: %v\n%s", err, ready.buf.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/bench", port)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: httpConcurrency}, Timeout: time.Minute}
	get := func() (time.Duration, error) {
		t := time.Now()
		resp, err := client.Get(url)
		if err != nil {
			return 0, err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return time.Since(t), err
	}
	var mu sync.Mutex
	var lat []time.Duration
	var firstErr error
	// Open the connections (the guest may need a moment to take the
	// first one after it prints that it serves).
	for i := 0; i < httpConcurrency; i++ {
		if _, err := get(); err != nil {
			firstErr = err
			break
		}
	}
	var elapsed time.Duration
	if firstErr == nil {
		var wg sync.WaitGroup
		start := time.Now()
		for range httpConcurrency {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range httpRequests / httpConcurrency {
					d, err := get()
					mu.Lock()
					if err != nil && firstErr == nil {
						firstErr = err
					}
					lat = append(lat, d)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		elapsed = time.Since(start)
	}
	if resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/quit", port)); err == nil {
		resp.Body.Close()
	}
	runErr := <-done
	if firstErr != nil {
		return httpFigures{}, "", fmt.Errorf("%v (guest: %v)\n%s", firstErr, runErr, ready.buf.String())
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	q := func(f float64) time.Duration { return lat[int(f*float64(len(lat)-1))] }
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	ready.mu.Lock()
	console := ready.buf.String()
	ready.mu.Unlock()
	return httpFigures{rps: float64(len(lat)) / elapsed.Seconds(), median: lat[len(lat)/2],
		p10: q(0.1), p90: q(0.9), p99: q(0.99), max: lat[len(lat)-1], mean: sum / time.Duration(len(lat))}, console, nil
}

// seen reports whether the marker has appeared.
func (m *markWriter) seen() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.at != 0 || bytes.Contains(m.buf.Bytes(), m.marker)
}
