package north

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cocoon-vm/cocoon/kernel"
	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// The out-of-memory killer, as Linux's (mm/oom_kill.c): when a page fault
// finds no memory left for the application, the process with the largest
// badness — its resident pages and page tables, moved by its
// oom_score_adj — is killed by SIGKILL, not the one that faulted; the
// faulting thread waits until the victim has released its memory and
// tries again. init (pid 1) and processes at OOM_SCORE_ADJ_MIN are passed
// over; only when nothing else is left is the faulting process itself
// killed (where Linux would panic). Kernel allocations a system call makes
// fail with its errno instead (kernel.MemoryShort), as Linux's do.

// oom_score_adj and oom_adj bounds (include/uapi/linux/oom.h).
const (
	oomScoreAdjMin = -1000
	oomScoreAdjMax = 1000
	oomDisable     = -17 // oom_adj that disables the killer
	oomAdjustMin   = -16
	oomAdjustMax   = 15
)

// oomAdj is a process's oom_score_adj and oom_score_adj_min (Linux keeps
// them in signal_struct: shared by the threads, copied by fork, kept
// across execve).
type oomAdj struct {
	adj, min atomic.Int32
}

// oomKiller is the world's killer state: one kill at a time (oom_lock),
// and the last victim until its memory is released.
type oomKiller struct {
	mu     sync.Mutex
	victim *Process
	since  time.Time
}

// oomVictimWait is how long a victim that has not released its memory
// holds back another kill (Linux's oom_reaper gives up on a victim's
// memory after about a second and sets MMF_OOM_SKIP; a TCG guest under
// load runs slower).
const oomVictimWait = 5 * time.Second

// oomTotalPages is the killer's totalpages: RAM in pages (no swap).
func oomTotalPages() int64 { return int64(kernel.Stats().RAM / mem.PageSize) }

// oomPages returns the pages the killer counts for p (get_mm_rss +
// mm_pgtables_bytes / PAGE_SIZE), false once its memory is released.
func (p *Process) oomPages() (int64, bool) {
	if p.LiveFiles() == nil || p.exiting() {
		return 0, false
	}
	c, ok := p.m.(rssCounter)
	if !ok {
		return 0, false
	}
	pages, _ := c.RSS()
	if t, ok := p.m.(interface{ PageTables() uint64 }); ok {
		pages += t.PageTables() / mem.PageSize
	}
	return int64(pages), true
}

// badness is mm/oom_kill.c oom_badness out of total pages: false for a
// process the killer passes over (OOM_SCORE_ADJ_MIN, exiting, a vfork
// child waiting to exec, no memory of its own any more).
func (p *Process) badness(total int64) (int64, bool) {
	adj := int64(p.oom.adj.Load())
	if adj == oomScoreAdjMin || p.vforkDone != nil && !p.execed.Load() {
		return 0, false
	}
	points, ok := p.oomPages()
	if !ok {
		return 0, false
	}
	return points + adj*(total/1000), true
}

// oomScore is /proc/PID/oom_score (fs/proc/base.c proc_oom_score): the
// badness scaled to 0..2000, 0 for a process the killer passes over.
func (p *Process) oomScore() int64 {
	total := oomTotalPages()
	b, ok := p.badness(total)
	if !ok || total == 0 {
		return 0
	}
	return max(0, (1000+b*1000/total)*2/3)
}

// oomAdjText is /proc/PID/oom_adj: oom_score_adj scaled back to the
// legacy -17..15 (fs/proc/base.c oom_adj_read; Linux 6.18 shows at
// most 15 for values from 941 up).
func (p *Process) oomAdjText() []byte {
	adj := int64(p.oom.adj.Load())
	if adj == oomScoreAdjMax {
		return fmt.Appendf(nil, "%d\n", oomAdjustMax)
	}
	return fmt.Appendf(nil, "%d\n", min(adj*-oomDisable/oomScoreAdjMax, oomAdjustMax))
}

// SetOOMScoreAdj is a write of v to /proc/PID/oom_score_adj, or with
// legacy to /proc/PID/oom_adj, by a caller with CAP_SYS_RESOURCE or not
// (privileged), as fs/proc/base.c oom_score_adj_write, oom_adj_write and
// __set_oom_adj: EINVAL out of range; EACCES for an unprivileged caller
// going below oom_score_adj_min (legacy: below the current value); a
// privileged write of oom_score_adj also sets oom_score_adj_min. Every
// process sharing the address space (CLONE_VM, not a vfork child) takes
// the value too.
func (p *Process) SetOOMScoreAdj(v int64, legacy, privileged bool) int {
	if legacy {
		if (v < oomAdjustMin || v > oomAdjustMax) && v != oomDisable {
			return linux.EINVAL
		}
		if v == oomAdjustMax {
			v = oomScoreAdjMax
		} else {
			v = v * oomScoreAdjMax / -oomDisable
		}
	} else if v < oomScoreAdjMin || v > oomScoreAdjMax {
		return linux.EINVAL
	}
	w := p.w
	w.oom.mu.Lock() // oom_adj_mutex
	defer w.oom.mu.Unlock()
	floor := p.oom.min.Load()
	if legacy {
		floor = p.oom.adj.Load()
	}
	if int32(v) < floor && !privileged {
		return linux.EACCES
	}
	to := []*Process{p}
	if p.vforkDone == nil {
		w.mu.Lock()
		for _, q := range w.procs {
			if q != p && q.m == p.m && !q.zombie {
				to = append(to, q)
			}
		}
		w.mu.Unlock()
	}
	for _, q := range to {
		q.oom.adj.Store(int32(v))
		if !legacy && privileged {
			q.oom.min.Store(int32(v))
		}
	}
	return 0
}

// outOfMemory serves a page fault of t that found no memory for the
// application (mm/oom_kill.c out_of_memory, pagefault_out_of_memory):
// it kills the process with the largest badness and waits for its
// memory, or for a victim chosen earlier; the fault is then tried again.
// The faulting process itself dies only when it is the choice, or when
// no other process can be.
func (t *Task) outOfMemory() {
	p, w := t.p, t.p.w
	if p.exiting() {
		return // already dying: its memory is on its way back
	}
	w.oom.mu.Lock()
	if !kernel.UserMemoryShort() {
		w.oom.mu.Unlock()
		return // freed meanwhile
	}
	victim := w.oom.victim
	if victim != nil && (victim.filesGone.Load() || time.Since(w.oom.since) > oomVictimWait) {
		victim = nil // released, or stuck: choose again (MMF_OOM_SKIP)
	}
	var kill []*Process
	if victim == nil {
		victim = w.badProcess(p)
		kill = w.sharingSpace(victim)
		w.oom.victim, w.oom.since = victim, time.Now()
	}
	w.oom.mu.Unlock()
	self := false
	for _, q := range kill {
		if q == p {
			self = true
			continue
		}
		q.oomReport()
		q.exitKilled(linux.SigKill)
	}
	if self {
		p.oomReport()
		t.kill(sigInfo{signo: linux.SigKill})
		return
	}
	if victim == p {
		return
	}
	// Wait for the victim's memory (at most oomVictimWait; this process
	// being killed meanwhile ends the wait).
	tm := time.NewTimer(oomVictimWait)
	defer tm.Stop()
	select {
	case <-victim.ended:
	case <-p.done:
	case <-tm.C:
	}
}

// badProcess returns the process the killer chooses for a fault of
// process cur (mm/oom_kill.c select_bad_process): the largest badness,
// the later of equals, passing over init; cur itself when no other
// process can be chosen.
func (w *world) badProcess(cur *Process) *Process {
	total := oomTotalPages()
	w.mu.Lock()
	procs := make([]*Process, 0, len(w.procs))
	for _, q := range w.procs {
		if !q.zombie && q != w.init {
			procs = append(procs, q)
		}
	}
	w.mu.Unlock()
	slices.SortFunc(procs, func(a, b *Process) int { return int(a.pid - b.pid) })
	var chosen *Process
	var most int64
	for _, q := range procs {
		if b, ok := q.badness(total); ok && (chosen == nil || b >= most) {
			chosen, most = q, b
		}
	}
	if chosen == nil {
		return cur
	}
	return chosen
}

// sharingSpace returns v and every other live process using its address
// space: the killer kills them all (mm/oom_kill.c __oom_kill_process).
func (w *world) sharingSpace(v *Process) []*Process {
	out := []*Process{v}
	w.mu.Lock()
	for _, q := range w.procs {
		if q != v && q.m == v.m && !q.zombie {
			out = append(out, q)
		}
	}
	w.mu.Unlock()
	return out
}

// oomReport prints the kernel's line about a process the killer ends
// (mm/oom_kill.c __oom_kill_process's "Out of memory: Killed process").
func (p *Process) oomReport() {
	total, free := kernel.Stats().RAM, kernel.Stats().FreeRAM
	r, _ := p.rss()
	var vm, tables uint64
	if u, ok := p.m.(interface{ Usage() (uint64, uint64) }); ok {
		vm, _ = u.Usage()
	}
	if t, ok := p.m.(interface{ PageTables() uint64 }); ok {
		tables = t.PageTables()
	}
	p.mu.Lock()
	uid := p.cred.ruid
	p.mu.Unlock()
	fmt.Fprintf(p.cfg.Log, "cocoon: out of memory: killed process %d (%s) total-vm:%dkB, anon-rss:%dkB, file-rss:%dkB, shmem-rss:%dkB, UID:%d pgtables:%dkB oom_score_adj:%d (%d MiB of RAM, %d MiB free, the rest kept for the kernel)\n",
		p.pid, p.comm(nil), vm>>10, kib(r.anon), kib(r.file), kib(r.shmem), uid, tables>>10, p.oom.adj.Load(), total>>20, free>>20)
}
