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
	var e syscall.Errno
	if errors.As(err, &e) {
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
func (k kernelMachine) Unmap(addr, length uint64) error       { return memErr(k.s.Unmap(addr, length)) }
func (k kernelMachine) Protect(addr, length uint64, prot mem.Prot) error {
	return memErr(k.s.Protect(addr, length, uint8(prot)))
}
func (k kernelMachine) Map(addr, length uint64, prot mem.Prot, fixed bool) (uint64, error) {
	a, err := k.s.Map(addr, length, uint8(prot), fixed)
	return a, memErr(err)
}
func (k kernelMachine) Run(r *kernel.UserRegs) kernel.ExitKind { return k.s.Run(r) }

// Zap drops pages but keeps mappings (MADV_DONTNEED).
func (k kernelMachine) Zap(addr, length uint64) error { return memErr(k.s.Zap(addr, length)) }
