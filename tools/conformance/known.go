package main

import "strings"

// known explains the differences that remain between Cocoon and Linux,
// by package and test name: a test's entry covers its subtests.
var known = map[string]map[string]string{}

// knownReason returns why test in package pkg is known to behave
// differently inside Cocoon, or "".
func knownReason(pkg, test string) string {
	tests := known[pkg]
	for name := test; ; {
		if r, ok := tests[name]; ok {
			return r
		}
		i := strings.LastIndex(name, "/")
		if i < 0 {
			return ""
		}
		name = name[:i]
	}
}
