package fdtable

import (
	"math"
	"time"

	"github.com/cocoon-vm/cocoon/north/socket"
	"github.com/cocoon-vm/cocoon/north/vfs"
)

// blockingIO runs op, which moves bytes to or from f and returns EAGAIN
// when it cannot, until it moves some or fails otherwise. It blocks the
// calling goroutine between tries, waiting for f to announce mask, unless
// f is non-blocking; a close of intr ends the wait with EINTR.
func blockingIO(f *vfs.File, mask vfs.Events, intr <-chan struct{}, op func() (int64, error)) (int64, error) {
	n, err := op()
	if err != vfs.EAGAIN || f.NonBlocking() || f.Queue() == nil {
		return n, err
	}
	w := vfs.GetWaiter()
	w.Watch(f.Queue(), mask)
	defer w.Release()
	expired := socketTimeout(f, mask)
	for {
		// Try again now that the waiter is in place, so that no
		// announcement between the first try and Watch is lost.
		if n, err = op(); err != vfs.EAGAIN {
			return n, err
		}
		select {
		case <-w.C:
		case <-intr:
			return 0, vfs.EINTR
		case <-expired:
			return 0, vfs.EAGAIN
		}
	}
}

// socketTimeout returns a channel that fires when a socket's SO_RCVTIMEO
// (waiting to read) or SO_SNDTIMEO (to write) runs out, as they bound
// read(2) and write(2) on sockets too; nil for other files or no limit.
func socketTimeout(f *vfs.File, mask vfs.Events) <-chan time.Time {
	s := socket.Of(f)
	if s == nil {
		return nil
	}
	d := s.Common().SndTimeo
	if mask&vfs.EventIn != 0 {
		d = s.Common().RcvTimeo
	}
	if d <= 0 {
		return nil
	}
	return time.After(d)
}

// writeAll writes src to f, waiting for room as blockingIO does, until all
// of it is written: a blocking write to a pipe returns only when done, or
// with what it wrote so far when interrupted or failing.
func writeAll(f *vfs.File, src vfs.Buf, intr <-chan struct{}) (int64, error) {
	total := src.Len()
	var done int64
	for {
		n, err := blockingIO(f, vfs.EventsWritable, intr, func() (int64, error) {
			return f.Write(src.DropFirst(done))
		})
		done += n
		switch {
		case err != nil && done > 0:
			return done, nil
		case err != nil:
			return 0, err
		case done >= total || n == 0 || !f.Impl().Stream() || f.NonBlocking():
			return done, nil
		}
	}
}

// deadline is a timeout: nil for none, or a channel that fires.
type deadline struct {
	t *time.Timer
}

// DefaultTimerSlack is Linux's timer slack for a thread that sets none
// (init/init_task.c timer_slack_ns), the slack of Files' exported waits.
const DefaultTimerSlack = 50 * time.Microsecond

// maxSlack bounds the slack a timeout's length gives it (fs/select.c
// MAX_SLACK).
const maxSlack = 100 * time.Millisecond

// estimateSlack is how late a wait of d may end for a thread with timer
// slack slack (fs/select.c select_estimate_accuracy): a thousandth of d,
// at most maxSlack, at least slack. (Linux takes a fifth of that for a
// thread of positive nice value; Cocoon's threads have none.)
func estimateSlack(d, slack time.Duration) time.Duration {
	return max(min(d/1000, maxSlack), slack)
}

// afterSlack is after for a wait of d that may end its slack late (see
// estimateSlack); d < 0 never ends.
func afterSlack(d, slack time.Duration) deadline {
	if d <= 0 {
		return after(d)
	}
	s := estimateSlack(d, slack)
	if d > math.MaxInt64-s {
		return after(-1) // later than a Duration holds: never
	}
	return after(d + s)
}

// after returns a deadline d from now; negative d means never.
func after(d time.Duration) deadline {
	if d < 0 {
		return deadline{}
	}
	return deadline{time.NewTimer(d)}
}

// C returns the channel that fires at the deadline, or nil.
func (d deadline) C() <-chan time.Time {
	if d.t == nil {
		return nil
	}
	return d.t.C
}

func (d deadline) stop() {
	if d.t != nil {
		d.t.Stop()
	}
}
