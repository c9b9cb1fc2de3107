package north_test

// Real programs built from Debian's static libraries run natively and
// inside Cocoon; the outputs must match line for line.

import "testing"

// TestVMRealSQLite runs SQLite (libsqlite3.a) in rollback-journal and WAL
// modes: a reader's snapshot and a forked reader/writer through the
// shared -shm mapping, a checkpoint, recovery after a writer killed
// mid-transaction, memory-mapped database I/O, and two forked writers at
// once serialised by fcntl byte-range locks.
func TestVMRealSQLite(t *testing.T) {
	cocoonKernel(t)
	differential(t, buildC(t, "testdata/realsqlite/realsqlite.c", "sqlite3", "m"), "realsqlite: done")
}
