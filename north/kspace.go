package north

import (
	"errors"
	"syscall"

	"github.com/cocoon-vm/cocoon/kernel"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// kernelMachine adapts the kernel's Space to Machine.
type kernelMachine struct{ s *kernel.Space }

// NewKernelMachine makes a fresh application address space on this
// machine.
func NewKernelMachine() (Machine, error) {
	s, err := kernel.NewSpace()
	if err != nil {
		return nil, err
	}
	return kernelMachine{s}, nil
}

func memErr(err error) error {
	if err == nil {
		return nil // before e, which errors.As makes escape: no allocation per copy
	}
	e, ok := err.(syscall.Errno) // not wrapped: no errors.As and its reflection
	if !ok {
		ok = errors.As(err, &e)
	}
	if ok {
		switch e {
		case syscall.EFAULT:
			return mem.ErrFault
		case syscall.ENOMEM:
			return mem.ErrNoMemory
		case syscall.EINVAL:
			return mem.ErrInvalid
		}
	}
	return err
}

func (k kernelMachine) CopyIn(addr uint64, dst []byte) error  { return memErr(k.s.CopyIn(addr, dst)) }
func (k kernelMachine) CopyOut(addr uint64, src []byte) error { return memErr(k.s.CopyOut(addr, src)) }
func (k kernelMachine) Load(addr uint64, data []byte) error   { return memErr(k.s.Load(addr, data)) }
func (k kernelMachine) ForceIn(addr uint64, dst []byte) error { return memErr(k.s.ForceIn(addr, dst)) }

// CompareAndSwapUint32 is an atomic update of a futex word (futex_pi.go).
func (k kernelMachine) CompareAndSwapUint32(addr uint64, old, nv uint32) (uint32, error) {
	was, err := k.s.CompareAndSwapUint32(addr, old, nv)
	return was, memErr(err)
}
func (k kernelMachine) Unmap(addr, length uint64) error { return memErr(k.s.Unmap(addr, length)) }
func (k kernelMachine) Protect(addr, length uint64, prot mem.Prot) error {
	return memErr(k.s.Protect(addr, length, uint8(prot)))
}
func (k kernelMachine) Map(addr, length uint64, prot mem.Prot, fixed bool) (uint64, error) {
	a, err := k.s.Map(addr, length, uint8(prot), fixed)
	return a, memErr(err)
}
func (k kernelMachine) Run(r *kernel.UserRegs) kernel.ExitKind { return k.s.Run(r) }

// RSS and Resident count resident pages (/proc/PID/status, getrusage).
func (k kernelMachine) RSS() (pages, peak uint64) { return k.s.RSS() }
func (k kernelMachine) Resident(start, end uint64, copies bool) uint64 {
	return k.s.Resident(start, end, copies)
}

// Populate makes pages present as a read or write would (MAP_POPULATE,
// mlock, MADV_POPULATE_*).
func (k kernelMachine) Populate(addr, length uint64, write bool) error {
	return memErr(k.s.Populate(addr, length, write))
}

// Zap drops pages but keeps mappings (MADV_DONTNEED).
func (k kernelMachine) Zap(addr, length uint64) error { return memErr(k.s.Zap(addr, length)) }

// The kernel's side of file mappings and shared memory (see mm.go).
func (k kernelMachine) MapFilled(addr, length uint64, prot mem.Prot, fixed bool, key uint32) (uint64, error) {
	a, err := k.s.MapFilled(addr, length, uint8(prot), fixed, key)
	return a, memErr(err)
}
func (k kernelMachine) Fill(addr, frame uint64, cow bool) error {
	return memErr(k.s.Fill(addr, frame, cow))
}
func (k kernelMachine) FillRange(addr uint64, frames []uint64, cow bool) error {
	return memErr(k.s.FillRange(addr, frames, cow))
}
func (k kernelMachine) FillAround(addr uint64, frames []uint64, cow, shared bool) error {
	return memErr(k.s.FillAround(addr, frames, cow, shared))
}
func (k kernelMachine) Move(from, to, length uint64) error {
	return memErr(k.s.Move(from, to, length))
}
func (k kernelMachine) Covered(addr, length uint64) bool { return k.s.Covered(addr, length) }
func (k kernelMachine) Vacant(addr, length uint64) bool  { return k.s.Vacant(addr, length) }

// The layout of mappings placed by the kernel (mmapLayout in sys_mm.go).
func (k kernelMachine) SetMmapBase(base uint64) error { return memErr(k.s.SetMmapBase(base)) }
func (k kernelMachine) FindFree(lo, hi, length uint64) (uint64, bool) {
	return k.s.FindFree(lo, hi, length)
}
func (k kernelMachine) Usage() (total, data uint64)           { return k.s.Usage() }
func (k kernelMachine) PageTables() uint64                    { return k.s.PageTables() }
func (k kernelMachine) SetGrower(grow func(addr uint64) bool) { k.s.SetGrower(grow) }
func (k kernelMachine) Accessible(addr, length uint64) bool   { return k.s.Accessible(addr, length) }
func (k kernelMachine) SetFiller(fill func(addr uint64, write bool) error) {
	k.s.SetFiller(fill)
}

// KernelFrames is mem.Frames over the kernel's physical frames: file data
// that mappings share.
type KernelFrames struct{}

func (KernelFrames) Alloc() (uint64, error) { return allocFrame(nil) }

// AllocCopy implements mem.Frames: the trap layer allocates the frame
// and copies src into it, without zeroing it first.
func (KernelFrames) AllocCopy(src *[mem.PageSize]byte) (uint64, error) { return allocFrame(src) }

func allocFrame(src *[mem.PageSize]byte) (uint64, error) {
	f, err := kernel.AllocFrame(src)
	if err != nil {
		return 0, mem.ErrNoMemory
	}
	return f, nil
}

func (KernelFrames) Ref(frame uint64) error                 { return memErr(kernel.RefFrame(frame)) }
func (KernelFrames) Free(frame uint64)                      { kernel.FreeFrame(frame) }
func (KernelFrames) Bytes(frame uint64) *[mem.PageSize]byte { return kernel.FrameBytes(frame) }

// Lookup returns the protection at addr and whether its pages are
// provided by the personality.
func (k kernelMachine) Lookup(addr uint64) (uint8, bool, bool) { return k.s.Lookup(addr) }

// Regions lists the address space's regions (/proc/PID/maps).
func (k kernelMachine) Regions(fn func(start, end uint64, prot uint8, filled bool)) { k.s.Regions(fn) }
