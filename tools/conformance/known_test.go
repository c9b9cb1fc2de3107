package main

import (
	"path"
	"reflect"
	"regexp"
	"testing"

	"github.com/cocoon-vm/cocoon/tools/conformance/report"
	"github.com/cocoon-vm/cocoon/tools/conformance/testlog"
)

func TestKnownReason(t *testing.T) {
	tests := []struct{ pkg, test, want string }{
		{"os/signal", "TestDetectNohup", noCommand},
		{"os/signal", "TestNohup/nohup", noCommand},
		{"os/signal", "TestNohup/nohup/x", noCommand},
		{"os/signal", "TestNohup/uncaught", ""},
		{"syscall", "TestUnshare", noNamespaces},
		{"syscall", "TestUnshare/sub", noNamespaces},
		{"syscall", "TestUnsharex", ""},
		{"os", "TestRootConsistencyOpen/plain_file", ""},
		{"sort", "TestUnshare", ""},
	}
	for _, tt := range tests {
		if got := knownReason(tt.pkg, tt.test); got != tt.want {
			t.Errorf("knownReason(%q, %q) = %q, want %q", tt.pkg, tt.test, got, tt.want)
		}
	}
}

func TestKnownPatterns(t *testing.T) {
	for pkg, ks := range known {
		for _, k := range ks {
			if k.reason == "" || len(k.tests) == 0 {
				t.Errorf("%s: an entry without a reason or tests", pkg)
			}
			for _, name := range k.tests {
				if _, err := path.Match(name, ""); err != nil {
					t.Errorf("%s: bad pattern %q: %v", pkg, name, err)
				}
			}
		}
	}
	// A made-up package whose test crashes its binary inside Cocoon.
	known["example/crash"] = []knownDifference{{reason: "r", tests: []string{"TestCrash"}, crashes: true}}
	defer delete(known, "example/crash")
	re, err := regexp.Compile(cocoonSkips("example/crash"))
	if err != nil || !re.MatchString("TestCrash") || re.MatchString("TestCrashX") {
		t.Errorf("cocoonSkips(example/crash) = %q (%v), want a pattern for TestCrash alone", cocoonSkips("example/crash"), err)
	}
	if s := cocoonSkips("sort"); s != "" {
		t.Errorf("cocoonSkips(sort) = %q, want none", s)
	}
}

func TestUnseenKnown(t *testing.T) {
	known["example/p"] = []knownDifference{
		{reason: "a", tests: []string{"TestA", "TestB/sub"}},
		{reason: "c", tests: []string{"TestC*"}},
	}
	defer delete(known, "example/p")
	diffs := []report.Difference{
		{Test: "TestA/x", Host: testlog.Pass, Cocoon: testlog.Skip}, // a subtest of TestA
		{Test: "TestB", Host: testlog.Pass, Cocoon: testlog.Fail},   // the parent of TestB/sub only
		{Test: "TestCat", Host: testlog.Skip, Cocoon: testlog.Pass}, // better inside Cocoon: not a known difference
	}
	if got, want := unseenKnown("example/p", diffs), []string{"TestB/sub", "TestC*"}; !reflect.DeepEqual(got, want) {
		t.Errorf("unseenKnown = %q, want %q", got, want)
	}
	diffs = append(diffs, report.Difference{Test: "TestCow/1", Host: testlog.Pass, Cocoon: report.Absent},
		report.Difference{Test: "TestB/sub", Host: testlog.Pass, Cocoon: testlog.Fail})
	if got := unseenKnown("example/p", diffs); len(got) != 0 {
		t.Errorf("unseenKnown = %q, want none", got)
	}
	if got := unseenKnown("sort", nil); len(got) != 0 {
		t.Errorf("unseenKnown(sort) = %q, want none (sort has no known differences)", got)
	}
}
