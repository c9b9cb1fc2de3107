package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/cmdline"
	"github.com/cocoon-vm/cocoon/qemu"
	"github.com/cocoon-vm/cocoon/tools/appimage"
	"github.com/cocoon-vm/cocoon/tools/conformance/report"
	"github.com/cocoon-vm/cocoon/tools/conformance/testlog"
)

// goPackage is what `go list` says about a package.
type goPackage struct {
	ImportPath   string
	Name         string
	Dir          string
	TestGoFiles  []string
	XTestGoFiles []string
	Error        *struct{ Err string }
}

// listPackages resolves the import paths with `go list`.
func listPackages(ctx context.Context, repo string, paths []string) ([]goPackage, error) {
	cmd := exec.CommandContext(ctx, "go", append([]string{"list", "-e", "-json=ImportPath,Name,Dir,TestGoFiles,XTestGoFiles,Error"}, paths...)...)
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), buildEnv...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []goPackage
	for dec := json.NewDecoder(bytes.NewReader(out)); dec.More(); {
		var p goPackage
		if err := dec.Decode(&p); err != nil {
			return nil, fmt.Errorf("go list: %v", err)
		}
		if p.Error != nil {
			return nil, fmt.Errorf("package %s: %s", p.ImportPath, p.Error.Err)
		}
		if len(p.TestGoFiles)+len(p.XTestGoFiles) == 0 {
			return nil, fmt.Errorf("package %s has no test files", p.ImportPath)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, nil
}

// buildEnv makes every build a static linux/amd64 one.
var buildEnv = []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64"}

func goEnv(ctx context.Context, name string) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", name).Output()
	if err != nil {
		return "", fmt.Errorf("go env %s: %v (is Go installed and on PATH?)", name, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// The files of /etc that os's tests stat (os_test.go's sysdir), with the
// contents a minimal Linux system has.
var etcFiles = map[string]string{
	"group":  "root:x:0:\nnogroup:x:65534:\n",
	"hosts":  "127.0.0.1\tlocalhost\n::1\tlocalhost\n",
	"passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
}

// busybox is Debian's static busybox (busybox-static, which make deps
// installs).
const busybox = "/bin/busybox"

// baseFiles writes the files every image carries and returns them as
// archive entries: /etc's basics; the toolchain's time zone database,
// which package time's tests load through runtime.GOROOT() as on the
// host; and a /usr/bin as big as a Linux system's, which os's tests list
// and enter: busybox's commands as links to it, or empty without it.
// Tests run them by path (syscall's /usr/bin/id); PATH is not set, as for
// Linux's init.
func baseFiles(ctx context.Context, work, goroot string) ([]appimage.File, error) {
	var files []appimage.File
	for name, text := range etcFiles {
		src := filepath.Join(work, "etc", name)
		if err := os.WriteFile(src, []byte(text), 0o644); err != nil {
			return nil, err
		}
		files = append(files, appimage.File{Src: src, Dst: "/etc/" + name})
	}
	zi := filepath.Join(goroot, "lib", "time", "zoneinfo.zip")
	if _, err := os.Stat(zi); err == nil {
		files = append(files, appimage.File{Src: zi, Dst: zi})
	}
	bin := filepath.Join(work, "usr", "bin")
	if err := os.RemoveAll(bin); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return nil, err
	}
	if list, err := exec.CommandContext(ctx, busybox, "--list").Output(); err == nil && appimage.CheckStatic(busybox) == nil {
		for _, name := range strings.Fields(string(list)) {
			if err := os.Symlink(busybox, filepath.Join(bin, name)); err != nil {
				return nil, err
			}
		}
		files = append(files, appimage.File{Src: busybox, Dst: busybox})
	}
	return append(files, appimage.File{Src: bin, Dst: "/usr/bin"}), nil
}

// DirEnv names the directory the test binary moves to before its tests
// run (see chdirSource).
const DirEnv = "COCOON_CONFORMANCE_DIR"

// chdirSource is a test file added to every package through `go test
// -overlay`: go test runs a test binary in its package's directory, but
// Cocoon starts /init in /, so the binary moves to the directory named
// by DirEnv. Without DirEnv (on the host) it does nothing. It unsets
// DirEnv, so that a copy of the binary a test starts (os/exec's helper
// commands) stays in the directory the test gave it, as on the host.
const chdirSource = `package %s_test

// Added by Cocoon's tools/conformance: move to the package's directory,
// where go test would have started the binary.

import "os"

func init() {
	const env = %q
	if dir := os.Getenv(env); dir != "" {
		if err := os.Chdir(dir); err != nil {
			panic(err)
		}
		os.Unsetenv(env)
	}
}
`

// fileName makes an import path a file name.
func fileName(importPath string) string { return strings.ReplaceAll(importPath, "/", "_") }

// build compiles p's test binary with the chdir file and returns its path.
func (r *runner) build(ctx context.Context, p goPackage) (string, error) {
	name := fileName(p.ImportPath)
	bin, err := filepath.Abs(filepath.Join(r.work, "bin", name+".test"))
	if err != nil {
		return "", err
	}
	if r.modCache != "" && strings.HasPrefix(p.Dir, r.modCache+string(filepath.Separator)) {
		// go refuses overlays of the module cache: a package from there
		// (tools/conformance/thirdparty's) is built as it is, and its
		// tests start in / inside Cocoon.
		cmd := exec.CommandContext(ctx, "go", "test", "-c", "-o", bin, p.ImportPath)
		cmd.Dir = r.modDir
		cmd.Env = append(os.Environ(), buildEnv...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("go test -c %s: %v\n%s", p.ImportPath, err, out)
		}
		return bin, nil
	}
	src := filepath.Join(r.work, overlayDir, name+".go")
	if err := os.WriteFile(src, fmt.Appendf(nil, chdirSource, p.Name, DirEnv), 0o644); err != nil {
		return "", err
	}
	abs, err := filepath.Abs(src)
	if err != nil {
		return "", err
	}
	ov, err := json.Marshal(map[string]map[string]string{
		"Replace": {filepath.Join(p.Dir, "zz_cocoon_conformance_test.go"): abs},
	})
	if err != nil {
		return "", err
	}
	ovPath := filepath.Join(r.work, overlayDir, name+".json")
	if err := os.WriteFile(ovPath, ov, 0o644); err != nil {
		return "", err
	}
	ovAbs, err := filepath.Abs(ovPath)
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, "go", "test", "-c", "-overlay", ovAbs, "-o", bin, p.ImportPath)
	cmd.Dir = r.modDir
	cmd.Env = append(os.Environ(), buildEnv...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go test -c %s: %v\n%s", p.ImportPath, err, out)
	}
	return bin, nil
}

// gorootFiles are the parts of GOROOT beyond its own directory that a
// package's tests read, by import path.
var gorootFiles = map[string][]string{
	"path/filepath": {"src/unicode"},  // TestBug3486 walks it
	"io/ioutil":     {"src/io"},       // TestReadDir lists ..
	"net":           {"src/testdata"}, // the TestSendfile* tests send ../testdata/Isaac.Newton-Opticks.txt
}

// hostFiles are files of the host's system that a package's tests read,
// by import path. They are carried at the same path when the host has
// them (without them the tests skip on the host too).
var hostFiles = map[string][]string{
	"net": {"/etc/services"}, // TestReadLine reads it line by line
}

// pack writes the image's application archive: the test binary as /init,
// the package's directory at the same path as on the host, and the
// GOROOT files it needs, these with their modification times (tests
// compare them: net/http's ServeContent).
func (r *runner) pack(p goPackage, bin string) (string, error) {
	// A copy: r.base is shared by the workers.
	files := append([]appimage.File(nil), r.base...)
	inside := false // p.Dir is within one of the GOROOT files
	for _, f := range gorootFiles[p.ImportPath] {
		path := filepath.Join(r.goroot, f)
		files = append(files, appimage.File{Src: path, Dst: path, KeepTimes: true})
		inside = inside || p.Dir == path || strings.HasPrefix(p.Dir, path+string(filepath.Separator))
	}
	if !inside {
		files = append(files, appimage.File{Src: p.Dir, Dst: p.Dir, KeepTimes: true})
	}
	for _, f := range hostFiles[p.ImportPath] {
		if _, err := os.Stat(f); err == nil {
			files = append(files, appimage.File{Src: f, Dst: f})
		}
	}
	path := filepath.Join(r.work, "img", fileName(p.ImportPath)+".cpio")
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	if err := appimage.Pack(f, bin, files); err != nil {
		f.Close()
		return "", err
	}
	return path, f.Close()
}

// runPackage builds, packs and runs one package on both sides.
func (r *runner) runPackage(ctx context.Context, p goPackage) report.Package {
	res := report.Package{Path: p.ImportPath}
	fail := func(err error) report.Package {
		res.Cocoon = &report.Run{Status: report.Error, Exit: -1, Error: err.Error()}
		return res
	}
	bin, err := r.build(ctx, p)
	if err != nil {
		return fail(err)
	}
	img, err := r.pack(p, bin)
	if err != nil {
		return fail(err)
	}
	res.Cocoon = r.runCocoon(ctx, p, img)
	if r.host {
		res.Host = r.runHost(ctx, p, bin)
		res.Differences = report.Compare(res.Host.Tests, res.Cocoon.Tests, func(test string) string {
			return knownReason(p.ImportPath, test)
		})
	}
	return res
}

// logFile creates the log of one run.
func (r *runner) logFile(p goPackage, side string) (*os.File, error) {
	return os.Create(filepath.Join(r.work, "logs", fileName(p.ImportPath)+"."+side+".log"))
}

// guestApp is how the test binary of p starts inside Cocoon: the test
// flags as arguments, exactly, and DirEnv naming its directory.
func (r *runner) guestApp(p goPackage) cmdline.App {
	args := append([]string(nil), r.flags...)
	if skip := cocoonSkips(p.ImportPath); skip != "" {
		args = append(args, "-test.skip", skip)
	}
	return cmdline.App{Args: args, Env: []string{DirEnv + "=" + p.Dir}}
}

// runCocoon boots the image and reads the test results from the console.
func (r *runner) runCocoon(ctx context.Context, p goPackage, img string) *report.Run {
	var pre []string
	if r.trace {
		pre = append(pre, "cocoon.trace=syscalls")
	}
	line, err := cmdline.Line(r.guestApp(p), pre...)
	if err != nil {
		return &report.Run{Status: report.Error, Exit: -1, Error: err.Error()}
	}
	log, err := r.logFile(p, "cocoon")
	if err != nil {
		return &report.Run{Status: report.Error, Exit: -1, Error: err.Error()}
	}
	defer log.Close()
	res, err := qemu.Run(ctx, qemu.Config{
		Profile:   qemu.Microvm,
		Kernel:    r.kernel,
		Initrd:    img,
		Append:    line,
		MemoryMiB: r.memory,
		Timeout:   r.timeout,
		Console:   log,
	})
	run := &report.Run{Exit: -1, Log: log.Name()}
	var ee *qemu.ExitError
	switch {
	case err == nil:
		run.Exit = 0
	case errors.As(err, &ee):
		run.Exit = ee.Status
	case res == nil:
		run.Status, run.Error = report.Error, err.Error()
		return run
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		run.Status, run.Error = report.Timeout, fmt.Sprintf("killed after %v", r.timeout)
	default:
		run.Error = firstLine(err.Error())
	}
	run.WallSeconds = res.Wall.Seconds()
	parse(run, res.Console)
	run.Unimplemented, run.Refused = unimplemented(res.Console)
	return run
}

// runHost runs the test binary natively, in the package's directory as
// go test does.
func (r *runner) runHost(ctx context.Context, p goPackage, bin string) *report.Run {
	log, err := r.logFile(p, "host")
	if err != nil {
		return &report.Run{Status: report.Error, Exit: -1, Error: err.Error()}
	}
	defer log.Close()
	tctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(tctx, bin, r.flags...)
	cmd.Dir = p.Dir
	cmd.Stdout = io.MultiWriter(&out, log)
	cmd.Stderr = cmd.Stdout
	cmd.WaitDelay = time.Second
	start := time.Now()
	err = cmd.Run()
	run := &report.Run{Exit: -1, Log: log.Name(), WallSeconds: time.Since(start).Seconds()}
	var xe *exec.ExitError
	switch {
	case err == nil:
		run.Exit = 0
	case tctx.Err() != nil && ctx.Err() == nil:
		run.Status, run.Error = report.Timeout, fmt.Sprintf("killed after %v", r.timeout)
	case errors.As(err, &xe):
		run.Exit = xe.ExitCode()
		if ws, ok := xe.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			run.Exit = 128 + int(ws.Signal())
		}
	default:
		run.Status, run.Error = report.Error, err.Error()
		return run
	}
	parse(run, out.String())
	return run
}

// parse fills run's tests and status from the binary's output.
func parse(run *report.Run, out string) {
	l, _ := testlog.Parse(strings.NewReader(out)) // a strings.Reader cannot fail
	run.Tests, run.Counts, run.Panic = l.Tests, l.Counts(), l.Panic
	if run.Status != "" {
		return
	}
	switch {
	case run.Exit == 0 && l.Final == "PASS":
		run.Status = report.OK
	case run.Exit == 1 && l.Final == "FAIL":
		run.Status = report.Failed
	default:
		run.Status = report.Crash
		if run.Error == "" {
			run.Error = fmt.Sprintf("exit status %d, final line %q", run.Exit, l.Final)
		}
	}
}

// unimplementedLine is how Cocoon's kernel reports, when the application
// exits (north/run, from north's Process.Unimplemented), the system calls
// it answered with ENOSYS for want of an implementation, and also the
// calls it refuses on purpose and the uses it does not support, each
// under its description ("mount (no CAP_SYS_ADMIN ...)", "clone with new
// namespaces"), which may hold spaces.
var unimplementedLine = regexp.MustCompile(`(?m)^cocoon: unimplemented system call (.+) was called (\d+) times\r?$`)

// unimplemented returns the counts of the unimplemented system calls and
// those of the refused calls and unsupported uses the console reports.
func unimplemented(console string) (calls, refused map[string]int) {
	for _, s := range unimplementedLine.FindAllStringSubmatch(console, -1) {
		n, _ := strconv.Atoi(s[2])
		m := &refused
		if isSyscallName(s[1]) {
			m = &calls
		}
		if *m == nil {
			*m = map[string]int{}
		}
		(*m)[s[1]] += n
	}
	return calls, refused
}

// unnamedCall is how north names an unimplemented call by its number: a
// number the table does not name, or the count of the numbers beyond
// the ones it counts one by one.
var unnamedCall = regexp.MustCompile(`^syscall_(\d+|others)$`)

// isSyscallName reports whether name is how north names an unimplemented
// system call (rather than a refusal or an unsupported use, which it
// describes).
func isSyscallName(name string) bool {
	if unnamedCall.MatchString(name) {
		return true
	}
	for nr := range uint64(linux.MaxSyscall) {
		if linux.SyscallName(nr) == name {
			return true
		}
	}
	return false
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// overlayDir holds the Go files added to each package through go test
// -overlay. The leading underscore keeps the go command (go vet ./...,
// go test ./...) from treating it as a package of the module when the
// output directory is inside the repository.
const overlayDir = "_overlay"
