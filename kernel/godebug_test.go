package kernel

import (
	"strings"
	"testing"
)

// TestRuntimeGodebugFIPSOff guards what tools/kbuild's bss trim relies
// on: the GODEBUG the kernel gives its runtime, first in its environment
// (so a GODEBUG on the command line cannot override it), turns FIPS 140-3
// mode off, the only user of the trimmed entropy buffer.
func TestRuntimeGodebugFIPSOff(t *testing.T) {
	v, ok := strings.CutPrefix(RuntimeGodebug, "GODEBUG=")
	if !ok {
		t.Fatalf("RuntimeGodebug %q is not a GODEBUG setting", RuntimeGodebug)
	}
	fips := ""
	for kv := range strings.SplitSeq(v, ",") {
		if k, val, _ := strings.Cut(kv, "="); k == "fips140" {
			fips = val
		}
	}
	if fips != "off" {
		t.Errorf("RuntimeGodebug %q sets fips140=%q, want off", RuntimeGodebug, fips)
	}
}
