package timeline

import (
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tl, err := Find("cocoon: boot\r\nnoise cocoon: timeline tsc_hz=2000000000 entry=0 tables=1500 kmain=2000000 appmain=9000000\r\nsysbench: main reached\n")
	if err != nil {
		t.Fatal(err)
	}
	if tl.TSCHz != 2e9 || len(tl.Points) != 4 || tl.Points[1] != (Point{"tables", 1500}) {
		t.Fatalf("Find = %+v", tl)
	}
	if at, ok := tl.At("kmain"); !ok || at != 2*time.Millisecond {
		t.Errorf("At(kmain) = %v, %v; want 2ms", at, ok)
	}
	if _, ok := tl.At("user"); ok {
		t.Error("At(user) found a phase the line does not have")
	}
	var b strings.Builder
	tl.Write(&b)
	if !strings.Contains(b.String(), "application main (its first write)") || !strings.Contains(b.String(), "9.0 ms") {
		t.Errorf("Write:\n%s", b.String())
	}
}

func TestParseRejects(t *testing.T) {
	for _, line := range []string{
		"cocoon: timeline tsc_hz=1 entry=0 kmain=5 runtime=4", // out of order
		"cocoon: timeline tsc_hz=1 entry=0 entry=0",           // repeated
		"cocoon: timeline entry=0 kmain=5",                    // no frequency
		"cocoon: timeline tsc_hz=0 entry=0",                   // zero frequency
		"cocoon: timeline tsc_hz=1 entry=-1",                  // not a count
		"cocoon: timeline tsc_hz=1 entry",                     // no value
		"cocoon: timeline tsc_hz=1",                           // no phases
		"cocoon: timelines tsc_hz=1 entry=0",                  // another line
	} {
		if tl, err := Parse(line); err == nil {
			t.Errorf("Parse(%q) = %+v, want an error", line, tl)
		}
	}
	if _, err := Find("cocoon: boot\n"); err == nil {
		t.Error("Find without a timeline line succeeded")
	}
}
