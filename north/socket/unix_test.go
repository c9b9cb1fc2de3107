package socket

import "testing"

// TestTruesize checks the per-message charge against what Linux 6.18's
// SIOCOUTQ reported for one datagram of each size on an AF_UNIX
// socketpair (x86-64).
func TestTruesize(t *testing.T) {
	for _, c := range []struct{ n, want int }{
		{0, 768}, {1, 768}, {192, 768}, {200, 1280}, {512, 1280},
		{1000, 2304}, {1700, 2304}, {1800, 4352}, {3700, 4352},
		{3800, 8448}, {7800, 8448}, {8000, 16640}, {16064, 16640},
		{16065, 20736}, {40000, 41216}, {65000, 65792}, {100000, 102656},
		{200000, 200960}, {212960, 332032},
	} {
		if got := truesize(c.n); got != c.want {
			t.Errorf("truesize(%d) = %d, want %d", c.n, got, c.want)
		}
	}
}
