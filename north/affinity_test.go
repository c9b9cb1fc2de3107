package north

import (
	"testing"

	"github.com/cocoon-vm/cocoon/kernel"
	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// TestSchedAffinity: sched_getaffinity and sched_setaffinity name any
// thread by its ID, ESRCH for a negative or unknown one (no EINVAL check
// of their own, kernel/sched/syscalls.c); the mask is CPU 0's; a mask
// without it or of no bytes is EINVAL, checked after the thread is found.
func TestSchedAffinity(t *testing.T) {
	p, task, _ := newTest(t)
	other := p.newTask(kernel.NewUserRegs())
	const setaff, getaff = 203, linux.SysSchedGetaffinit
	mem.WriteUint64(p.m, scratch, 1)
	mem.WriteUint64(p.m, scratch+8, 2)
	for _, c := range []struct {
		name string
		nr   uint64
		args []uint64
		want int64
	}{
		{"get self", getaff, []uint64{0, 128, scratch + 64}, 8},
		{"get other thread", getaff, []uint64{uint64(other.tid), 8, scratch + 64}, 8},
		{"get negative", getaff, []uint64{^uint64(0), 8, scratch + 64}, -linux.ESRCH},
		{"get unknown", getaff, []uint64{99999, 8, scratch + 64}, -linux.ESRCH},
		{"get short", getaff, []uint64{0, 4, scratch + 64}, -linux.EINVAL},
		{"get bad address", getaff, []uint64{0, 8, 0x8}, -linux.EFAULT},
		{"set self", setaff, []uint64{0, 8, scratch}, 0},
		{"set other thread", setaff, []uint64{uint64(other.tid), 1, scratch}, 0},
		{"set negative", setaff, []uint64{^uint64(0), 8, scratch}, -linux.ESRCH},
		{"set unknown", setaff, []uint64{99999, 8, scratch}, -linux.ESRCH},
		{"set no CPU 0", setaff, []uint64{0, 8, scratch + 8}, -linux.EINVAL},
		{"set empty", setaff, []uint64{0, 0, scratch}, -linux.EINVAL},
		{"set empty unknown", setaff, []uint64{99999, 0, scratch}, -linux.ESRCH},
		{"set bad address", setaff, []uint64{99999, 8, 0x8}, -linux.EFAULT},
	} {
		if got := sc(task, c.nr, c.args...); got != c.want {
			t.Errorf("%s = %d, want %d", c.name, got, c.want)
		}
	}
	if got, _ := mem.ReadUint64(p.m, scratch+64); got != 1 {
		t.Errorf("mask = %#x, want CPU 0's 1", got)
	}
}
