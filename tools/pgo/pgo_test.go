package main

import (
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/pprof/profile"
)

const tinySrc = `package main

import "os"

//go:noinline
func hot(n int) int {
	s := 0
	for i := 0; i < n*1000; i++ {
		s += i * i
	}
	return s
}

//go:noinline
func idle() {}

func main() {
	idle()
	os.Exit(hot(len(os.Args)) & 1)
}
`

// tiny builds tinySrc in a fresh module and returns the directory and the
// binary's path.
func tiny(t *testing.T) (string, string) {
	dir := t.TempDir()
	for name, body := range map[string]string{"go.mod": "module tiny\n\ngo 1.22\n", "main.go": tinySrc} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "tiny")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return dir, bin
}

func symAddr(t *testing.T, bin, name string) uint64 {
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range syms {
		if s.Name == name {
			return s.Value
		}
	}
	t.Fatalf("%s: no symbol %s", bin, name)
	return 0
}

func TestConvert(t *testing.T) {
	dir, bin := tiny(t)
	hot, idle, mainf := symAddr(t, bin, "main.hot"), symAddr(t, bin, "main.idle"), symAddr(t, bin, "main.main")
	var con bytes.Buffer
	con.WriteString("cocoon: booting\r\n")
	for range 5 {
		// hot's body, called from main (a return address a few bytes in).
		fmt.Fprintf(&con, "PROF %x %x\n", hot+8, mainf+20)
	}
	fmt.Fprintf(&con, "PROF %x %x\n", idle, mainf+12)
	fmt.Fprintf(&con, "PROF %x\n", uint64(1)<<63|0x401000) // a user-mode sample
	con.WriteString("other output\n")
	stacks, err := ReadSamples(&con)
	if err != nil {
		t.Fatal(err)
	}
	if len(stacks) != 6 {
		t.Fatalf("ReadSamples: %d kernel stacks, want 6 (user sample dropped): %x", len(stacks), stacks)
	}
	p, st, err := Convert(bin, stacks, 20_000, regexp.MustCompile(`^main\.idle$`))
	if err != nil {
		t.Fatal(err)
	}
	if st.Dropped != 1 || st.Unknown != 0 {
		t.Errorf("stats %+v, want 1 dropped, 0 unknown", st)
	}
	// Round trip through the encoder and the reference parser.
	var enc bytes.Buffer
	if err := p.Write(&enc); err != nil {
		t.Fatal(err)
	}
	q, err := profile.Parse(bytes.NewReader(enc.Bytes()))
	if err != nil {
		t.Fatalf("profile.Parse: %v", err)
	}
	if len(q.Sample) != 1 || q.Sample[0].Value[0] != 5 || q.Sample[0].Value[1] != 5*20_000 {
		t.Fatalf("samples %v, want one stack of 5 samples, 100000 ns", q.Sample)
	}
	want := map[string]int64{"main.hot": lineOf(t, "func hot("), "main.main": lineOf(t, "func main(")}
	got := map[string]*profile.Function{}
	for _, fn := range q.Function {
		got[fn.Name] = fn
	}
	for name, line := range want {
		fn := got[name]
		if fn == nil {
			t.Errorf("no function %s in %v", name, q.Function)
			continue
		}
		if fn.StartLine != line {
			t.Errorf("%s start line %d, want %d", name, fn.StartLine, line)
		}
		if !strings.HasSuffix(fn.Filename, "main.go") {
			t.Errorf("%s file %q, want .../main.go", name, fn.Filename)
		}
	}
	leaf := q.Sample[0].Location[0].Line
	if len(leaf) == 0 || leaf[len(leaf)-1].Function.Name != "main.hot" || leaf[0].Line < want["main.hot"] {
		t.Errorf("leaf location lines %v, want main.hot at or after line %d", leaf, want["main.hot"])
	}
	if _, ok := got["main.idle"]; ok {
		t.Errorf("dropped function main.idle in the profile")
	}

	// go build accepts it as a PGO profile.
	pgo := filepath.Join(dir, "cpu.pgo")
	if err := os.WriteFile(pgo, enc.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "build", "-pgo="+pgo, "-o", filepath.Join(dir, "tiny.pgo"), ".")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build -pgo: %v\n%s", err, out)
	}
}

// lineOf is the 1-based line of tinySrc that starts with prefix.
func lineOf(t *testing.T, prefix string) int64 {
	for i, l := range strings.Split(tinySrc, "\n") {
		if strings.HasPrefix(l, prefix) {
			return int64(i + 1)
		}
	}
	t.Fatalf("no line %q", prefix)
	return 0
}

func TestReadSamplesBadLine(t *testing.T) {
	if _, err := ReadSamples(strings.NewReader("PROF 12 zz\n")); err == nil {
		t.Error("a PROF line with a non-hex address parsed")
	}
	if _, err := ReadSamples(strings.NewReader("PROF\n")); err != nil {
		t.Errorf("a bare PROF word (not a record) is an error: %v", err)
	}
}
