package hostcheck

import (
	"bytes"
	"context"
	"debug/elf"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cocoon-vm/cocoon/hal"
	"github.com/cocoon-vm/cocoon/tools/efiimage"
	"github.com/cocoon-vm/cocoon/tools/kbuild"
)

// kernels are the kernel images checked: the test kernel and the
// application kernel, with network and without (kbuild.Options.NoNetwork,
// which mkimage builds for an image without sockets). The UEFI image, which is also the SEV-SNP image
// (boot/efi.go selects the platform at run time), is the application
// kernel's ELF made a PE32+ application; checkImage makes sure it carries
// exactly the code checked.
var kernels = map[string]kernel{
	"selftest":                {"./images/selftest", false},
	"application":             {"./north/cocoon", false},
	"application, no network": {"./north/cocoon", true},
}

// kernel is a kernel package and whether it is built without network.
type kernel struct {
	pkg       string
	noNetwork bool
}

func build(t *testing.T, k kernel) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "kernel.elf")
	if err := kbuild.Kernel(context.Background(), k.pkg, out, kbuild.Options{Dir: filepath.Join("..", ".."), NoNetwork: k.noNetwork}); err != nil {
		t.Fatalf("building %s: %v", k.pkg, err)
	}
	return out
}

// TestHostInterface checks each kernel image against the registry.
func TestHostInterface(t *testing.T) {
	inv := AllInventories()
	var reports []Report
	for name, k := range kernels {
		t.Run(name, func(t *testing.T) {
			path := build(t, k)
			funcs, err := Funcs(path)
			if err != nil {
				t.Fatal(err)
			}
			r := Check(funcs, hal.Accessors, inv)
			reports = append(reports, r)
			for _, p := range r.Problems {
				t.Error(p)
			}
			// The check saw the code it is about: the port accessors'
			// callers and the FS-base switches.
			for _, n := range []uint64{0x3f8, 0xf4} {
				if len(r.Ports[n]) == 0 {
					t.Errorf("no access to port %#x found: the disassembly missed hal/pc", n)
				}
			}
			if len(r.MMIO[0xfee00000]) == 0 {
				t.Errorf("the local APIC's default window was not seen mapped: MMIO %v", r.MMIO)
			}
			if len(r.MSRs[0xc0000100]) == 0 || len(r.MSRs[0xc0010130]) == 0 {
				t.Errorf("FS base or GHCB MSR accesses not found: MSRs %v", r.MSRs)
			}
			if name == "application" {
				checkEFI(t, path, funcs)
			}
		})
	}
	if len(reports) == len(kernels) {
		for _, p := range Unused(inv, reports...) {
			t.Error(p)
		}
	}
}

// checkEFI builds the UEFI (and SEV-SNP) image of the kernel at path and
// makes sure its code is the ELF's .text, byte for byte.
func checkEFI(t *testing.T, path string, funcs []Func) {
	img, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pe, err := efiimage.Build(img, efiimage.Options{})
	if err != nil {
		t.Fatalf("efiimage.Build: %v", err)
	}
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	text, err := f.Section(".text").Data()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(pe, text) {
		t.Fatalf("the UEFI image does not carry the checked kernel's .text (%d bytes)", len(text))
	}
}

// TestStrayOutbFails shows the check failing: a function that is no
// accessor executing OUT, a port accessor called with a port no platform
// lists, and an inventory entry nothing touches.
func TestStrayOutbFails(t *testing.T) {
	// A registered accessor, and one caller that passes COM1's port.
	outb := Func{Name: "kernel/cpu.Outb", Addr: 0x1000, Code: []byte{0xEE, 0xC3}} // OUT DX, AL; RET
	call := func(port byte) []byte {
		// MOVL $port, AX; CALL kernel/cpu.Outb (at 0x1000, from 0x2000)
		code := []byte{0xB8, port, 0, 0, 0, 0xE8, 0, 0, 0, 0, 0xC3}
		rel := int32(0x1000 - (0x2000 + 10))
		code[6], code[7], code[8], code[9] = byte(rel), byte(rel>>8), byte(rel>>16), byte(rel>>24)
		return code
	}
	acc := []hal.Accessor{{Func: "kernel/cpu.Outb", Ops: []string{"out"}, Arg: hal.KindPort}}
	inv := []hal.HostExit{{Kind: hal.KindPort, Lo: 0xf8, Hi: 0xff, What: "a UART"}}

	good := []Func{outb, {Name: "hal/pc.(*PC).Init", Addr: 0x2000, Code: call(0xf8)}}
	if r := Check(good, acc, inv); len(r.Problems) != 0 || len(r.Ports[0xf8]) != 1 {
		t.Fatalf("clean code: problems %v, ports %v", r.Problems, r.Ports)
	}

	stray := append(good, Func{Name: "north.stray", Addr: 0x3000, Code: []byte{0xB0, 0x01, 0xE6, 0x80, 0xC3}}) // MOVB $1, AL; OUTB AL, $0x80; RET
	r := Check(stray, acc, inv)
	if len(r.Problems) != 1 || !strings.Contains(r.Problems[0], "north.stray+0x2: out outside a registered accessor") {
		t.Errorf("stray outb: problems %v", r.Problems)
	}

	unlisted := []Func{outb, {Name: "hal/pc.(*PC).Init", Addr: 0x2000, Code: call(0x80)}}
	r = Check(unlisted, acc, inv)
	if len(r.Problems) != 1 || !strings.Contains(r.Problems[0], "port 0x80 (hal/pc.(*PC).Init+0x5) is in no platform's inventory") {
		t.Errorf("unlisted port: problems %v", r.Problems)
	}
	if u := Unused(inv, r); len(u) != 1 || !strings.Contains(u[0], "port 0xf8-0xff (a UART), which the code never touches") {
		t.Errorf("unused inventory entry: %v", u)
	}

	for _, c := range []struct {
		name string
		code []byte
		want string
	}{
		{"vmgexit", []byte{0xF3, 0x0F, 0x01, 0xD9}, "vmgexit outside"},
		{"vmmcall", []byte{0x0F, 0x01, 0xD9}, "vmmcall outside"},
		{"vmcall", []byte{0x0F, 0x01, 0xC1}, "vmcall outside"},
		{"wrmsr", []byte{0x0F, 0x30}, "wrmsr outside"},
		{"hlt", []byte{0xF4}, "hlt outside"},
		{"insb", []byte{0x6C}, "in outside"},
		{"hlt after a jump", []byte{0xEB, 0x01, 0x90, 0xF4}, "north.stray+0x3: hlt outside"},
	} {
		r := Check(append(good, Func{Name: "north.stray", Addr: 0x3000, Code: c.code}), acc, inv)
		if len(r.Problems) != 1 || !strings.Contains(r.Problems[0], c.want) {
			t.Errorf("stray %s: problems %v", c.name, r.Problems)
		}
	}
	// Mapping device memory: a constant window in the inventory passes,
	// one outside fails, and a computed one needs a caller registered
	// with Maps.
	device := Func{Name: "kernel/cpu.Device", Addr: 0x1000, Code: []byte{0xC3}}
	mmioAcc := []hal.Accessor{{Func: "kernel/cpu.Device", Arg: hal.KindMMIO}, {Func: "hal/pc.mapper", Maps: true}}
	mmioInv := []hal.HostExit{{Kind: hal.KindMMIO, Lo: 0xfee00000, Hi: 0xfee00fff}}
	mapAt := func(name string, window uint32) Func {
		code := []byte{0xB8, byte(window), byte(window >> 8), byte(window >> 16), byte(window >> 24), 0xE8, 0, 0, 0, 0, 0xC3}
		rel := int32(0x1000 - (0x2000 + 10))
		code[6], code[7], code[8], code[9] = byte(rel), byte(rel>>8), byte(rel>>16), byte(rel>>24)
		return Func{Name: name, Addr: 0x2000, Code: code}
	}
	computed := func(name string) Func {
		code := []byte{0x48, 0x89, 0xD8, 0xE8, 0, 0, 0, 0, 0xC3} // MOVQ BX, AX; CALL
		rel := int32(0x1000 - (0x2000 + 8))
		code[4], code[5], code[6], code[7] = byte(rel), byte(rel>>8), byte(rel>>16), byte(rel>>24)
		return Func{Name: name, Addr: 0x2000, Code: code}
	}
	for _, c := range []struct {
		name string
		f    Func
		want string
	}{
		{"listed window", mapAt("hal/pc.init", 0xfee00000), ""},
		{"unlisted window", mapAt("hal/pc.init", 0xfeb00000), "maps MMIO at 0xfeb00000, in no platform's inventory"},
		{"computed, registered", computed("hal/pc.mapper"), ""},
		{"computed, unregistered", computed("north.stray"), "not registered as mapping one"},
	} {
		r := Check([]Func{device, c.f}, mmioAcc, mmioInv)
		got := strings.Join(r.Problems, "\n")
		if c.want == "" && got != "" || c.want != "" && (len(r.Problems) != 1 || !strings.Contains(got, c.want)) {
			t.Errorf("%s: problems %v, want %q", c.name, r.Problems, c.want)
		}
	}

	// A marker function: JMP over data bytes that decode as HLT.
	marker := Func{Name: "crypto/internal/boring/sig.StandardCrypto", Addr: 0x3000, Code: []byte{0xEB, 0x02, 0xF4, 0xF4, 0xC3}}
	if r := Check(append(good, marker), acc, inv); len(r.Problems) != 0 {
		t.Errorf("marker data read as code: %v", r.Problems)
	}
}
