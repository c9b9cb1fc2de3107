package run

import (
	"bytes"
	"testing"
)

// TestRandom checks that random fills every part of buffers of several
// sizes, the last bytes of an odd size included, and that two fills
// differ: a working generator fails each check with probability 2^-256.
func TestRandom(t *testing.T) {
	zero := make([]byte, 32)
	for _, n := range []int{32, 33, 4096 + 35} {
		a, b := make([]byte, n), make([]byte, n)
		random(a)
		random(b)
		if bytes.Equal(a, b) {
			t.Errorf("%d bytes: two fills are equal", n)
		}
		for i := 0; i+32 <= n; i += 32 {
			if bytes.Equal(a[i:i+32], zero) {
				t.Errorf("%d bytes: bytes %d-%d left zero", n, i, i+31)
			}
		}
		if bytes.Equal(a[n-32:], zero) {
			t.Errorf("%d bytes: the last 32 left zero", n)
		}
	}
	random(nil) // nothing to fill: no system call, no panic
}
