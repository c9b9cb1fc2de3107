package testlog

import (
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
--- PASS: TestSearch (0.00s)
=== RUN   TestFind
=== RUN   TestFind/foo
=== RUN   TestFind/#00
=== PAUSE TestFind/#00
=== CONT  TestFind/#00
    --- PASS: TestFind/foo (0.00s)
    --- SKIP: TestFind/#00 (1.50s)
        find_test.go:12: not today
--- PASS: TestFind (1.50s)
=== RUN   ExampleSearch
--- PASS: ExampleSearch (0.00s)
PASS
cocoon: exit status 0
`,
			tests: []Test{
				{"TestSearch", Pass, 0},
				{"TestFind", Pass, 1500 * time.Millisecond},
				{"TestFind/foo", Pass, 0},
				{"TestFind/#00", Skip, 1500 * time.Millisecond},
				{"ExampleSearch", Pass, 0},
			},
			final: "PASS",
		},
		{
			name: "failure with CRLF and a log line that mentions a marker",
			out: "=== RUN   TestA\r\n" +
				"    a_test.go:3: want --- PASS: TestB (0.00s)\r\n" +
				"--- FAIL: TestA (0.25s)\r\n" +
				"=== RUN   TestB\r\n" +
				"--- PASS: TestB (0.01s)\r\n" +
				"FAIL\r\n",
			tests: []Test{
				{"TestA", Fail, 250 * time.Millisecond},
				{"TestB", Pass, 10 * time.Millisecond},
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

goroutine 1 [running]:
`,
			tests: []Test{
				{"TestSlow", Incomplete, 0},
				{"TestSlow/inner", Incomplete, 0},
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
				{"TestX/a_(b)", Fail, 0},
				{"TestY/odd name", Skip, 12500 * time.Millisecond},
				{"TestZ", Pass, 0},
			},
		},
		{
			name:  "no final newline",
			out:   "=== RUN   TestA\n--- PASS: TestA (0.00s)\nPASS",
			tests: []Test{{"TestA", Pass, 0}},
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
