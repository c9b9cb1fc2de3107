package testenv

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// allowedSkips are the skips that are not a missing prerequisite, by
// file and the text of the line.
var allowedSkips = map[string]string{
	"snp/measure/fuzz_test.go":        "inputs above 64 KiB", // a fuzz input the target does not want
	"tools/mkimage/cmd_build_test.go": "(-short)",            // the user asked for short tests
}

var skipCall = regexp.MustCompile(`\.Skip(f|Now)?\(`)

// TestNoBareSkips keeps every test honest under CI=true: a test that
// lacks something from the machine calls Missing, which fails under CI,
// instead of skipping.
func TestNoBareSkips(t *testing.T) {
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if strings.HasPrefix(rel, "internal/testenv/") {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for n := 1; sc.Scan(); n++ {
			line := sc.Text()
			if !skipCall.MatchString(line) || strings.HasPrefix(strings.TrimSpace(line), "//") {
				continue
			}
			if allow, ok := allowedSkips[rel]; ok && strings.Contains(line, allow) {
				continue
			}
			t.Errorf("%s:%d skips: call testenv.Missing for a missing prerequisite (it fails under CI=true)\n\t%s", rel, n, strings.TrimSpace(line))
		}
		return sc.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
}
