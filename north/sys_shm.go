package north

import (
	"encoding/binary"
	"sync"
	"time"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// System V shared memory: a segment is an unnamed tmpfs file, as on Linux
// (ipc/shm.c), and shmat maps it shared (mm.go).

// shmCalls are the system calls this file serves (registerAll).
var shmCalls = [...]call{
	{29, sysShmget}, // shmget
	{30, sysShmat},  // shmat
	{31, sysShmctl}, // shmctl
	{67, sysShmdt},  // shmdt
}

func init() { registerAll(shmCalls[:]) }

// Flags and commands (include/uapi/linux/ipc.h, shm.h).
const (
	ipcPrivate = 0
	ipcCreat   = 0o1000
	ipcExcl    = 0o2000
	ipcRmid    = 0
	ipcSet     = 1
	ipcStat    = 2
	ipc64      = 0x100 // IPC_64, which glibc ORs into the command
	shmHugetlb = 0o4000
	shmRdonly  = 0o10000
	shmRnd     = 0o20000
	shmRemap   = 0o40000
	shmExec    = 0o100000
	shmmax     = 1<<63 - 1<<24 // SHMMAX's default (ULONG_MAX - 2^24), within int64
	shmmni     = 4096          // SHMMNI: segments at most
)

// shmSegment is one segment.
type shmSegment struct {
	id, key  int32
	size     uint64
	base     mem.Pager // holds the file while the segment exists
	mode     uint32    // permission bits
	uid, gid uint32
	cuid     uint32
	cgid     uint32
	cpid     int32
	lpid     int32
	nattch   int
	removed  bool // IPC_RMID: goes with its last detach
	atime    int64
	dtime    int64
	ctime    int64
}

// shmState is the guest's segments (one IPC namespace, the world's).
// Segments outlive the attachments (until IPC_RMID); each process has
// its own attachments (Process.shmAttach, guarded by mu), which fork
// copies and exit and execve detach.
type shmState struct {
	mu     sync.Mutex
	nextID int32
	segs   map[int32]*shmSegment
	byKey  map[int32]*shmSegment
}

func sysShmget(t *Task, a *[6]uint64) int64 {
	key, size, flags := int32(a[0]), a[1], uint32(a[2])
	p := t.p
	s := &p.w.shm
	s.mu.Lock()
	defer s.mu.Unlock()
	if flags&shmHugetlb != 0 {
		return -linux.EINVAL // no huge page pool
	}
	if key != ipcPrivate {
		if seg := s.byKey[key]; seg != nil {
			if flags&(ipcCreat|ipcExcl) == ipcCreat|ipcExcl {
				return -linux.EEXIST
			}
			if size > seg.size {
				return -linux.EINVAL
			}
			return int64(seg.id)
		}
		if flags&ipcCreat == 0 {
			return -linux.ENOENT
		}
	}
	if size < 1 || size > shmmax {
		return -linux.EINVAL
	}
	if len(s.segs) >= shmmni {
		return -linux.ENOSPC
	}
	if p.files == nil {
		return -linux.ENOSYS
	}
	base, err := p.files.MapAnon(int64(size), nil)
	if err != nil {
		return errno(err)
	}
	if s.segs == nil {
		s.segs, s.byKey = map[int32]*shmSegment{}, map[int32]*shmSegment{}
	}
	// IDs as Linux makes them: index plus a sequence times SEQ_MULTIPLIER
	// (32768); one sequence here.
	s.nextID++
	now := time.Now().Unix()
	seg := &shmSegment{id: s.nextID, key: key, size: size, base: base, mode: flags & 0o777,
		cpid: p.pid, ctime: now}
	s.segs[seg.id] = seg
	if key != ipcPrivate {
		s.byKey[key] = seg
	}
	return int64(seg.id)
}

func sysShmat(t *Task, a *[6]uint64) int64 {
	id, addr, flags := int32(a[0]), a[1], uint32(a[2])
	p := t.p
	s := &p.w.shm
	s.mu.Lock()
	seg := s.segs[id]
	s.mu.Unlock()
	if seg == nil {
		return -linux.EINVAL
	}
	if addr%mem.PageSize != 0 {
		if flags&shmRnd == 0 {
			return -linux.EINVAL
		}
		addr &^= mem.PageSize - 1 // SHMLBA is the page size on x86
	}
	prot := uint64(mem.Read | mem.Write)
	if flags&shmRdonly != 0 {
		prot = uint64(mem.Read)
	}
	if flags&shmExec != 0 {
		prot |= uint64(mem.Exec)
	}
	ps, ok := p.m.(pagedSpace)
	if !ok {
		return -linux.ENOSYS
	}
	length := pageUp(seg.size)
	p.mm.mu.Lock()
	defer p.mm.mu.Unlock()
	fixed := addr != 0
	if fixed && flags&shmRemap == 0 && !p.rangeFree(addr, length) {
		return -linux.EINVAL
	}
	v := &fileVMA{shared: true, mayWrite: true, shmem: true}
	v.pager = seg.base.Clone(p.invalidator(v))
	if fixed {
		p.forget(addr, addr+length)
	}
	got, err := ps.MapFilled(addr, length, mem.Prot(prot), fixed, mapKey(v.pager, v.pgoff, false))
	if err != nil {
		v.pager.Unmap()
		return errno(err)
	}
	v.start, v.end = got, got+length
	p.addVMA(v)
	s.mu.Lock()
	seg.nattch++
	seg.atime, seg.lpid = time.Now().Unix(), p.pid
	if p.shmAttach == nil {
		p.shmAttach = map[uint64]*shmSegment{}
	}
	p.shmAttach[got] = seg
	s.mu.Unlock()
	return int64(got)
}

func sysShmdt(t *Task, a *[6]uint64) int64 {
	addr := a[0]
	p := t.p
	s := &p.w.shm
	p.mm.mu.Lock()
	defer p.mm.mu.Unlock()
	s.mu.Lock()
	seg := p.shmAttach[addr]
	if seg == nil {
		s.mu.Unlock()
		return -linux.EINVAL
	}
	delete(p.shmAttach, addr)
	gone := s.detach(seg, p.pid)
	s.mu.Unlock()
	length := pageUp(seg.size)
	p.noteVMPeak()
	p.forget(addr, addr+length)
	p.m.Unmap(addr, length)
	if gone {
		seg.base.Unmap()
	}
	return 0
}

func sysShmctl(t *Task, a *[6]uint64) int64 {
	id, cmd, buf := int32(a[0]), a[1]&^ipc64, a[2]
	p := t.p
	s := &p.w.shm
	s.mu.Lock()
	defer s.mu.Unlock()
	seg := s.segs[id]
	if seg == nil {
		return -linux.EINVAL
	}
	switch cmd {
	case ipcRmid:
		// The ID stays valid (and attachable, as Linux allows) until the
		// last detach; the key is free at once.
		if s.byKey[seg.key] == seg {
			delete(s.byKey, seg.key)
		}
		seg.key, seg.removed = ipcPrivate, true
		if seg.nattch == 0 {
			delete(s.segs, id)
			seg.base.Unmap()
		}
		return 0
	case ipcStat:
		return errno(p.m.CopyOut(buf, seg.stat()))
	case ipcSet:
		var b [48]byte // struct ipc64_perm
		if err := p.m.CopyIn(buf, b[:]); err != nil {
			return -linux.EFAULT
		}
		seg.uid = binary.LittleEndian.Uint32(b[4:])
		seg.gid = binary.LittleEndian.Uint32(b[8:])
		seg.mode = uint32(binary.LittleEndian.Uint16(b[20:])) & 0o777
		seg.ctime = time.Now().Unix()
		return 0
	}
	// IPC_INFO, SHM_INFO, SHM_STAT, SHM_LOCK and SHM_UNLOCK are not
	// served.
	return -linux.EINVAL
}

// stat is the segment as struct shmid64_ds (include/uapi/asm-generic/
// shmbuf.h, 64-bit; struct ipc64_perm from ipcbuf.h): 112 bytes.
func (seg *shmSegment) stat() []byte {
	b := make([]byte, 112)
	le := binary.LittleEndian
	le.PutUint32(b[0:], uint32(seg.key))
	le.PutUint32(b[4:], seg.uid)
	le.PutUint32(b[8:], seg.gid)
	le.PutUint32(b[12:], seg.cuid)
	le.PutUint32(b[16:], seg.cgid)
	mode := seg.mode
	if seg.removed {
		mode |= 0o1000 // SHM_DEST
	}
	le.PutUint16(b[20:], uint16(mode))
	le.PutUint64(b[48:], seg.size)
	le.PutUint64(b[56:], uint64(seg.atime))
	le.PutUint64(b[64:], uint64(seg.dtime))
	le.PutUint64(b[72:], uint64(seg.ctime))
	le.PutUint32(b[80:], uint32(seg.cpid))
	le.PutUint32(b[84:], uint32(seg.lpid))
	le.PutUint64(b[88:], uint64(seg.nattch))
	return b
}

// detach counts one attachment of seg less, by process pid, and reports
// whether that was the last of a removed segment, which is then gone (the
// caller unmaps its base). Called with mu held.
func (s *shmState) detach(seg *shmSegment, pid int32) bool {
	seg.nattch--
	seg.dtime, seg.lpid = time.Now().Unix(), pid
	gone := seg.removed && seg.nattch == 0
	if gone {
		delete(s.segs, seg.id)
	}
	return gone
}

// forkShm gives child c the parent's attachments (fork(2): "attached
// System V shared memory segments are attached in the child").
func (p *Process) forkShm(c *Process, dontfork []span) {
	s := &p.w.shm
	s.mu.Lock()
	defer s.mu.Unlock()
	for addr, seg := range p.shmAttach {
		if inSpans(dontfork, addr) {
			continue // MADV_DONTFORK: not the child's (dup_mmap)
		}
		if c.shmAttach == nil {
			c.shmAttach = map[uint64]*shmSegment{}
		}
		c.shmAttach[addr] = seg
		seg.nattch++
	}
}

// detachShm detaches all of the process's segments (exit, execve); the
// caller unmaps the address space.
func (p *Process) detachShm() {
	s := &p.w.shm
	s.mu.Lock()
	var gone []*shmSegment
	for _, seg := range p.shmAttach {
		if s.detach(seg, p.pid) {
			gone = append(gone, seg)
		}
	}
	p.shmAttach = nil
	s.mu.Unlock()
	for _, seg := range gone {
		seg.base.Unmap()
	}
}
