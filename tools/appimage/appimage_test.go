package appimage

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/u-root/u-root/pkg/cpio"
)

// buildHello builds a tiny static Go program with BuildGo and returns its
// path.
func buildHello(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module hello\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := "package main\n\nimport \"os\"\n\nfunc main() { os.Stdout.WriteString(\"hello\\n\") }\n"
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOWORK", "off")
	t.Setenv("GOTOOLCHAIN", "local")
	path, err := BuildGo(context.Background(), ".", dir)
	if err != nil {
		t.Fatalf("BuildGo = %v", err)
	}
	t.Cleanup(func() { os.Remove(path) })
	return path
}

func TestBuildGo(t *testing.T) {
	path := buildHello(t)
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("BuildGo output is not ELF: %v", err)
	}
	defer f.Close()
	if f.Machine != elf.EM_X86_64 || f.Type != elf.ET_EXEC {
		t.Errorf("BuildGo output: %v %v, want EM_X86_64 ET_EXEC", f.Machine, f.Type)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("BuildGo output has PT_INTERP")
		}
	}
	if err := CheckStatic(path); err != nil {
		t.Errorf("CheckStatic(BuildGo output) = %v", err)
	}

	// A package that does not compile reports the compiler's message.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module broken\n\ngo 1.26\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nfunc main() { undefinedThing() }\n"), 0o644)
	if _, err := BuildGo(context.Background(), ".", dir); err == nil || !strings.Contains(err.Error(), "undefinedThing") {
		t.Errorf("BuildGo(broken) = %v, want the compiler error", err)
	}
}

// elfHeader returns a minimal ELF header with the given class and
// machine (little-endian, ET_EXEC, no program headers).
func elfHeader(class elf.Class, machine elf.Machine) []byte {
	b := make([]byte, 64)
	copy(b, elf.ELFMAG)
	b[elf.EI_CLASS], b[elf.EI_DATA], b[elf.EI_VERSION] = byte(class), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)
	binary.LittleEndian.PutUint16(b[16:], uint16(elf.ET_EXEC))
	binary.LittleEndian.PutUint16(b[18:], uint16(machine))
	binary.LittleEndian.PutUint32(b[20:], uint32(elf.EV_CURRENT))
	return b
}

func writeTemp(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCheckStaticRefusals(t *testing.T) {
	tests := []struct {
		name string
		path string
		want []string
	}{
		{"aarch64", writeTemp(t, "arm", elfHeader(elf.ELFCLASS64, elf.EM_AARCH64)), []string{"EM_AARCH64", "GOARCH=amd64"}},
		{"i386", writeTemp(t, "x86", elfHeader(elf.ELFCLASS32, elf.EM_386)), []string{"ELFCLASS32", "EM_386"}},
		{"script", writeTemp(t, "sh", []byte("#!/bin/sh\necho hi\n")), []string{"not an ELF executable"}},
		{"directory", t.TempDir(), []string{"not a regular file"}},
		{"missing", filepath.Join(t.TempDir(), "nothing"), []string{"no such file"}},
	}
	if ls, err := elf.Open("/bin/ls"); err == nil {
		var interp string
		for _, p := range ls.Progs {
			if p.Type == elf.PT_INTERP {
				b, _ := io.ReadAll(p.Open())
				interp = string(bytes.TrimRight(b, "\x00"))
			}
		}
		ls.Close()
		if interp != "" {
			tests = append(tests, struct {
				name string
				path string
				want []string
			}{"dynamic /bin/ls", "/bin/ls", []string{"/bin/ls", "dynamically linked", interp, "CGO_ENABLED=0"}})
		} else {
			t.Logf("/bin/ls on this machine is static: dynamic refusal not checked with it")
		}
	}
	for _, tt := range tests {
		err := CheckStatic(tt.path)
		if err == nil {
			t.Errorf("%s: CheckStatic = nil, want an error", tt.name)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: CheckStatic = %q, want it to mention %q", tt.name, err, w)
			}
		}
	}
}

// tree makes a small host tree: files with assorted modes, a nested
// directory and symbolic links.
func tree(t *testing.T, root string) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(root, "sub", "deeper"), 0o750))
	must(os.WriteFile(filepath.Join(root, "a.txt"), []byte("alpha\n"), 0o644))
	must(os.WriteFile(filepath.Join(root, "sub", "secret"), []byte("s3cr3t"), 0o600))
	must(os.WriteFile(filepath.Join(root, "sub", "deeper", "tool"), []byte("#!x"), 0o755))
	must(os.Chmod(filepath.Join(root, "sub", "deeper", "tool"), 0o755|fs.ModeSetuid))
	must(os.Symlink("a.txt", filepath.Join(root, "link")))
	must(os.Symlink("/etc/hosts", filepath.Join(root, "sub", "abs")))
}

func readArchive(t *testing.T, b []byte) []cpio.Record {
	t.Helper()
	recs, err := cpio.ReadAllRecords(cpio.Newc.Reader(bytes.NewReader(b)))
	if err != nil {
		t.Fatalf("reading the archive back: %v", err)
	}
	return recs
}

func TestPack(t *testing.T) {
	init := buildHello(t)
	src := filepath.Join(t.TempDir(), "data")
	tree(t, src)
	extra := writeTemp(t, "config.json", []byte(`{"x":1}`))
	os.Chmod(extra, 0o640)
	files := []File{
		{Src: src, Dst: "/srv/data"},
		{Src: extra, Dst: "/etc/app/config.json"},
		{Src: filepath.Join(src, "link"), Dst: "/lnk"},
	}
	var out bytes.Buffer
	if err := Pack(&out, init, files); err != nil {
		t.Fatalf("Pack = %v", err)
	}
	recs := readArchive(t, out.Bytes())

	initBytes, _ := os.ReadFile(init)
	want := []struct {
		name    string
		mode    uint64
		content string
	}{
		{"dev", cpio.S_IFDIR | 0o755, ""},
		{"etc", cpio.S_IFDIR | 0o755, ""},
		{"etc/app", cpio.S_IFDIR | 0o755, ""},
		{"etc/app/config.json", cpio.S_IFREG | 0o640, `{"x":1}`},
		{"init", cpio.S_IFREG | 0o755, string(initBytes)},
		{"lnk", cpio.S_IFLNK | 0o777, "a.txt"},
		{"proc", cpio.S_IFDIR | 0o555, ""},
		{"srv", cpio.S_IFDIR | 0o755, ""},
		{"srv/data", cpio.S_IFDIR | 0o750, ""},
		{"srv/data/a.txt", cpio.S_IFREG | 0o644, "alpha\n"},
		{"srv/data/link", cpio.S_IFLNK | 0o777, "a.txt"},
		{"srv/data/sub", cpio.S_IFDIR | 0o750, ""},
		{"srv/data/sub/abs", cpio.S_IFLNK | 0o777, "/etc/hosts"},
		{"srv/data/sub/deeper", cpio.S_IFDIR | 0o750, ""},
		{"srv/data/sub/deeper/tool", cpio.S_IFREG | cpio.S_ISUID | 0o755, "#!x"},
		{"srv/data/sub/secret", cpio.S_IFREG | 0o600, "s3cr3t"},
		{"tmp", cpio.S_IFDIR | cpio.S_ISVTX | 0o777, ""},
	}
	if len(recs) != len(want) {
		var names []string
		for _, r := range recs {
			names = append(names, r.Name)
		}
		t.Fatalf("archive has %d members %q, want %d", len(recs), names, len(want))
	}
	inodes := map[uint64]bool{}
	for i, w := range want {
		r := recs[i]
		if r.Name != w.name || r.Mode != w.mode {
			t.Errorf("member %d = %s %#o, want %s %#o", i, r.Name, r.Mode, w.name, w.mode)
		}
		if r.MTime != 0 || r.UID != 0 || r.GID != 0 || r.Ino == 0 || inodes[r.Ino] {
			t.Errorf("%s: mtime %d uid %d gid %d ino %d (inodes must be distinct and nonzero)", r.Name, r.MTime, r.UID, r.GID, r.Ino)
		}
		inodes[r.Ino] = true
		if r.Mode&cpio.S_IFMT == cpio.S_IFDIR {
			continue
		}
		b := make([]byte, r.FileSize)
		if _, err := r.ReadAt(b, 0); err != nil && err != io.EOF {
			t.Fatal(err)
		}
		if string(b) != w.content {
			t.Errorf("%s: content %q, want %q", r.Name, b, truncate(w.content))
		}
	}
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// TestPackDeterministic packs the same inputs from two places, with
// different times, and expects identical bytes.
func TestPackDeterministic(t *testing.T) {
	init := buildHello(t)
	pack := func(root string) []byte {
		t.Helper()
		var out bytes.Buffer
		if err := Pack(&out, init, []File{{Src: root, Dst: "/data"}, {Src: filepath.Join(root, "a.txt"), Dst: "/a"}}); err != nil {
			t.Fatalf("Pack = %v", err)
		}
		return out.Bytes()
	}
	r1, r2 := filepath.Join(t.TempDir(), "one"), filepath.Join(t.TempDir(), "two", "elsewhere")
	tree(t, r1)
	first := pack(r1)
	if again := pack(r1); !bytes.Equal(first, again) {
		t.Fatalf("packing twice gave different archives")
	}
	old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	filepath.Walk(r1, func(p string, _ os.FileInfo, _ error) error { return os.Chtimes(p, old, old) })
	os.Chtimes(init, old, old)
	if touched := pack(r1); !bytes.Equal(first, touched) {
		t.Errorf("changing file times changed the archive")
	}
	tree(t, r2)
	if moved := pack(r2); !bytes.Equal(first, moved) {
		t.Errorf("the same tree in another directory gave a different archive")
	}
	os.WriteFile(filepath.Join(r2, "a.txt"), []byte("ALPHA\n"), 0o644)
	if changed := pack(r2); bytes.Equal(first, changed) {
		t.Errorf("changing a file's content did not change the archive")
	}
}

// TestPackKeepTimes checks that a File with KeepTimes carries its files'
// modification times and that the others stay at zero.
func TestPackKeepTimes(t *testing.T) {
	init := buildHello(t)
	root := t.TempDir()
	tree(t, root)
	old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	filepath.Walk(root, func(p string, _ os.FileInfo, _ error) error { return os.Chtimes(p, old, old) })
	early := filepath.Join(t.TempDir(), "early")
	os.WriteFile(early, []byte("x"), 0o644)
	os.Chtimes(early, time.Unix(-5, 0), time.Unix(-5, 0)) // before 1970: a newc header cannot hold it
	var out bytes.Buffer
	files := []File{
		{Src: root, Dst: "/kept", KeepTimes: true},
		{Src: filepath.Join(root, "a.txt"), Dst: "/zero"},
		{Src: early, Dst: "/early", KeepTimes: true},
	}
	if err := Pack(&out, init, files); err != nil {
		t.Fatalf("Pack = %v", err)
	}
	kept := 0
	for _, r := range readArchive(t, out.Bytes()) {
		want := uint64(0)
		if rel, ok := strings.CutPrefix(r.Name, "kept"); ok {
			// Chtimes followed the links: theirs are their own.
			st, err := os.Lstat(filepath.Join(root, rel))
			if err != nil {
				t.Fatal(err)
			}
			if want, kept = uint64(st.ModTime().Unix()), kept+1; st.Mode().IsRegular() && want != uint64(old.Unix()) {
				t.Fatalf("%s: host mtime %d, not the one set", rel, want)
			}
		}
		if r.MTime != want {
			t.Errorf("%s: mtime %d, want %d", r.Name, r.MTime, want)
		}
	}
	if kept < 5 {
		t.Errorf("only %d members under /kept", kept)
	}
}

func TestPackRefusals(t *testing.T) {
	init := buildHello(t)
	src := filepath.Join(t.TempDir(), "data")
	tree(t, src)
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	arm := writeTemp(t, "arm", elfHeader(elf.ELFCLASS64, elf.EM_AARCH64))
	a := filepath.Join(src, "a.txt")
	tests := []struct {
		name  string
		init  string
		files []File
		want  string
	}{
		{"foreign init", arm, nil, "EM_AARCH64"},
		{"init twice", init, []File{{Src: a, Dst: "/init"}}, "/init is already in the archive"},
		{"same file twice", init, []File{{Src: a, Dst: "/x"}, {Src: a, Dst: "/x"}}, "/x is already in the archive"},
		{"file over a tree's directory", init, []File{{Src: src, Dst: "/d"}, {Src: a, Dst: "/d/sub"}}, "/d/sub is already in the archive"},
		{"file as a parent", init, []File{{Src: a, Dst: "/f"}, {Src: a, Dst: "/f/g"}}, "/f is not a directory"},
		{"file over a standard directory", init, []File{{Src: a, Dst: "/tmp"}}, "/tmp must be a directory"},
		{"fifo", init, []File{{Src: fifo, Dst: "/fifo"}}, "only regular files, directories and symbolic links"},
		{"root", init, []File{{Src: src, Dst: "/"}}, "archive root"},
		{"empty", init, []File{{Src: src, Dst: ""}}, "empty destination"},
		{"missing", init, []File{{Src: filepath.Join(src, "nope"), Dst: "/n"}}, "no such file"},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		err := Pack(&out, tt.init, tt.files)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Pack = %v, want an error containing %q", tt.name, err, tt.want)
		}
		if out.Len() != 0 {
			t.Errorf("%s: Pack wrote %d bytes before failing", tt.name, out.Len())
		}
	}

	// Trees may share directories, including the standard ones.
	other := filepath.Join(t.TempDir(), "other")
	if err := os.MkdirAll(filepath.Join(other, "deeper"), 0o755); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := Pack(&out, init, []File{{Src: src, Dst: "/d"}, {Src: other, Dst: "/d/sub"}, {Src: src, Dst: "/etc"}}); err != nil {
		t.Errorf("Pack with overlapping directories = %v", err)
	}
}
