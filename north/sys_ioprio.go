package north

import (
	"sync/atomic"

	"github.com/cocoon-vm/cocoon/kernel/linux"
)

// I/O priorities (ioprio_set(2), ioprio_get(2); block/ioprio.c): a
// class and level per thread, kept in its I/O context, which a thread
// gets when its priority is first set and shares with the threads it
// creates with CLONE_IO. There is no I/O scheduler to apply them to:
// they are what the calls set and report, as on Linux for a device whose
// scheduler ignores them.

func init() { registerAll([]call{{251, sysIoprioSet}, {252, sysIoprioGet}}) }

// ioprio "which" values, classes and layout (include/uapi/linux/ioprio.h).
const (
	ioprioWhoProcess = 1
	ioprioWhoPgrp    = 2
	ioprioWhoUser    = 3
	ioprioClassNone  = 0
	ioprioClassRT    = 1
	ioprioClassBE    = 2
	ioprioClassIdle  = 3
	ioprioClassShift = 13
)

// ioContext is a thread's struct io_context: its I/O priority.
type ioContext struct{ prio atomic.Uint32 }

func ioprioClass(prio uint32) uint32 { return prio >> ioprioClassShift & 7 }

// checkIoprio is ioprio_check_cap: the class known, a level for none
// only with no class, the real-time class for CAP_SYS_NICE or
// CAP_SYS_ADMIN.
func (t *Task) checkIoprio(prio int32) int64 {
	level := prio & 7
	switch ioprioClass(uint32(prio)) {
	case ioprioClassRT:
		if !t.Capable(capSysNice) && !t.Capable(capSysAdmin) {
			return -linux.EPERM
		}
	case ioprioClassBE, ioprioClassIdle:
	case ioprioClassNone:
		if level != 0 {
			return -linux.EINVAL
		}
	default:
		return -linux.EINVAL
	}
	return 0
}

// ioprioTargets are the threads which and who name (the thread who, or
// the caller's; a process group's; a real user's), or ESRCH; EINVAL
// for an unknown which. forSet: who 0 of IOPRIO_WHO_USER is user 0 as
// ioprio_set has it (ioprio_get takes the caller's).
func (t *Task) ioprioTargets(which, who int32, forSet bool) ([]*Task, int64) {
	switch which {
	case ioprioWhoProcess:
		if who < 0 {
			return nil, -linux.ESRCH
		}
		o, e := t.schedTarget(who)
		if e != 0 {
			return nil, -linux.ESRCH
		}
		return []*Task{o}, 0
	case ioprioWhoPgrp:
		return t.priorityTargets(prioPgrp, who)
	case ioprioWhoUser:
		if who == -1 {
			return nil, -linux.ESRCH // not a valid user ID
		}
		if who == 0 && !forSet {
			who = int32(t.ruid())
		}
		w := t.p.w
		w.mu.Lock()
		procs := make([]*Process, 0, len(w.procs))
		for _, p := range w.procs {
			procs = append(procs, p)
		}
		w.mu.Unlock()
		var out []*Task
		for _, p := range procs {
			p.mu.Lock()
			uid := p.cred.ruid
			p.mu.Unlock()
			if uid == uint32(who) {
				out = append(out, p.tasksLocked()...)
			}
		}
		return out, 0
	}
	return nil, -linux.EINVAL
}

func sysIoprioSet(t *Task, a *[6]uint64) int64 {
	which, who, prio := int32(a[0]), int32(a[1]), int32(a[2])
	if e := t.checkIoprio(prio); e != 0 {
		return e
	}
	ts, e := t.ioprioTargets(which, who, true)
	if e != 0 {
		return e
	}
	t.p.mu.Lock()
	euid, ruid, nice := t.p.cred.euid, t.p.cred.ruid, t.p.cred.capable(capSysNice)
	t.p.mu.Unlock()
	r := int64(-linux.ESRCH)
	for _, o := range ts {
		// set_task_ioprio: the target's real user ID is the caller's
		// real or effective one, or CAP_SYS_NICE.
		o.p.mu.Lock()
		uid := o.p.cred.ruid
		o.p.mu.Unlock()
		if uid != euid && uid != ruid && !nice {
			return -linux.EPERM
		}
		ctx := o.ioCtx.Load()
		if ctx == nil {
			o.ioCtx.CompareAndSwap(nil, new(ioContext))
			ctx = o.ioCtx.Load()
		}
		ctx.prio.Store(uint32(uint16(prio))) // io_context.ioprio is an unsigned short
		r = 0
	}
	return r
}

func sysIoprioGet(t *Task, a *[6]uint64) int64 {
	which, who := int32(a[0]), int32(a[1])
	ts, e := t.ioprioTargets(which, who, false)
	if e != 0 {
		return e
	}
	if which == ioprioWhoProcess {
		// The value set, class none if never (get_task_raw_ioprio).
		return int64(ts[0].rawIoprio())
	}
	best := int64(-linux.ESRCH)
	for _, o := range ts {
		p := int64(o.effectiveIoprio())
		if best < 0 || p < best {
			best = p // ioprio_best
		}
	}
	return best
}

func (t *Task) rawIoprio() uint32 {
	if ctx := t.ioCtx.Load(); ctx != nil {
		return ctx.prio.Load()
	}
	return 0 // IOPRIO_DEFAULT: class none
}

// effectiveIoprio is __get_task_ioprio: the priority the thread's I/O
// gets, which for class none follows its scheduling (task_nice_ioclass,
// task_nice_ioprio).
func (t *Task) effectiveIoprio() uint32 {
	prio := t.rawIoprio()
	if ioprioClass(prio) != ioprioClassNone {
		return prio
	}
	nice, policy, _, _ := t.sched.get()
	class := uint32(ioprioClassBE)
	switch policy {
	case schedIdle:
		class = ioprioClassIdle
	case schedFIFO, schedRR:
		class = ioprioClassRT
	}
	return class<<ioprioClassShift | uint32(nice+20)/5
}

// inheritIO gives thread or process c its creator's I/O context
// (copy_io): the same one with CLONE_IO, else a copy if its class is set.
func (t *Task) inheritIO(c *Task, flags uint64) {
	ctx := t.ioCtx.Load()
	switch {
	case ctx == nil:
	case flags&cloneIO != 0:
		c.ioCtx.Store(ctx)
	case ioprioClass(ctx.prio.Load()) != ioprioClassNone:
		n := new(ioContext)
		n.prio.Store(ctx.prio.Load())
		c.ioCtx.Store(n)
	}
}
