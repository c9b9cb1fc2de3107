package north

import (
	"encoding/binary"
	"testing"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// Offsets within struct ucontext the Go runtime's signal handler uses
// (include/uapi/asm-generic/ucontext.h; arch/x86/include/uapi/asm/
// sigcontext.h): uc_mcontext at 40, and in it rsp at 120, rip at 128,
// fpstate at 184.
const (
	ucRSP     = 40 + 120
	ucRIP     = 40 + 128
	ucCS      = 40 + 144
	ucFPState = 40 + 184
)

func TestSignalDeliveryAndReturn(t *testing.T) {
	p, task, _ := newTest(t)
	const stackTop = 0x3000000
	p.m.Map(stackTop-0x10000, 0x10000, mem.Read|mem.Write, true)
	r := task.regs
	r.Frame.RSP = stackTop - 0x100
	r.Frame.RIP = 0x401234
	r.Frame.RBX = 0x1111
	r.Frame.RFLAGS = 0x246
	task.sigMask = bit(linux.SigUsr1)
	act := sigAction{handler: 0x405000, flags: linux.SaSiginfo | linux.SaRestorer, restorer: 0x406000, mask: bit(linux.SigUsr2)}
	if err := task.setupFrame(sigInfo{signo: linux.SigSegv, code: linux.SegvMaperr, addr: 0xdead0}, act); err != nil {
		t.Fatal(err)
	}
	frame := r.Frame.RSP
	if (frame+8)%16 != 0 {
		t.Errorf("frame %#x: (RSP+8) %% 16 != 0 at handler entry", frame)
	}
	if r.Frame.RIP != act.handler || r.Frame.RDI != linux.SigSegv {
		t.Errorf("handler entry rip=%#x rdi=%d", r.Frame.RIP, r.Frame.RDI)
	}
	if ret, _ := mem.ReadUint64(p.m, frame); ret != act.restorer {
		t.Errorf("return address = %#x, want the restorer", ret)
	}
	if a, _ := mem.ReadUint64(p.m, r.Frame.RSI+16); a != 0xdead0 {
		t.Errorf("si_addr = %#x", a)
	}
	uc := r.Frame.RDX
	if rip, _ := mem.ReadUint64(p.m, uc+ucRIP); rip != 0x401234 {
		t.Errorf("uc_mcontext.rip = %#x", rip)
	}
	if task.sigMask != bit(linux.SigUsr1)|bit(linux.SigUsr2)|bit(linux.SigSegv) {
		t.Errorf("mask in handler = %#x", task.sigMask)
	}
	// Go's runtime injects sigpanic by rewriting rip and rsp in the
	// ucontext; rt_sigreturn must honour that.
	mem.WriteUint64(p.m, uc+ucRIP, 0x407000)
	mem.WriteUint64(p.m, uc+ucRSP, stackTop-0x200)
	r.Frame.RSP = frame + 8 // the handler returned into the restorer
	r.Frame.RBX = 0
	if got := sc(task, linux.SysRtSigreturn); got != noReturn {
		t.Fatalf("rt_sigreturn = %d", got)
	}
	if r.Frame.RIP != 0x407000 || r.Frame.RSP != stackTop-0x200 || r.Frame.RBX != 0x1111 {
		t.Errorf("restored rip=%#x rsp=%#x rbx=%#x", r.Frame.RIP, r.Frame.RSP, r.Frame.RBX)
	}
	if task.sigMask != bit(linux.SigUsr1) {
		t.Errorf("mask after sigreturn = %#x", task.sigMask)
	}
}

func TestSigreturnWithBadFrameKills(t *testing.T) {
	const stackTop = 0x3000000
	act := sigAction{handler: 0x405000, flags: linux.SaRestorer, restorer: 0x406000}
	for name, corrupt := range map[string]func(p *Process, task *Task, uc uint64){
		// The #GP of the return to user mode (a non-canonical RIP is
		// the kernel's, kernel/user.go userEnter).
		"kernel CS":  func(p *Process, task *Task, uc uint64) { p.m.CopyOut(uc+ucCS, []byte{0x10, 0}) },
		"unreadable": func(p *Process, task *Task, uc uint64) { task.regs.Frame.RSP = 0x8 },
	} {
		p, task, _ := newTest(t)
		p.m.Map(stackTop-0x10000, 0x10000, mem.Read|mem.Write, true)
		task.regs.Frame.RSP = stackTop - 0x100
		if err := task.setupFrame(sigInfo{signo: linux.SigUsr1}, act); err != nil {
			t.Fatal(err)
		}
		uc := task.regs.Frame.RDX
		task.regs.Frame.RSP += 8
		corrupt(p, task, uc)
		sc(task, linux.SysRtSigreturn)
		task.returnFault()
		if p.exitStatus != 128+linux.SigSegv {
			t.Errorf("%s: exit status %d, want 139", name, p.exitStatus)
		}
	}
	// With a SIGSEGV handler, a bad frame is a SIGSEGV for it, as with
	// Linux's force_sig, not the end of the process.
	{
		p, task, _ := newTest(t)
		var sa [32]byte
		binary.LittleEndian.PutUint64(sa[0:], 0x405000)
		binary.LittleEndian.PutUint64(sa[8:], linux.SaRestorer)
		binary.LittleEndian.PutUint64(sa[16:], 0x406000)
		p.m.CopyOut(scratch, sa[:])
		if got := sc(task, linux.SysRtSigaction, linux.SigSegv, scratch, 0, 8); got != 0 {
			t.Fatalf("rt_sigaction = %d", got)
		}
		task.regs.Frame.RSP = 0x8
		if got := sc(task, linux.SysRtSigreturn); got != 0 || p.exitStatus != 0 {
			t.Errorf("bad frame with a SIGSEGV handler: rt_sigreturn = %d, exit status %d; want 0 and the process alive", got, p.exitStatus)
		}
		if task.pending&bit(linux.SigSegv) == 0 {
			t.Error("bad frame with a SIGSEGV handler: no SIGSEGV pending")
		}
	}
	// A corrupt MXCSR is never loaded: Linux's FXRSTOR/XRSTOR from the
	// frame faults on it and the process gets SIGSEGV.
	p, task, _ := newTest(t)
	p.m.Map(stackTop-0x10000, 0x10000, mem.Read|mem.Write, true)
	task.regs.Frame.RSP = stackTop - 0x100
	task.setupFrame(sigInfo{signo: linux.SigUsr1}, act)
	fp, _ := mem.ReadUint64(p.m, task.regs.Frame.RDX+ucFPState)
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], 0xffffffff)
	p.m.CopyOut(fp+24, b[:])
	task.regs.Frame.RSP += 8
	sc(task, linux.SysRtSigreturn)
	if mx := binary.LittleEndian.Uint32(task.regs.FPState()[24:]); mx&^0xffff != 0 {
		t.Errorf("MXCSR after sigreturn = %#x: reserved bits loaded", mx)
	}
	if p.exitStatus != 128+linux.SigSegv {
		t.Errorf("reserved MXCSR bits: exit status %d, want 139", p.exitStatus)
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
	task.regs.Frame.RSP = 0x2008000
	task.setupFrame(sigInfo{signo: linux.SigUrg}, sigAction{handler: 1, flags: linux.SaRestorer, restorer: 2})
	if sp := task.regs.Frame.RSP; sp > 0x2008000 || sp < 0x2000000 {
		t.Errorf("frame at %#x, want on the main stack", sp)
	}
	if err := task.setupFrame(sigInfo{signo: linux.SigUrg}, sigAction{handler: 1}); err == nil {
		t.Error("a handler without SA_RESTORER got a frame")
	}
}
