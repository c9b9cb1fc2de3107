package testlog

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name  string
		out   string
		tests []Test
		final string
		panic string
	}{
		{
			name: "pass skip and subtests",
			out: `cocoon: boot
=== RUN   TestSearch
    search_test.go:1: passing tests' output is dropped
--- PASS: TestSearch (0.00s)
=== RUN   TestFind
=== RUN   TestFind/foo
=== RUN   TestFind/#00
=== PAUSE TestFind/#00
=== CONT  TestFind/#00
    find_test.go:12: not today
    --- PASS: TestFind/foo (0.00s)
    --- SKIP: TestFind/#00 (1.50s)
--- PASS: TestFind (1.50s)
=== RUN   ExampleSearch
--- PASS: ExampleSearch (0.00s)
PASS
cocoon: exit status 0
`,
			tests: []Test{
				{Name: "TestSearch", Result: Pass},
				{Name: "TestFind", Result: Pass, Elapsed: 1500 * time.Millisecond},
				{Name: "TestFind/foo", Result: Pass},
				{Name: "TestFind/#00", Result: Skip, Elapsed: 1500 * time.Millisecond, Output: []string{"find_test.go:12: not today"}},
				{Name: "ExampleSearch", Result: Pass},
			},
			final: "PASS",
		},
		{
			name: "parallel tests' output goes to the test named last",
			out: `=== RUN   TestP
=== PAUSE TestP
=== RUN   TestQ
=== PAUSE TestQ
=== CONT  TestP
=== CONT  TestQ
    q_test.go:1: from Q
=== NAME  TestP
    p_test.go:1: from P
cocoon: application called unimplemented system call 41 (socket): ENOSYS
--- FAIL: TestP (0.00s)
--- FAIL: TestQ (0.00s)
FAIL
`,
			tests: []Test{
				{Name: "TestP", Result: Fail, Output: []string{"p_test.go:1: from P", "cocoon: application called unimplemented system call 41 (socket): ENOSYS"}},
				{Name: "TestQ", Result: Fail, Output: []string{"q_test.go:1: from Q"}},
			},
			final: "FAIL",
		},
		{
			name: "failure with CRLF, an example's output after its result, and a log line that mentions a marker",
			out: "=== RUN   TestA\r\n" +
				"    a_test.go:3: want --- PASS: TestB (0.00s)\r\n" +
				"--- FAIL: TestA (0.25s)\r\n" +
				"=== RUN   ExampleB\r\n" +
				"--- FAIL: ExampleB (0.01s)\r\n" +
				"got:\r\n" +
				"x\r\n" +
				"FAIL\r\n",
			tests: []Test{
				{Name: "TestA", Result: Fail, Elapsed: 250 * time.Millisecond, Output: []string{"a_test.go:3: want --- PASS: TestB (0.00s)"}},
				{Name: "ExampleB", Result: Fail, Elapsed: 10 * time.Millisecond, Output: []string{"got:", "x"}},
			},
			final: "FAIL",
		},
		{
			name: "timeout leaves tests incomplete",
			out: `=== RUN   TestSlow
=== RUN   TestSlow/inner
panic: test timed out after 5m0s
	running tests:
		TestSlow/inner (5m0s)
`,
			tests: []Test{
				{Name: "TestSlow", Result: Incomplete},
				{Name: "TestSlow/inner", Result: Incomplete, Output: []string{"running tests:", "TestSlow/inner (5m0s)"}},
			},
			panic: "test timed out after 5m0s",
		},
		{
			name: "result without a run line, names with spaces and parentheses",
			out: `--- FAIL: TestX/a_(b) (0.00s)
--- SKIP: TestY/odd name (12.5s)
--- PASS: TestZ
`,
			tests: []Test{
				{Name: "TestX/a_(b)", Result: Fail},
				{Name: "TestY/odd name", Result: Skip, Elapsed: 12500 * time.Millisecond},
				{Name: "TestZ", Result: Pass},
			},
		},
		{
			name:  "no final newline",
			out:   "=== RUN   TestA\n--- PASS: TestA (0.00s)\nPASS",
			tests: []Test{{Name: "TestA", Result: Pass}},
			final: "PASS",
		},
		{
			name: "empty",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := Parse(strings.NewReader(tt.out))
			if err != nil {
				t.Fatalf("Parse = %v", err)
			}
			if !reflect.DeepEqual(l.Tests, tt.tests) {
				t.Errorf("Parse: tests = %+v, want %+v", l.Tests, tt.tests)
			}
			if l.Final != tt.final {
				t.Errorf("Parse: final = %q, want %q", l.Final, tt.final)
			}
			if l.Panic != tt.panic {
				t.Errorf("Parse: panic = %q, want %q", l.Panic, tt.panic)
			}
		})
	}
}

func TestParseOutputLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString("=== RUN   TestChatty\n")
	for i := range 2 * MaxOutput {
		fmt.Fprintf(&b, "    line %d\n", i)
	}
	b.WriteString("--- FAIL: TestChatty (0.00s)\n")
	l, err := Parse(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if out := l.Tests[0].Output; len(out) != MaxOutput || out[0] != "line 0" {
		t.Errorf("Parse kept %d lines starting %q, want %d starting with line 0", len(out), out[0], MaxOutput)
	}
}

func TestCounts(t *testing.T) {
	l := &Log{Tests: []Test{
		{Name: "A", Result: Pass}, {Name: "B", Result: Pass}, {Name: "C", Result: Fail},
		{Name: "D", Result: Skip}, {Name: "E", Result: Incomplete},
	}}
	want := Counts{Passed: 2, Failed: 1, Skipped: 1, Incomplete: 1}
	if got := l.Counts(); got != want {
		t.Errorf("Counts() = %+v, want %+v", got, want)
	}
	if r, ok := l.Result("C"); r != Fail || !ok {
		t.Errorf("Result(C) = %q, %v, want fail, true", r, ok)
	}
	if _, ok := l.Result("Z"); ok {
		t.Errorf("Result(Z) found a test that is not there")
	}
}
