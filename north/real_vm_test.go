package north_test

// Real programs built from Debian's static libraries run natively and
// inside Cocoon; the outputs must match line for line.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cocoon-vm/cocoon/internal/testenv"
	"github.com/cocoon-vm/cocoon/qemu"
	"github.com/u-root/u-root/pkg/cpio"
)

// staticLib fails (or skips outside CI) unless the static library lib of
// Debian package pkg is installed.
func staticLib(t *testing.T, lib, pkg string) {
	t.Helper()
	if _, err := os.Stat("/usr/lib/x86_64-linux-gnu/" + lib); err != nil {
		testenv.Missing(t, "%s not found: apt-get install %s", lib, pkg)
	}
}

// TestVMRealSQLite runs SQLite (libsqlite3.a) in rollback-journal and WAL
// modes: a reader's snapshot and a forked reader/writer through the
// shared -shm mapping, a checkpoint, recovery after a writer killed
// mid-transaction, memory-mapped database I/O, and two forked writers at
// once serialised by fcntl byte-range locks.
func TestVMRealSQLite(t *testing.T) {
	cocoonKernel(t)
	staticLib(t, "libsqlite3.a", "libsqlite3-dev")
	differential(t, buildC(t, "testdata/realsqlite/realsqlite.c", "-lsqlite3", "-lm"), "realsqlite: done")
}

// TestVMRealLua runs Lua 5.4 (liblua5.4.a) on a script of strings,
// coroutines, metatables, io (read formats, seek, append), os (date,
// time, clock, getenv, tmpname, remove, rename, execute) and io.popen
// through busybox sh, which the image carries as /bin/sh.
func TestVMRealLua(t *testing.T) {
	cocoonKernel(t)
	staticLib(t, "liblua5.4.a", "liblua5.4-dev")
	prog := buildC(t, "testdata/reallua/reallua.c", "-I/usr/include/lua5.4", "-llua5.4", "-lm")
	differentialImage(t, prog, packWithShell(t, prog), "reallua: done")
}

// packWithShell packs prog at /init with busybox as /bin/sh and cat, and
// an empty /tmp.
func packWithShell(t *testing.T, prog string) string {
	t.Helper()
	app, err := os.ReadFile(prog)
	if err != nil {
		t.Fatal(err)
	}
	bb, err := os.ReadFile(busybox(t))
	if err != nil {
		t.Fatal(err)
	}
	return packRecords(t, "app.cpio", []cpio.Record{
		cpio.StaticFile("init", string(app), 0o755),
		cpio.Directory("bin", 0o755),
		cpio.StaticFile("bin/busybox", string(bb), 0o755),
		cpio.Symlink("bin/sh", "busybox"),
		cpio.Symlink("bin/cat", "busybox"),
		cpio.Directory("tmp", 0o1777),
	})
}

// TestVMRealGoToolchain runs the Go toolchain's own compile and link
// (static Go programs of 26 and 7 MB: big mappings, many threads, files)
// inside Cocoon on a two-package program, against the runtime's packages
// from this host's build cache, and runs the result; natively the same
// script runs the same binaries. The toolchain's output is
// reproducible, so the archives and the executable must have the same
// checksums.
func TestVMRealGoToolchain(t *testing.T) {
	cocoonKernel(t)
	tools := goEnv(t, "GOTOOLDIR")
	// The runtime and what it imports, compiled by this toolchain: the
	// export data and code the linker reads.
	cmd := exec.Command("go", "list", "-deps", "-export", "-f", "{{if .Export}}{{.ImportPath}}={{.Export}}{{end}}", "runtime")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -export runtime: %v", err)
	}
	var nativeCfg, guestCfg strings.Builder
	recs := []cpio.Record{cpio.Directory("go", 0o755), cpio.Directory("go/pkg", 0o755)}
	for i, l := range strings.Fields(string(out)) {
		pkg, file, _ := strings.Cut(l, "=")
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&nativeCfg, "packagefile %s\n", l)
		fmt.Fprintf(&guestCfg, "packagefile %s=/go/pkg/%d.a\n", pkg, i)
		recs = append(recs, cpio.StaticFile(fmt.Sprintf("go/pkg/%d.a", i), string(data), 0o644))
	}
	for _, tool := range []string{"compile", "link"} {
		data, err := os.ReadFile(filepath.Join(tools, tool))
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, cpio.StaticFile("go/"+tool, string(data), 0o755))
	}
	recs = append(recs, cpio.StaticFile("go/importcfg.link", guestCfg.String(), 0o644))
	cfgFile := filepath.Join(t.TempDir(), "importcfg.link")
	if err := os.WriteFile(cfgFile, []byte(nativeCfg.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	got, want, console := shellScript(t, "testdata/realgo/build.sh", recs, 1024, []string{tools, cfgFile}, []string{"/go", "/go/importcfg.link"})
	if !strings.Contains(want, "hello from a program compiled inside 11") {
		t.Fatalf("natively the build fails:\n%s", want)
	}
	if got != want {
		t.Errorf("output inside Cocoon differs from Linux's:\n%s--- Cocoon's console:\n%s", lineDiff(got, "Cocoon", want, "Linux"), console)
	}
	t.Logf("inside Cocoon:\n%s", got)
}

// goEnv returns the go command's setting of name.
func goEnv(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
}

// shellScript runs the busybox sh script (printing "start" and "end"
// around what is compared) natively, with a scratch directory on tmpfs
// and nativeArgs as its arguments, and inside Cocoon, in a guest of
// memMiB with busybox's applets, extra's files and the script at /s.sh,
// with /tmp and guestArgs. It returns both outputs from "start" to "end"
// and Cocoon's console.
func shellScript(t *testing.T, script string, extra []cpio.Record, memMiB int, nativeArgs, guestArgs []string) (got, want, console string) {
	t.Helper()
	bb := busybox(t)
	applets := busyboxApplets(t, bb)
	text, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bb, append([]string{"sh", script, scratchDir(t)}, nativeArgs...)...)
	cmd.Env = append([]string{"PATH=" + appletDir(t, bb, applets)}, scriptEnv...)
	out, _ := cmd.CombinedOutput()
	want = between(string(out))
	if !strings.HasSuffix(want, "end\n") {
		t.Fatalf("native run did not finish:\n%s", out)
	}
	data, err := os.ReadFile(bb)
	if err != nil {
		t.Fatal(err)
	}
	recs := append([]cpio.Record{
		cpio.Symlink("init", "bin/busybox"),
		cpio.Directory("bin", 0o755),
		cpio.StaticFile("bin/busybox", string(data), 0o755),
		cpio.StaticFile("s.sh", string(text), 0o644),
		cpio.Directory("tmp", 0o1777),
	}, extra...)
	for _, a := range applets {
		if a != "busybox" {
			recs = append(recs, cpio.Symlink("bin/"+a, "busybox"))
		}
	}
	res, err := qemu.Run(context.Background(), qemu.Config{
		Profile: qemu.Microvm, Kernel: cocoonKernel(t), Initrd: packRecords(t, "script.cpio", recs),
		Append:    "cocoon.argv0=sh " + strings.Join(scriptEnv, " ") + ` -- -c "sh /s.sh /tmp ` + strings.Join(guestArgs, " ") + ` 2>&1 | cat"`,
		MemoryMiB: memMiB, Timeout: 8 * time.Minute,
	})
	if res == nil {
		t.Fatalf("qemu: %v", err)
	}
	console = strings.ReplaceAll(res.Console, "\r", "")
	if err != nil {
		t.Errorf("inside Cocoon: %v", err)
	}
	return between(appOutput(console)), want, console
}

// TestVMRealOpenSSL runs OpenSSL 3 and zlib (libssl.a, libcrypto.a,
// libz.a): digests, AES-CBC/CTR/GCM, ChaCha20, HMAC, PBKDF2, RAND_bytes,
// zlib and gzip files, then TLS 1.3 and 1.2 handshakes with a forked
// server over the loopback (an EC key and self-signed certificate made
// on the spot, verified by the client) and 300 kB through each.
func TestVMRealOpenSSL(t *testing.T) {
	cocoonKernel(t)
	staticLib(t, "libssl.a", "libssl-dev")
	staticLib(t, "libz.a", "zlib1g-dev")
	differential(t, buildC(t, "testdata/realssl/realssl.c", "-lssl", "-lcrypto", "-lz"), "realssl: done")
}

// TestVMRealFileOps runs the file operations real programs use beyond
// plain reads and writes (north/testdata/realfiles: flock, OFD locks,
// shared mappings with SIGBUS past the end, fallocate, mremap, O_TMPFILE
// and linkat, renameat2, sendfile, copy_file_range, memfd seals).
func TestVMRealFileOps(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/realfiles/realfiles.c"), "realfiles: done")
}

// TestVMRealProc reads what programs read about themselves and the
// system (north/testdata/realproc): /proc/PID/environ, its own rewritten
// in place and its parent's, and /proc/sys/net/core/somaxconn,
// kernel/ostype, kernel/random/uuid and boot_id.
func TestVMRealProc(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/realproc/realproc.c"), "realproc: done")
}

// TestVMRealGoNet runs a static Go program that uses os/signal, os/exec
// and net together, as services do (north/testdata/realgonet): children
// dialing its TCP, UDP and Unix sockets, a listener handed to a child
// through ExtraFiles, signals from a child to signal.Notify in order,
// signal.Ignore inherited across exec, an HTTP server shut down on
// SIGTERM through signal.NotifyContext, process groups and sessions
// killed as a whole, CommandContext's Cancel, read deadlines, EPIPE.
func TestVMRealGoNet(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildGo(t, "./north/testdata/realgonet"), "realgonet: done")
}

// TestVMRealFdinfo reads /proc/self/fdinfo as programs do
// (north/testdata/realfdinfo): offsets, flags with O_CLOEXEC, mount IDs
// and inodes against statx, and what eventfds, signalfds, timerfds,
// epoll instances and pidfds add.
func TestVMRealFdinfo(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/realfdinfo/realfdinfo.c"), "realfdinfo: done")
}

// TestVMBashJobs runs north/testdata/bash/jobs.sh under Debian's
// bash-static, natively and inside Cocoon: job control (set -m: jobs in
// their own process groups, stopped and continued, killed by %n, wait
// -n, disown), a coprocess, read -t, RETURN and ERR traps, exec {fd}>,
// ulimit, and /dev/tcp to busybox nc.
func TestVMBashJobs(t *testing.T) {
	cocoonKernel(t)
	bash := debianBinary(t, "bash-static", "/bin/bash-static")
	data, err := os.ReadFile(bash)
	if err != nil {
		t.Fatal(err)
	}
	script, err := os.ReadFile("testdata/bash/jobs.sh")
	if err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs("testdata/bash/jobs.sh")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(freePort(t, "tcp"))
	recs := []cpio.Record{cpio.StaticFile("bin/bash", string(data), 0o755), cpio.StaticFile("jobs.sh", string(script), 0o644)}
	got, want, console := shellScript(t, "testdata/bash/run.sh", recs, 256, []string{bash, abs, port}, []string{"/bin/bash", "/jobs.sh", port})
	if !strings.Contains(want, "over /dev/tcp") {
		t.Fatalf("natively the script fails:\n%s", want)
	}
	if got != want {
		t.Errorf("output inside Cocoon differs from Linux's:\n%s--- Cocoon's console:\n%s", lineDiff(got, "Cocoon", want, "Linux"), console)
	}
}

// TestVMRealProcEdge: mmap, pread, lseek, write, fsync, ftruncate,
// fallocate and getdents on the files of /proc and /sys programs read
// (north/testdata/realprocedge), vs native.
func TestVMRealProcEdge(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/realprocedge/realprocedge.c"), "realprocedge: done")
}
