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
)

// HTTP load: a fixed number of GET requests from the host, over
// keep-alive connections, to images/nettest's server inside the guest
// through QEMU's port forward (mkimage run --publish).
const (
	httpRequests    = 400
	httpConcurrency = 4
)

// runHTTP measures requests per second and the median latency of
// images/nettest serving HTTP inside Cocoon.
func runHTTP(kernelDir string, w io.Writer) error {
	ctx := context.Background()
	built, err := appimage.BuildGo(ctx, "./images/nettest", "")
	if err != nil {
		return err
	}
	defer os.Remove(built)
	cpio := filepath.Join(kernelDir, "nettest.cpio")
	f, err := os.Create(cpio)
	if err != nil {
		return err
	}
	err = appimage.Pack(f, built, nil)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	kernel := filepath.Join(kernelDir, "cocoon.elf")
	if err := kbuild.Kernel(ctx, "./north/cocoon", kernel, kbuild.Options{}); err != nil {
		return err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	ready := &markWriter{marker: []byte("nettest: serving")}
	ready.start = time.Now()
	done := make(chan error, 1)
	go func() {
		_, err := qemu.Run(ctx, qemu.Config{
			Profile: qemu.Microvm, Kernel: kernel, Initrd: cpio, Append: "serve", MemoryMiB: 256,
			Timeout: 10 * time.Minute, Console: ready,
			Net: &qemu.Net{Forwards: []qemu.Forward{{HostPort: port, GuestPort: 8080}}},
		})
		done <- err
	}()
	for !ready.seen() {
		select {
		case err := <-done:
			return fmt.Errorf("the guest stopped before serving: %v", err)
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
	for range httpConcurrency { // open the connections
		if _, err := get(); err != nil {
			return err
		}
	}
	var mu sync.Mutex
	var lat []time.Duration
	var firstErr error
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
	elapsed := time.Since(start)
	if resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/quit", port)); err == nil {
		resp.Body.Close()
	}
	if err := <-done; err != nil {
		return fmt.Errorf("the guest: %v", err)
	}
	if firstErr != nil {
		return firstErr
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	fmt.Fprintf(w, "\nHTTP from the host through --publish to images/nettest (Go net/http), QEMU microvm, TCG, %d GETs, %d connections:\n", httpRequests, httpConcurrency)
	fmt.Fprintf(w, "  %-44s %12s %12s\n", "", "Cocoon", "Linux guest")
	fmt.Fprintf(w, "  %-44s %12s %12s\n", "requests per second", fmt.Sprintf("%.0f", float64(httpRequests)/elapsed.Seconds()), "-")
	fmt.Fprintf(w, "  %-44s %12s %12s\n", "median latency", ms(lat[len(lat)/2]), "-")
	fmt.Fprintf(w, "  (the Linux guest's initramfs has no virtio-net driver module yet, so it has no network to compare)\n")
	return nil
}

// seen reports whether the marker has appeared.
func (m *markWriter) seen() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.at != 0 || bytes.Contains(m.buf.Bytes(), m.marker)
}
