package north

import (
	"testing"

	"github.com/cocoon-vm/cocoon/kernel"
)

// TestExitIsVisibleBeforeInterrupts checks the order exit_group and a
// fatal signal end a process in: the process reads as exiting before any
// of its threads is interrupted. A thread that takes its wake-up token
// (deliverSignals drains it) and then saw the process still alive would
// go back to a futex wait or a read with nothing left to wake it: a Go
// program's exit_group then never ended its process (the os/exec hang).
// The test holds the process lock the interrupts need: the process must
// already be exiting while they wait, and each thread gets its token
// once the lock is free.
func TestExitIsVisibleBeforeInterrupts(t *testing.T) {
	p, task, _ := newTest(t)
	other := p.newTask(kernel.NewUserRegs())
	p.mu.Lock()
	go p.exitWith(0, 0)
	waitFor(t, p.exiting)
	p.mu.Unlock()
	for _, th := range []*Task{task, other} {
		<-th.wake
		if !th.woken.Load() {
			t.Errorf("thread %d got a token without woken set", th.tid)
		}
	}
	<-p.done
}
