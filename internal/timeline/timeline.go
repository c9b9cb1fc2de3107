// Package timeline parses the boot timeline a Cocoon kernel prints on its
// console when its command line has cocoon.timeline=1 (kernel/timeline.go):
//
//	cocoon: timeline tsc_hz=HZ entry=0 tables=NS ... appmain=NS
//
// each phase in nanoseconds since the entry path's first instruction.
package timeline

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Prefix starts the timeline line (kernel.TimelinePrefix).
const Prefix = "cocoon: timeline"

// CmdlineWord asks the kernel for the timeline.
const CmdlineWord = "cocoon.timeline=1"

// Point is one phase and when the boot reached it.
type Point struct {
	Name string
	At   time.Duration // since the entry's first instruction
}

// Timeline is one boot's timeline.
type Timeline struct {
	TSCHz  uint64
	Points []Point // in boot order, times never decreasing
}

// At returns the time of the named phase.
func (t Timeline) At(name string) (time.Duration, bool) {
	for _, p := range t.Points {
		if p.Name == name {
			return p.At, true
		}
	}
	return 0, false
}

// Find parses the timeline line in a console transcript.
func Find(console string) (Timeline, error) {
	for _, line := range strings.Split(console, "\n") {
		if i := strings.Index(line, Prefix+" "); i >= 0 {
			return Parse(strings.TrimRight(line[i:], "\r"))
		}
	}
	return Timeline{}, fmt.Errorf("no %q line on the console: was the image booted with %s?", Prefix, CmdlineWord)
}

// Parse parses one timeline line. It fails on a malformed word, a
// repeated phase, or a phase earlier than the one before it.
func Parse(line string) (Timeline, error) {
	rest, ok := strings.CutPrefix(line, Prefix+" ")
	if !ok {
		return Timeline{}, fmt.Errorf("%q does not start with %q", line, Prefix)
	}
	var t Timeline
	seen := map[string]bool{}
	for i, w := range strings.Fields(rest) {
		k, v, ok := strings.Cut(w, "=")
		n, err := strconv.ParseUint(v, 10, 63)
		if !ok || err != nil {
			return Timeline{}, fmt.Errorf("timeline word %q: want NAME=DECIMAL", w)
		}
		if i == 0 {
			if k != "tsc_hz" || n == 0 {
				return Timeline{}, fmt.Errorf("timeline starts with %q: want tsc_hz=HZ, not zero", w)
			}
			t.TSCHz = n
			continue
		}
		if seen[k] {
			return Timeline{}, fmt.Errorf("timeline phase %q appears twice", k)
		}
		seen[k] = true
		at := time.Duration(n)
		if l := len(t.Points); l > 0 && at < t.Points[l-1].At {
			return Timeline{}, fmt.Errorf("timeline phase %s (%v) is earlier than %s (%v) before it", k, at, t.Points[l-1].Name, t.Points[l-1].At)
		}
		t.Points = append(t.Points, Point{k, at})
	}
	if t.TSCHz == 0 || len(t.Points) == 0 {
		return Timeline{}, fmt.Errorf("timeline %q has no phases", line)
	}
	return t, nil
}

// Descriptions say what each phase of kernel/timeline.go marks.
var Descriptions = map[string]string{
	"entry":   "first instruction (PVH or UEFI entry)",
	"tables":  "page tables and descriptors ready",
	"clock":   "platform detected, TSC and timer calibrated",
	"runtime": "kernel's Go runtime entered",
	"kmain":   "kernel main",
	"initrd":  "initrd parsed into the file system",
	"loaded":  "application loaded",
	"user":    "first user instruction",
	"appmain": "application main (its first write)",
}

// Write prints t as a table: each phase's time since the first
// instruction and since the phase before.
func (t Timeline) Write(w io.Writer) {
	fmt.Fprintf(w, "  %-10s %-44s %10s %10s\n", "phase", "", "at", "step")
	var prev time.Duration
	for _, p := range t.Points {
		fmt.Fprintf(w, "  %-10s %-44s %10s %10s\n", p.Name, Descriptions[p.Name], MS(p.At), MS(p.At-prev))
		prev = p.At
	}
	fmt.Fprintf(w, "  (TSC %.3f GHz)\n", float64(t.TSCHz)/1e9)
}

// MS formats d in milliseconds with one decimal.
func MS(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/1e6) }
