package north

import (
	"testing"

	"github.com/cocoon-vm/cocoon/kernel/linux"
)

// TestErrnoName: the trace's errno names, by number past the table.
func TestErrnoName(t *testing.T) {
	for e, want := range map[int64]string{
		linux.ENOENT: "ENOENT", linux.ERANGE: "ERANGE", linux.ETIMEDOUT: "ETIMEDOUT",
		0: "errno 0", -1: "errno -1", 4000: "errno 4000",
	} {
		if got := errnoName(e); got != want {
			t.Errorf("errnoName(%d) = %q, want %q", e, got, want)
		}
	}
}
