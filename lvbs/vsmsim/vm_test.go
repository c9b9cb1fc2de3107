package vsmsim

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cocoon-vm/cocoon/internal/testenv"
	"github.com/cocoon-vm/cocoon/lvbs/hv"
	"github.com/cocoon-vm/cocoon/lvbs/hvtest"
	"github.com/cocoon-vm/cocoon/lvbs/skimage"
	"github.com/cocoon-vm/cocoon/lvbs/vsm"
	"github.com/cocoon-vm/cocoon/lvbs/vtl0load"
	"github.com/cocoon-vm/cocoon/lvbs/vtlcall"
	"github.com/cocoon-vm/cocoon/qemu"
	"github.com/cocoon-vm/cocoon/tools/appimage"
	"github.com/cocoon-vm/cocoon/tools/kbuild"
)

// buildImage builds the LVBS image of images/vtl0svc, as 'mkimage build
// --platform lvbs' does.
func buildImage(t *testing.T) vtl0load.Image {
	t.Helper()
	dir := t.TempDir()
	ctx := context.Background()
	kernel := filepath.Join(dir, "k.elf")
	if err := kbuild.Kernel(ctx, "github.com/cocoon-vm/cocoon/north/cocoon", kernel, kbuild.Options{}); err != nil {
		t.Fatal(err)
	}
	app, err := appimage.BuildGo(ctx, "github.com/cocoon-vm/cocoon/images/vtl0svc", "")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(app)
	var archive bytes.Buffer
	if err := appimage.Pack(&archive, app, nil); err != nil {
		t.Fatal(err)
	}
	k, err := os.ReadFile(kernel)
	if err != nil {
		t.Fatal(err)
	}
	loader, vmlinux, err := skimage.Build(k, archive.Bytes(), "")
	if err != nil {
		t.Fatal(err)
	}
	return vtl0load.Image{Loader: loader, Kernel: vmlinux}
}

// sharedRAM makes a file of size bytes for QEMU's memory backend and maps
// it into the test.
func sharedRAM(t *testing.T, size int) (string, []byte) {
	t.Helper()
	dir := t.TempDir()
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		if d, err := os.MkdirTemp("/dev/shm", "cocoon-vsm-"); err == nil {
			dir = d
			t.Cleanup(func() { os.RemoveAll(d) })
		}
	}
	path := filepath.Join(dir, "ram")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(int64(size)); err != nil {
		t.Fatal(err)
	}
	mem, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Munmap(mem) })
	return path, mem
}

// TestVMSimulatedVSM (SIMULATED VSM: the hypervisor and VTL0 are this
// test, over guest memory shared with QEMU) boots Cocoon's LVBS image the
// way the LVBS VTL0 kernel loads a secure kernel and then, as VTL0:
// reads the log ring's place, protects a page of its memory read-only,
// pins CR4.SMEP, ends boot; a later write to the page and a CR4 write
// clearing SMEP are refused (#GP injected, memory and CR4 unchanged,
// both in the log ring); and the Go application at CPL3 in VTL1 answers
// through /dev/vtl0: it returns its public key and signs VTL0's message,
// and the signature verifies. VTL0's other registers survive every call.
func TestVMSimulatedVSM(t *testing.T) {
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		testenv.Missing(t, "qemu-system-x86_64 not found: install the qemu-system-x86 package to run VM tests")
	}
	const (
		ram      = 512 << 20
		end      = Start + 256<<20
		protGPA  = 0x160_0000 // VTL0 pages
		msgGPA   = 0x170_0000
		keyGPA   = 0x171_0000
		replyGPA = 0x172_0000
		magic    = 0x5EC0_0000_C0C0_0000
	)
	img := buildImage(t)
	path, mem := sharedRAM(t, ram)
	sim := New(mem)
	tramp, err := sim.Load(img, end, 1)
	if err != nil {
		t.Fatal(err)
	}
	trampPath := filepath.Join(t.TempDir(), "trampoline.elf")
	if err := os.WriteFile(trampPath, tramp, 0o644); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	console := qemu.NewWatch("")
	done := make(chan error, 1)
	go func() {
		_, err := qemu.Run(ctx, qemu.Config{
			Kernel:    trampPath,
			MemoryMiB: ram >> 20,
			Timeout:   10 * time.Minute,
			Console:   console,
			Extra: []string{
				"-object", "memory-backend-file,id=vsmram,size=512M,share=on,mem-path=" + path,
				"-machine", "memory-backend=vsmram",
			},
		})
		done <- err
	}()
	defer func() {
		cancel()
		<-done
		if t.Failed() || testing.Verbose() {
			t.Logf("console (SIMULATED VSM):\n%s", console.String())
		}
	}()
	wait := func() vtlcall.Regs {
		t.Helper()
		r, err := sim.WaitReturn(ctx)
		if err != nil {
			select {
			case qerr := <-done:
				done <- qerr
				t.Fatalf("%v; QEMU: %v", err, qerr)
			default:
			}
			t.Fatal(err)
		}
		return r
	}
	call := func(a vtlcall.Args) vtlcall.Args {
		t.Helper()
		sim.VTL0.R12 = magic
		r, regs, err := sim.Call(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		if regs.R12 != magic {
			t.Errorf("call %s: VTL0's R12 came back %#x", vtlcall.Name(a.A0), regs.R12)
		}
		return r
	}

	// The boot call: VTL1 answers once its application has opened
	// /dev/vtl0.
	if r := wait(); vtlcall.StatusOf(r.R8) != 0 {
		t.Fatalf("boot call status %d", vtlcall.StatusOf(r.R8))
	}
	if sim.Requests[2] == 0 || sim.HV.PartitionVTL1 != true {
		t.Fatalf("no VTL return through the hypercall page (requests %v)", sim.Requests)
	}
	info := call(vtlcall.Args{A0: vtlcall.FuncLogInfo})
	if vtlcall.StatusOf(info.A3) != 0 || info.A1 < Start || info.A1+info.A2 > end {
		t.Fatalf("log info %+v", info)
	}
	if r := call(vtlcall.Args{A0: vtlcall.FuncProtectPages, A1: protGPA, A2: 1, A3: vsm.AttrRead}); vtlcall.StatusOf(r.A3) != 0 {
		t.Fatalf("protect status %d", vtlcall.StatusOf(r.A3))
	}
	if r := call(vtlcall.Args{A0: vtlcall.FuncPinRegister, A1: uint64(hv.RegCR4), A2: vsm.CR4SMEP}); vtlcall.StatusOf(r.A3) != 0 {
		t.Fatalf("pin status %d", vtlcall.StatusOf(r.A3))
	}
	if r := call(vtlcall.Args{A0: vtlcall.FuncEndOfBoot}); vtlcall.StatusOf(r.A3) != 0 {
		t.Fatalf("end of boot status %d", vtlcall.StatusOf(r.A3))
	}

	// VTL0 writes the protected page and clears SMEP: each is an
	// intercept VTL1 refuses.
	copy(mem[protGPA:], "vtl0 data")
	if !sim.HV.VTL0Write(protGPA, []byte("forged")) {
		t.Fatal("the write to the protected page was not intercepted")
	}
	if _, err := sim.Interrupt(ctx); err != nil {
		t.Fatal(err)
	}
	if !sim.HV.VTL0WriteCR(hv.RegCR4, hvtest.DefaultCR4&^vsm.CR4SMEP) {
		t.Fatal("the CR4 write was not intercepted")
	}
	if _, err := sim.Interrupt(ctx); err != nil {
		t.Fatal(err)
	}
	if string(mem[protGPA:protGPA+9]) != "vtl0 data" || len(sim.HV.Injected) != 2 || sim.HV.VTL0[hv.RegCR4].Low&vsm.CR4SMEP == 0 {
		t.Errorf("refusals: page %q, %d exceptions injected, CR4 %#x", mem[protGPA:protGPA+9], len(sim.HV.Injected), sim.HV.VTL0[hv.RegCR4].Low)
	}
	log, err := vsm.ReadLog(mem[info.A1 : info.A1+info.A2])
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"refused VTL0 write of GPA 0x1600000", "to Cr4"} {
		if !strings.Contains(string(log), want) {
			t.Errorf("log ring lacks %q:\n%s", want, log)
		}
	}

	// The application: public key, then a signature of VTL0's message.
	msg := []byte("VTL0 kernel measurement 42")
	copy(mem[msgGPA:], msg)
	k := call(vtlcall.Args{A0: vtlcall.AppFirst + 0, A1: msgGPA, A2: 0, A3: keyGPA})
	s := call(vtlcall.Args{A0: vtlcall.AppFirst + 1, A1: msgGPA, A2: uint64(len(msg)), A3: replyGPA})
	if vtlcall.StatusOf(k.A3) != 0 || vtlcall.StatusOf(s.A3) != 0 || k.A1 != ed25519.PublicKeySize || s.A1 != ed25519.SignatureSize {
		t.Fatalf("application calls: key %+v, signature %+v", k, s)
	}
	key := ed25519.PublicKey(append([]byte(nil), mem[keyGPA:keyGPA+k.A1]...))
	if !ed25519.Verify(key, msg, mem[replyGPA:replyGPA+s.A1]) {
		t.Error("the application's signature does not verify")
	}
	if e := call(vtlcall.Args{A0: vtlcall.AppFirst + 7, A3: replyGPA}); vtlcall.StatusOf(e.A3) != -38 {
		t.Errorf("unknown application function: status %d, want -38", vtlcall.StatusOf(e.A3))
	}
	out := console.String()
	for _, want := range []string{"SIMULATED VSM", "vtl0svc: serving VTL0", "vtl0svc: request 2: function 1, 26 bytes"} {
		if !strings.Contains(out, want) {
			t.Errorf("console lacks %q", want)
		}
	}
	t.Logf("SIMULATED VSM: %d guest requests by op (1 hypercall, 2 VTL return, 3 CPUID, 4 RDMSR, 5 WRMSR): %v", len(sim.Requests), sim.Requests)
}
