package north

import (
	"encoding/binary"
	"math"
	"sync"
	"time"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// System V message queues (msgget(2), msgsnd(2), msgrcv(2), msgctl(2);
// ipc/msg.c) in the guest's one IPC namespace: typed messages, a sender
// waiting for room, a receiver waiting for a message of the type it
// asks for, which a sender hands it directly (pipelined_send).

// msgCalls are the system calls this file serves (registerAll).
var msgCalls = [...]call{
	{68, sysMsgget}, // msgget
	{69, sysMsgsnd}, // msgsnd
	{70, sysMsgrcv}, // msgrcv
	{71, sysMsgctl}, // msgctl
}

func init() { registerAll(msgCalls[:]) }

// Limits, flags and commands (include/uapi/linux/msg.h; Linux 6.x's
// kernel.msgmax, msgmnb and msgmni defaults).
const (
	msgmax     = 8192  // MSGMAX: the largest message
	msgmnb     = 16384 // MSGMNB: a new queue's bytes
	msgmni     = 32000 // MSGMNI: queues
	msgssz     = 16    // MSGSSZ
	msgseg     = 0xffff
	msgpool    = msgmni * msgmnb / 1024
	msgNoerror = 0o10000 // MSG_NOERROR
	msgExcept  = 0o20000 // MSG_EXCEPT
	msgCopy    = 0o40000 // MSG_COPY
	msgStat    = 11      // MSG_STAT
	msgInfo    = 12      // MSG_INFO
	msgStatAny = 13      // MSG_STAT_ANY
)

// msgState is the guest's message queues.
type msgState struct {
	mu     sync.Mutex
	queues map[int32]*msgQueue // by index
	byKey  map[int32]*msgQueue
	ipcIndex
	// bytes and count are the messages queued in all queues (MSG_INFO).
	bytes, count int64
}

// msgQueue is one queue (struct msg_queue).
type msgQueue struct {
	perm         ipcPerm
	idx, seq     int32
	msgs         []*sysvMsg
	cbytes       int64
	qbytes       uint64
	stime, rtime int64
	ctime        int64
	lspid, lrpid int32
	receivers    []*msgReceiver
	// room is closed (and replaced) when senders waiting for room should
	// look again: a message taken, the limit changed, the queue removed.
	room    chan struct{}
	removed bool
}

func (q *msgQueue) id() int32 { return q.seq*ipcMNI + q.idx }

type sysvMsg struct {
	typ  int64
	text []byte
}

// msgReceiver is a msgrcv waiting for a message.
type msgReceiver struct {
	typ     int64
	mode    int
	maxSize int64
	pid     int32
	done    chan struct{}
	msg     *sysvMsg
	err     int64 // E2BIG, EIDRM; EAGAIN: look again (expunge_all)
}

// Search modes (convert_mode).
const (
	searchAny = iota
	searchEqual
	searchNotEqual
	searchLessEqual
	searchNumber
)

func (s *msgState) lookup(id int32) *msgQueue {
	if id < 0 {
		return nil
	}
	q := s.queues[id%ipcMNI]
	if q == nil || q.seq != id/ipcMNI {
		return nil
	}
	return q
}

// newIndex is the next free queue index, -1 for none.
func (s *msgState) newIndex() int32 {
	return s.next(func(idx int32) bool { return s.queues[idx] != nil })
}

func sysMsgget(t *Task, a *[6]uint64) int64 {
	key, flags := int32(a[0]), uint32(a[1])
	c := t.ipcCaller()
	s := &t.p.w.msg
	s.mu.Lock()
	defer s.mu.Unlock()
	if key != ipcPrivate {
		if q := s.byKey[key]; q != nil {
			switch {
			case flags&(ipcCreat|ipcExcl) == ipcCreat|ipcExcl:
				return -linux.EEXIST
			case !c.may(&q.perm, flags):
				return -linux.EACCES
			}
			return int64(q.id())
		}
		if flags&ipcCreat == 0 {
			return -linux.ENOENT
		}
	}
	if mem.KernelShort() {
		return -linux.ENOMEM
	}
	if len(s.queues) >= msgmni {
		return -linux.ENOSPC
	}
	idx := s.newIndex()
	if idx < 0 {
		return -linux.ENOSPC
	}
	q := &msgQueue{
		perm: ipcPerm{key: key, uid: c.euid, gid: c.egid, cuid: c.euid, cgid: c.egid, mode: flags & 0o777},
		idx:  idx, seq: s.seq, qbytes: msgmnb, ctime: time.Now().Unix(), room: make(chan struct{}),
	}
	if s.queues == nil {
		s.queues, s.byKey = map[int32]*msgQueue{}, map[int32]*msgQueue{}
	}
	s.queues[idx] = q
	if key != ipcPrivate {
		s.byKey[key] = q
	}
	return int64(q.id())
}

// fits is msg_fits_inqueue.
func (q *msgQueue) fits(n int64) bool {
	return uint64(n+q.cbytes) <= q.qbytes && uint64(1+len(q.msgs)) <= q.qbytes
}

// wakeSenders has the senders waiting for room look again.
func (q *msgQueue) wakeSenders() {
	close(q.room)
	q.room = make(chan struct{})
}

// matches is testmsg.
func matches(m *sysvMsg, typ int64, mode int) bool {
	switch mode {
	case searchEqual:
		return m.typ == typ
	case searchNotEqual:
		return m.typ != typ
	case searchLessEqual:
		return m.typ <= typ
	}
	return true
}

func sysMsgsnd(t *Task, a *[6]uint64) int64 {
	id, addr, size, flags := int32(a[0]), a[1], a[2], uint32(a[3])
	p := t.p
	var tb [8]byte
	if p.m.CopyIn(addr, tb[:]) != nil {
		return -linux.EFAULT
	}
	typ := int64(binary.LittleEndian.Uint64(tb[:]))
	if size > msgmax || id < 0 {
		return -linux.EINVAL
	}
	if typ < 1 {
		return -linux.EINVAL
	}
	if mem.KernelShort() {
		return -linux.ENOMEM
	}
	m := &sysvMsg{typ: typ, text: make([]byte, size)}
	if p.m.CopyIn(addr+8, m.text) != nil {
		return -linux.EFAULT
	}
	c := t.ipcCaller()
	s := &p.w.msg
	s.mu.Lock()
	q := s.lookup(id)
	if q == nil {
		s.mu.Unlock()
		return -linux.EINVAL
	}
	for {
		if !c.may(&q.perm, 0o222) {
			s.mu.Unlock()
			return -linux.EACCES
		}
		if q.removed {
			s.mu.Unlock()
			return -linux.EIDRM
		}
		if q.fits(int64(size)) {
			break
		}
		if flags&ipcNowait != 0 {
			s.mu.Unlock()
			return -linux.EAGAIN
		}
		room := q.room
		s.mu.Unlock()
		select {
		case <-room:
		case <-t.wake:
			if t.interrupted() {
				return -linux.EINTR
			}
		}
		s.mu.Lock()
	}
	defer s.mu.Unlock()
	q.lspid, q.stime = c.pid, time.Now().Unix()
	// pipelined_send: the first receiver waiting for such a message
	// takes it; one whose buffer is too small fails E2BIG meanwhile.
	for i := 0; i < len(q.receivers); i++ {
		r := q.receivers[i]
		if !matches(m, r.typ, r.mode) {
			continue
		}
		q.receivers = append(q.receivers[:i:i], q.receivers[i+1:]...)
		i--
		if r.maxSize < int64(len(m.text)) {
			r.err = -linux.E2BIG
			close(r.done)
			continue
		}
		q.lrpid, q.rtime = r.pid, time.Now().Unix()
		r.msg = m
		close(r.done)
		return 0
	}
	q.msgs = append(q.msgs, m)
	q.cbytes += int64(size)
	s.bytes += int64(size)
	s.count++
	return 0
}

func sysMsgrcv(t *Task, a *[6]uint64) int64 {
	id, addr, size, typ, flags := int32(a[0]), a[1], int64(a[2]), int64(a[3]), uint32(a[4])
	p := t.p
	if id < 0 || size < 0 {
		return -linux.EINVAL
	}
	if flags&msgCopy != 0 && (flags&msgExcept != 0 || flags&ipcNowait == 0) {
		return -linux.EINVAL
	}
	// convert_mode.
	mode := searchEqual
	switch {
	case flags&msgCopy != 0:
		mode = searchNumber
	case typ == 0:
		mode = searchAny
	case typ < 0:
		mode = searchLessEqual
		if typ == math.MinInt64 {
			typ = math.MaxInt64
		} else {
			typ = -typ
		}
	case flags&msgExcept != 0:
		mode = searchNotEqual
	}
	c := t.ipcCaller()
	s := &p.w.msg
	s.mu.Lock()
	q := s.lookup(id)
	if q == nil {
		s.mu.Unlock()
		return -linux.EINVAL
	}
	var m *sysvMsg
	for {
		if !c.may(&q.perm, 0o444) {
			s.mu.Unlock()
			return -linux.EACCES
		}
		if q.removed {
			s.mu.Unlock()
			return -linux.EIDRM
		}
		i := q.find(typ, mode)
		if i >= 0 {
			found := q.msgs[i]
			if size < int64(len(found.text)) && flags&msgNoerror == 0 {
				s.mu.Unlock()
				return -linux.E2BIG
			}
			if flags&msgCopy != 0 {
				if len(found.text) > min(int(size), msgmax) {
					s.mu.Unlock()
					return -linux.EINVAL // copy_msg: the copy is smaller
				}
				m = found
				break
			}
			q.msgs = append(q.msgs[:i:i], q.msgs[i+1:]...)
			q.cbytes -= int64(len(found.text))
			s.bytes -= int64(len(found.text))
			s.count--
			q.rtime, q.lrpid = time.Now().Unix(), c.pid
			q.wakeSenders()
			m = found
			break
		}
		if flags&ipcNowait != 0 {
			s.mu.Unlock()
			return -linux.ENOMSG
		}
		r := &msgReceiver{typ: typ, mode: mode, maxSize: size, pid: c.pid, done: make(chan struct{})}
		if flags&msgNoerror != 0 {
			r.maxSize = math.MaxInt32
		}
		q.receivers = append(q.receivers, r)
		s.mu.Unlock()
		interrupted := false
		select {
		case <-r.done:
		case <-t.wake:
			interrupted = t.interrupted()
		}
		s.mu.Lock()
		if r.msg != nil {
			m = r.msg
			break
		}
		q.dropReceiver(r)
		switch {
		case interrupted:
			s.mu.Unlock()
			return -linux.EINTR
		case r.err != 0 && r.err != -linux.EAGAIN:
			s.mu.Unlock()
			return r.err
		}
		// Nothing handed over: look again (EAGAIN from expunge_all).
	}
	s.mu.Unlock()
	// do_msg_fill: the type, then as much of the text as fits.
	var tb [8]byte
	binary.LittleEndian.PutUint64(tb[:], uint64(m.typ))
	if p.m.CopyOut(addr, tb[:]) != nil {
		return -linux.EFAULT
	}
	n := min(int64(len(m.text)), size)
	if p.m.CopyOut(addr+8, m.text[:n]) != nil {
		return -linux.EFAULT
	}
	return n
}

// find is find_msg: the index of the message a receive of typ in mode
// takes, or -1.
func (q *msgQueue) find(typ int64, mode int) int {
	found := -1
	var count int64
	for i, m := range q.msgs {
		if !matches(m, typ, mode) {
			continue
		}
		switch {
		case mode == searchLessEqual && m.typ != 1:
			typ, found = m.typ-1, i
		case mode == searchNumber:
			if typ == count {
				return i
			}
		default:
			return i
		}
		count++
	}
	return found
}

// dropReceiver takes r off the queue's receivers, if still there.
func (q *msgQueue) dropReceiver(r *msgReceiver) {
	for i, x := range q.receivers {
		if x == r {
			q.receivers = append(q.receivers[:i:i], q.receivers[i+1:]...)
			return
		}
	}
}

// expunge wakes every waiting receiver with error e (expunge_all).
func (q *msgQueue) expunge(e int64) {
	for _, r := range q.receivers {
		r.err = e
		close(r.done)
	}
	q.receivers = nil
}

func sysMsgctl(t *Task, a *[6]uint64) int64 {
	id, cmd, buf := int32(a[0]), int32(a[1]), a[2]
	if id < 0 || cmd < 0 {
		return -linux.EINVAL
	}
	p := t.p
	s := &p.w.msg
	switch cmd {
	case ipcInfo, msgInfo:
		return t.msgInfo(cmd, buf)
	case ipcStat, msgStat, msgStatAny:
		return t.msgStat(id, cmd, buf)
	case ipcSet, ipcRmid:
		var b [120]byte // struct msqid64_ds
		if cmd == ipcSet && p.m.CopyIn(buf, b[:]) != nil {
			return -linux.EFAULT
		}
		c := t.ipcCaller()
		resource := t.Capable(capSysResource)
		s.mu.Lock()
		defer s.mu.Unlock()
		q := s.lookup(id)
		if q == nil {
			return -linux.EINVAL
		}
		if !c.mayChange(&q.perm) {
			return -linux.EPERM
		}
		if cmd == ipcRmid {
			// freeque: waiters fail EIDRM, the messages go.
			q.removed = true
			q.expunge(-linux.EIDRM)
			q.wakeSenders()
			for _, m := range q.msgs {
				s.bytes -= int64(len(m.text))
				s.count--
			}
			q.msgs = nil
			if s.byKey[q.perm.key] == q {
				delete(s.byKey, q.perm.key)
			}
			delete(s.queues, q.idx)
			return 0
		}
		le := binary.LittleEndian
		qbytes := le.Uint64(b[88:])
		if qbytes > msgmnb && !resource {
			return -linux.EPERM
		}
		uid, gid := le.Uint32(b[4:]), le.Uint32(b[8:])
		if uid == ^uint32(0) || gid == ^uint32(0) {
			return -linux.EINVAL
		}
		q.perm.uid, q.perm.gid = uid, gid
		q.perm.mode = q.perm.mode&^0o777 | le.Uint32(b[20:])&0o777
		q.qbytes = qbytes
		q.ctime = time.Now().Unix()
		q.expunge(-linux.EAGAIN) // receivers look again, under the new permissions
		q.wakeSenders()
		return 0
	}
	return -linux.EINVAL
}

// msgInfo is IPC_INFO and MSG_INFO (msgctl_info): struct msginfo, and
// the highest index in use.
func (t *Task) msgInfo(cmd int32, buf uint64) int64 {
	s := &t.p.w.msg
	s.mu.Lock()
	// msgpool, msgmap, msgmax, msgmnb, msgmni, msgssz, msgtql, msgseg
	info := [7]int32{msgpool, msgmnb, msgmax, msgmnb, msgmni, msgssz, msgmnb}
	if cmd == msgInfo {
		info[0] = int32(len(s.queues))
		info[1] = int32(min(s.count, math.MaxInt32))
		info[6] = int32(min(s.bytes, math.MaxInt32))
	}
	maxIdx := int32(0)
	for idx := range s.queues {
		maxIdx = max(maxIdx, idx)
	}
	s.mu.Unlock()
	var b [32]byte
	for i, v := range info {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(v))
	}
	binary.LittleEndian.PutUint16(b[28:], msgseg)
	if t.p.m.CopyOut(buf, b[:]) != nil {
		return -linux.EFAULT
	}
	return int64(maxIdx)
}

// msgStat is IPC_STAT of queue id, or MSG_STAT and MSG_STAT_ANY of the
// queue at index id, which return its ID (msgctl_stat): struct
// msqid64_ds.
func (t *Task) msgStat(id, cmd int32, buf uint64) int64 {
	c := t.ipcCaller()
	s := &t.p.w.msg
	s.mu.Lock()
	var q *msgQueue
	if cmd == ipcStat {
		q = s.lookup(id)
	} else {
		q = s.queues[id%ipcMNI]
	}
	if q == nil {
		s.mu.Unlock()
		return -linux.EINVAL
	}
	if cmd != msgStatAny && !c.may(&q.perm, 0o444) {
		s.mu.Unlock()
		return -linux.EACCES
	}
	var b [120]byte
	le := binary.LittleEndian
	le.PutUint32(b[0:], uint32(q.perm.key))
	le.PutUint32(b[4:], q.perm.uid)
	le.PutUint32(b[8:], q.perm.gid)
	le.PutUint32(b[12:], q.perm.cuid)
	le.PutUint32(b[16:], q.perm.cgid)
	le.PutUint32(b[20:], q.perm.mode)
	le.PutUint16(b[24:], uint16(q.seq))
	le.PutUint64(b[48:], uint64(q.stime))
	le.PutUint64(b[56:], uint64(q.rtime))
	le.PutUint64(b[64:], uint64(q.ctime))
	le.PutUint64(b[72:], uint64(q.cbytes))
	le.PutUint64(b[80:], uint64(len(q.msgs)))
	le.PutUint64(b[88:], q.qbytes)
	le.PutUint32(b[96:], uint32(q.lspid))
	le.PutUint32(b[100:], uint32(q.lrpid))
	r := int64(0)
	if cmd != ipcStat {
		r = int64(q.id())
	}
	s.mu.Unlock()
	if t.p.m.CopyOut(buf, b[:]) != nil {
		return -linux.EFAULT
	}
	return r
}
