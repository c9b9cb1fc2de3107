package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cocoon-vm/cocoon/tools/kbuild"
)

// TestSpecErrors checks that a bad spec is refused with the bad field
// named.
func TestSpecErrors(t *testing.T) {
	for _, c := range []struct{ spec, want string }{
		{`{"pakage": "./x"}`, `unknown field "pakage"`},
		{`{"memory": "lots"}`, `field "memory": string is not a int`},
		{`{"env": ["NOEQUALS"]}`, `field "env[0]"`},
		{`{"platform": "mars"}`, `field "platform": "mars"`},
		{`{"platform": "snp"}`, `field "platform": "snp" needs "measure"`},
		{`{"ports": ["80"]}`, `field "ports[0]"`},
		{`{"format": "iso"}`, `field "format"`},
		{`{"measure": {"vmmType": "qemu"}}`, `field "measure.ovmf"`},
		{`{"files": [{"src": "a", "dst": "rel"}]}`, `field "files[0].dst"`},
		{`{"package": "./a", "elf": "b"}`, `field "elf"`},
		{`{} {}`, "more than one JSON value"},
		{`{"overcommit": "sometimes"}`, `field "overcommit": "sometimes" is not guess or always`},
		{`{"network": "maybe"}`, `field "network": --network "maybe": want auto, on or off`},
		{`{"network": "off", "ports": ["8080:80"]}`, `field "network": --publish needs a network`},
		{`{"overcommit": "never"}`, `field "overcommit": "never" (strict accounting, vm.overcommit_memory=2) is not implemented`},
	} {
		path := filepath.Join(t.TempDir(), "cocoon.json")
		if err := os.WriteFile(path, []byte(c.spec), 0o644); err != nil {
			t.Fatal(err)
		}
		var stdout, stderr bytes.Buffer
		code := run([]string{"build", "--spec", path}, nil, &stdout, &stderr)
		if code == 0 || !strings.Contains(stderr.String(), c.want) || !strings.Contains(stderr.String(), path) {
			t.Errorf("%s: exit %d, stderr %q; want an error with %q and the file", c.spec, code, stderr.String(), c.want)
		}
	}
}

// TestSpecBuildsSameImage checks that a spec file builds byte for byte
// the image its equivalent flags build, that flags override it, and that
// the run-time fields reach NAME.run.json.
func TestSpecBuildsSameImage(t *testing.T) {
	t.Parallel()
	repo, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	extra := filepath.Join(tmp, "motd")
	if err := os.WriteFile(extra, []byte("hi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	hello := filepath.Join(repo, "images", "hello")
	spec := `{
  "package": "` + hello + `",
  "args": ["a b", "-x=y", ""],
  "env": ["K=V", "EMPTY="],
  "workdir": "/tmp",
  "files": [{"src": "motd", "dst": "/etc/motd"}],
  "memory": 96,
  "vcpus": 2,
  "platform": "pc",
  "format": "efi",
  "output": "spec/app",
  "overcommit": "always",
  "network": "on"
}`
	specPath := filepath.Join(tmp, "cocoon.json")
	if err := os.WriteFile(specPath, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	build := func(args ...string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if code := run(append([]string{"build"}, args...), nil, &stdout, &stderr); code != 0 {
			t.Fatalf("mkimage build %q: exit %d\n%s%s", args, code, stdout.String(), stderr.String())
		}
	}
	build("--spec", specPath)
	flagsOut := filepath.Join(tmp, "flags", "app")
	build("--spec", "none", hello, "--arg", "a b", "--arg", "-x=y", "--arg", "", "--env", "K=V", "--env", "EMPTY=",
		"--workdir", "/tmp", "--file", extra+":/etc/motd", "-m", "96", "--vcpus", "2", "--format", "efi", "--overcommit", "always", "--network", "on", "-o", flagsOut)
	for _, ext := range []string{".elf", ".cpio", ".efi", ".run.json"} {
		a, errA := os.ReadFile(filepath.Join(tmp, "spec", "app") + ext)
		b, errB := os.ReadFile(flagsOut + ext)
		if errA != nil || errB != nil || !bytes.Equal(a, b) {
			t.Errorf("app%s: the spec's and the flags' differ (%v, %v)", ext, errA, errB)
		}
	}
	if k, err := os.ReadFile(flagsOut + ".elf"); err != nil || kbuild.WithoutNetwork(k) {
		t.Errorf("--network on built a kernel without network (%v)", err)
	}
	var inspected, stderr bytes.Buffer
	if code := run([]string{"inspect", flagsOut + ".efi"}, nil, &inspected, &stderr); code != 0 || !strings.Contains(inspected.String(), "network: gVisor's TCP/IP stack") {
		t.Errorf("inspect %s.efi: exit %d, stdout %q, stderr %q; want the network named", flagsOut, code, inspected.String(), stderr.String())
	}
	rc, err := readRunConfig(flagsOut)
	if err != nil || strings.Join(rc.Args, "|") != "a b|-x=y|" || rc.Memory != 96 || rc.VCPUs != 2 || rc.Workdir != "/tmp" ||
		rc.Overcommit != "always" {
		t.Errorf("run configuration %+v, %v", rc, err)
	}

	// Flags override the spec.
	build("--spec", specPath, "-m", "128", "-o", filepath.Join(tmp, "over", "app"))
	if rc, err := readRunConfig(filepath.Join(tmp, "over", "app")); err != nil || rc.Memory != 128 {
		t.Errorf("-m 128 over the spec's 96: %+v, %v", rc, err)
	}
	build("--spec", specPath, "--overcommit", "guess", "-o", filepath.Join(tmp, "guess", "app"))
	if rc, err := readRunConfig(filepath.Join(tmp, "guess", "app")); err != nil || rc.Overcommit != "" {
		t.Errorf("--overcommit guess over the spec's always: %+v, %v", rc, err)
	}
}
