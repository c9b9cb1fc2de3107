package fdtable

import (
	"strings"
	"testing"
	"time"

	"github.com/cocoon-vm/cocoon/kernel/linux"
)

// TestConsoleFlowControl: tcflow(3) on the console as Linux's tty does
// (n_tty_ioctl_helper): TCOOFF holds writers until TCOON, TCIOFF and
// TCION send the STOP and START characters, anything else is EINVAL, as
// is a tcflush(3) queue that does not exist.
func TestConsoleFlowControl(t *testing.T) {
	e := newEnv(t)
	if r := e.f.Ioctl(e.m, 1, linux.TCXONC, linux.TCOOFF); r != 0 {
		t.Fatalf("TCXONC TCOOFF = %d", r)
	}
	msg := e.str("held")
	done := make(chan int64, 1)
	go func() { done <- e.f.Write(e.m, nil, 1, msg, 4) }()
	select {
	case r := <-done:
		t.Fatalf("a write while output is suspended returned %d, want it to wait for TCOON", r)
	case <-time.After(200 * time.Millisecond):
	}
	if strings.Contains(e.out.String(), "held") {
		t.Fatal("suspended output reached the console")
	}
	if r := e.f.Ioctl(e.m, 1, linux.TCXONC, linux.TCOON); r != 0 {
		t.Fatalf("TCXONC TCOON = %d", r)
	}
	select {
	case r := <-done:
		if r != 4 {
			t.Errorf("write after TCOON = %d, want 4", r)
		}
	case <-time.After(time.Minute):
		t.Fatal("the write did not finish after TCOON")
	}
	if got := e.out.String(); !strings.HasSuffix(got, "held") {
		t.Errorf("console = %q, want it to end with the held write", got)
	}
	for _, c := range []struct {
		arg  uint64
		want string
	}{{linux.TCIOFF, "\x13"}, {linux.TCION, "\x11"}} {
		if r := e.f.Ioctl(e.m, 0, linux.TCXONC, c.arg); r != 0 {
			t.Errorf("TCXONC %d = %d", c.arg, r)
		}
		if got := e.out.String(); !strings.HasSuffix(got, c.want) {
			t.Errorf("TCXONC %d: console ends %q, want %q", c.arg, got[max(0, len(got)-4):], c.want)
		}
	}
	for _, c := range []struct {
		name string
		cmd  uint32
		arg  uint64
		want int64
	}{
		{"TCXONC 4", linux.TCXONC, 4, neg(linux.EINVAL)},
		{"TCFLSH TCOFLUSH", linux.TCFLSH, linux.TCOFLUSH, 0},
		{"TCFLSH 3", linux.TCFLSH, 3, neg(linux.EINVAL)},
	} {
		if r := e.f.Ioctl(e.m, 0, c.cmd, c.arg); r != c.want {
			t.Errorf("%s = %d, want %d", c.name, r, c.want)
		}
	}
}
