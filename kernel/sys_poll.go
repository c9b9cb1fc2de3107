package kernel

// eventfd and epoll for the kernel's runtime. Go's netpoller exists in
// every program with timers: it creates an epoll instance and an eventfd,
// and parks idle threads in epoll_pwait with a timeout; another thread
// wakes it by writing the eventfd (netpollBreak). The kernel runtime has no
// other files, so this is all it needs. Trap context.

import (
	"github.com/cocoon-vm/cocoon/kernel/cpu"
	"github.com/cocoon-vm/cocoon/kernel/linux"
)

const (
	kfdBase  = 3 // the first descriptor number handed out
	kfdMax   = 16
	kfdFree  = 0
	kfdEpoll = 1
	kfdEvent = 2
)

// kfile is one open file of the kernel's runtime.
type kfile struct {
	kind  uint8
	count uint64 // eventfd counter
	// epoll: the one watched eventfd (descriptor, events, user data).
	watchFd     int64
	watchEvents uint32
	watchData   uint64
}

var kfds [kfdMax]kfile

//go:nosplit
func kfdGet(fd int64) *kfile {
	if fd < kfdBase || fd >= kfdBase+kfdMax || kfds[fd-kfdBase].kind == kfdFree {
		return nil
	}
	return &kfds[fd-kfdBase]
}

//go:nosplit
func kfdAlloc(kind uint8) int64 {
	for i := range kfds {
		if kfds[i].kind == kfdFree {
			kfds[i] = kfile{kind: kind, watchFd: -1}
			return int64(i) + kfdBase
		}
	}
	return -linux.EMFILE
}

//go:nosplit
func sysClose(fd int64) int64 {
	k := kfdGet(fd)
	if k == nil {
		return -linux.EBADF
	}
	k.kind = kfdFree
	return 0
}

//go:nosplit
func sysEventfd2(initval uint64) int64 {
	fd := kfdAlloc(kfdEvent)
	if fd >= 0 {
		kfds[fd-kfdBase].count = uint64(uint32(initval))
	}
	return fd
}

//go:nosplit
func sysEpollCreate() int64 { return kfdAlloc(kfdEpoll) }

// sysEpollCtl accepts only eventfds as targets, one per epoll instance.
//
//go:nosplit
func sysEpollCtl(epfd int64, op uint64, fd int64, event uintptr) int64 {
	ep := kfdGet(epfd)
	if ep == nil || ep.kind != kfdEpoll {
		return -linux.EBADF
	}
	t := kfdGet(fd)
	if t == nil {
		return -linux.EBADF
	}
	if t.kind != kfdEvent {
		return -linux.EPERM
	}
	switch op {
	case linux.EpollCtlAdd, linux.EpollCtlMod:
		// struct epoll_event is packed on x86-64: events (u32), data (u64).
		if !accessible(event, 12, false) {
			return -linux.EFAULT
		}
		if op == linux.EpollCtlAdd && ep.watchFd >= 0 {
			return -linux.EEXIST
		}
		ep.watchFd = fd
		ep.watchEvents = *cpu.Ptr32(event)
		ep.watchData = *cpu.Ptr64(event + 4)
		return 0
	case linux.EpollCtlDel:
		if ep.watchFd != fd {
			return -linux.ENOENT
		}
		ep.watchFd = -1
		return 0
	}
	return -linux.EINVAL
}

//go:nosplit
func sysEpollPwait(f *cpu.Frame, epfd int64, events uintptr, max, timeoutMs int64) int64 {
	ep := kfdGet(epfd)
	if ep == nil || ep.kind != kfdEpoll {
		return -linux.EBADF
	}
	if max <= 0 {
		return -linux.EINVAL
	}
	if !accessible(events, 12, true) {
		return -linux.EFAULT
	}
	if t := kfdGet(ep.watchFd); t != nil && t.kind == kfdEvent && t.count > 0 && ep.watchEvents&linux.EpollIn != 0 {
		*cpu.Ptr32(events) = linux.EpollIn
		*cpu.Ptr64(events + 4) = ep.watchData
		return 1
	}
	if timeoutMs == 0 {
		return 0
	}
	var deadline int64
	if timeoutMs > 0 {
		deadline = nanotime() + timeoutMs*1_000_000
	}
	// Woken by an eventfd write, the call runs again and finds it ready.
	block(f, addrOf((*byte)(ptrOf(ep))), deadline, 0, linux.SysEpollPwait)
	return blocked
}

//go:nosplit
func kfdWrite(fd int64, buf, n uintptr) int64 {
	k := kfdGet(fd)
	if k == nil {
		return -linux.EBADF
	}
	if k.kind != kfdEvent || n < 8 {
		return -linux.EINVAL
	}
	v, ok := get64(buf)
	if !ok {
		return -linux.EFAULT
	}
	if v == ^uint64(0) || k.count+v < k.count || k.count+v == ^uint64(0) {
		return -linux.EAGAIN // would overflow; nonblocking
	}
	k.count += v
	for i := range kfds {
		if kfds[i].kind == kfdEpoll && kfds[i].watchFd == fd {
			threads.Wake(addrOf((*byte)(ptrOf(&kfds[i]))), 1<<30)
		}
	}
	return 8
}

//go:nosplit
func kfdRead(fd int64, buf, n uintptr) int64 {
	k := kfdGet(fd)
	if k == nil {
		return -linux.EBADF
	}
	if k.kind != kfdEvent || n < 8 {
		return -linux.EINVAL
	}
	if k.count == 0 {
		return -linux.EAGAIN
	}
	if !put64(buf, k.count) {
		return -linux.EFAULT
	}
	k.count = 0
	return 8
}
