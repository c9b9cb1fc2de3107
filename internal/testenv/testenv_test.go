package testenv

import (
	"testing"
)

// recorder is a testing.TB that records whether the test failed or
// skipped instead of ending the calling goroutine.
type recorder struct {
	testing.TB
	failed, skipped bool
	msg             string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = true
	r.msg = format
}
func (r *recorder) Skipf(format string, args ...any) {
	r.skipped = true
	r.msg = format
}

func TestMissing(t *testing.T) {
	for _, ci := range []string{"true", ""} {
		t.Run("CI="+ci, func(t *testing.T) {
			t.Setenv("CI", ci)
			r := &recorder{TB: t}
			Missing(r, "gcc not found: apt-get install gcc")
			if r.failed != (ci == "true") || r.skipped != (ci != "true") {
				t.Errorf("CI=%q: failed=%t skipped=%t, want the test to fail exactly under CI=true", ci, r.failed, r.skipped)
			}
		})
	}
}
