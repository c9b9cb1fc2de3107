package north

import (
	"encoding/binary"
	"sync"
	"time"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// System V semaphores (semget(2), semop(2), semctl(2); ipc/sem.c): sets
// of counters in the guest's one IPC namespace, operations on several
// of them applied all or none, waiting until they can be, and SEM_UNDO
// adjustments a thread's undo list gives back when its last user exits
// (exit_sem).

// semCalls are the system calls this file serves (registerAll).
var semCalls = [...]call{
	{64, sysSemget},      // semget
	{65, sysSemop},       // semop
	{66, sysSemctl},      // semctl
	{220, sysSemtimedop}, // semtimedop
}

func init() { registerAll(semCalls[:]) }

// Limits, flags and commands (include/uapi/linux/sem.h, ipc.h; the
// defaults of Linux 6.x's kernel.sem and kernel.shmmni).
const (
	semmsl      = 32000           // SEMMSL: semaphores per set
	semmni      = 32000           // SEMMNI: sets
	semmns      = semmni * semmsl // SEMMNS: semaphores in all sets
	semopm      = 500             // SEMOPM: operations per semop
	semvmx      = 32767           // SEMVMX: the largest value
	semaem      = semvmx          // SEMAEM: the largest adjustment
	semusz      = 20              // SEMUSZ, what IPC_INFO says
	ipcMNI      = 32768           // IPCMNI: an ID is an index plus its sequence times this
	ipcNowait   = 0o4000          // IPC_NOWAIT
	semUndo     = 0x1000          // SEM_UNDO
	ipcInfo     = 3               // IPC_INFO
	semGetpid   = 11
	semGetval   = 12
	semGetall   = 13
	semGetncnt  = 14
	semGetzcnt  = 15
	semSetval   = 16
	semSetall   = 17
	semStat     = 18
	semInfo     = 19
	semStatAny  = 20
	capIpcOwner = 15 // CAP_IPC_OWNER
)

// ipcPerm is struct kern_ipc_perm's owner part.
type ipcPerm struct {
	key                  int32
	uid, gid, cuid, cgid uint32
	mode                 uint32
}

// ipcCaller is what an IPC permission check needs of the caller.
type ipcCaller struct {
	euid, egid uint32
	groups     []uint32
	owner      bool // CAP_IPC_OWNER
	admin      bool // CAP_SYS_ADMIN
	pid        int32
}

func (t *Task) ipcCaller() ipcCaller {
	p := t.p
	p.mu.Lock()
	defer p.mu.Unlock()
	c := &p.cred
	return ipcCaller{euid: c.euid, egid: c.egid, groups: c.groups,
		owner: c.capable(capIpcOwner), admin: c.capable(capSysAdmin), pid: p.pid}
}

func (c *ipcCaller) inGroup(g uint32) bool {
	if g == c.egid {
		return true
	}
	for _, x := range c.groups {
		if x == g {
			return true
		}
	}
	return false
}

// may is ipcperms (ipc/util.c): whether the caller has the access of the
// permission bits in flag (0444 to read, 0222 to alter, any of the
// semget flags' bits) as owner, group or other, or CAP_IPC_OWNER.
func (c *ipcCaller) may(perm *ipcPerm, flag uint32) bool {
	requested := (flag>>6 | flag>>3 | flag) & 7
	granted := perm.mode
	switch {
	case c.euid == perm.cuid || c.euid == perm.uid:
		granted >>= 6
	case c.inGroup(perm.cgid) || c.inGroup(perm.gid):
		granted >>= 3
	}
	return requested&^granted == 0 || c.owner
}

// mayChange is ipcctl_obtain_check's test for IPC_SET and IPC_RMID: the
// creator, the owner or CAP_SYS_ADMIN.
func (c *ipcCaller) mayChange(perm *ipcPerm) bool {
	return c.euid == perm.cuid || c.euid == perm.uid || c.admin
}

// semState is the guest's semaphore sets.
type semState struct {
	mu    sync.Mutex
	sets  map[int32]*semSet // by index (ID mod IPCMNI)
	byKey map[int32]*semSet
	used  int // semaphores in all sets (used_sems)
	ipcIndex
}

// ipcIndex gives out the indices of one kind of System V object (struct
// ipc_ids): the next free one after the last, cyclically, starting a new
// sequence when it wraps (ipc_idr_alloc). An ID is the index plus the
// sequence times IPCMNI.
type ipcIndex struct {
	lastIdx int32 // the index given out last (ipc_ids.last_idx), -1 at first
	seq     int32 // the sequence of new IDs
	started bool
}

// next returns the next free index (taken says which are in use), or -1
// when all IPCMNI are.
func (x *ipcIndex) next(taken func(int32) bool) int32 {
	if !x.started {
		x.started, x.lastIdx = true, -1
	}
	for i := int32(1); i <= ipcMNI; i++ {
		idx := (x.lastIdx + i) % ipcMNI
		if !taken(idx) {
			if idx <= x.lastIdx {
				x.seq++
				if x.seq >= 1<<31/ipcMNI {
					x.seq = 0
				}
			}
			x.lastIdx = idx
			return idx
		}
	}
	return -1
}

// semSet is one set (struct sem_array).
type semSet struct {
	perm    ipcPerm
	idx     int32
	seq     int32
	vals    []int32
	pids    []int32 // the process that last changed each, or 0
	otime   int64
	ctime   int64
	waiters []*semWaiter // in the order they came
	undos   map[*semUndoList]struct{}
	removed bool
}

func (s *semSet) id() int32 { return s.seq*ipcMNI + s.idx }

// semBuf is struct sembuf.
type semBuf struct {
	num      uint16
	op, flag int16
}

// semWaiter is a semop waiting until its operations can all be done.
type semWaiter struct {
	sops     []semBuf
	undo     *semUndoList
	pid      int32
	blocking semBuf // the operation that cannot be done now (GETNCNT, GETZCNT)
	done     chan struct{}
	result   int64
}

// semUndoList is a thread's SEM_UNDO adjustments, shared by the threads
// created with CLONE_SYSVSEM (struct sem_undo_list): what exit_sem adds
// back to each semaphore when the last of them exits.
type semUndoList struct {
	refs int
	adj  map[*semSet][]int32
}

// lookup finds set id (sem_obtain_object_check): nil for none, a
// removed one or a stale sequence.
func (s *semState) lookup(id int32) *semSet {
	if id < 0 {
		return nil
	}
	set := s.sets[id%ipcMNI]
	if set == nil || set.seq != id/ipcMNI {
		return nil
	}
	return set
}

// newIndex is the next free set index, -1 for none.
func (s *semState) newIndex() int32 {
	return s.next(func(idx int32) bool { return s.sets[idx] != nil })
}

func sysSemget(t *Task, a *[6]uint64) int64 {
	key, nsems, flags := int32(a[0]), int32(a[1]), uint32(a[2])
	if nsems < 0 || nsems > semmsl {
		return -linux.EINVAL
	}
	c := t.ipcCaller()
	s := &t.p.w.sem
	s.mu.Lock()
	defer s.mu.Unlock()
	if key != ipcPrivate {
		if set := s.byKey[key]; set != nil {
			switch {
			case flags&(ipcCreat|ipcExcl) == ipcCreat|ipcExcl:
				return -linux.EEXIST
			case nsems > int32(len(set.vals)):
				return -linux.EINVAL
			case !c.may(&set.perm, flags):
				return -linux.EACCES
			}
			return int64(set.id())
		}
		if flags&ipcCreat == 0 {
			return -linux.ENOENT
		}
	}
	// newary.
	if nsems == 0 {
		return -linux.EINVAL
	}
	if s.used+int(nsems) > semmns {
		return -linux.ENOSPC
	}
	if mem.KernelShort() {
		return -linux.ENOMEM
	}
	if len(s.sets) >= semmni {
		return -linux.ENOSPC
	}
	idx := s.newIndex()
	if idx < 0 {
		return -linux.ENOSPC
	}
	set := &semSet{
		perm: ipcPerm{key: key, uid: c.euid, gid: c.egid, cuid: c.euid, cgid: c.egid, mode: flags & 0o777},
		idx:  idx, seq: s.seq, vals: make([]int32, nsems), pids: make([]int32, nsems),
		ctime: time.Now().Unix(),
	}
	if s.sets == nil {
		s.sets, s.byKey = map[int32]*semSet{}, map[int32]*semSet{}
	}
	s.sets[idx] = set
	if key != ipcPrivate {
		s.byKey[key] = set
	}
	s.used += int(nsems)
	return int64(set.id())
}

func sysSemop(t *Task, a *[6]uint64) int64 {
	return t.semtimedop(int32(a[0]), a[1], uint32(a[2]), 0)
}

func sysSemtimedop(t *Task, a *[6]uint64) int64 {
	return t.semtimedop(int32(a[0]), a[1], uint32(a[2]), a[3])
}

// semtimedop is semtimedop(2), semop(2) without a timeout (tsAddr 0), in
// the order of Linux's checks (ksys_semtimedop, do_semtimedop,
// __do_semtimedop).
func (t *Task) semtimedop(id int32, sopsAddr uint64, nsops uint32, tsAddr uint64) int64 {
	p := t.p
	var timeout []byte
	if tsAddr != 0 {
		timeout = make([]byte, 16)
		if p.m.CopyIn(tsAddr, timeout) != nil {
			return -linux.EFAULT
		}
	}
	if nsops > semopm {
		return -linux.E2BIG
	}
	if nsops < 1 {
		return -linux.EINVAL
	}
	raw := make([]byte, 6*nsops)
	if p.m.CopyIn(sopsAddr, raw) != nil {
		return -linux.EFAULT
	}
	if id < 0 {
		return -linux.EINVAL
	}
	var deadline time.Time
	if timeout != nil {
		sec, nsec := int64(getU64(timeout)), int64(getU64(timeout[8:]))
		if sec < 0 || nsec < 0 || nsec >= 1e9 {
			return -linux.EINVAL
		}
		sec = min(sec, maxTimeSec)
		deadline = time.Now().Add(time.Duration(sec*1e9 + nsec))
	}
	sops := make([]semBuf, nsops)
	var maxNum uint16
	undo, alter := false, false
	for i := range sops {
		b := raw[6*i:]
		sops[i] = semBuf{num: binary.LittleEndian.Uint16(b), op: int16(binary.LittleEndian.Uint16(b[2:])),
			flag: int16(binary.LittleEndian.Uint16(b[4:]))}
		maxNum = max(maxNum, sops[i].num)
		undo = undo || sops[i].flag&semUndo != 0
		alter = alter || sops[i].op != 0
	}
	c := t.ipcCaller()
	s := &p.w.sem
	s.mu.Lock()
	set := s.lookup(id)
	if set == nil {
		s.mu.Unlock()
		return -linux.EINVAL
	}
	if int(maxNum) >= len(set.vals) {
		s.mu.Unlock()
		return -linux.EFBIG
	}
	mode := uint32(0o444)
	if alter {
		mode = 0o222
	}
	if !c.may(&set.perm, mode) {
		s.mu.Unlock()
		return -linux.EACCES
	}
	var ul *semUndoList
	if undo {
		// find_alloc_undo: the thread's list, made if it has none, with
		// room for this set (ENOMEM when the kernel's memory is short).
		if (t.semUndo == nil || t.semUndo.adj[set] == nil) && mem.KernelShort() {
			s.mu.Unlock()
			return -linux.ENOMEM
		}
		if t.semUndo == nil {
			t.semUndo = &semUndoList{refs: 1}
		}
		ul = t.semUndo
		if ul.adj == nil {
			ul.adj = map[*semSet][]int32{}
		}
		if ul.adj[set] == nil {
			ul.adj[set] = make([]int32, len(set.vals))
			if set.undos == nil {
				set.undos = map[*semUndoList]struct{}{}
			}
			set.undos[ul] = struct{}{}
		}
	}
	w := &semWaiter{sops: sops, undo: ul, pid: c.pid}
	r := set.try(w)
	if r <= 0 {
		if r == 0 {
			s.update(set)
		}
		s.mu.Unlock()
		return r
	}
	w.done = make(chan struct{})
	set.waiters = append(set.waiters, w)
	s.mu.Unlock()

	var expired <-chan time.Time
	if !deadline.IsZero() {
		expired = t.timer.after(time.Until(deadline))
		defer t.timer.stop()
	}
	for {
		select {
		case <-w.done:
			return w.result
		case <-expired:
			return s.abandon(set, w, -linux.EAGAIN)
		case <-t.wake:
			if t.interrupted() {
				return s.abandon(set, w, -linux.EINTR)
			}
		}
	}
}

// abandon takes waiter w off set's queue with result r (a timeout, a
// signal); if it was done meanwhile, its result stands.
func (s *semState) abandon(set *semSet, w *semWaiter, r int64) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, x := range set.waiters {
		if x == w {
			set.waiters = append(set.waiters[:i:i], set.waiters[i+1:]...)
			return r
		}
	}
	return w.result
}

// try is perform_atomic_semop: w's operations done all at once if none
// would take a value below 0 or wait for a 0 that is not there (0), the
// index of the first that would then wait (1, w.blocking; EAGAIN with
// IPC_NOWAIT), ERANGE for a value above SEMVMX or an adjustment beyond
// SEMAEM. Called with mu held.
func (set *semSet) try(w *semWaiter) int64 {
	vals := make(map[uint16]int32, len(w.sops))
	var adj []int32
	if w.undo != nil {
		adj = w.undo.adj[set]
	}
	adjs := map[uint16]int32{}
	for _, op := range w.sops {
		v, ok := vals[op.num]
		if !ok {
			v = set.vals[op.num]
		}
		if op.op == 0 && v != 0 || v+int32(op.op) < 0 {
			w.blocking = op
			if op.flag&ipcNowait != 0 {
				return -linux.EAGAIN
			}
			return 1
		}
		v += int32(op.op)
		if v > semvmx {
			return -linux.ERANGE
		}
		if op.flag&semUndo != 0 {
			a, ok := adjs[op.num]
			if !ok && adj != nil {
				a = adj[op.num]
			}
			a -= int32(op.op)
			if a < -semaem-1 || a > semaem {
				return -linux.ERANGE
			}
			adjs[op.num] = a
		}
		vals[op.num] = v
	}
	for _, op := range w.sops {
		set.vals[op.num] = vals[op.num]
		set.pids[op.num] = w.pid
	}
	if adj != nil {
		for n, a := range adjs {
			adj[n] = a
		}
	}
	set.otime = time.Now().Unix()
	return 0
}

// update lets the waiters whose operations can now be done do them, in
// the order they came, again from the first after each that changed a
// value (update_queue, wake_const_ops). Called with mu held.
func (s *semState) update(set *semSet) {
	for again := true; again; {
		again = false
		for i := 0; i < len(set.waiters); i++ {
			w := set.waiters[i]
			r := set.try(w)
			if r == 1 {
				continue
			}
			set.waiters = append(set.waiters[:i:i], set.waiters[i+1:]...)
			i--
			w.result = r
			close(w.done)
			if r == 0 {
				for _, op := range w.sops {
					if op.op != 0 {
						again = true
					}
				}
			}
			if again {
				break
			}
		}
	}
}

// remove is freeary: the set's waiters fail EIDRM, its undo entries go,
// its key and ID are free. Called with mu held.
func (s *semState) remove(set *semSet) {
	set.removed = true
	for _, w := range set.waiters {
		w.result = -linux.EIDRM
		close(w.done)
	}
	set.waiters = nil
	for ul := range set.undos {
		delete(ul.adj, set)
	}
	set.undos = nil
	if s.byKey[set.perm.key] == set {
		delete(s.byKey, set.perm.key)
	}
	delete(s.sets, set.idx)
	s.used -= len(set.vals)
}

// semCount is count_semcnt: the waiters held up by an operation on
// semaphore n that waits for it to be 0 (zero) or to grow.
func (set *semSet) semCount(n uint16, zero bool) int64 {
	var c int64
	for _, w := range set.waiters {
		b := w.blocking
		if b.num == n && (zero && b.op == 0 || !zero && b.op < 0) {
			c++
		}
	}
	return c
}

func sysSemctl(t *Task, a *[6]uint64) int64 {
	id, num, cmd, arg := int32(a[0]), int32(a[1]), int32(a[2]), a[3]
	if id < 0 {
		return -linux.EINVAL
	}
	p := t.p
	s := &p.w.sem
	switch cmd {
	case ipcInfo, semInfo:
		return t.semInfo(cmd, arg)
	case ipcStat, semStat, semStatAny:
		return t.semStat(id, cmd, arg)
	case semGetall, semGetval, semGetpid, semGetncnt, semGetzcnt, semSetall:
		return t.semMain(id, num, cmd, arg)
	case semSetval:
		return t.semSetval(id, num, int32(arg))
	case ipcSet, ipcRmid:
		var b [104]byte // struct semid64_ds
		if cmd == ipcSet && p.m.CopyIn(arg, b[:]) != nil {
			return -linux.EFAULT
		}
		c := t.ipcCaller()
		s.mu.Lock()
		defer s.mu.Unlock()
		set := s.lookup(id)
		if set == nil {
			return -linux.EINVAL
		}
		if !c.mayChange(&set.perm) {
			return -linux.EPERM
		}
		if cmd == ipcRmid {
			s.remove(set)
			return 0
		}
		uid, gid := binary.LittleEndian.Uint32(b[4:]), binary.LittleEndian.Uint32(b[8:])
		if uid == ^uint32(0) || gid == ^uint32(0) {
			return -linux.EINVAL // ipc_update_perm: not a valid ID
		}
		set.perm.uid, set.perm.gid = uid, gid
		set.perm.mode = set.perm.mode&^0o777 | binary.LittleEndian.Uint32(b[20:])&0o777
		set.ctime = time.Now().Unix()
		return 0
	}
	return -linux.EINVAL
}

// semInfo is IPC_INFO and SEM_INFO (semctl_info): struct seminfo, and
// the highest index in use.
func (t *Task) semInfo(cmd int32, arg uint64) int64 {
	s := &t.p.w.sem
	s.mu.Lock()
	info := [10]int32{semmns, semmni, semmns, semmns, semmsl, semopm, semopm, semusz, semvmx, semaem}
	if cmd == semInfo {
		info[7], info[9] = int32(len(s.sets)), int32(s.used)
	}
	maxIdx := int32(0)
	for idx := range s.sets {
		maxIdx = max(maxIdx, idx)
	}
	s.mu.Unlock()
	var b [40]byte
	for i, v := range info {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(v))
	}
	if t.p.m.CopyOut(arg, b[:]) != nil {
		return -linux.EFAULT
	}
	return int64(maxIdx)
}

// semStat is IPC_STAT of set id, or SEM_STAT and SEM_STAT_ANY of the set
// at index id, which return its ID (semctl_stat): struct semid64_ds.
func (t *Task) semStat(id, cmd int32, arg uint64) int64 {
	c := t.ipcCaller()
	s := &t.p.w.sem
	s.mu.Lock()
	var set *semSet
	if cmd == ipcStat {
		set = s.lookup(id)
	} else {
		set = s.sets[id%ipcMNI] // sem_obtain_object: an index
	}
	if set == nil {
		s.mu.Unlock()
		return -linux.EINVAL
	}
	if cmd != semStatAny && !c.may(&set.perm, 0o444) {
		s.mu.Unlock()
		return -linux.EACCES
	}
	var b [104]byte
	le := binary.LittleEndian
	le.PutUint32(b[0:], uint32(set.perm.key))
	le.PutUint32(b[4:], set.perm.uid)
	le.PutUint32(b[8:], set.perm.gid)
	le.PutUint32(b[12:], set.perm.cuid)
	le.PutUint32(b[16:], set.perm.cgid)
	le.PutUint32(b[20:], set.perm.mode)
	le.PutUint16(b[24:], uint16(set.seq))
	le.PutUint64(b[48:], uint64(set.otime))
	le.PutUint64(b[64:], uint64(set.ctime))
	le.PutUint64(b[80:], uint64(len(set.vals)))
	r := int64(0)
	if cmd != ipcStat {
		r = int64(set.id())
	}
	s.mu.Unlock()
	if t.p.m.CopyOut(arg, b[:]) != nil {
		return -linux.EFAULT
	}
	return r
}

// semMain is semctl_main: GETALL and SETALL of the whole set (an array
// of unsigned shorts at arg), GETVAL, GETPID, GETNCNT and GETZCNT of
// semaphore num.
func (t *Task) semMain(id, num, cmd int32, arg uint64) int64 {
	c := t.ipcCaller()
	p := t.p
	s := &p.w.sem
	s.mu.Lock()
	defer s.mu.Unlock()
	set := s.lookup(id)
	if set == nil {
		return -linux.EINVAL
	}
	mode := uint32(0o444)
	if cmd == semSetall {
		mode = 0o222
	}
	if !c.may(&set.perm, mode) {
		return -linux.EACCES
	}
	n := len(set.vals)
	switch cmd {
	case semGetall:
		b := make([]byte, 2*n)
		for i, v := range set.vals {
			binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
		}
		return errno(p.m.CopyOut(arg, b))
	case semSetall:
		b := make([]byte, 2*n)
		if p.m.CopyIn(arg, b) != nil {
			return -linux.EFAULT
		}
		for i := range n {
			if binary.LittleEndian.Uint16(b[2*i:]) > semvmx {
				return -linux.ERANGE
			}
		}
		for ul := range set.undos {
			clear(ul.adj[set])
		}
		for i := range n {
			set.vals[i] = int32(binary.LittleEndian.Uint16(b[2*i:]))
			set.pids[i] = c.pid
		}
		set.ctime = time.Now().Unix()
		s.update(set)
		return 0
	}
	if num < 0 || int(num) >= n {
		return -linux.EINVAL
	}
	switch cmd {
	case semGetval:
		return int64(set.vals[num])
	case semGetpid:
		return int64(set.pids[num])
	case semGetncnt:
		return set.semCount(uint16(num), false)
	}
	return set.semCount(uint16(num), true)
}

// semSetval is SETVAL (semctl_setval): every undo list's adjustment of
// the semaphore cleared, the waiters it lets go woken.
func (t *Task) semSetval(id, num, val int32) int64 {
	if val < 0 || val > semvmx {
		return -linux.ERANGE
	}
	c := t.ipcCaller()
	s := &t.p.w.sem
	s.mu.Lock()
	defer s.mu.Unlock()
	set := s.lookup(id)
	if set == nil {
		return -linux.EINVAL
	}
	if num < 0 || int(num) >= len(set.vals) {
		return -linux.EINVAL
	}
	if !c.may(&set.perm, 0o222) {
		return -linux.EACCES
	}
	for ul := range set.undos {
		ul.adj[set][num] = 0
	}
	set.vals[num], set.pids[num] = val, c.pid
	set.ctime = time.Now().Unix()
	s.update(set)
	return 0
}

// shareSemUndo gives thread c its creator's undo list (CLONE_SYSVSEM:
// copy_semundo makes one if there is none, so that both share it).
func (t *Task) shareSemUndo(c *Task) {
	s := &t.p.w.sem
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.semUndo == nil {
		t.semUndo = &semUndoList{refs: 1}
	}
	t.semUndo.refs++
	c.semUndo = t.semUndo
}

// exitSem is exit_sem: the thread leaves its undo list; the last to
// leave it adds each adjustment back to its semaphore (kept within 0 and
// SEMVMX) and wakes the waiters that lets go.
func (t *Task) exitSem() {
	s := &t.p.w.sem
	s.mu.Lock()
	defer s.mu.Unlock()
	ul := t.semUndo
	t.semUndo = nil
	if ul == nil {
		return
	}
	if ul.refs--; ul.refs > 0 {
		return
	}
	for set, adj := range ul.adj {
		delete(set.undos, ul)
		for i, a := range adj {
			if a == 0 {
				continue
			}
			set.vals[i] = min(max(set.vals[i]+a, 0), semvmx)
			set.pids[i] = t.p.pid
		}
		s.update(set)
	}
	ul.adj = nil
}
