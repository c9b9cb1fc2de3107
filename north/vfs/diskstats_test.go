package vfs

import (
	"testing"

	"github.com/cocoon-vm/cocoon/kernel/linux"
)

// TestDiskstats: /proc/diskstats is there, a regular file of /proc, and
// empty: Cocoon has no block device (block/genhd.c diskstats_show prints
// a line for each).
func TestDiskstats(t *testing.T) {
	fs, err := New(nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, fs, "/proc/diskstats"); got != "" {
		t.Errorf("/proc/diskstats = %q, want it empty", got)
	}
	if a := lookupAll(t, fs, "/proc/diskstats", true).Attr(); a.Mode != linux.SIfreg|0o444 {
		t.Errorf("/proc/diskstats: mode %o, want 0100444", a.Mode)
	}
}
