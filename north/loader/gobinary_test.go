package loader

import (
	"bytes"
	"debug/elf"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/cocoon-vm/cocoon/internal/testenv"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// helloSource is a tiny Go program with a large zero-initialised array,
// so its data segment has a bss tail.
const helloSource = `package main

import "os"

var bss [3 << 20]byte

func main() {
	bss[len(os.Args)] = 1
	os.Stdout.WriteString("hello\n")
}
`

// buildGo builds helloSource with CGO_ENABLED=0 for linux/amd64 and the
// extra go build flags, returning the executable's path.
func buildGo(t *testing.T, flags ...string) (string, error) {
	t.Helper()
	gocmd, err := exec.LookPath("go")
	if err != nil {
		testenv.Missing(t, "go command not found on PATH: %v: install Go 1.26", err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module hello\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(helloSource), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "hello")
	cmd := exec.Command(gocmd, append(append([]string{"build", "-o", out}, flags...), ".")...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64", "GOTOOLCHAIN=local", "GOWORK=off")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", errors.New(string(b))
	}
	return out, nil
}

func TestLoadGoBinary(t *testing.T) {
	path, err := buildGo(t)
	if err != nil {
		t.Fatalf("go build of a static program failed (is the Go toolchain installed?): %v", err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := parseBytes(b)
	if err != nil {
		t.Fatalf("Parse(%s) = %v", path, err)
	}
	ref, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if f.Type != TypeExec || f.Entry != ref.Entry {
		t.Errorf("Parse = type %v entry %#x, want ET_EXEC %#x", f.Type, f.Entry, ref.Entry)
	}
	syms, err := ref.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	var rt0 uint64
	for _, s := range syms {
		if s.Name == "_rt0_amd64_linux" {
			rt0 = s.Value
		}
	}

	as := mem.NewFakeSpace(0, 1<<47)
	img, err := f.Load(as, Options{})
	if err != nil {
		t.Fatalf("Load = %v", err)
	}
	if img.Entry != rt0 || img.Bias != 0 {
		t.Errorf("Load = entry %#x bias %#x, want _rt0_amd64_linux %#x, bias 0", img.Entry, img.Bias, rt0)
	}
	checkImage(t, as, f, b, img)
	// Mapping the file's pages (MapFile, as execve does) maps the same
	// pages with the same protections.
	mas := mem.NewFakeSpace(0, 1<<47)
	var calls []mapCall
	if _, err := f.Load(mas, Options{MapFile: fileMapper(mas, b, &calls)}); err != nil {
		t.Fatalf("Load with MapFile = %v", err)
	}
	samePages(t, as, mas)

	var end, phdr uint64
	sawBSS := false
	for _, p := range ref.Progs {
		switch p.Type {
		case elf.PT_LOAD:
			end = max(end, p.Vaddr+p.Memsz)
			sawBSS = sawBSS || p.Memsz > p.Filesz+pageSize
		case elf.PT_PHDR:
			phdr = p.Vaddr
		}
	}
	if !sawBSS {
		t.Errorf("the test program has no bss tail to check")
	}
	if img.Phdr != phdr || img.Phnum != len(ref.Progs) || img.End != end || img.Brk != pageUp(end) {
		t.Errorf("Load = phdr %#x phnum %d end %#x brk %#x, want %#x %d %#x %#x", img.Phdr, img.Phnum, img.End, img.Brk, phdr, len(ref.Progs), end, pageUp(end))
	}
	// AT_PHDR must point at a copy of the program headers.
	got := make([]byte, img.Phnum*PhdrSize)
	if err := as.CopyIn(img.Phdr, got); err != nil || !bytes.Equal(got, b[f.Phoff:f.Phoff+uint64(len(got))]) {
		t.Errorf("program headers at AT_PHDR %#x differ from the file's (%v)", img.Phdr, err)
	}

	o := testStackOptions()
	st, err := img.BuildStack(as, o)
	if err != nil {
		t.Fatalf("BuildStack = %v", err)
	}
	checkStack(t, as, img, st, o)
}

func TestLoadGoPIE(t *testing.T) {
	path, err := buildGo(t, "-buildmode=pie", "-ldflags=-linkmode=internal")
	if err != nil {
		testenv.Missing(t, "the toolchain cannot link a PIE internally without cgo: %v", err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	f, err := parseBytes(b)
	if interp := ref.Section(".interp"); interp != nil {
		// The Go linker gives internally linked PIEs an interpreter: such
		// a file must be refused, naming it.
		data, _ := interp.Data()
		want := string(bytes.TrimRight(data, "\x00"))
		var ie *InterpError
		if !errors.As(err, &ie) || ie.Interp != want {
			t.Fatalf("Parse(dynamic PIE) = %v, want an InterpError naming %q", err, want)
		}
		// The toolchain links PIEs dynamically, so there is no static PIE
		// to load: the refusal is what this test checks here.
		t.Logf("the toolchain links PIEs dynamically (interpreter %s): refusal checked", want)
		return
	}
	if err != nil {
		t.Fatalf("Parse(static PIE) = %v", err)
	}
	as := mem.NewFakeSpace(0, 1<<47)
	img, err := f.Load(as, Options{})
	if err != nil {
		t.Fatalf("Load(static PIE) = %v", err)
	}
	if img.Bias == 0 || img.Entry != ref.Entry+img.Bias {
		t.Errorf("Load = bias %#x entry %#x, want a nonzero bias and entry %#x+bias", img.Bias, img.Entry, ref.Entry)
	}
	checkImage(t, as, f, b, img)
}

// TestLoadCStatic loads static C executables (plain and static PIE), whose
// segments are not page aligned the way the Go linker's are, when a C
// compiler able to link them is installed.
func TestLoadCStatic(t *testing.T) {
	cc, err := exec.LookPath("cc")
	if err != nil {
		testenv.Missing(t, "no C compiler (cc) found: apt-get install gcc libc6-dev to load static C executables")
	}
	src := filepath.Join(t.TempDir(), "t.c")
	if err := os.WriteFile(src, []byte("int big[100000]; int x = 7; int main(void) { return big[3] + x; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"-static", "-static-pie"} {
		out := filepath.Join(t.TempDir(), "t")
		if b, err := exec.Command(cc, mode, "-o", out, src).CombinedOutput(); err != nil {
			testenv.Missing(t, "cc %s cannot link (static C library missing? apt-get install libc6-dev): %v\n%s", mode, err, b)
			return
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parseBytes(b)
		if err != nil {
			t.Errorf("Parse(cc %s) = %v", mode, err)
			continue
		}
		unaligned := false
		for _, p := range f.Progs {
			unaligned = unaligned || p.Type == ProgLoad && p.Vaddr%pageSize != 0
		}
		if !unaligned {
			t.Errorf("cc %s: every PT_LOAD segment is page aligned; the test needs one that is not", mode)
		}
		as := mem.NewFakeSpace(0, 1<<47)
		img, err := f.Load(as, Options{})
		if err != nil {
			t.Errorf("Load(cc %s) = %v", mode, err)
			continue
		}
		if (f.Type == TypeDyn) != (img.Bias == DefaultDynBase) {
			t.Errorf("cc %s: type %v loaded at bias %#x", mode, f.Type, img.Bias)
		}
		checkImage(t, as, f, b, img)
		got := make([]byte, img.Phnum*PhdrSize)
		if err := as.CopyIn(img.Phdr, got); err != nil || !bytes.Equal(got, b[f.Phoff:f.Phoff+uint64(len(got))]) {
			t.Errorf("cc %s: program headers at AT_PHDR %#x differ from the file's (%v)", mode, img.Phdr, err)
		}
	}
}
