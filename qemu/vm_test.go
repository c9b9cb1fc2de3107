package qemu

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cocoon-vm/cocoon/internal/testenv"
)

// Tests that boot real guests under QEMU with TCG. They skip where QEMU is
// missing and never assert on timings.

// pvhProfiles are the profiles that boot PVH ELF images.
var pvhProfiles = []Profile{Microvm, Q35}

// needQEMU skips the test if there is no QEMU to run.
func needQEMU(t *testing.T) {
	t.Helper()
	if _, err := (Config{}).binary(); err != nil {
		testenv.Missing(t, "skipping VM test: %v: install the qemu-system-x86 package", err)
	}
}

// logWriter sends the command line Run logs to the test log.
type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Logf("%s", strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// boot runs a PVH image made of code under profile with TCG.
func boot(t *testing.T, profile Profile, code []byte, timeout time.Duration) (*Result, error) {
	t.Helper()
	kernel := filepath.Join(t.TempDir(), "guest.elf")
	if err := os.WriteFile(kernel, pvhImage(code), 0o644); err != nil {
		t.Fatal(err)
	}
	return Run(t.Context(), Config{
		Profile: profile,
		Kernel:  kernel,
		Accel:   TCG,
		Timeout: timeout,
		Log:     logWriter{t},
	})
}

// Guest code snippets, 32-bit protected mode (Intel SDM Vol. 2 opcodes).

// writeCOM1 writes s to the COM1 transmit register, byte by byte:
// mov dx, 0x3f8; mov al, c; out dx, al.
func writeCOM1(s string) []byte {
	var code []byte
	for _, c := range []byte(s) {
		code = append(code, 0x66, 0xba, 0xf8, 0x03, 0xb0, c, 0xee)
	}
	return code
}

// haltForever is 1: hlt; jmp 1b.
var haltForever = []byte{0xf4, 0xeb, 0xfd}

// tripleFault loads an empty IDT and raises #BP: the #BP cannot be
// delivered (#GP), nor can the #GP (#DF), nor the #DF, so the CPU resets.
// lidt [m] with m the 6 zero bytes (limit, base) after int3.
func tripleFault() []byte {
	const lidtLen, int3Len = 7, 1
	idtr := uint32(floorEntry + lidtLen + int3Len)
	code := binary.LittleEndian.AppendUint32([]byte{0x0f, 0x01, 0x1d}, idtr)
	code = append(code, 0xcc)
	return append(code, make([]byte, 6)...)
}

func TestVMFloorImage(t *testing.T) {
	needQEMU(t)
	for _, p := range pvhProfiles {
		t.Run(string(p), func(t *testing.T) {
			kernel := filepath.Join(t.TempDir(), "floor.elf")
			if err := os.WriteFile(kernel, FloorImage(), 0o644); err != nil {
				t.Fatal(err)
			}
			res, err := Run(t.Context(), Config{Profile: p, Kernel: kernel, Accel: TCG, Log: logWriter{t}})
			if err != nil {
				t.Fatalf("Run(FloorImage on %s) = %v, want nil", p, err)
			}
			if res.ExitCode != 1 {
				t.Errorf("Run(FloorImage on %s): QEMU exit code %d, want 1", p, res.ExitCode)
			}
			t.Logf("wall time %v", res.Wall)
		})
	}
}

func TestVMExitStatus(t *testing.T) {
	needQEMU(t)
	for _, p := range pvhProfiles {
		t.Run(string(p), func(t *testing.T) {
			_, err := boot(t, p, reportStatus(5), DefaultTimeout)
			var ee *ExitError
			if !errors.As(err, &ee) || ee.Status != 5 {
				t.Errorf("Run(status 5 on %s) = %v, want ExitError{5}", p, err)
			}
		})
	}
}

func TestVMConsole(t *testing.T) {
	needQEMU(t)
	const msg = "hello from COM1\n"
	for _, p := range pvhProfiles {
		t.Run(string(p), func(t *testing.T) {
			res, err := boot(t, p, append(writeCOM1(msg), reportStatus(0)...), DefaultTimeout)
			if err != nil {
				t.Fatalf("Run(console guest on %s) = %v, want nil", p, err)
			}
			if res.Console != msg {
				t.Errorf("Run(console guest on %s).Console = %q, want %q", p, res.Console, msg)
			}
		})
	}
}

func TestVMTripleFault(t *testing.T) {
	needQEMU(t)
	for _, p := range pvhProfiles {
		t.Run(string(p), func(t *testing.T) {
			_, err := boot(t, p, tripleFault(), DefaultTimeout)
			if !errors.Is(err, ErrNoExitStatus) {
				t.Errorf("Run(triple fault on %s) = %v, want ErrNoExitStatus", p, err)
			}
		})
	}
}

func TestVMTimeout(t *testing.T) {
	needQEMU(t)
	code := append(writeCOM1("waiting\n"), haltForever...)
	_, err := boot(t, Microvm, code, 3*time.Second)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "waiting") {
		t.Errorf("Run(guest that never exits) = %v, want a timeout quoting the console", err)
	}
}

func TestVMQEMUFailure(t *testing.T) {
	needQEMU(t)
	kernel := filepath.Join(t.TempDir(), "floor.elf")
	if err := os.WriteFile(kernel, FloorImage(), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Run(t.Context(), Config{Kernel: kernel, Extra: []string{"-bogus"}})
	if err == nil || !strings.Contains(err.Error(), "-bogus: invalid option") {
		t.Errorf("Run with -bogus = %v, want QEMU's complaint", err)
	}
	_, err = Run(t.Context(), Config{Kernel: filepath.Join(t.TempDir(), "missing.elf")})
	if err == nil || !strings.Contains(err.Error(), "could not open kernel file") {
		t.Errorf("Run with a missing kernel = %v, want QEMU's complaint", err)
	}
}

func TestVMOVMF(t *testing.T) {
	needQEMU(t)
	if _, err := os.Stat(DefaultOVMFCode); err != nil {
		testenv.Missing(t, "skipping OVMF test: %v: install the ovmf package", err)
	}
	app := filepath.Join(t.TempDir(), "app.efi")
	if err := os.WriteFile(app, efiApp(reportStatus(3)), 0o644); err != nil {
		t.Fatal(err)
	}
	// The same instructions report status 3 in 64-bit mode.
	_, err := Run(t.Context(), Config{Profile: OVMF, Kernel: app, Accel: TCG, Log: logWriter{t}})
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Status != 3 {
		t.Errorf("Run(UEFI application reporting 3 on ovmf) = %v, want ExitError{3}", err)
	}
}

// TestVMKVMWorks checks the probe's verdict against the machine: never
// true without a usable QEMU or a read-write /dev/kvm, and agreeing with a
// direct boot of the floor image under KVM. KVM is never required: the
// test passes whichever way the verdict goes, as long as it is right.
func TestVMKVMWorks(t *testing.T) {
	needQEMU(t)
	if KVMWorks(t.Context(), filepath.Join(t.TempDir(), "no-such-qemu")) {
		t.Error("KVMWorks with a QEMU binary that does not exist = true")
	}
	works := KVMWorks(t.Context(), "")
	t.Logf("KVMWorks = %t", works)
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		if works {
			t.Errorf("KVMWorks = true, but /dev/kvm does not open read-write: %v", err)
		}
		return
	}
	f.Close()
	kernel := filepath.Join(t.TempDir(), "floor.elf")
	if err := os.WriteFile(kernel, FloorImage(), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Run(t.Context(), Config{Profile: Microvm, Kernel: kernel, Accel: KVM, Timeout: kvmProbeTimeout})
	if booted := err == nil; booted != works {
		t.Errorf("KVMWorks = %t, but the floor image under -accel kvm gives %v", works, err)
	}
}
