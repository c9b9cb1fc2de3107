package main

import (
	"path"
	"regexp"
	"testing"
)

func TestKnownReason(t *testing.T) {
	tests := []struct{ pkg, test, want string }{
		{"os", "TestGetppid", noProcesses},
		{"os", "TestSpliceFile/Basic-TCP/42", noSockets},
		{"os", "TestRootConsistencyOpen/unix_domain_socket_target", noSockets},
		{"os", "TestRootConsistencyRename/from/unix_domain_socket_in_path", noSockets},
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
	re, err := regexp.Compile(cocoonSkips("encoding/json"))
	if err != nil || !re.MatchString("TestHTTPDecoding") || re.MatchString("TestHTTPDecodingX") {
		t.Errorf("cocoonSkips(encoding/json) = %q (%v), want a pattern for TestHTTPDecoding alone", cocoonSkips("encoding/json"), err)
	}
	if s := cocoonSkips("sort"); s != "" {
		t.Errorf("cocoonSkips(sort) = %q, want none", s)
	}
}
