package main

// A QEMU test of the whole command on a few quick packages.

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cocoon-vm/cocoon/internal/testenv"
	"github.com/cocoon-vm/cocoon/tools/conformance/report"
)

func TestConformanceVM(t *testing.T) {
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		testenv.Missing(t, "qemu-system-x86_64 not found: install the qemu-system-x86 package to run VM tests")
	}
	pkgs := []string{"unicode/utf8", "sort", "errors", "container/list"}
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	if err := run(append([]string{"-o", out, "-timeout", "5m"}, pkgs...), &stdout, &stderr); err != nil {
		t.Fatalf("conformance %s: %v\n%s%s", strings.Join(pkgs, " "), err, stderr.String(), stdout.String())
	}
	for _, p := range pkgs {
		if !strings.Contains(stderr.String(), "] "+p+" ") {
			t.Errorf("no progress line for %s:\n%s", p, stderr.String())
		}
	}
	f, err := os.Open(filepath.Join(out, "conformance.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := report.ReadJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Packages) != len(pkgs) {
		t.Fatalf("report has %d packages, want %d", len(rep.Packages), len(pkgs))
	}
	for i, p := range rep.Packages {
		if p.Path != pkgs[i] {
			t.Errorf("package %d is %s, want %s", i, p.Path, pkgs[i])
		}
		if p.Cocoon == nil || p.Cocoon.Status != report.OK || p.Cocoon.Passed == 0 || p.Verdict() != "ok" {
			t.Errorf("%s inside Cocoon: %+v, verdict %q", p.Path, p.Cocoon, p.Verdict())
		}
		if p.Host == nil || p.Host.Passed != p.Cocoon.Passed {
			t.Errorf("%s passed %d tests inside Cocoon and %+v on the host", p.Path, p.Cocoon.Passed, p.Host)
		}
	}
	md, err := os.ReadFile(filepath.Join(out, "conformance.md"))
	if err != nil || !strings.Contains(string(md), "| unicode/utf8 |") {
		t.Errorf("conformance.md (%v) lacks the unicode/utf8 row:\n%s", err, md)
	}
	if !strings.Contains(stdout.String(), "4/4 conform") {
		t.Errorf("table does not say all four conform:\n%s", stdout.String())
	}
}
