package main

import (
	"path"
	"regexp"
	"testing"
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
	// A test that crashes its binary inside Cocoon (none does today).
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
