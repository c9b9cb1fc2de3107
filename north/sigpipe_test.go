package north

import "testing"

// TestSendsSIGPIPE: an EPIPE from a write or a socket send raises
// SIGPIPE unless the send passed MSG_NOSIGNAL (socket(7), send(2)).
func TestSendsSIGPIPE(t *testing.T) {
	const nosignal = 0x4000
	for _, c := range []struct {
		name string
		nr   uint64
		a    [6]uint64
		want bool
	}{
		{"write", 1, [6]uint64{}, true},
		{"writev", 20, [6]uint64{}, true},
		{"sendto", 44, [6]uint64{3: 0}, true},
		{"sendto MSG_NOSIGNAL", 44, [6]uint64{3: nosignal}, false},
		{"sendmsg", 46, [6]uint64{2: 0x40}, true},
		{"sendmsg MSG_NOSIGNAL", 46, [6]uint64{2: nosignal | 0x40}, false},
		{"sendmmsg MSG_NOSIGNAL", 307, [6]uint64{3: nosignal}, false},
		{"read", 0, [6]uint64{}, false},
		{"recvfrom", 45, [6]uint64{}, false},
	} {
		if got := sendsSIGPIPE(c.nr, &c.a); got != c.want {
			t.Errorf("%s: sendsSIGPIPE = %v, want %v", c.name, got, c.want)
		}
	}
}
