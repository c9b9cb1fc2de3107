package linuxguest

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/u-root/u-root/pkg/cpio"
)

func TestWriteNetInitramfs(t *testing.T) {
	dir := t.TempDir()
	var mods []string
	for _, m := range []string{"virtio_ring.ko", "virtio.ko"} {
		p := filepath.Join(dir, m)
		if err := os.WriteFile(p, []byte("module "+m), 0o644); err != nil {
			t.Fatal(err)
		}
		mods = append(mods, p)
	}
	var b bytes.Buffer
	if err := WriteNetInitramfs(&b, []byte("init"), []byte("app"), mods); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	r := cpio.Newc.Reader(bytes.NewReader(b.Bytes()))
	for {
		rec, err := r.ReadRecord()
		if err != nil {
			break
		}
		var data bytes.Buffer
		if rec.ReaderAt != nil {
			data.ReadFrom(io.NewSectionReader(rec.ReaderAt, 0, int64(rec.FileSize)))
		}
		files[rec.Name] = data.String()
	}
	for name, want := range map[string]string{
		"init": "init", "app": "app", "modules/order": "virtio_ring.ko\nvirtio.ko\n",
		"modules/virtio.ko": "module virtio.ko", "modules/virtio_ring.ko": "module virtio_ring.ko",
	} {
		if files[name] != want {
			t.Errorf("%s = %q, want %q", name, files[name], want)
		}
	}
	if _, ok := files["dev/console"]; !ok {
		t.Error("no dev/console")
	}
}

func TestFetchNetModulesName(t *testing.T) {
	if _, err := FetchNetModules(t.Context(), "/boot/bzImage", t.TempDir()); err == nil || !strings.Contains(err.Error(), "vmlinuz-VERSION") {
		t.Errorf("a kernel without a version in its name: %v", err)
	}
	// Cached modules are used without fetching anything.
	dir := t.TempDir()
	mdir := filepath.Join(dir, "modules-6.1.0-1-cloud-amd64")
	os.MkdirAll(mdir, 0o755)
	for _, m := range NetModules {
		os.WriteFile(filepath.Join(mdir, filepath.Base(m)), nil, 0o644)
	}
	paths, err := FetchNetModules(t.Context(), "/x/vmlinuz-6.1.0-1-cloud-amd64", dir)
	if err != nil || len(paths) != len(NetModules) || filepath.Base(paths[0]) != "virtio_ring.ko" || filepath.Base(paths[len(paths)-1]) != "virtio_net.ko" {
		t.Errorf("cached modules: %v, %v", paths, err)
	}
}
