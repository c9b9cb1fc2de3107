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

func TestWriteInitramfs(t *testing.T) {
	init := []byte("\x7fELF pretend static binary")
	var buf bytes.Buffer
	if err := WriteInitramfs(&buf, init, nil); err != nil {
		t.Fatalf("WriteInitramfs() = %v, want nil", err)
	}

	recs, err := cpio.ReadAllRecords(cpio.Newc.Reader(bytes.NewReader(buf.Bytes())))
	if err != nil {
		t.Fatalf("reading the archive back: %v", err)
	}
	byName := map[string]cpio.Record{}
	for _, r := range recs {
		byName[r.Name] = r
	}
	// ReadAllRecords stops at the trailer and leaves it out.
	if !bytes.Contains(buf.Bytes(), []byte(cpio.Trailer)) {
		t.Errorf("archive has no %s record", cpio.Trailer)
	}
	for _, name := range []string{"dev", "dev/console", "dev/null", "init"} {
		if _, ok := byName[name]; !ok {
			t.Errorf("archive has no %q; records: %v", name, recs)
		}
	}
	if got := byName["dev"].Mode; got != cpio.S_IFDIR|0o755 {
		t.Errorf("dev mode = %#o, want %#o", got, cpio.S_IFDIR|0o755)
	}
	c := byName["dev/console"]
	if c.Mode&cpio.S_IFMT != cpio.S_IFCHR || c.Rmajor != 5 || c.Rminor != 1 {
		t.Errorf("dev/console = mode %#o dev %d:%d, want a character device 5:1", c.Mode, c.Rmajor, c.Rminor)
	}
	if n := byName["dev/null"]; n.Mode != cpio.S_IFCHR|0o666 || n.Rmajor != 1 || n.Rminor != 3 {
		t.Errorf("dev/null = mode %#o dev %d:%d, want a character device 1:3, mode 0666", n.Mode, n.Rmajor, n.Rminor)
	}
	in := byName["init"]
	if in.Mode != cpio.S_IFREG|0o755 {
		t.Errorf("init mode = %#o, want %#o", in.Mode, cpio.S_IFREG|0o755)
	}
	got, err := io.ReadAll(io.NewSectionReader(in, 0, int64(in.FileSize)))
	if err != nil || !bytes.Equal(got, init) {
		t.Errorf("init contents = %q, %v; want %q", got, err, init)
	}
	// The Linux unpacker links records with equal inode numbers and
	// NLink >= 2; each record must stand alone.
	seen := map[uint64]string{}
	for _, r := range recs {
		if r.NLink > 1 {
			t.Errorf("%s NLink = %d, want 1", r.Name, r.NLink)
		}
		if other, dup := seen[r.Ino]; dup {
			t.Errorf("%s and %s share inode %d", r.Name, other, r.Ino)
		}
		seen[r.Ino] = r.Name
	}

	var again bytes.Buffer
	if err := WriteInitramfs(&again, init, nil); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Errorf("WriteInitramfs is not reproducible: two archives of the same init differ")
	}
}

func TestBuildInitramfs(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.WriteFile(bin, []byte("binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "initramfs.cpio")
	if err := BuildInitramfs(bin, dst); err != nil {
		t.Fatalf("BuildInitramfs(%q, %q) = %v, want nil", bin, dst, err)
	}
	var want bytes.Buffer
	if err := WriteInitramfs(&want, []byte("binary"), nil); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(dst); err != nil || !bytes.Equal(got, want.Bytes()) {
		t.Errorf("BuildInitramfs wrote %d bytes (%v), want the %d of WriteInitramfs", len(got), err, want.Len())
	}

	if err := BuildInitramfs(filepath.Join(dir, "missing"), dst); err == nil {
		t.Errorf("BuildInitramfs(missing binary) = nil, want an error")
	}
}

// TestWriteInitramfsFiles checks that further files land at their paths,
// executable, after their directories, parents first, each once.
func TestWriteInitramfsFiles(t *testing.T) {
	var buf bytes.Buffer
	files := map[string][]byte{"/bin/busybox": []byte("bb"), "usr/local/bin/x": []byte("x"), "/bin/y": []byte("y")}
	if err := WriteInitramfs(&buf, []byte("init"), files); err != nil {
		t.Fatal(err)
	}
	recs, err := cpio.ReadAllRecords(cpio.Newc.Reader(bytes.NewReader(buf.Bytes())))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range recs {
		names = append(names, r.Name)
		if r.Name == "bin/busybox" {
			got, _ := io.ReadAll(io.NewSectionReader(r, 0, int64(r.FileSize)))
			if string(got) != "bb" || r.Mode != cpio.S_IFREG|0o755 {
				t.Errorf("bin/busybox = %q mode %#o, want \"bb\" mode %#o", got, r.Mode, cpio.S_IFREG|0o755)
			}
		}
	}
	want := "dev dev/console dev/null init bin bin/busybox bin/y usr usr/local usr/local/bin usr/local/bin/x"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("records %s, want %s", got, want)
	}
	for _, bad := range []string{"/init", "/dev/null", "/"} {
		if err := WriteInitramfs(io.Discard, []byte("init"), map[string][]byte{bad: nil}); err == nil {
			t.Errorf("WriteInitramfs with a file at %q = nil, want an error", bad)
		}
	}
}
