package cmdline

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// kernelSplit splits line as the kernel does before the application sees
// it (kernel/boot.go initialStack: words at spaces, quotes grouping, the
// words with '=' going to the environment) and parses the encoded words
// as north/cocoon does (os.Environ entries cut at the first '=').
func kernelSplit(t *testing.T, line string) App {
	t.Helper()
	if strings.ContainsAny(line, "\"\t\n") {
		t.Fatalf("line %q holds a quote or a control character", line)
	}
	for i := 0; i < len(line); i++ {
		if line[i] < 0x20 || line[i] > 0x7e {
			t.Fatalf("line %q holds byte %#x, which the UEFI path refuses", line, line[i])
		}
	}
	var a App
	for _, w := range strings.Fields(line) {
		k, v, ok := strings.Cut(w, "=")
		if !ok {
			t.Fatalf("word %q has no '=': the kernel would make it an argument", w)
		}
		if known, err := a.Parse(k, v); !known || err != nil {
			t.Fatalf("word %q: known %v, %v", w, known, err)
		}
	}
	return a
}

// randString returns a string of random bytes, biased towards the ones
// the encoding must take care of.
func randString(r *rand.Rand) string {
	special := []byte{' ', '"', '\'', '=', ',', '%', '\\', '\t', '\n', 0xff, 0x80, 0x7f, 0x01}
	n := r.IntN(12)
	b := make([]byte, n)
	for i := range b {
		switch r.IntN(3) {
		case 0:
			b[i] = special[r.IntN(len(special))]
		case 1:
			b[i] = byte(0x20 + r.IntN(0x5f))
		default:
			b[i] = byte(1 + r.IntN(255))
		}
	}
	if r.IntN(4) == 0 {
		return string(b) + "é世" // valid UTF-8 too
	}
	return string(b)
}

func randList(r *rand.Rand) []string {
	if r.IntN(5) == 0 {
		return nil
	}
	l := make([]string, r.IntN(8))
	for i := range l {
		l[i] = randString(r)
	}
	return l
}

// TestRoundTripRandom checks that random argv, environment and
// directories arrive byte for byte.
func TestRoundTripRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 5000; i++ {
		a := App{Args: randList(r), Env: randList(r)}
		if r.IntN(2) == 0 {
			a.Argv0 = randString(r)
		}
		if r.IntN(2) == 0 {
			a.Dir = randString(r)
		}
		line, err := Line(a, "cocoon.trace=syscalls")
		if err != nil {
			t.Fatalf("%#v: %v", a, err)
		}
		got := kernelSplit(t, strings.TrimPrefix(line, "cocoon.trace=syscalls"))
		if len(got.Args) == 0 {
			got.Args = a.Args[:0:0]
		}
		if len(a.Args) == 0 {
			a.Args, got.Args = nil, nil
		}
		if len(a.Env) == 0 {
			a.Env, got.Env = nil, nil
		}
		if !reflect.DeepEqual(got, a) {
			t.Fatalf("line %q\n got %#v\nwant %#v", line, got, a)
		}
	}
}

// TestEmptyStrings checks that empty arguments are kept, and that no
// arguments differ from one empty one.
func TestEmptyStrings(t *testing.T) {
	for _, args := range [][]string{nil, {""}, {"", ""}, {"a", ""}, {"", "b"}} {
		line, err := Line(App{Args: args})
		if err != nil {
			t.Fatal(err)
		}
		got := kernelSplit(t, line).Args
		if len(got) != len(args) || len(args) > 0 && !reflect.DeepEqual(got, args) {
			t.Errorf("%q: line %q gave %q", args, line, got)
		}
	}
}

// TestReadable checks that ordinary words stay readable on the line.
func TestReadable(t *testing.T) {
	line, err := Line(App{Args: []string{"-test.run=X", "from the kernel"}, Env: []string{"GREETING=hi"}})
	if err != nil {
		t.Fatal(err)
	}
	want := "cocoon.env=GREETING=hi, cocoon.args=-test.run=X,from%20the%20kernel,"
	if line != want {
		t.Errorf("line %q, want %q", line, want)
	}
}

func TestTooLong(t *testing.T) {
	a := App{Args: []string{strings.Repeat("x", MaxLen)}}
	if _, err := Line(a); err == nil || !strings.Contains(err.Error(), "4095") {
		t.Errorf("a %d-byte argument: %v, want an error naming the limit", MaxLen, err)
	}
	a = App{Args: []string{strings.Repeat("x", MaxLen-len(KeyArgs)-2)}}
	if line, err := Line(a); err != nil || len(line) != MaxLen {
		t.Errorf("a line of exactly %d bytes: %d, %v", MaxLen, len(line), err)
	}
}

func TestNUL(t *testing.T) {
	if _, err := Line(App{Env: []string{"A=\x00"}}); err == nil {
		t.Error("a NUL byte was accepted")
	}
}

// TestBadValues checks that damaged words are refused, not misread.
func TestBadValues(t *testing.T) {
	for _, w := range [][2]string{
		{KeyArgs, "a,b"},   // cut short after b
		{KeyArgs, "a,%2"},  // cut inside an escape
		{KeyEnv, "A=%zz,"}, // not hexadecimal
		{KeyDir, "/a%00b"}, // NUL
		{KeyArgv0, "x%4"},  // cut inside an escape
	} {
		var a App
		known, err := a.Parse(w[0], w[1])
		if !known || err == nil {
			t.Errorf("%s=%s: known %v, error %v; want an error", w[0], w[1], known, err)
		}
	}
	var a App
	if known, _ := a.Parse("cocoon.trace", "syscalls"); known {
		t.Error("cocoon.trace was taken as an application word")
	}
}
