package loader

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

const testTop = 0x7fff_ffff_f000

func testStackOptions() StackOptions {
	o := StackOptions{
		Top:      testTop,
		Args:     []string{"/init", "-v", ""},
		Env:      []string{"HOME=/", "TERM=linux"},
		ExecFn:   "/bin/app",
		Platform: "x86_64",
		HWCap:    0x178bfbff,
		UID:      1000, EUID: 0, GID: 100, EGID: 100, Secure: true,
	}
	for i := range o.Random {
		o.Random[i] = byte(0xa0 + i)
	}
	return o
}

// stackWords reads the initial stack from SP to the top.
func stackWords(t *testing.T, as *mem.FakeSpace, st *Stack) []byte {
	t.Helper()
	b := make([]byte, st.Top-st.SP)
	if err := as.CopyIn(st.SP, b); err != nil {
		t.Fatalf("reading the stack: %v", err)
	}
	return b
}

func TestBuildStackLayout(t *testing.T) {
	f, err := parseBytes(exe().bytes())
	if err != nil {
		t.Fatal(err)
	}
	as := mem.NewFakeSpace(0, 1<<47)
	img, err := f.Load(as, Options{})
	if err != nil {
		t.Fatal(err)
	}
	o := testStackOptions()
	st, err := img.BuildStack(as, o)
	if err != nil {
		t.Fatalf("BuildStack = %v", err)
	}
	checkStack(t, as, img, st, o)

	// Mappings: the image, the 8 MiB stack read-write, the guard below
	// it inaccessible.
	if st.Low != testTop-DefaultStackSize || st.Top != testTop {
		t.Errorf("stack %#x-%#x, want %#x-%#x", st.Low, st.Top, testTop-DefaultStackSize, testTop)
	}
	for _, c := range []struct {
		addr uint64
		prot mem.Prot
	}{
		{testTop - pageSize, mem.Read | mem.Write},
		{st.Low, mem.Read | mem.Write},
		{st.Low - pageSize, 0},
		{st.Low - DefaultStackGuard, 0},
	} {
		if p, ok := as.ProtAt(c.addr); !ok || p != c.prot {
			t.Errorf("page %#x: prot %v mapped %v, want %v", c.addr, p, ok, c.prot)
		}
	}
	if _, ok := as.ProtAt(st.Low - DefaultStackGuard - pageSize); ok {
		t.Errorf("page below the guard is mapped")
	}
	if _, ok := as.ProtAt(testTop); ok {
		t.Errorf("page above the stack top is mapped")
	}
}

// checkStack verifies the stack BuildStack wrote, word by word, against
// the System V AMD64 ABI 3.4.1 and Linux's create_elf_tables.
func checkStack(t *testing.T, as *mem.FakeSpace, img *Image, st *Stack, o StackOptions) {
	t.Helper()
	b := stackWords(t, as, st)
	word := func(i int) uint64 { return binary.LittleEndian.Uint64(b[8*i:]) }
	str := func(addr uint64) string {
		s, err := mem.ReadString(as, addr, 4096)
		if err != nil {
			t.Fatalf("string at %#x: %v", addr, err)
		}
		return s
	}
	if st.SP%16 != 0 {
		t.Errorf("SP %#x is not 16-byte aligned", st.SP)
	}
	i := 0
	if argc := word(i); argc != uint64(len(o.Args)) {
		t.Fatalf("argc = %d, want %d", argc, len(o.Args))
	}
	i++
	next := st.ArgStart
	for _, a := range o.Args {
		p := word(i)
		if p != next || str(p) != a {
			t.Errorf("argv[%d] = %#x %q, want %#x %q", i-1, p, str(p), next, a)
		}
		next += uint64(len(a) + 1)
		i++
	}
	if word(i) != 0 {
		t.Errorf("argv not NULL-terminated")
	}
	i++
	if next != st.ArgEnd || st.ArgEnd != st.EnvStart {
		t.Errorf("ArgEnd %#x EnvStart %#x, want %#x", st.ArgEnd, st.EnvStart, next)
	}
	for _, e := range o.Env {
		p := word(i)
		if p != next || str(p) != e {
			t.Errorf("envp = %#x %q, want %#x %q", p, str(p), next, e)
		}
		next += uint64(len(e) + 1)
		i++
	}
	if word(i) != 0 {
		t.Errorf("envp not NULL-terminated")
	}
	i++
	execFn := o.ExecFn
	if execFn == "" && len(o.Args) > 0 {
		execFn = o.Args[0]
	}
	// AT_EXECFN's string comes right after the environment; then the
	// 8-byte zero end marker and the top of the stack.
	if st.EnvEnd != next || st.ExecFn != next || str(st.ExecFn) != execFn || st.ExecFn+uint64(len(execFn)+1)+8 != st.Top {
		t.Errorf("EnvEnd %#x ExecFn %#x %q, want %#x %q ending 8 bytes below the top", st.EnvEnd, st.ExecFn, str(st.ExecFn), next, execFn)
	}
	if end := b[len(b)-8:]; !bytes.Equal(end, make([]byte, 8)) {
		t.Errorf("end marker = % x, want zeros", end)
	}

	// The random bytes sit below the 16-byte-aligned start of the strings
	// and the platform string.
	rnd := st.ArgStart &^ 15
	var plat uint64
	if o.Platform != "" {
		plat = rnd - uint64(len(o.Platform)+1)
		rnd = plat
		if str(plat) != o.Platform {
			t.Errorf("platform string = %q, want %q", str(plat), o.Platform)
		}
	}
	rnd -= 16
	var gotRandom [16]byte
	if err := as.CopyIn(rnd, gotRandom[:]); err != nil || gotRandom != o.Random || st.Random != rnd {
		t.Errorf("AT_RANDOM bytes at %#x (reported %#x) = % x, want % x", rnd, st.Random, gotRandom, o.Random)
	}

	secure := uint64(0)
	if o.Secure {
		secure = 1
	}
	want := []Aux{}
	if o.SysinfoEhdr != 0 {
		want = append(want, Aux{linux.AtSysinfoEhdr, o.SysinfoEhdr})
	}
	if o.MinSigStkSz != 0 {
		want = append(want, Aux{linux.AtMinsigstksz, o.MinSigStkSz})
	}
	want = append(want,
		Aux{linux.AtHwcap, o.HWCap},
		Aux{linux.AtPagesz, 4096},
		Aux{linux.AtClktck, 100},
		Aux{linux.AtPhdr, img.Phdr},
		Aux{linux.AtPhent, 56},
		Aux{linux.AtPhnum, uint64(img.Phnum)},
		Aux{linux.AtBase, 0},
		Aux{linux.AtFlags, 0},
		Aux{linux.AtEntry, img.Entry},
		Aux{linux.AtUID, uint64(o.UID)},
		Aux{linux.AtEUID, uint64(o.EUID)},
		Aux{linux.AtGID, uint64(o.GID)},
		Aux{linux.AtEGID, uint64(o.EGID)},
		Aux{linux.AtSecure, secure},
		Aux{linux.AtRandom, rnd},
		Aux{linux.AtHwcap2, o.HWCap2},
		Aux{linux.AtExecfn, st.ExecFn},
	)
	if plat != 0 {
		want = append(want, Aux{linux.AtPlatform, plat})
	}
	want = append(want, Aux{linux.AtRseqFeatureSize, 28}, Aux{linux.AtRseqAlign, 32}, Aux{linux.AtNull, 0})
	for k, a := range want {
		got := Aux{word(i + 2*k), word(i + 2*k + 1)}
		if got != a {
			t.Errorf("auxv[%d] = {%d, %#x}, want {%d, %#x}", k, got.Type, got.Val, a.Type, a.Val)
		}
	}
	if len(st.Auxv) != len(want) {
		t.Errorf("Stack.Auxv has %d entries, want %d", len(st.Auxv), len(want))
	}
	// Between AT_NULL and the random bytes only alignment padding (less
	// than 16 bytes) may remain.
	if gap := rnd - (st.SP + uint64(8*(i+2*len(want)))); gap >= 16 {
		t.Errorf("%d bytes between the auxiliary vector and AT_RANDOM, want < 16", gap)
	}
}

func TestBuildStackVariants(t *testing.T) {
	f, err := parseBytes(exe().bytes())
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []StackOptions{
		{Top: testTop},
		{Top: testTop, Args: []string{"x"}, SysinfoEhdr: 0x7fff_f000_0000, MinSigStkSz: 2048, Size: 64 << 10, Guard: pageSize},
		{Top: 0x10_0000, Args: []string{"a", "bb", "ccc"}, Env: []string{"A=1"}, Size: 16 << 10, Guard: pageSize},
	} {
		as := mem.NewFakeSpace(0, 1<<47)
		img, err := f.Load(as, Options{})
		if err != nil {
			t.Fatal(err)
		}
		st, err := img.BuildStack(as, o)
		if err != nil {
			t.Fatalf("BuildStack(%+v) = %v", o, err)
		}
		checkStack(t, as, img, st, o)
	}
}

func TestBuildStackExecutable(t *testing.T) {
	s := exe()
	s.segs[3].flags |= 0x1 // PF_X on PT_GNU_STACK
	f, err := parseBytes(s.bytes())
	if err != nil {
		t.Fatal(err)
	}
	as := mem.NewFakeSpace(0, 1<<47)
	img, err := f.Load(as, Options{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := img.BuildStack(as, StackOptions{Top: testTop})
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := as.ProtAt(st.SP); p != mem.Read|mem.Write|mem.Exec {
		t.Errorf("stack prot = %v with an executable PT_GNU_STACK, want rwx", p)
	}
}

func TestBuildStackRefusals(t *testing.T) {
	img := &Image{Entry: 0x401000, Phnum: 1}
	many := make([]string, 300000)
	tests := []struct {
		name string
		o    StackOptions
		want error
		msg  string
	}{
		{"misaligned top", StackOptions{Top: testTop + 8}, nil, "page aligned"},
		{"no room", StackOptions{Top: 0x20000}, nil, "do not fit"},
		{"NUL", StackOptions{Top: testTop, Args: []string{"a\x00b"}}, nil, "NUL"},
		{"long string", StackOptions{Top: testTop, Env: []string{strings.Repeat("x", 2<<20)}}, ErrArgListTooLong, ""},
		{"long platform", StackOptions{Top: testTop, Platform: strings.Repeat("x", 2<<20)}, ErrArgListTooLong, ""},
		{"many strings", StackOptions{Top: testTop, Args: many}, ErrArgListTooLong, ""},
	}
	for _, tt := range tests {
		as := mem.NewFakeSpace(0, 1<<47)
		_, err := img.BuildStack(as, tt.o)
		if err == nil || tt.want != nil && !errors.Is(err, tt.want) || tt.msg != "" && !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: BuildStack = %v, want %v %q", tt.name, err, tt.want, tt.msg)
		}
		if n := len(as.Mapped()); n != 0 {
			t.Errorf("%s: refused BuildStack mapped %d pages", tt.name, n)
		}
	}
}
