package north

import (
	"encoding/binary"
	"testing"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

func TestSignalFrameRoundTrip(t *testing.T) {
	p, task, _ := newTest(t)
	const stackTop = 0x3000000
	p.m.Map(stackTop-0x10000, 0x10000, mem.Read|mem.Write, true)
	r := task.regs
	for i, reg := range gpr(r) {
		*reg = uint64(0x1000 + i)
	}
	r.Frame.RSP = stackTop - 0x100
	r.Frame.RIP = 0x401234
	r.Frame.RFLAGS = 0x246
	task.sigMask = bit(linux.SigUsr1)
	act := sigAction{handler: 0x405000, flags: linux.SaSiginfo | linux.SaRestorer, restorer: 0x406000, mask: bit(linux.SigUsr2)}
	info := sigInfo{signo: linux.SigSegv, code: linux.SegvMaperr, addr: 0xdead0}
	if err := task.setupFrame(info, act); err != nil {
		t.Fatal(err)
	}
	frame := r.Frame.RSP
	if (frame+8)%16 != 0 {
		t.Errorf("frame %#x: (RSP+8) %% 16 != 0 at handler entry", frame)
	}
	if frame+frameSize > stackTop-0x100-redZone {
		t.Errorf("frame %#x overlaps the red zone below %#x", frame, stackTop-0x100)
	}
	if r.Frame.RIP != act.handler || r.Frame.RDI != linux.SigSegv || r.Frame.RSI != frame+frInfo || r.Frame.RDX != frame+frUC {
		t.Errorf("handler entry registers rip=%#x rdi=%d rsi=%#x rdx=%#x", r.Frame.RIP, r.Frame.RDI, r.Frame.RSI, r.Frame.RDX)
	}
	if ret, _ := mem.ReadUint64(p.m, frame); ret != act.restorer {
		t.Errorf("pretcode = %#x, want the restorer", ret)
	}
	if a, _ := mem.ReadUint64(p.m, frame+frInfo+16); a != 0xdead0 {
		t.Errorf("si_addr = %#x", a)
	}
	if rip, _ := mem.ReadUint64(p.m, frame+frUC+ucMcontext+scRIP); rip != 0x401234 {
		t.Errorf("uc_mcontext.rip = %#x", rip)
	}
	if task.sigMask != bit(linux.SigUsr1)|bit(linux.SigUsr2)|bit(linux.SigSegv) {
		t.Errorf("mask in handler = %#x", task.sigMask)
	}
	// The Go runtime injects sigpanic by rewriting rip and rsp in the
	// ucontext; rt_sigreturn must honour that.
	mem.WriteUint64(p.m, frame+frUC+ucMcontext+scRIP, 0x407000)
	mem.WriteUint64(p.m, frame+frUC+ucMcontext+scRSP, stackTop-0x200)
	r.Frame.RSP = frame + 8 // the handler returned into the restorer
	if got := sc(task, linux.SysRtSigreturn); got != noReturn {
		t.Fatalf("rt_sigreturn = %d", got)
	}
	if r.Frame.RIP != 0x407000 || r.Frame.RSP != stackTop-0x200 || r.Frame.R15 != 0x1000+7 || r.Frame.RAX != 0x1000+13 {
		t.Errorf("restored rip=%#x rsp=%#x r15=%#x rax=%#x", r.Frame.RIP, r.Frame.RSP, r.Frame.R15, r.Frame.RAX)
	}
	if task.sigMask != bit(linux.SigUsr1) {
		t.Errorf("mask after sigreturn = %#x", task.sigMask)
	}
}

func TestSigreturnRejectsHostileFrames(t *testing.T) {
	p, task, _ := newTest(t)
	const stackTop = 0x3000000
	p.m.Map(stackTop-0x10000, 0x10000, mem.Read|mem.Write, true)
	task.regs.Frame.RSP = stackTop - 0x100
	act := sigAction{handler: 0x405000, flags: linux.SaRestorer, restorer: 0x406000}
	task.setupFrame(sigInfo{signo: linux.SigUsr1}, act)
	frame := task.regs.Frame.RSP
	// A kernel-half RIP must not be returned to.
	mem.WriteUint64(p.m, frame+frUC+ucMcontext+scRIP, 0xffff800000000000)
	task.regs.Frame.RSP = frame + 8
	sc(task, linux.SysRtSigreturn)
	if p.exitStatus != 128+linux.SigSegv {
		t.Fatalf("exit status %d after a bad frame, want 139", p.exitStatus)
	}
	// An unreadable frame, and a corrupt MXCSR, are bad frames too.
	for _, corrupt := range []func(p *Process, task *Task, frame uint64){
		func(p *Process, task *Task, frame uint64) { task.regs.Frame.RSP = 0x8 },
		func(p *Process, task *Task, frame uint64) {
			fp, _ := mem.ReadUint64(p.m, frame+frUC+ucMcontext+scFPState)
			var b [4]byte
			binary.LittleEndian.PutUint32(b[:], 0xffffffff)
			p.m.CopyOut(fp+24, b[:])
		},
	} {
		p, task, _ := newTest(t)
		p.m.Map(stackTop-0x10000, 0x10000, mem.Read|mem.Write, true)
		task.regs.Frame.RSP = stackTop - 0x100
		task.setupFrame(sigInfo{signo: linux.SigUsr1}, act)
		frame := task.regs.Frame.RSP
		task.regs.Frame.RSP = frame + 8
		corrupt(p, task, frame)
		sc(task, linux.SysRtSigreturn)
		if p.exitStatus != 128+linux.SigSegv {
			t.Errorf("corrupt frame: exit status %d, want 139", p.exitStatus)
		}
	}
}

func TestAltStackPlacement(t *testing.T) {
	p, task, _ := newTest(t)
	p.m.Map(0x2000000, 0x10000, mem.Read|mem.Write, true) // main stack
	p.m.Map(0x2800000, 0x8000, mem.Read|mem.Write, true)  // alternate stack
	task.altStack = stack{sp: 0x2800000, size: 0x8000}
	task.regs.Frame.RSP = 0x2008000
	act := sigAction{handler: 1, flags: linux.SaRestorer | linux.SaOnstack, restorer: 2}
	if err := task.setupFrame(sigInfo{signo: linux.SigUrg}, act); err != nil {
		t.Fatal(err)
	}
	if sp := task.regs.Frame.RSP; sp < 0x2800000 || sp >= 0x2808000 {
		t.Errorf("frame at %#x, want on the alternate stack", sp)
	}
	// Without SA_ONSTACK the frame goes on the current stack.
	task.regs.Frame.RSP = 0x2008000
	task.setupFrame(sigInfo{signo: linux.SigUrg}, sigAction{handler: 1, flags: linux.SaRestorer, restorer: 2})
	if sp := task.regs.Frame.RSP; sp > 0x2008000 || sp < 0x2000000 {
		t.Errorf("frame at %#x, want on the main stack", sp)
	}
	if err := task.setupFrame(sigInfo{signo: linux.SigUrg}, sigAction{handler: 1}); err == nil {
		t.Error("a handler without SA_RESTORER got a frame")
	}
}
