package vsmsim

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/cocoon-vm/cocoon/lvbs/hv"
	"github.com/cocoon-vm/cocoon/lvbs/hvtest"
	"github.com/cocoon-vm/cocoon/lvbs/vsm"
	"github.com/cocoon-vm/cocoon/lvbs/vtl0load"
	"github.com/cocoon-vm/cocoon/lvbs/vtlcall"
	"github.com/cocoon-vm/cocoon/qemu"
)

// The scenario's machine: RAM, the reservation, and VTL0 pages it uses.
const (
	RAM      = 512 << 20
	End      = Start + 256<<20
	ProtGPA  = 0x160_0000
	msgGPA   = 0x170_0000
	keyGPA   = 0x171_0000
	replyGPA = 0x172_0000
	// vtl0Magic is in VTL0's R12 at every call: VTL1 must give it back.
	vtl0Magic = 0x5EC0_0000_C0C0_0000
)

// Message is what VTL0 asks the application to sign.
var Message = []byte("VTL0 kernel measurement 42")

// Outcome is what VTL0 observed.
type Outcome struct {
	BootStatus       int
	LogGPA, LogSize  uint64
	Log              string // the log ring, as VTL0 reads it
	Statuses         map[string]int
	WriteIntercepted bool // the write to the protected page became an intercept
	PageKept         bool // and the page still holds VTL0's data
	CR4Intercepted   bool
	CR4Kept          bool // SMEP still set
	Injected         int  // exceptions VTL1 injected into VTL0
	PublicKey        []byte
	Signature        []byte
	Verified         bool
	RegsKept         bool // VTL0's R12 survived every call
	DebugKept        bool // and its CR2, DR0-DR3 and DR6
	Console          string
	Requests         map[uint64]int
}

// Run boots the LVBS image img under QEMU with the simulated VSM (QEMU
// RAM in a file under dir, shared with this process) and plays VTL0:
// log ring, a read-only page, CR4.SMEP pinned, end of boot, the refused
// write and CR4 clear, then the application's key and signature. It
// narrates to report, each line saying SIMULATED.
func Run(ctx context.Context, img vtl0load.Image, dir string, report io.Writer) (*Outcome, error) {
	say := func(format string, a ...any) { fmt.Fprintf(report, "vtl0 (SIMULATED VSM): "+format+"\n", a...) }
	path := filepath.Join(dir, "ram")
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	defer os.Remove(path)
	defer f.Close()
	if err := f.Truncate(RAM); err != nil {
		return nil, err
	}
	mem, err := syscall.Mmap(int(f.Fd()), 0, RAM, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return nil, err
	}
	defer syscall.Munmap(mem)
	sim := New(mem)
	tramp, err := sim.Load(img, End, 1)
	if err != nil {
		return nil, err
	}
	say("loaded skloader.bin and vmlinux.bin into securekernel=%dM@%#x as hv_vsm_boot.c does; boot call: 1 CPU, RAM below %#x", (End-Start)>>20, Start, RAM)
	trampPath := filepath.Join(dir, "trampoline.elf")
	if err := os.WriteFile(trampPath, tramp, 0o644); err != nil {
		return nil, err
	}
	defer os.Remove(trampPath)

	qctx, stop := context.WithCancel(ctx)
	console := qemu.NewWatch("")
	done := make(chan error, 1)
	go func() {
		_, err := qemu.Run(qctx, qemu.Config{
			Kernel:    trampPath,
			MemoryMiB: RAM >> 20,
			Timeout:   10 * time.Minute,
			Console:   console,
			Extra: []string{
				"-object", fmt.Sprintf("memory-backend-file,id=vsmram,size=%d,share=on,mem-path=%s", RAM, path),
				"-machine", "memory-backend=vsmram",
			},
		})
		done <- err
		stop() // the guest is gone: no VTL return will come
	}()
	o := &Outcome{Statuses: map[string]int{}, RegsKept: true, DebugKept: true}
	defer func() {
		stop()
		<-done
		o.Console = console.String()
		o.Requests = sim.Requests
	}()

	r, err := sim.WaitReturn(qctx)
	if err != nil {
		return o, fmt.Errorf("waiting for the boot call's return: %w", err)
	}
	o.BootStatus = vtlcall.StatusOf(r.R8)
	say("boot call returned %d", o.BootStatus)
	if o.BootStatus != 0 {
		return o, fmt.Errorf("the boot call failed: %d", o.BootStatus)
	}
	calls := uint64(0)
	call := func(a vtlcall.Args) (vtlcall.Args, error) {
		calls++
		sim.VTL0.R12 = vtl0Magic
		// A page-fault address, breakpoints and a DR6 (bit 0 set; bits
		// 4-11 and 16-31 read as ones: Intel SDM vol. 3, 18.2.3) of
		// VTL0's own, different at each call.
		dbg := [6]uint64{0x7fff_dead_0000 + calls<<12, 0x1000 + calls, 0x2000 + calls, 0x3000 + calls, 0x4000 + calls, 0xFFFF_0FF1}
		sim.VTL0Debug = dbg
		res, regs, err := sim.Call(qctx, a)
		if err != nil {
			return res, fmt.Errorf("VTL call %s: %w", vtlcall.Name(a.A0), err)
		}
		if sim.VTL0Debug != dbg && o.DebugKept {
			say("VTL0's CR2 and debug registers changed across %s: %#x, had %#x", vtlcall.Name(a.A0), sim.VTL0Debug, dbg)
			o.DebugKept = false
		}
		o.RegsKept = o.RegsKept && regs.R12 == vtl0Magic
		o.Statuses[vtlcall.Name(a.A0)] = vtlcall.StatusOf(res.A3)
		return res, nil
	}
	info, err := call(vtlcall.Args{A0: vtlcall.FuncLogInfo})
	if err != nil {
		return o, err
	}
	o.LogGPA, o.LogSize = info.A1, info.A2
	if o.LogGPA < Start || o.LogGPA+o.LogSize > End || o.LogSize > 1<<20 {
		return o, fmt.Errorf("log ring %#x+%#x is not in the secure kernel", o.LogGPA, o.LogSize)
	}
	for _, a := range []vtlcall.Args{
		{A0: vtlcall.FuncProtectPages, A1: ProtGPA, A2: 1, A3: vsm.AttrRead},
		{A0: vtlcall.FuncPinRegister, A1: uint64(hv.RegCR4), A2: vsm.CR4SMEP},
		{A0: vtlcall.FuncEndOfBoot},
	} {
		res, err := call(a)
		if err != nil {
			return o, err
		}
		say("%s(%#x, %#x, %#x) = %d", vtlcall.Name(a.A0), a.A1, a.A2, a.A3, vtlcall.StatusOf(res.A3))
	}

	copy(mem[ProtGPA:], "vtl0 data")
	o.WriteIntercepted = sim.HV.VTL0Write(ProtGPA, []byte("forged"))
	if _, err := sim.Interrupt(qctx); err != nil {
		return o, err
	}
	o.PageKept = string(mem[ProtGPA:ProtGPA+9]) == "vtl0 data"
	say("wrote the read-only page at %#x: intercepted %v, page unchanged %v", ProtGPA, o.WriteIntercepted, o.PageKept)
	o.CR4Intercepted = sim.HV.VTL0WriteCR(hv.RegCR4, hvtest.DefaultCR4&^vsm.CR4SMEP)
	if _, err := sim.Interrupt(qctx); err != nil {
		return o, err
	}
	o.CR4Kept = sim.HV.VTL0[hv.RegCR4].Low&vsm.CR4SMEP != 0
	o.Injected = len(sim.HV.Injected)
	say("cleared CR4.SMEP: intercepted %v, SMEP still set %v; VTL1 injected %d exceptions (#GP)", o.CR4Intercepted, o.CR4Kept, o.Injected)

	copy(mem[msgGPA:], Message)
	k, err := call(vtlcall.Args{A0: vtlcall.AppFirst + 0, A1: msgGPA, A3: keyGPA})
	if err != nil {
		return o, err
	}
	s, err := call(vtlcall.Args{A0: vtlcall.AppFirst + 1, A1: msgGPA, A2: uint64(len(Message)), A3: replyGPA})
	if err != nil {
		return o, err
	}
	if vtlcall.StatusOf(k.A3) != 0 || vtlcall.StatusOf(s.A3) != 0 || k.A1 != ed25519.PublicKeySize || s.A1 != ed25519.SignatureSize {
		return o, fmt.Errorf("application calls: key %+v, signature %+v", k, s)
	}
	o.PublicKey = append([]byte(nil), mem[keyGPA:keyGPA+k.A1]...)
	o.Signature = append([]byte(nil), mem[replyGPA:replyGPA+s.A1]...)
	o.Verified = ed25519.Verify(o.PublicKey, Message, o.Signature)
	say("the application in VTL1 signed %q: signature verifies with its public key %x...: %v", Message, o.PublicKey[:8], o.Verified)
	// Function 2 makes the application touch fresh memory: page faults
	// in VTL1, which write CR2, while VTL0 waits in its call.
	if _, err := call(vtlcall.Args{A0: vtlcall.AppFirst + 2, A3: replyGPA}); err != nil {
		return o, err
	}
	if _, err := call(vtlcall.Args{A0: vtlcall.AppFirst + 7, A3: replyGPA}); err != nil {
		return o, err
	}
	say("VTL0's general registers kept across every call: %v; its CR2 and DR0-DR3, DR6: %v", o.RegsKept, o.DebugKept)
	log, err := vsm.ReadLog(mem[o.LogGPA : o.LogGPA+o.LogSize])
	if err != nil {
		return o, err
	}
	o.Log = string(log)
	say("VTL1's log ring at %#x has %d lines", o.LogGPA, strings.Count(o.Log, "\n"))
	if !o.Verified || !o.PageKept || !o.CR4Kept || !o.RegsKept || !o.DebugKept {
		return o, errors.New("VTL0 saw a protection fail or a bad answer")
	}
	return o, nil
}
