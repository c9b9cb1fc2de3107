package vfs

import (
	"encoding/binary"
	"sync"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/clock"
)

// TimerFD is a timerfd (timerfd_create(2)): a timer whose expirations a
// read returns as a u64 count.
type TimerFD struct {
	FileDefaults
	q     Queue
	clock int32
	timer *clock.Timer

	mu      sync.Mutex
	ticks   uint64 // expirations since the last read or set
	settime uint32 // the flags of the last Set (TFD_TIMER_*), for fdinfo
}

// NewTimerFD returns a disarmed timerfd on clockID, one clock.Now reads;
// flags may hold O_NONBLOCK (TFD_NONBLOCK).
func NewTimerFD(clockID int32, flags uint32) *File {
	tf := &TimerFD{clock: clockID}
	tf.timer = clock.NewHoldingTimer(clockID, false, tf.fire)
	return NewFile(tf, linux.ORdwr|flags&linux.ONonblock, "anon_inode:[timerfd]")
}

// TimerFDOf returns f's timerfd, or nil if f is not one.
func TimerFDOf(f *File) *TimerFD {
	tf, _ := f.impl.(*TimerFD)
	return tf
}

// fire counts n expirations; the timer then holds until Read takes them
// (and those since), as Linux's timerfd re-arms on read.
func (tf *TimerFD) fire(n uint64) bool {
	tf.mu.Lock()
	tf.ticks += n
	tf.mu.Unlock()
	tf.q.Notify(EventIn | EventRdNorm)
	return true
}

// Set arms the timer as timerfd_settime does (a zero value disarms it),
// forgets the expirations not yet read, and returns the old setting.
// flags are timerfd_settime's: TFD_TIMER_ABSTIME (1) makes value a time
// on the clock; fdinfo shows them.
func (tf *TimerFD) Set(value, interval int64, flags uint32) (oldValue, oldInterval int64) {
	now, _ := clock.Now(tf.clock)
	tf.mu.Lock()
	tf.ticks = 0
	tf.settime = flags
	tf.mu.Unlock()
	return tf.timer.Set(now, value, interval, flags&1 != 0)
}

// Get returns the time left and the interval (timerfd_gettime).
func (tf *TimerFD) Get() (value, interval int64) {
	now, _ := clock.Now(tf.clock)
	return tf.timer.Get(now)
}

// Read returns the expirations since the last read as a u64: EINVAL for
// a buffer under 8 bytes, EAGAIN when there were none.
func (tf *TimerFD) Read(_ *File, dst Buf, _ int64) (int64, error) {
	if dst.Len() < 8 {
		return 0, EINVAL
	}
	tf.mu.Lock()
	defer tf.mu.Unlock()
	if tf.ticks == 0 {
		return 0, EAGAIN
	}
	tf.ticks += tf.timer.Catch()
	if _, err := dst.CopyOut(binary.LittleEndian.AppendUint64(nil, tf.ticks)); err != nil {
		return 0, EFAULT
	}
	tf.ticks = 0
	return 8, nil
}

func (tf *TimerFD) Readiness(mask Events) Events {
	tf.mu.Lock()
	defer tf.mu.Unlock()
	if tf.ticks > 0 {
		return (EventIn | EventRdNorm) & mask
	}
	return 0
}

func (tf *TimerFD) Queue() *Queue { return &tf.q }

// Seek leaves the offset at 0 (noop_llseek).
func (tf *TimerFD) Seek(_ *File, cur, _ int64, _ int) (int64, error) { return cur, nil }

func (tf *TimerFD) Stat(*File) Attr {
	return Attr{Dev: anonDev, Ino: anonIno, Mode: 0o600, Nlink: 1}
}

// Release stops the timer with the last descriptor.
func (tf *TimerFD) Release(*File) { tf.timer.Stop() }
