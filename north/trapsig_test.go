package north

import (
	"encoding/binary"
	"testing"

	"github.com/cocoon-vm/cocoon/kernel/linux"
)

// TestTrapSignals: the signal a trap sends (si_code, address) and the
// last trap it leaves for later frames, as Linux's exception handlers
// (arch/x86/kernel/traps.c) and math_error's fpu__exception_code.
func TestTrapSignals(t *testing.T) {
	const fcw, fsw, mxcsr = 0, 2, 24 // FXSAVE offsets
	le := binary.LittleEndian
	for _, c := range []struct {
		name   string
		vector uint64
		fp     func(fp []byte)
		signo  int
		code   int32
		addr   uint64 // 1: the faulting RIP
	}{
		{"#SS", 12, nil, linux.SigBus, linux.SiKernel, 0},
		{"#AC", 17, nil, linux.SigBus, linux.BusAdraln, 0},
		{"#XM divide by zero", 19, func(fp []byte) { le.PutUint32(fp[mxcsr:], 0x1f80&^0x200|0x4) }, linux.SigFpe, linux.FpeFltdiv, 1},
		{"#XM invalid before precision", 19, func(fp []byte) { le.PutUint32(fp[mxcsr:], 0x1f80&^0x1080|0x21) }, linux.SigFpe, linux.FpeFltinv, 1},
		{"#XM denormal", 19, func(fp []byte) { le.PutUint32(fp[mxcsr:], 0x1f80&^0x100|0x2) }, linux.SigFpe, linux.FpeFltund, 1},
		{"#XM spurious (masked)", 19, func(fp []byte) { le.PutUint32(fp[mxcsr:], 0x1f80|0x4) }, 0, 0, 0},
		{"#MF divide by zero", 16, func(fp []byte) { le.PutUint16(fp[fcw:], 0x37f&^0x4); le.PutUint16(fp[fsw:], 0x4) }, linux.SigFpe, linux.FpeFltdiv, 1},
		{"#MF overflow", 16, func(fp []byte) { le.PutUint16(fp[fcw:], 0x37f&^0x8); le.PutUint16(fp[fsw:], 0x28) }, linux.SigFpe, linux.FpeFltovf, 1},
	} {
		p, task, _ := newTest(t)
		var sa [32]byte
		le.PutUint64(sa[0:], 0x405000)
		le.PutUint64(sa[8:], linux.SaRestorer)
		le.PutUint64(sa[16:], 0x406000)
		p.m.CopyOut(scratch, sa[:])
		for _, sig := range []int{linux.SigBus, linux.SigFpe} {
			if got := sc(task, linux.SysRtSigaction, uint64(sig), scratch, 0, 8); got != 0 {
				t.Fatalf("rt_sigaction = %d", got)
			}
		}
		task.lastTrap = trapInfo{14, 6, 0x12345}
		task.regs.Frame.RIP = 0x401234
		if c.fp != nil {
			c.fp(task.regs.FPState())
		}
		task.fault0(c.vector, 0, 0)
		if c.addr == 1 {
			c.addr = 0x401234
		}
		if c.signo == 0 {
			if task.pending != 0 {
				t.Errorf("%s: pending %#x, want no signal", c.name, task.pending)
			}
		} else if info := task.pendingInfo[c.signo]; task.pending != bit(c.signo) || info.code != c.code || info.addr != c.addr {
			t.Errorf("%s: pending %#x, code %d, addr %#x; want signal %d, code %d, addr %#x", c.name, task.pending, info.code, info.addr, c.signo, c.code, c.addr)
		}
		// The trap is the thread's last; a page fault's address stays.
		if task.lastTrap != (trapInfo{c.vector, 0, 0x12345}) {
			t.Errorf("%s: last trap %+v, want vector %d, error code 0, cr2 0x12345", c.name, task.lastTrap, c.vector)
		}
	}
}
