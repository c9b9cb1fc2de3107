package main

import (
	"path"
	"regexp"
	"testing"
)

func TestKnownReason(t *testing.T) {
	tests := []struct{ pkg, test, want string }{
		{"os", "TestGetppid", noProcesses},
		{"syscall", "TestPassFD", noProcesses},
		{"syscall", "TestPassFD/sub", noProcesses},
		{"os", "TestRootConsistencyOpen/plain_file", ""},
		{"os", "TestGetppidx", ""},
		{"sort", "TestGetppid", ""},
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
	re, err := regexp.Compile(cocoonSkips("syscall"))
	if err != nil || !re.MatchString("TestPrlimitOtherProcess") || re.MatchString("TestPrlimitOtherProcessX") {
		t.Errorf("cocoonSkips(syscall) = %q (%v), want a pattern for TestPrlimitOtherProcess alone", cocoonSkips("syscall"), err)
	}
	if s := cocoonSkips("sort"); s != "" {
		t.Errorf("cocoonSkips(sort) = %q, want none", s)
	}
}
