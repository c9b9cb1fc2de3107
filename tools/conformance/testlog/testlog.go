// Package testlog reads the verbose output of a Go test binary (run with
// -test.v) into per-test results: the "=== RUN", "--- PASS", "--- FAIL"
// and "--- SKIP" lines the testing package prints, the final PASS or FAIL
// line, and the panic that ends a binary early (a timeout, a crash).
//
// The output may be interleaved with other lines (a console shared with a
// kernel, a test's own prints) and may use CRLF line endings; anything
// that is not a marker is ignored. It is the format cmd/test2json reads,
// without the framing test2json asks for, since a console cannot carry it
// reliably.
package testlog

import (
	"bufio"
	"io"
	"strconv"
	"strings"
	"time"
)

// Result is the outcome of one test.
type Result string

// Results. A test that started (=== RUN) but never reported is
// Incomplete: the binary crashed, timed out or exited while it ran.
const (
	Pass       Result = "pass"
	Fail       Result = "fail"
	Skip       Result = "skip"
	Incomplete Result = "incomplete"
)

// Test is one test, subtest or example.
type Test struct {
	// Name is the full name, with subtests after slashes
	// ("TestFind/foo").
	Name   string `json:"name"`
	Result Result `json:"result"`
	// Elapsed is the time the test reported for itself; zero if it
	// never reported.
	Elapsed time.Duration `json:"elapsed_ns,omitempty"`
	// Output is what the test printed (its t.Log and t.Skip messages,
	// and anything else on the console while it ran), for tests that did
	// not pass; at most MaxOutput lines.
	Output []string `json:"output,omitempty"`
}

// MaxOutput is how many lines of a test's output Parse keeps.
const MaxOutput = 20

// Log is what one run of a test binary printed.
type Log struct {
	// Tests in the order they started (or reported, for a test whose
	// "=== RUN" line was lost).
	Tests []Test
	// Final is the binary's last word: "PASS", "FAIL", or "" if it
	// printed neither (it crashed or was killed).
	Final string
	// Panic is the first "panic: " line without its prefix ("test timed
	// out after 5m0s"); empty if none.
	Panic string
}

// Counts are the number of tests with each result.
type Counts struct {
	Passed     int `json:"passed"`
	Failed     int `json:"failed"`
	Skipped    int `json:"skipped"`
	Incomplete int `json:"incomplete"`
}

// Counts counts l's tests by result.
func (l *Log) Counts() Counts {
	var c Counts
	for _, t := range l.Tests {
		switch t.Result {
		case Pass:
			c.Passed++
		case Fail:
			c.Failed++
		case Skip:
			c.Skipped++
		default:
			c.Incomplete++
		}
	}
	return c
}

// Result returns the result of the test called name, and false if the
// log has no such test.
func (l *Log) Result(name string) (Result, bool) {
	for _, t := range l.Tests {
		if t.Name == name {
			return t.Result, true
		}
	}
	return "", false
}

// The markers, as src/testing/testing.go prints them.
const (
	runPrefix  = "=== RUN   "
	contPrefix = "=== CONT  "
	namePrefix = "=== NAME  "
	// pausePrefix lines are skipped; the test's output resumes after
	// its "=== CONT" line.
	pausePrefix = "=== PAUSE "
	passPrefix  = "--- PASS: "
	failPrefix  = "--- FAIL: "
	skipPrefix  = "--- SKIP: "
)

// Parse reads the output of a test binary run with -test.v.
func Parse(r io.Reader) (*Log, error) {
	l := &Log{}
	index := map[string]int{} // name -> position in l.Tests
	add := func(name string) *Test {
		i, ok := index[name]
		if !ok {
			i = len(l.Tests)
			index[name] = i
			l.Tests = append(l.Tests, Test{Name: name, Result: Incomplete})
		}
		return &l.Tests[i]
	}
	// cur is the test whose output follows: the last one named by a
	// marker. Output of a test that passes is dropped at the end.
	cur := ""
	output := func(line string) {
		if cur == "" || line == "" {
			return
		}
		if t := add(cur); len(t.Output) < MaxOutput {
			t.Output = append(t.Output, line)
		}
	}
	defer func() {
		for i := range l.Tests {
			if l.Tests[i].Result == Pass {
				l.Tests[i].Output = nil
			}
		}
	}()
	br := bufio.NewReader(r)
	for {
		raw, err := br.ReadString('\n')
		if raw == "" && err != nil {
			if err == io.EOF {
				err = nil
			}
			return l, err
		}
		raw = strings.TrimRight(raw, "\r\n")
		// Subtests' results are indented by four spaces per level.
		line := strings.TrimLeft(raw, " \t")
		switch {
		case strings.HasPrefix(line, runPrefix), strings.HasPrefix(line, contPrefix), strings.HasPrefix(line, namePrefix):
			if name := strings.TrimSpace(line[len(runPrefix):]); name != "" {
				add(name)
				cur = name
			}
		case strings.HasPrefix(line, pausePrefix):
			cur = ""
		case strings.HasPrefix(line, passPrefix):
			cur = result(add, line[len(passPrefix):], Pass)
		case strings.HasPrefix(line, failPrefix):
			cur = result(add, line[len(failPrefix):], Fail)
		case strings.HasPrefix(line, skipPrefix):
			cur = result(add, line[len(skipPrefix):], Skip)
		case raw == "PASS" || raw == "FAIL":
			l.Final, cur = raw, ""
		case strings.HasPrefix(raw, "panic: ") && l.Panic == "":
			l.Panic = strings.TrimPrefix(raw, "panic: ")
		default:
			output(strings.TrimSpace(raw))
		}
	}
}

// result records a "--- RESULT: " line and returns the test's name; rest
// is what follows the marker: "Name (1.23s)".
func result(add func(string) *Test, rest string, r Result) string {
	name, elapsed := rest, time.Duration(0)
	if i := strings.LastIndex(rest, " ("); i >= 0 && strings.HasSuffix(rest, "s)") {
		if sec, err := strconv.ParseFloat(rest[i+2:len(rest)-2], 64); err == nil {
			name, elapsed = rest[:i], time.Duration(sec*float64(time.Second))
		}
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return ""
	}
	t := add(name)
	t.Result, t.Elapsed = r, elapsed
	return name
}
