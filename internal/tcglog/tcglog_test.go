package tcglog

import (
	"debug/elf"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// inAsm is the shape of QEMU 7.2's -d in_asm log: a block per "IN:" line,
// its first instruction's address first.
const inAsm = `IN: 
0xfffffff0:  e9 8d ff                 jmp      0xff80

IN: 
0x7e0000100000:  31 c0                    xorl     %eax, %eax
0x7e0000100002:  c3                       retq     

IN: main.main
0x0049fc00:  4c 8d 64 24 f8           leaq     -8(%rsp), %r12

IN: 
0x7e0000100000:  31 c0                    xorl     %eax, %eax

IN: 
0x0049fd00:  c3                       retq     
`

func TestBlocks(t *testing.T) {
	got, err := Blocks(strings.NewReader(inAsm))
	if err != nil {
		t.Fatal(err)
	}
	want := []uint64{0xfffffff0, 0x7e0000100000, 0x49fc00, 0x7e0000100000, 0x49fd00}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Blocks = %#x, want %#x", got, want)
	}
	if _, err := Blocks(strings.NewReader("IN: \nnot an address\n")); err == nil {
		t.Error("a block without an instruction line was accepted")
	}
}

func TestSplit(t *testing.T) {
	b := []uint64{1, 2, 3, 2, 4, 5, 4, 6}
	for _, c := range []struct {
		stops []uint64
		want  [][]uint64
	}{
		{[]uint64{2, 4}, [][]uint64{{1}, {2, 3, 2}, {4, 5, 4, 6}}},
		{[]uint64{4, 2}, [][]uint64{{1, 2, 3, 2}, nil, {4, 5, 4, 6}}}, // 2 never follows 4's first block
		{[]uint64{9}, [][]uint64{nil, {1, 2, 3, 2, 4, 5, 4, 6}}},
	} {
		if got := Split(b, c.stops...); !reflect.DeepEqual(got, c.want) {
			t.Errorf("Split(%v) = %v, want %v", c.stops, got, c.want)
		}
	}
}

func TestPackage(t *testing.T) {
	for fn, want := range map[string]string{
		"runtime.mallocgc": "runtime",
		"github.com/cocoon-vm/cocoon/north.(*Task).syscall":                                            "github.com/cocoon-vm/cocoon/north",
		"github.com/cocoon-vm/cocoon/north.init.4":                                                     "github.com/cocoon-vm/cocoon/north",
		"slices.pdqsortCmpFunc[go.shape.struct { github.com/cocoon-vm/cocoon/north/vfs.name string }]": "slices",
		"internal/sync.(*HashTrieMap[go.shape.interface {},go.shape.interface {}]).LoadOrStore":        "internal/sync",
		"memeqbody": "memeqbody",
	} {
		if got := Package(fn); got != want {
			t.Errorf("Package(%q) = %q, want %q", fn, got, want)
		}
	}
}

// TestSymbols reads a real Go program's symbols: main.main is found,
// an address inside it maps back to it, and one past every function to
// nothing.
func TestSymbols(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "hello")
	cmd := exec.Command("go", "build", "-o", bin, "./images/hello")
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	s, err := ReadSymbolsFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	at, ok := s.Addr("main.main")
	if !ok {
		t.Fatal("no main.main")
	}
	if got := s.Func(at + 1); got != "main.main" {
		t.Errorf("Func(main.main+1) = %q", got)
	}
	var end uint64
	for _, sym := range s {
		if elf.ST_TYPE(sym.Info) != elf.STT_FUNC {
			t.Fatalf("%s is not a function", sym.Name)
		}
		end = max(end, sym.Value+sym.Size)
	}
	if got := s.Func(end + 0x1000); got != "" {
		t.Errorf("Func past every function = %q, want none", got)
	}
	// runtime.newobject calls runtime.mallocgc directly: its return
	// site is among mallocgc's callers', each right after a CALL rel32.
	target, ok := s.Addr("runtime.mallocgc")
	if !ok {
		t.Fatal("no runtime.mallocgc")
	}
	f, err := os.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rets, err := CallReturns(f, s, target)
	if err != nil {
		t.Fatal(err)
	}
	inNewobject := false
	for _, r := range rets {
		inNewobject = inNewobject || s.Func(r) == "runtime.newobject"
		var b [5]byte
		if _, err := f.ReadAt(b[:], int64(r-5-textAddr(t, f))+textOffset(t, f)); err != nil {
			t.Fatal(err)
		}
		rel := int32(uint32(b[1]) | uint32(b[2])<<8 | uint32(b[3])<<16 | uint32(b[4])<<24)
		if b[0] != 0xe8 || r+uint64(int64(rel)) != target {
			t.Errorf("%#x (in %s) does not follow a CALL of mallocgc: % x", r, s.Func(r), b)
		}
	}
	if !inNewobject {
		t.Errorf("no return to runtime.newobject among mallocgc's %d call returns", len(rets))
	}
	counts := Tally([]uint64{at, at + 1, end + 0x1000}, func(a uint64) string { return Package(s.Func(a)) })
	if want := []Count{{"main", 2}, {"", 1}}; !reflect.DeepEqual(counts, want) {
		t.Errorf("Tally = %v, want %v", counts, want)
	}
}

func TestSplitFirst(t *testing.T) {
	b := []uint64{1, 7, 2, 7, 3, 9, 4, 9, 5}
	got := SplitFirst(b, []uint64{9, 7, 8})
	want := [][]uint64{{1}, {7, 2, 7, 3}, {9, 4, 9, 5}} // 8 never translated
	if !reflect.DeepEqual(got, want) {
		t.Errorf("SplitFirst = %v, want %v", got, want)
	}
}

// inAsmExec is QEMU 7.2's -d in_asm,exec,nochain: translations and the
// executions that follow them, a block retranslated with another length.
const inAsmExec = `IN: 
0x00001000:  31 c0                    xorl     %eax, %eax
0x00001002:  ff c0                    incl     %eax
0x00001004:  c3                       retq     

Trace 0: 0x7f0000000040 [00000000/0000000000001000/00000000/ff000000] 
IN: main.main
0x00002000:  c3                       retq     

Trace 0: 0x7f0000000100 [00000000/0000000000002000/00000000/ff000000] main.main
Trace 0: 0x7f0000000040 [00000000/0000000000001000/00000000/ff000000] 
IN: 
0x00001000:  31 c0                    xorl     %eax, %eax

Trace 0: 0x7f0000000200 [00000000/0000000000001000/00000000/ff000000] 
`

func TestRuns(t *testing.T) {
	got, err := Runs(strings.NewReader(inAsmExec))
	if err != nil {
		t.Fatal(err)
	}
	want := []Run{{0x1000, 3}, {0x2000, 1}, {0x1000, 3}, {0x1000, 1}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Runs = %v, want %v", got, want)
	}
	if _, err := Runs(strings.NewReader("Trace 0: 0x7f00 [00000000/0000000000003000/0/0] \n")); err == nil {
		t.Error("an execution of a block never translated was accepted")
	}
}

func textAddr(t *testing.T, r io.ReaderAt) uint64 {
	f, err := elf.NewFile(r)
	if err != nil {
		t.Fatal(err)
	}
	return f.Section(".text").Addr
}

func textOffset(t *testing.T, r io.ReaderAt) int64 {
	f, err := elf.NewFile(r)
	if err != nil {
		t.Fatal(err)
	}
	return int64(f.Section(".text").Offset)
}

// TestPhases: the firmware's blocks come apart, one part per timeline
// point after the entry, each ending at its mark's first return; too few
// marks, or an entry never translated, fail.
func TestPhases(t *testing.T) {
	const entry = 0x100
	b := []uint64{0xfff0, 0xf000, entry, 1, 0x51, 2, 0x52, 3, 0x51, 0x53, 4}
	fw, ph, err := Phases(b, entry, []uint64{0x51, 0x52, 0x53}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if want := []uint64{0xfff0, 0xf000}; !reflect.DeepEqual(fw, want) {
		t.Errorf("firmware = %#x, want %#x", fw, want)
	}
	if want := [][]uint64{{entry, 1}, {0x51, 2}}; !reflect.DeepEqual(ph, want) {
		t.Errorf("phases = %#x, want %#x", ph, want)
	}
	if _, _, err := Phases(b, entry, []uint64{0x51}, 4); err == nil {
		t.Error("one mark reached for 4 points was accepted")
	}
	if _, _, err := Phases(b, 0x200, []uint64{0x51}, 2); err == nil {
		t.Error("an entry never translated was accepted")
	}
}
