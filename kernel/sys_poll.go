package kernel

// eventfd and epoll for the kernel's runtime. Go's netpoller exists in
// every program with timers: it creates an epoll instance and an eventfd,
// and parks idle threads in epoll_pwait with a timeout; another thread
// wakes it by writing the eventfd (netpollBreak). The one other file is
// the network device's interrupt: an eventfd the device's interrupt
// handler signals (netdev.go), which a goroutine waits on through the
// netpoller like any pollable file (EPOLLET, as Go registers it). Trap
// context.

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
	// epollWatches is how many eventfds one epoll instance watches: the
	// runtime's own and the network interrupt's.
	epollWatches = 4
)

// watch is one eventfd an epoll instance watches.
type watch struct {
	fd       int64 // -1: unused
	events   uint32
	data     uint64
	reported uint64 // the eventfd's signals when last reported (EPOLLET)
}

// kfile is one open file of the kernel's runtime.
type kfile struct {
	kind    uint8
	flags   uint64 // eventfd: EFD_NONBLOCK and EFD_CLOEXEC as given
	count   uint64 // eventfd counter
	signals uint64 // eventfd: non-zero writes, ever (EPOLLET reports each)
	watches [epollWatches]watch
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
			kfds[i] = kfile{kind: kind}
			for j := range kfds[i].watches {
				kfds[i].watches[j].fd = -1
			}
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
func sysEventfd2(initval, flags uint64) int64 {
	fd := kfdAlloc(kfdEvent)
	if fd >= 0 {
		kfds[fd-kfdBase].count = uint64(uint32(initval))
		kfds[fd-kfdBase].flags = flags & (linux.EfdNonblock | linux.EfdCloexec)
	}
	return fd
}

//go:nosplit
func sysEpollCreate() int64 { return kfdAlloc(kfdEpoll) }

// sysEpollCtl accepts only eventfds as targets, epollWatches per epoll
// instance.
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
	w, free := -1, -1
	for i := range ep.watches {
		if ep.watches[i].fd == fd {
			w = i
		} else if ep.watches[i].fd < 0 && free < 0 {
			free = i
		}
	}
	switch op {
	case linux.EpollCtlAdd, linux.EpollCtlMod:
		// struct epoll_event is packed on x86-64: events (u32), data (u64).
		if !accessible(event, 12, false) {
			return -linux.EFAULT
		}
		if op == linux.EpollCtlAdd {
			if w >= 0 {
				return -linux.EEXIST
			}
			if free < 0 {
				return -linux.ENOSPC // as Linux beyond max_user_watches
			}
			w = free
		} else if w < 0 {
			return -linux.ENOENT
		}
		ep.watches[w] = watch{fd: fd, events: *cpu.Ptr32(event), data: *cpu.Ptr64(event + 4), reported: t.signals - 1}
		return 0
	case linux.EpollCtlDel:
		if w < 0 {
			return -linux.ENOENT
		}
		ep.watches[w].fd = -1
		return 0
	}
	return -linux.EINVAL
}

// epollReady writes the ready watches of ep as struct epoll_event at
// events, at most max, and returns how many. An eventfd is ready to read
// while its counter is non-zero; with EPOLLET it is reported once after
// each write, as Linux's eventfd wakes its waiters on each. Readiness to
// write is not reported: nothing in the kernel waits to write an eventfd.
//
//go:nosplit
func epollReady(ep *kfile, events uintptr, max int64) int64 {
	var n int64
	for i := range ep.watches {
		w := &ep.watches[i]
		t := kfdGet(w.fd)
		if n == max || t == nil || t.kind != kfdEvent || t.count == 0 || w.events&linux.EpollIn == 0 {
			continue
		}
		if w.events&linux.EpollEt != 0 {
			if w.reported == t.signals {
				continue
			}
			w.reported = t.signals
		}
		*cpu.Ptr32(events + uintptr(n)*12) = linux.EpollIn
		*cpu.Ptr64(events + uintptr(n)*12 + 4) = w.data
		n++
	}
	return n
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
	max = min(max, epollWatches)
	if !accessible(events, uintptr(max)*12, true) {
		return -linux.EFAULT
	}
	if n := epollReady(ep, events, max); n > 0 {
		return n
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
	eventSignal(fd, k, v)
	return 8
}

// eventSignal adds v to eventfd k (descriptor fd) and wakes the threads
// waiting in epoll instances that watch it.
//
//go:nosplit
func eventSignal(fd int64, k *kfile, v uint64) {
	if v != 0 {
		k.signals++
	}
	k.count += v
	for i := range kfds {
		if kfds[i].kind != kfdEpoll {
			continue
		}
		for j := range kfds[i].watches {
			if kfds[i].watches[j].fd == fd {
				threads.Wake(addrOf((*byte)(ptrOf(&kfds[i]))), 1<<30)
			}
		}
	}
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

// netIRQFd is the eventfd the network device's receive interrupt
// signals (NetDevice), 0 (none) until the device is set up; it is set
// before the interrupt is routed and never changes after.
var netIRQFd int64

// netInterrupts counts the network device's interrupts.
var netInterrupts uint64

// netInterrupt handles the network device's interrupt: it signals the
// eventfd a goroutine waits on (through the netpoller) and wakes the
// thread waiting in epoll_pwait.
//
//go:nosplit
func netInterrupt() {
	netInterrupts++
	if k := kfdGet(netIRQFd); k != nil && k.kind == kfdEvent && k.count < 1<<62 {
		eventSignal(netIRQFd, k, 1)
	}
}
