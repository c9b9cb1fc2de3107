package main

import (
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/cocoon-vm/cocoon/north/cmdline"
	"github.com/cocoon-vm/cocoon/tools/conformance/report"
)

func TestParseFlags(t *testing.T) {
	o, err := parseFlags([]string{"-doc", "a.md", "-doc", "b.md", "-short=false", "-run", "TestX", "regexp", "sort"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"regexp", "sort"}; !reflect.DeepEqual(o.packages, want) {
		t.Errorf("packages = %q, want %q", o.packages, want)
	}
	if want := (docFlags{"a.md", "b.md"}); !reflect.DeepEqual(o.docs, want) {
		t.Errorf("docs = %q, want %q", o.docs, want)
	}
	if o.short || o.run != "TestX" || !o.host || o.jobs < 1 {
		t.Errorf("options = %+v", o)
	}
	if o, _ := parseFlags(nil, io.Discard); !reflect.DeepEqual(o.packages, DefaultPackages) {
		t.Errorf("no packages named: %q, want the default list", o.packages)
	}
	for _, bad := range [][]string{{"-j", "0"}, {"-timeout", "-1s"}, {"-nosuchflag"}} {
		if _, err := parseFlags(bad, io.Discard); err != errUsage {
			t.Errorf("parseFlags(%q) = %v, want errUsage", bad, err)
		}
	}
}

// TestGuestApp checks that the test flags reach the guest exactly, '='
// and spaces included.
func TestGuestApp(t *testing.T) {
	r := &runner{flags: []string{"-test.run=Test A|B", "-test.v"}}
	p := goPackage{ImportPath: "example.com/p", Dir: "/src/p q"}
	line, err := cmdline.Line(r.guestApp(p))
	if err != nil {
		t.Fatal(err)
	}
	var got cmdline.App
	for _, w := range strings.Fields(line) {
		k, v, _ := strings.Cut(w, "=")
		if known, err := got.Parse(k, v); !known || err != nil {
			t.Fatalf("word %q of %q: %v %v", w, line, known, err)
		}
	}
	if !reflect.DeepEqual(got.Args, r.flags) || !reflect.DeepEqual(got.Env, []string{DirEnv + "=/src/p q"}) {
		t.Errorf("line %q gives args %q env %q", line, got.Args, got.Env)
	}
}

func TestParseRun(t *testing.T) {
	out := "=== RUN   TestA\n--- PASS: TestA (0.00s)\n=== RUN   TestB\n--- FAIL: TestB (0.00s)\nFAIL\n" +
		"cocoon: unimplemented system call socket was called 3 times\n" +
		"cocoon: unimplemented system call syscall_434 was called 1 times\n"
	tests := []struct {
		exit   int
		out    string
		status report.Status
	}{
		{0, "=== RUN   TestA\n--- PASS: TestA (0.00s)\nPASS\n", report.OK},
		{1, out, report.Failed},
		{2, "=== RUN   TestA\npanic: boom\n", report.Crash},
		{0, "=== RUN   TestA\n", report.Crash}, // exited 0 without PASS
	}
	for _, tt := range tests {
		r := &report.Run{Exit: tt.exit}
		parse(r, tt.out)
		if r.Status != tt.status {
			t.Errorf("parse(exit %d, %q): status %q, want %q", tt.exit, tt.out, r.Status, tt.status)
		}
	}
	r := &report.Run{Status: report.Timeout}
	parse(r, out)
	if r.Status != report.Timeout || r.Passed != 1 || r.Failed != 1 {
		t.Errorf("parse of a timed-out run: %+v", r)
	}
	if got, want := unimplemented(out), map[string]int{"socket": 3, "syscall_434": 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("unimplemented = %v, want %v", got, want)
	}
	if got := unimplemented(strings.Repeat("PASS\n", 3)); got != nil {
		t.Errorf("unimplemented of a clean run = %v, want nil", got)
	}
}
