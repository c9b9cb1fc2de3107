package lvbs

import (
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/cocoon-vm/cocoon/lvbs/hv"
	"github.com/cocoon-vm/cocoon/lvbs/hvtest"
	"github.com/cocoon-vm/cocoon/lvbs/vsm"
	"github.com/cocoon-vm/cocoon/lvbs/vtl0load"
	"github.com/cocoon-vm/cocoon/lvbs/vtlcall"
)

// TestSimulatedVSMHostLevel runs the whole protocol on the host against
// the fake hypervisor (simulated: Cocoon's VTL1 code runs as host Go code,
// not in a VM; lvbs/vsmsim runs the same under QEMU): VTL0 loads the
// image as hv_vsm_boot.c does, the boot call starts VTL1, VTL0 protects a
// page and pins CR4.SMEP, ends boot, then a write to the page and a CR4
// write clearing SMEP are refused, and an application holding a key that
// never leaves VTL1 signs VTL0's message, which VTL0 verifies.
func TestSimulatedVSMHostLevel(t *testing.T) {
	const (
		sk, skEnd = 64 << 20, 96 << 20
		ram       = 128 << 20
		logGPA    = sk + 0x20_0000 - 2*hv.PageSize // below the kernel copy, in VTL1 memory
		msgGPA    = 0x30_0000
		replyGPA  = 0x31_0000
		keyGPA    = 0x32_0000
	)
	h := hvtest.New(ram / hv.PageSize)

	// VTL0: the loader.
	vtl0HV := &hv.Client{HC: h, In: h.Page(0x10_0000), Out: h.Page(0x10_1000)}
	img := vtl0load.Image{Loader: []byte{0xEB, 0xFE}, Kernel: make([]byte, 1<<20)}
	_, boot, err := vtl0load.Load(vtl0HV, h, sk, skEnd, img, 1, ram)
	if err != nil {
		t.Fatal(err)
	}

	// VTL1: bring-up on pages of its own range, then the boot call.
	pages := Pages{Hypercall: h.Page(sk + 0x1000), Assist: h.Page(sk + 0x2000), SIMP: h.Page(sk + 0x3000), In: h.Page(sk + 0x4000), Out: h.Page(sk + 0x5000)}
	p, err := Start(h, pages)
	if err != nil {
		t.Fatal(err)
	}
	ch := &vsm.Channel{Timeout: time.Minute}
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	ch.Open()
	go func() { // the hosted application, as it would use /dev/vtl0
		buf := make([]byte, vsm.AppHeaderSize+vsm.MaxAppData)
		for {
			n, err := ch.Read(buf)
			if err != nil || n == 0 {
				ch.Wait(10 * time.Millisecond)
				continue
			}
			req, _ := vsm.DecodeRequest(buf[:n])
			switch req.Func {
			case 0:
				ch.Write(vsm.EncodeReply(req.Seq, 0, pub))
			case 1:
				ch.Write(vsm.EncodeReply(req.Seq, 0, ed25519.Sign(priv, req.Data)))
			default:
				ch.Write(vsm.EncodeReply(req.Seq, -38, nil))
				return
			}
		}
	}()

	v := &vtl0{h: h, assist: pages.Assist.Mem}
	msg := []byte("VTL0 kernel measurement 42")
	h.WritePhys(msgGPA, msg)
	v.steps = []func(*vtlcall.Regs){
		v.call(vtlcall.Args{A0: vtlcall.FuncProtectPages, A1: 0x40_0000, A2: 1, A3: vsm.AttrRead}),
		v.call(vtlcall.Args{A0: vtlcall.FuncPinRegister, A1: uint64(hv.RegCR4), A2: vsm.CR4SMEP}),
		v.call(vtlcall.Args{A0: vtlcall.FuncEndOfBoot}),
		func(r *vtlcall.Regs) {
			if !h.VTL0Write(0x40_0000, []byte("x")) {
				t.Error("write to the read-only page not intercepted")
			}
			hv.SetEntryReason(v.assist, hv.EntryInterrupt)
		},
		func(r *vtlcall.Regs) {
			if !h.VTL0WriteCR(hv.RegCR4, hvtest.DefaultCR4&^vsm.CR4SMEP) {
				t.Error("CR4 write not intercepted")
			}
			hv.SetEntryReason(v.assist, hv.EntryInterrupt)
		},
		v.call(vtlcall.Args{A0: vtlcall.AppFirst + 0, A1: msgGPA, A2: 0, A3: keyGPA}),
		v.call(vtlcall.Args{A0: vtlcall.AppFirst + 1, A1: msgGPA, A2: uint64(len(msg)), A3: replyGPA}),
		v.call(vtlcall.Args{A0: vtlcall.AppFirst + 2, A3: replyGPA}),
	}
	regs := vtlcall.Args{A0: boot.CPUs, A1: boot.Start, A2: boot.End, A3: boot.MaxPhys}
	var r vtlcall.Regs
	regs.ToRegs(&r)
	s, err := p.Boot(vsm.Config{HV: p.HV, Mem: h, Log: h.Mem(logGPA, 2*hv.PageSize), LogGPA: logGPA, App: ch}, &r)
	if err != nil {
		t.Fatal(err)
	}
	p.Serve(v, s, &r)

	if len(v.seen) != 9 {
		t.Fatalf("%d returns", len(v.seen))
	}
	for i, st := range []int{0, 0, 0, 0} {
		if got := vtlcall.StatusOf(v.seen[i].R8); got != st {
			t.Errorf("call %d status %d", i, got)
		}
	}
	if len(h.Injected) != 2 || h.VTL0[hv.RegCR4].Low&vsm.CR4SMEP == 0 || string(h.Mem(0x40_0000, 1)) == "x" {
		t.Errorf("refusals: injected %d, CR4 %#x", len(h.Injected), h.VTL0[hv.RegCR4].Low)
	}
	// VTL0 checks the signature with the public key VTL1's application
	// gave it: all it ever receives are the public key and signatures.
	key := h.Mem(keyGPA, int(v.seen[6].Rsi))
	sig := h.Mem(replyGPA, int(v.seen[7].Rsi))
	if vtlcall.StatusOf(v.seen[7].R8) != 0 || !ed25519.Verify(ed25519.PublicKey(key), msg, sig) {
		t.Errorf("signature does not verify (status %d, key %d bytes, signature %d bytes)", vtlcall.StatusOf(v.seen[7].R8), len(key), len(sig))
	}
	if vtlcall.StatusOf(v.seen[8].R8) != -38 {
		t.Errorf("application error status %d", vtlcall.StatusOf(v.seen[8].R8))
	}
	log := string(s.Log())
	for _, want := range []string{"refused VTL0 write of GPA 0x400000", "refused VTL0 write of", "to Cr4"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}
