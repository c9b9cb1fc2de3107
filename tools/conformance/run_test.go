package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cocoon-vm/cocoon/north/cmdline"
	"github.com/cocoon-vm/cocoon/tools/conformance/report"
	"github.com/cocoon-vm/cocoon/tools/conformance/testlog"
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
		"cocoon: unimplemented system call syscall_434 was called 1 times\n" +
		"cocoon: unimplemented system call mount (no CAP_SYS_ADMIN in the sandbox: Cocoon has one fixed mount tree) was called 2 times\n" +
		"cocoon: unimplemented system call SCHED_DEADLINE was called 1 times\n" +
		"cocoon: unimplemented system call clone with new namespaces was called 4 times\r\n"
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
	calls, refused := unimplemented(out)
	if want := map[string]int{"socket": 3, "syscall_434": 1}; !reflect.DeepEqual(calls, want) {
		t.Errorf("unimplemented calls = %v, want %v", calls, want)
	}
	if want := map[string]int{
		"mount (no CAP_SYS_ADMIN in the sandbox: Cocoon has one fixed mount tree)": 2,
		"SCHED_DEADLINE":            1,
		"clone with new namespaces": 4,
	}; !reflect.DeepEqual(refused, want) {
		t.Errorf("refused = %v, want %v", refused, want)
	}
	if calls, refused := unimplemented(strings.Repeat("PASS\n", 3)); calls != nil || refused != nil {
		t.Errorf("unimplemented of a clean run = %v, %v, want nil", calls, refused)
	}
}

// TestFrom checks that -from writes the tables of an earlier run's
// report with the differences compared again (a stale reason replaced by
// known.go's) and the refused calls read again from the Cocoon log.
func TestFrom(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "os.cocoon.log")
	if err := os.WriteFile(log, []byte("PASS\ncocoon: unimplemented system call clone with new namespaces was called 2 times\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := func(r testlog.Result) []testlog.Test {
		return []testlog.Test{{Name: "TestA", Result: testlog.Pass}, {Name: "TestExecutableDeleted", Result: r}}
	}
	old := &report.Report{Go: "go1.26.0", Flags: []string{"-test.v"}, Packages: []report.Package{{
		Path:        "os",
		Cocoon:      &report.Run{Status: report.OK, Log: log, Counts: testlog.Counts{Passed: 1, Skipped: 1}, Tests: tests(testlog.Skip)},
		Host:        &report.Run{Status: report.OK, Counts: testlog.Counts{Passed: 2}, Tests: tests(testlog.Pass)},
		Differences: []report.Difference{{Test: "TestExecutableDeleted", Host: "pass", Cocoon: "skip", Reason: "stale"}},
	}}}
	from := filepath.Join(dir, "old.json")
	if err := writeFile(from, old.WriteJSON); err != nil {
		t.Fatal(err)
	}
	doc := filepath.Join(dir, "doc.md")
	if err := os.WriteFile(doc, []byte("# Doc\n"+report.BeginMarker+"\nold table\n"+report.EndMarker+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if err := run([]string{"-from", from, "-o", filepath.Join(dir, "out"), "-doc", doc}, &stdout, &stderr); err != nil {
		t.Fatalf("conformance -from: %v\n%s%s", err, stderr.String(), stdout.String())
	}
	b, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	md := string(b)
	for _, want := range []string{
		"| os | 1/0/1 | 2/0/0 |",
		noGoCommand + "  \n  `os` TestExecutableDeleted.",
		"- `os` used what Cocoon refuses or does not support (failing as Linux fails there): clone with new namespaces (2)\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the document lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "old table") || strings.Contains(md, "stale") {
		t.Errorf("the document keeps the earlier table's text:\n%s", md)
	}
}
