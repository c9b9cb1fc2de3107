package north_test

// Real programs built from Debian's static libraries run natively and
// inside Cocoon; the outputs must match line for line.

import (
	"os"
	"testing"

	"github.com/cocoon-vm/cocoon/internal/testenv"
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
