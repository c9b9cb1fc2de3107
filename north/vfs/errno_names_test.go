package vfs

import "testing"

// TestErrnoText: named errnos give their strerror text, others their
// number (the table is an array indexed by errno).
func TestErrnoText(t *testing.T) {
	for e, want := range map[Errno]string{
		ENOENT: "no such file or directory", EPERM: "operation not permitted",
		EROFS: "read-only file system", 0: "errno 0", 4095: "errno 4095", 1 << 31: "errno 2147483648",
	} {
		if got := e.Error(); got != want {
			t.Errorf("Errno(%d).Error() = %q, want %q", uint32(e), got, want)
		}
	}
}
