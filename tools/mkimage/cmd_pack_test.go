package main

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cocoon-vm/cocoon/internal/testenv"
	"github.com/cocoon-vm/cocoon/tools/appimage"
	"github.com/u-root/u-root/pkg/cpio"
)

func runPackArgs(args ...string) (stdout, stderr string, err error) {
	var out, errOut bytes.Buffer
	err = runPack(args, nil, &out, &errOut)
	return out.String(), errOut.String(), err
}

// helloModule writes a tiny Go main package in its own module and makes
// it the working directory.
func helloModule(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "hello")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module hello\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := "package main\n\nimport \"os\"\n\nfunc main() { os.Stdout.WriteString(\"hello\\n\") }\n"
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOWORK", "off")
	t.Setenv("GOTOOLCHAIN", "local")
	t.Chdir(dir)
	return dir
}

func TestPackHelp(t *testing.T) {
	_, stderr, err := runPackArgs("--help")
	if err != nil {
		t.Fatalf("runPack(--help) = %v", err)
	}
	for _, want := range []string{"-elf FILE", "-file SRC[:DST]", "-o FILE", "PACKAGE", "CGO_ENABLED=0", "/init"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("help does not mention %q:\n%s", want, stderr)
		}
	}
}

func TestPackUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"./a", "./b"},
		{"--elf", "x", "./a"},
		{"--bogus"},
		{"--file", "a:relative", "--elf", "x"},
		{"--file", ":/x", "--elf", "x"},
	} {
		if _, _, err := runPackArgs(args...); err != errUsage {
			t.Errorf("runPack(%q) = %v, want errUsage", args, err)
		}
	}
}

func TestFileFlag(t *testing.T) {
	var f fileFlags
	for _, v := range []string{"a.txt", "dir/b:/etc/b", "c:d:/x", "/abs/e/:/e"} {
		if err := f.Set(v); err != nil {
			t.Fatalf("Set(%q) = %v", v, err)
		}
	}
	want := fileFlags{{Src: "a.txt", Dst: "/a.txt"}, {Src: "dir/b", Dst: "/etc/b"}, {Src: "c:d", Dst: "/x"}, {Src: "/abs/e/", Dst: "/e"}}
	if fmt.Sprint(f) != fmt.Sprint(want) {
		t.Errorf("fileFlags = %v, want %v", f, want)
	}
}

func TestPackPackage(t *testing.T) {
	dir := helloModule(t)
	data := filepath.Join(t.TempDir(), "motd")
	if err := os.WriteFile(data, []byte("welcome\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := runPackArgs(".", "--file", data+":/etc/motd")
	if err != nil {
		t.Fatalf("mkimage pack . = %v\n%s", err, stderr)
	}
	out := filepath.Join("out", "hello.cpio")
	b, err := os.ReadFile(filepath.Join(dir, out))
	if err != nil {
		t.Fatalf("default output %s: %v", out, err)
	}
	if want := fmt.Sprintf("%s (%d KiB, sha256 %x)\n", out, (len(b)+1023)>>10, sha256.Sum256(b)); stdout != want {
		t.Errorf("stdout = %q, want %q", stdout, want)
	}
	recs, err := cpio.ReadAllRecords(cpio.Newc.Reader(bytes.NewReader(b)))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]cpio.Record{}
	for _, r := range recs {
		got[r.Name] = r
	}
	for _, name := range []string{"init", "etc/motd", "tmp", "dev", "proc", "etc"} {
		if _, ok := got[name]; !ok {
			t.Errorf("archive lacks %s", name)
		}
	}
	init := got["init"]
	if init.Mode != cpio.S_IFREG|0o755 {
		t.Errorf("/init mode %#o, want 0100755", init.Mode)
	}
	initBytes := make([]byte, init.FileSize)
	init.ReadAt(initBytes, 0)
	f, err := elf.NewFile(bytes.NewReader(initBytes))
	if err != nil || f.Machine != elf.EM_X86_64 {
		t.Fatalf("/init is not an x86-64 ELF: %v", err)
	}

	// --elf with the same program gives the same archive.
	exe := filepath.Join(t.TempDir(), "hello")
	if err := os.WriteFile(exe, initBytes, 0o755); err != nil {
		t.Fatal(err)
	}
	again := filepath.Join(t.TempDir(), "again.cpio")
	if _, stderr, err := runPackArgs("--elf", exe, "--file", data+":/etc/motd", "-o", again); err != nil {
		t.Fatalf("mkimage pack --elf = %v\n%s", err, stderr)
	}
	b2, err := os.ReadFile(again)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, b2) {
		t.Errorf("--elf of the built program gave a different archive")
	}
	var direct bytes.Buffer
	if err := appimage.Pack(&direct, exe, []appimage.File{{Src: data, Dst: "/etc/motd"}}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, direct.Bytes()) {
		t.Errorf("mkimage pack and appimage.Pack disagree")
	}
}

func TestPackRefusesDynamic(t *testing.T) {
	ls, err := elf.Open("/bin/ls")
	if err != nil {
		testenv.Missing(t, "no /bin/ls ELF to refuse: %v: apt-get install coreutils", err)
	}
	dynamic := false
	for _, p := range ls.Progs {
		dynamic = dynamic || p.Type == elf.PT_INTERP
	}
	ls.Close()
	if !dynamic {
		testenv.Missing(t, "/bin/ls is static on this machine: a dynamically linked coreutils is needed")
	}
	out := filepath.Join(t.TempDir(), "sub", "ls.cpio")
	_, _, err = runPackArgs("--elf", "/bin/ls", "-o", out)
	if err == nil || !strings.Contains(err.Error(), "dynamically linked") || !strings.Contains(err.Error(), "interpreter") {
		t.Errorf("mkimage pack --elf /bin/ls = %v, want a refusal naming the interpreter", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a refused pack left %s behind (%v)", out, err)
	}
}

func TestPackLeavesNoPartialOutput(t *testing.T) {
	helloModule(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "app.cpio")
	_, _, err := runPackArgs(".", "--file", filepath.Join(dir, "missing")+":/x", "-o", out)
	if err == nil {
		t.Fatalf("pack with a missing --file succeeded")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Errorf("failed pack left %v in the output directory", entries)
	}
}
