package linuxguest

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"

	"github.com/u-root/u-root/pkg/cpio"
)

// NetModules are the modules Debian's cloud kernel needs to drive
// virtio-net on microvm (CONFIG_VIRTIO, VIRTIO_MMIO, VIRTIO_NET and
// NET_FAILOVER are =m; the virtio-mmio devices are found through ACPI),
// dependencies first, relative to lib/modules/VERSION.
var NetModules = []string{
	"kernel/drivers/virtio/virtio_ring.ko", // virtio.ko uses its virtio_break_device
	"kernel/drivers/virtio/virtio.ko",
	"kernel/drivers/virtio/virtio_mmio.ko",
	"kernel/net/core/failover.ko",
	"kernel/drivers/net/net_failover.ko",
	"kernel/drivers/net/virtio_net.ko",
}

// FetchNetModules returns the paths of NetModules for the kernel vmlinuz
// (a vmlinuz-VERSION), kept in cacheDir (default DefaultCacheDir) under
// modules-VERSION; the first call downloads the kernel's package with
// apt-get download and keeps only those files.
func FetchNetModules(ctx context.Context, vmlinuz, cacheDir string) ([]string, error) {
	version, ok := strings.CutPrefix(filepath.Base(vmlinuz), "vmlinuz-")
	if !ok {
		return nil, fmt.Errorf("linuxguest: %s is not named vmlinuz-VERSION: cannot tell which modules go with it", vmlinuz)
	}
	if cacheDir == "" {
		var err error
		if cacheDir, err = DefaultCacheDir(); err != nil {
			return nil, err
		}
	}
	dir := filepath.Join(cacheDir, "modules-"+version)
	var paths []string
	missing := false
	for _, m := range NetModules {
		p := filepath.Join(dir, path.Base(m))
		paths = append(paths, p)
		if _, err := os.Stat(p); err != nil {
			missing = true
		}
	}
	if !missing {
		return paths, nil
	}
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		return nil, errors.New("linuxguest: fetching the kernel's modules needs apt-get and dpkg-deb: run on Debian or Ubuntu")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("linuxguest: module cache: %w", err)
	}
	tmp, err := os.MkdirTemp(cacheDir, "fetch-")
	if err != nil {
		return nil, fmt.Errorf("linuxguest: module cache: %w", err)
	}
	defer os.RemoveAll(tmp)
	deb, err := download(ctx, tmp, "linux-image-"+version)
	if err != nil {
		return nil, err
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "dpkg-deb", "--fsys-tarfile", deb)
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("linuxguest: dpkg-deb: %w", err)
	}
	want := map[string]string{}
	for i, m := range NetModules {
		want[path.Join("lib/modules", version, m)] = paths[i]
	}
	err = extractFiles(out, want)
	io.Copy(io.Discard, out)
	if werr := cmd.Wait(); werr != nil && err == nil {
		err = fmt.Errorf("linuxguest: dpkg-deb --fsys-tarfile %s: %v: %s", deb, werr, strings.TrimSpace(stderr.String()))
	}
	if err == nil && len(want) > 0 {
		err = fmt.Errorf("linuxguest: linux-image-%s lacks %d of the virtio-net modules", version, len(want))
	}
	if err != nil {
		return nil, err
	}
	return paths, nil
}

// extractFiles writes each regular file of the tar stream r named in
// want (archive path to destination) and deletes it from want.
func extractFiles(r io.Reader, want map[string]string) error {
	tr := tar.NewReader(r)
	for len(want) > 0 {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("linuxguest: kernel package: %w", err)
		}
		dst, ok := want[path.Clean(strings.TrimPrefix(h.Name, "./"))]
		if !ok || h.Typeflag != tar.TypeReg {
			continue
		}
		b, err := io.ReadAll(tr)
		if err == nil {
			err = os.WriteFile(dst, b, 0o644)
		}
		if err != nil {
			return fmt.Errorf("linuxguest: module cache: %w", err)
		}
		delete(want, path.Clean(strings.TrimPrefix(h.Name, "./")))
	}
	return nil
}

// WriteNetInitramfs writes an initramfs like WriteInitramfs's whose /init
// is init (tools/linuxguest/netinit), with app at /app and the modules
// in /modules with their load order in /modules/order.
func WriteNetInitramfs(w io.Writer, init, app []byte, modules []string) error {
	records := []cpio.Record{
		cpio.Directory("dev", 0o755),
		cpio.CharDev("dev/console", 0o600, consoleMajor, consoleMinor),
		cpio.StaticRecord(init, cpio.Info{Name: "init", Mode: cpio.S_IFREG | 0o755}),
		cpio.StaticRecord(app, cpio.Info{Name: "app", Mode: cpio.S_IFREG | 0o755}),
		cpio.Directory("modules", 0o755),
	}
	var order []string
	for _, m := range modules {
		b, err := os.ReadFile(m)
		if err != nil {
			return fmt.Errorf("initramfs: %w", err)
		}
		records = append(records, cpio.StaticRecord(b, cpio.Info{Name: "modules/" + filepath.Base(m), Mode: cpio.S_IFREG | 0o644}))
		order = append(order, filepath.Base(m))
	}
	records = append(records, cpio.StaticFile("modules/order", strings.Join(order, "\n")+"\n", 0o644))
	for i := range records {
		records[i].Ino = uint64(i + 1)
		records[i].NLink = 1
		records[i] = cpio.MakeReproducible(records[i])
	}
	rw := cpio.Newc.Writer(w)
	if err := cpio.WriteRecords(rw, records); err != nil {
		return fmt.Errorf("initramfs: %w", err)
	}
	return cpio.WriteTrailer(rw)
}

// CommandLine is the kernel command line of Run's boots, passing args to
// init.
func CommandLine(args []string) (string, error) { return commandLine(args, tscKHz()) }
