package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cocoon-vm/cocoon/tools/appimage"
	"github.com/u-root/u-root/pkg/cpio"
)

// TestPackBinPathVM packs extra programs into the image's /bin with
// 'mkimage pack --file SRC:/bin/NAME' and checks that they keep their
// execute bits in the archive and that the application finds and runs
// them through its default PATH (os/exec.LookPath and Command), while a
// file without an execute bit is neither found nor run (EACCES).
func TestPackBinPathVM(t *testing.T) {
	t.Parallel()
	const pkg = "./tools/mkimage/testdata/pathapp"
	img := attestImage(t, pkg)
	app, err := appimage.BuildGo(context.Background(), pkg, repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(app)
	prog, err := os.ReadFile(app)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	helper, plain := filepath.Join(dir, "helper"), filepath.Join(dir, "plain")
	if err := os.WriteFile(helper, prog, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(plain, prog, 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"pack", "--elf", app, "--file", helper + ":/bin/pathhelper", "--file", plain + ":/bin/notexec", "-o", img + ".cpio"}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("mkimage pack: exit %d\n%s", code, stderr.String())
	}

	archive, err := os.ReadFile(img + ".cpio")
	if err != nil {
		t.Fatal(err)
	}
	recs, err := cpio.ReadAllRecords(cpio.Newc.Reader(bytes.NewReader(archive)))
	if err != nil {
		t.Fatal(err)
	}
	modes := map[string]uint64{}
	for _, r := range recs {
		modes[r.Name] = r.Mode
	}
	for name, want := range map[string]uint64{"bin": cpio.S_IFDIR | 0o755, "bin/pathhelper": cpio.S_IFREG | 0o755, "bin/notexec": cpio.S_IFREG | 0o644} {
		if modes[name] != want {
			t.Errorf("/%s: mode %#o in the archive, want %#o", name, modes[name], want)
		}
	}

	stdout.Reset()
	stderr.Reset()
	if code := run([]string{"run", img}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("mkimage run: exit %d\nstderr: %s\nstdout: %s", code, stderr.String(), stdout.String())
	}
	want := `PATH=/sbin:/usr/sbin:/bin:/usr/bin
lookpath pathhelper: "/bin/pathhelper" <nil>
lookpath notexec: "" exec: "notexec": executable file not found in $PATH
lookpath missing: "" exec: "missing": executable file not found in $PATH
mode /bin/pathhelper: -rwxr-xr-x
run pathhelper: "helper: argv [\"pathhelper\" \"a b\" \"c\"]\n" <nil>
run /bin/notexec: fork/exec /bin/notexec: permission denied
pathapp: done
`
	if got := stdout.String(); got != want {
		t.Errorf("application output:\n%s\nwant:\n%s", got, want)
	}
	if strings.Contains(stderr.String(), "unimplemented") {
		t.Errorf("stderr: %s", stderr.String())
	}
}
