package report

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cocoon-vm/cocoon/tools/conformance/testlog"
)

func tests(spec ...string) []testlog.Test {
	var ts []testlog.Test
	for i := 0; i < len(spec); i += 2 {
		ts = append(ts, testlog.Test{Name: spec[i], Result: testlog.Result(spec[i+1])})
	}
	return ts
}

func TestCompare(t *testing.T) {
	host := tests(
		"TestA", "pass",
		"TestB", "pass",
		"TestB/0x000000c000123456", "pass",
		"TestB/0x000000c000123490", "pass",
		"TestC", "skip",
		"TestD", "pass",
		"TestE", "fail",
	)
	cocoon := tests(
		"TestA", "pass",
		"TestB", "fail",
		"TestB/0x00007f0000000010", "pass",
		"TestB/0x00007f0000000020", "fail",
		"TestC", "pass",
		"TestE", "pass",
		"TestF", "pass",
	)
	reason := func(test string) string {
		if test == "TestD" {
			return "no processes"
		}
		return ""
	}
	got := Compare(host, cocoon, reason)
	want := []Difference{
		{Test: "TestB", Host: "pass", Cocoon: "fail"},
		{Test: "TestB/0x000000c000123490", Host: "pass", Cocoon: "fail"},
		{Test: "TestC", Host: "skip", Cocoon: "pass"},
		{Test: "TestD", Host: "pass", Cocoon: Absent, Reason: "no processes"},
		{Test: "TestE", Host: "fail", Cocoon: "pass"},
		{Test: "TestF", Host: Absent, Cocoon: "pass"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Compare = %+v\nwant %+v", got, want)
	}
	if Compare(host, host, nil) != nil {
		t.Errorf("Compare(host, host) found differences")
	}
}

func TestVerdict(t *testing.T) {
	ok := &Run{Status: OK}
	tests := []struct {
		name     string
		p        Package
		verdict  string
		conforms bool
	}{
		{"same", Package{Cocoon: ok, Host: ok}, "ok", true},
		{"only gains", Package{Cocoon: ok, Host: &Run{Status: Failed}, Differences: []Difference{
			{Test: "T", Host: "fail", Cocoon: "pass"}}}, "ok", true},
		{"known", Package{Cocoon: ok, Host: ok, Differences: []Difference{
			{Test: "T", Host: "pass", Cocoon: "skip", Reason: "why"}}}, "1 known", true},
		{"known failure", Package{Cocoon: &Run{Status: Failed}, Host: ok, Differences: []Difference{
			{Test: "T", Host: "pass", Cocoon: "fail", Reason: "why"}}}, "1 known", true},
		{"crash with known failures", Package{Cocoon: &Run{Status: Crash}, Host: ok, Differences: []Difference{
			{Test: "T", Host: "pass", Cocoon: "fail", Reason: "why"}}}, "1 known, crash", false},
		{"unexplained and crash", Package{Cocoon: &Run{Status: Crash}, Host: ok, Differences: []Difference{
			{Test: "T", Host: "pass", Cocoon: "fail"},
			{Test: "U", Host: "pass", Cocoon: Absent},
			{Test: "V", Host: "pass", Cocoon: "skip", Reason: "why"}}}, "2 differ, 1 known, crash", false},
		{"status only", Package{Cocoon: &Run{Status: Timeout}, Host: ok}, "timeout", false},
		{"no host", Package{Cocoon: &Run{Status: Error}}, "error", false},
		{"no host, passed", Package{Cocoon: ok}, "ok", true},
		{"no host, failed", Package{Cocoon: &Run{Status: Failed}}, "fail", false},
	}
	for _, tt := range tests {
		if got := tt.p.Verdict(); got != tt.verdict {
			t.Errorf("%s: Verdict() = %q, want %q", tt.name, got, tt.verdict)
		}
		if got := tt.p.Conforms(); got != tt.conforms {
			t.Errorf("%s: Conforms() = %v, want %v", tt.name, got, tt.conforms)
		}
	}
}

func sample() *Report {
	return &Report{
		Go:    "go1.26.0",
		Flags: []string{"-test.v", "-test.short"},
		Packages: []Package{
			{
				Path:   "sort",
				Cocoon: &Run{Status: OK, WallSeconds: 1.25, Counts: testlog.Counts{Passed: 3, Skipped: 1}, Tests: tests("A", "pass")},
				Host:   &Run{Status: OK, WallSeconds: 0.5, Counts: testlog.Counts{Passed: 3, Skipped: 1}, Tests: tests("A", "pass")},
			},
			{
				Path: "os",
				Cocoon: &Run{Status: Failed, Exit: 1, WallSeconds: 10, Counts: testlog.Counts{Passed: 1, Failed: 1, Incomplete: 1}, Unimplemented: map[string]int{"fork": 2},
					Refused: map[string]int{"mount (no CAP_SYS_ADMIN)": 1, "clone with new namespaces": 3}},
				Host: &Run{Status: OK, WallSeconds: 2, Counts: testlog.Counts{Passed: 3}},
				Differences: []Difference{
					{Test: "TestPipe|x", Host: "pass", Cocoon: "fail", Detail: "pipe_test.go:1: `read` failed"},
					{Test: "TestPipe|x/a", Host: "pass", Cocoon: "fail"},
					{Test: "TestPipe|x/a/b", Host: "pass", Cocoon: Absent},
					{Test: "TestExec", Host: "pass", Cocoon: "skip", Reason: "No processes."},
					{Test: "TestExec/a", Host: "pass", Cocoon: "skip", Reason: "No processes."},
					{Test: "TestRoot/sock", Host: "pass", Cocoon: "skip", Reason: "No sockets."},
					{Test: "TestFork/b", Host: "pass", Cocoon: "fail", Reason: "No processes."},
					{Test: "TestGain", Host: "skip", Cocoon: "pass"},
				},
			},
		},
	}
}

func TestWriteTable(t *testing.T) {
	var b bytes.Buffer
	if err := sample().WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	want := [][]string{
		{"package", "Cocoon", "pass/fail/skip", "host", "pass/fail/skip", "Cocoon", "time", "host", "time", "result"},
		{"sort", "3/0/1", "3/0/1", "1.2s", "0.5s", "ok"},
		{"os", "1/2/0", "3/0/0", "10.0s", "2.0s", "3", "differ,", "4", "known,", "fail"},
		{"total", "(2", "packages)", "4/2/1", "6/0/1", "11.2s", "2.5s", "1/2", "conform"},
	}
	if len(lines) != len(want) {
		t.Fatalf("WriteTable wrote %d lines, want %d:\n%s", len(lines), len(want), b.String())
	}
	for i, l := range lines {
		if got := strings.Fields(l); !reflect.DeepEqual(got, want[i]) {
			t.Errorf("WriteTable line %d = %q, want fields %q", i, l, want[i])
		}
	}
}

func TestJSONRoundTrip(t *testing.T) {
	var b bytes.Buffer
	r := sample()
	if err := r.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{`"package": "sort"`, `"passed": 3`, `"wall_seconds": 1.25`, `"fork": 2`, `"clone with new namespaces": 3`, `"reason": "No processes."`} {
		if !strings.Contains(b.String(), field) {
			t.Errorf("WriteJSON output lacks %s:\n%s", field, b.String())
		}
	}
	got, err := ReadJSON(&b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, r) {
		t.Errorf("ReadJSON(WriteJSON(r)) = %+v, want %+v", got, r)
	}
	if _, err := ReadJSON(strings.NewReader("{")); err == nil {
		t.Errorf("ReadJSON of a truncated report succeeded")
	}
}

func TestWriteMarkdown(t *testing.T) {
	var b bytes.Buffer
	if err := sample().WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"test flags `-test.v -test.short`",
		"| package | Cocoon pass/fail/skip | host pass/fail/skip | Cocoon time | host time | result |\n|---|---|---|---|---|---|\n",
		"| sort | 3/0/1 | 3/0/1 | 1.2s | 0.5s | ok |\n",
		"| os | 1/2/0 | 3/0/0 | 10.0s | 2.0s | 3 differ, 4 known, fail |\n",
		"| total (2 packages) | 4/2/1 | 6/0/1 | 11.2s | 2.5s | 1/2 conform |\n",
		"Known differences: tests that pass on the host but not inside Cocoon, by reason.\n\n" +
			"- No processes.  \n  `os` TestExec, TestFork/….\n" +
			"- No sockets.  \n  `os` TestRoot/….\n",
		"Not yet explained:\n\n- `os` TestPipe|x: host pass, Cocoon fail (`pipe_test.go:1: 'read' failed`), and 2 of its subtests.\n",
		"- `os` called system calls Cocoon does not implement: fork (2)\n",
		"- `os` used what Cocoon refuses or does not support (failing as Linux fails there): clone with new namespaces (3); mount (no CAP_SYS_ADMIN) (1)\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("WriteMarkdown output lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "TestGain") {
		t.Errorf("WriteMarkdown lists a test that passes only inside Cocoon:\n%s", md)
	}
}

func TestUpdateDoc(t *testing.T) {
	path := filepath.Join(t.TempDir(), "doc.md")
	doc := "# Title\n\n" + BeginMarker + "\nold table\n" + EndMarker + "\n\nAfter.\n"
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	r := sample()
	for range 2 { // a second update replaces the first
		if err := r.UpdateDoc(path); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var md bytes.Buffer
	r.WriteMarkdown(&md)
	want := "# Title\n\n" + BeginMarker + "\n" + md.String() + EndMarker + "\n\nAfter.\n"
	if string(got) != want {
		t.Errorf("UpdateDoc wrote\n%s\nwant\n%s", got, want)
	}

	bare := filepath.Join(t.TempDir(), "bare.md")
	os.WriteFile(bare, []byte("# no markers\n"), 0o644)
	if err := r.UpdateDoc(bare); err == nil || !strings.Contains(err.Error(), "markers") {
		t.Errorf("UpdateDoc without markers = %v, want an error that asks for the markers", err)
	}
}
