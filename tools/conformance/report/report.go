// Package report holds the results of a conformance run, Go packages'
// tests inside Cocoon against the same test binaries on the host, and
// writes them as a terminal table, JSON and Markdown.
package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/cocoon-vm/cocoon/tools/conformance/testlog"
)

// Status says how a test binary's run ended.
type Status string

// Statuses.
const (
	OK      Status = "ok"      // exit status 0, final PASS
	Failed  Status = "fail"    // exit status 1, final FAIL: some tests failed
	Timeout Status = "timeout" // killed at the package's time limit
	Crash   Status = "crash"   // any other end: a panic, a signal, no exit status
	Error   Status = "error"   // the binary could not be built or started
)

// Run is one run of a package's test binary, inside Cocoon or on the host.
type Run struct {
	Status Status `json:"status"`
	// Exit is the exit status (128+N for a process killed by signal N);
	// -1 if there was none.
	Exit int `json:"exit"`
	// WallSeconds is the wall time of the run: for Cocoon, from starting
	// QEMU until it exited.
	WallSeconds float64 `json:"wall_seconds"`
	testlog.Counts
	// Panic is the panic that ended the binary, if any.
	Panic string `json:"panic,omitempty"`
	// Error says why the run has no results (Status Error or Timeout).
	Error string `json:"error,omitempty"`
	// Unimplemented counts the calls of each system call Cocoon answered
	// with ENOSYS (Cocoon runs only).
	Unimplemented map[string]int `json:"unimplemented,omitempty"`
	// Refused counts the calls Cocoon refused on purpose and the uses of
	// an implemented call it does not support, each under the
	// description it reports (Cocoon runs only).
	Refused map[string]int `json:"refused,omitempty"`
	// Log is the file the run's output was saved to.
	Log   string         `json:"log,omitempty"`
	Tests []testlog.Test `json:"tests"`
}

// Absent is the result of a test that a run never started.
const Absent testlog.Result = "absent"

// Difference is a test whose result inside Cocoon is not its result on
// the host.
type Difference struct {
	Test   string         `json:"test"`
	Host   testlog.Result `json:"host"`
	Cocoon testlog.Result `json:"cocoon"`
	// Detail is the first line the test printed inside Cocoon, if it
	// did not pass: its skip or failure message.
	Detail string `json:"detail,omitempty"`
	// Reason explains a known difference; empty if unexplained.
	Reason string `json:"reason,omitempty"`
}

// Regression reports whether the test passes on the host but not inside
// Cocoon: a conformance failure unless it has a Reason.
func (d Difference) Regression() bool { return d.Host == testlog.Pass && d.Cocoon != testlog.Pass }

// Package is the result of one Go package.
type Package struct {
	Path        string       `json:"package"`
	Cocoon      *Run         `json:"cocoon"`
	Host        *Run         `json:"host"`
	Differences []Difference `json:"differences,omitempty"`
}

// Report is a whole conformance run.
type Report struct {
	// Go is the toolchain version the test binaries were built with.
	Go string `json:"go"`
	// Flags are the test binaries' arguments, the same on both sides.
	Flags    []string  `json:"flags"`
	Packages []Package `json:"packages"`
}

// address matches a pointer printed in a test's name (subtests named
// after a value's address): it differs from run to run.
var address = regexp.MustCompile(`0x[0-9a-f]{8,}`)

// key identifies a test across runs: its name with addresses blanked, and
// which of the tests with that name it is.
type key struct {
	name string
	nth  int
}

func keys(tests []testlog.Test) []key {
	ks := make([]key, len(tests))
	seen := map[string]int{}
	for i, t := range tests {
		n := address.ReplaceAllString(t.Name, "0x?")
		ks[i] = key{n, seen[n]}
		seen[n]++
	}
	return ks
}

// Compare lists the tests whose results differ between host and cocoon,
// in the host's order, then the tests only Cocoon ran. Tests named after
// an address are matched by their order among tests of the same name.
// reason, if not nil, explains a test's difference ("" if it cannot).
func Compare(host, cocoon []testlog.Test, reason func(test string) string) []Difference {
	in := map[key]*testlog.Test{}
	for i, k := range keys(cocoon) {
		in[k] = &cocoon[i]
	}
	var diffs []Difference
	add := func(name string, h testlog.Result, c *testlog.Test) {
		d := Difference{Test: name, Host: h, Cocoon: Absent}
		if c != nil {
			d.Cocoon = c.Result
			if len(c.Output) > 0 {
				d.Detail = c.Output[0]
			}
		}
		if reason != nil {
			d.Reason = reason(name)
		}
		diffs = append(diffs, d)
	}
	seen := map[key]bool{}
	for i, k := range keys(host) {
		seen[k] = true
		if c := in[k]; c == nil || c.Result != host[i].Result {
			add(host[i].Name, host[i].Result, c)
		}
	}
	for i, k := range keys(cocoon) {
		if !seen[k] {
			add(cocoon[i].Name, Absent, &cocoon[i])
		}
	}
	return diffs
}

// Verdict sums up a package in a few words: "ok" if every test that
// passes on the host passes inside Cocoon; "N known" for tests that do
// not, for a known reason; "N differ" for those without one; and the
// Cocoon run's status when it ended otherwise than the host's and the
// known differences do not explain it.
func (p *Package) Verdict() string {
	known, unknown := p.regressions()
	var words []string
	if unknown > 0 {
		words = append(words, fmt.Sprintf("%d differ", unknown))
	}
	if known > 0 {
		words = append(words, fmt.Sprintf("%d known", known))
	}
	if !p.statusExplained() {
		words = append(words, string(p.Cocoon.Status))
	}
	if len(words) == 0 {
		return "ok"
	}
	return strings.Join(words, ", ")
}

// regressions counts the tests that pass on the host but not inside
// Cocoon, with and without a known reason.
func (p *Package) regressions() (known, unknown int) {
	for _, d := range p.Differences {
		switch {
		case !d.Regression():
		case d.Reason != "":
			known++
		default:
			unknown++
		}
	}
	return known, unknown
}

// statusExplained reports whether the Cocoon run passed, ended as the
// host's did, or failed where known differences account for it.
func (p *Package) statusExplained() bool {
	switch {
	case p.Cocoon == nil || p.Cocoon.Status == OK:
		return true
	case p.Host == nil:
		return false
	case p.Cocoon.Status == p.Host.Status:
		return true
	}
	known, unknown := p.regressions()
	return p.Cocoon.Status == Failed && known > 0 && unknown == 0
}

// Conforms reports whether the package passes inside Cocoon wherever it
// passes on the host, apart from known differences, and ended as it did
// on the host or with only known failures. Without a host run, it
// reports whether the package passed inside Cocoon.
func (p *Package) Conforms() bool {
	_, unknown := p.regressions()
	return unknown == 0 && p.Cocoon != nil && p.statusExplained()
}

// counts formats a run's counts as pass/fail/skip; incomplete tests count
// as failed.
func counts(r *Run) string {
	if r == nil {
		return "-"
	}
	if r.Status == Error {
		return "error"
	}
	return fmt.Sprintf("%d/%d/%d", r.Passed, r.Failed+r.Incomplete, r.Skipped)
}

func wall(r *Run) string {
	if r == nil {
		return "-"
	}
	return fmt.Sprintf("%.1fs", r.WallSeconds)
}

// row is one line of the table, for every format.
func (p *Package) row() []string {
	return []string{p.Path, counts(p.Cocoon), counts(p.Host), wall(p.Cocoon), wall(p.Host), p.Verdict()}
}

var header = []string{"package", "Cocoon pass/fail/skip", "host pass/fail/skip", "Cocoon time", "host time", "result"}

// total sums the runs on one side.
func (r *Report) total(side func(*Package) *Run) *Run {
	t := &Run{}
	for i := range r.Packages {
		if s := side(&r.Packages[i]); s != nil {
			t.Passed += s.Passed
			t.Failed += s.Failed
			t.Skipped += s.Skipped
			t.Incomplete += s.Incomplete
			t.WallSeconds += s.WallSeconds
		}
	}
	return t
}

func (r *Report) totalRow() []string {
	ok := 0
	for i := range r.Packages {
		if r.Packages[i].Conforms() {
			ok++
		}
	}
	c := r.total(func(p *Package) *Run { return p.Cocoon })
	h := r.total(func(p *Package) *Run { return p.Host })
	return []string{fmt.Sprintf("total (%d packages)", len(r.Packages)), counts(c), counts(h),
		wall(c), wall(h), fmt.Sprintf("%d/%d conform", ok, len(r.Packages))}
}

// WriteTable writes the table for a terminal: one row per package and a
// total.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for i := range r.Packages {
		fmt.Fprintln(tw, strings.Join(r.Packages[i].row(), "\t"))
	}
	fmt.Fprintln(tw, strings.Join(r.totalRow(), "\t"))
	return tw.Flush()
}

// WriteJSON writes the whole report, every test of every run, as
// indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// ReadJSON reads a report WriteJSON wrote.
func ReadJSON(rd io.Reader) (*Report, error) {
	var r Report
	if err := json.NewDecoder(rd).Decode(&r); err != nil {
		return nil, fmt.Errorf("reading a conformance report: %w", err)
	}
	return &r, nil
}

// mdCode quotes s as inline code.
func mdCode(s string) string {
	if len(s) > 160 {
		s = s[:160] + "..."
	}
	return "`" + strings.ReplaceAll(s, "`", "'") + "`"
}

// mdEscape makes s safe in a Markdown table cell.
func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

func mdRow(w io.Writer, cells []string) {
	esc := make([]string, len(cells))
	for i, c := range cells {
		esc[i] = mdEscape(c)
	}
	fmt.Fprintf(w, "| %s |\n", strings.Join(esc, " | "))
}

// WriteMarkdown writes the table and, below it, every test that passes
// on the host but not inside Cocoon, with its reason where one is known.
func (r *Report) WriteMarkdown(w io.Writer) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "Go %s, test flags `%s`; counts include subtests, and tests that never finished count as failed.\n\n",
		r.Go, strings.Join(r.Flags, " "))
	mdRow(&b, header)
	sep := make([]string, len(header))
	for i := range sep {
		sep[i] = "---"
	}
	fmt.Fprintf(&b, "|%s|\n", strings.Join(sep, "|"))
	for i := range r.Packages {
		mdRow(&b, r.Packages[i].row())
	}
	mdRow(&b, r.totalRow())

	r.writeDifferences(&b)
	_, err := w.Write(b.Bytes())
	return err
}

// writeDifferences writes the tests that pass on the host but not inside
// Cocoon: the known ones grouped by reason, naming top-level tests only
// ("TestX/…" when only subtests differ); the unexplained ones one by one
// with what they printed; then what else the Cocoon runs reported.
func (r *Report) writeDifferences(b *bytes.Buffer) {
	var reasons []string                 // in order of first appearance
	byReason := map[string][][2]string{} // reason -> (package, tests)
	var unexplained, notes []string
	for i := range r.Packages {
		p := &r.Packages[i]
		// Known: top-level tests per reason, "TestX/…" if only
		// subtests differ. Unexplained: each test, but a listed test's
		// subtests only counted.
		type top struct {
			name   string
			itself bool
		}
		perReason := map[string][]*top{}
		tops := map[string]*top{}
		subs := map[string]*int{}
		var lines []string
		var counts []*int
		for _, d := range p.Differences {
			if !d.Regression() {
				continue
			}
			if d.Reason == "" {
				if j := strings.LastIndex(d.Test, "/"); j >= 0 && subs[d.Test[:j]] != nil {
					subs[d.Test] = subs[d.Test[:j]]
					*subs[d.Test]++
					continue
				}
				line := fmt.Sprintf("- `%s` %s: host %s, Cocoon %s", p.Path, d.Test, d.Host, d.Cocoon)
				if d.Detail != "" {
					line += fmt.Sprintf(" (%s)", mdCode(strings.TrimSpace(d.Detail)))
				}
				n := new(int)
				subs[d.Test] = n
				lines, counts = append(lines, line), append(counts, n)
				continue
			}
			name, _, isSub := strings.Cut(d.Test, "/")
			t := tops[d.Reason+"\x00"+name]
			if t == nil {
				t = &top{name: name}
				tops[d.Reason+"\x00"+name] = t
				if _, ok := byReason[d.Reason]; !ok {
					reasons = append(reasons, d.Reason)
					byReason[d.Reason] = nil
				}
				perReason[d.Reason] = append(perReason[d.Reason], t)
			}
			t.itself = t.itself || !isSub
		}
		for i, line := range lines {
			if n := *counts[i]; n > 0 {
				line += fmt.Sprintf(", and %d of its subtests", n)
			}
			unexplained = append(unexplained, line+".")
		}
		for _, reason := range reasons {
			var names []string
			for _, t := range perReason[reason] {
				if t.itself {
					names = append(names, t.name)
				} else {
					names = append(names, t.name+"/…")
				}
			}
			if len(names) > 0 {
				byReason[reason] = append(byReason[reason], [2]string{p.Path, strings.Join(names, ", ")})
			}
		}
		if c := p.Cocoon; c != nil {
			if c.Panic != "" && (p.Host == nil || p.Host.Panic == "") {
				notes = append(notes, fmt.Sprintf("- `%s`: the test binary panicked inside Cocoon: %s", p.Path, mdCode(c.Panic)))
			}
			if c.Error != "" {
				notes = append(notes, fmt.Sprintf("- `%s`: %s", p.Path, mdCode(firstLine(c.Error))))
			}
			if len(c.Unimplemented) > 0 {
				notes = append(notes, fmt.Sprintf("- `%s` called system calls Cocoon does not implement: %s",
					p.Path, counted(c.Unimplemented, ", ")))
			}
			if len(c.Refused) > 0 {
				notes = append(notes, fmt.Sprintf("- `%s` used what Cocoon refuses or does not support (failing as Linux fails there): %s",
					p.Path, counted(c.Refused, "; ")))
			}
		}
	}
	if len(reasons) > 0 {
		b.WriteString("\nKnown differences: tests that pass on the host but not inside Cocoon, by reason.\n\n")
		for _, reason := range reasons {
			var pkgs []string
			for _, pt := range byReason[reason] {
				pkgs = append(pkgs, fmt.Sprintf("`%s` %s", pt[0], pt[1]))
			}
			fmt.Fprintf(b, "- %s  \n  %s.\n", reason, strings.Join(pkgs, "; "))
		}
	}
	if len(unexplained) > 0 {
		fmt.Fprintf(b, "\nNot yet explained:\n\n%s\n", strings.Join(unexplained, "\n"))
	}
	if len(notes) > 0 {
		fmt.Fprintf(b, "\nAlso seen inside Cocoon:\n\n%s\n", strings.Join(notes, "\n"))
	}
}

// counted lists the names of m, sorted, each with its count.
func counted(m map[string]int, sep string) string {
	var l []string
	for name, n := range m {
		l = append(l, fmt.Sprintf("%s (%d)", name, n))
	}
	sort.Strings(l)
	return strings.Join(l, sep)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// Markers delimit the part of a document UpdateDoc replaces.
const (
	BeginMarker = "<!-- BEGIN conformance table: written by tools/conformance -->"
	EndMarker   = "<!-- END conformance table -->"
)

// UpdateDoc replaces what lies between BeginMarker and EndMarker in the
// file at path with the report's Markdown.
func (r *Report) UpdateDoc(path string) error {
	doc, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	s := string(doc)
	i, j := strings.Index(s, BeginMarker), strings.Index(s, EndMarker)
	if i < 0 || j < i {
		return fmt.Errorf("%s: no %q ... %q section to replace: add the two markers where the table goes", path, BeginMarker, EndMarker)
	}
	var md bytes.Buffer
	if err := r.WriteMarkdown(&md); err != nil {
		return err
	}
	out := s[:i+len(BeginMarker)] + "\n" + md.String() + s[j:]
	return os.WriteFile(path, []byte(out), 0o644)
}
