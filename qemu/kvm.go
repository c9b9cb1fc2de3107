package qemu

import (
	"context"
	"os"
	"path/filepath"
	"time"
)

// kvmProbeTimeout bounds the probe's trial boot, which takes about 0.1 s
// when KVM works.
const kvmProbeTimeout = 10 * time.Second

// KVMWorks reports whether QEMU can run a guest with KVM here: /dev/kvm
// opens read-write and the floor image boots to exit status 0 under
// microvm with -accel kvm. It reports false on any failure and never
// needs KVM to be present. qemu is the binary to try, "" for the default
// (as for Config.QEMU).
//
// Passing the probe does not promise every guest runs: nested KVM here has
// failed on firmware code (emulation failures on FPU instructions run from
// flash) that the floor image does not exercise.
func KVMWorks(ctx context.Context, qemu string) bool {
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return false
	}
	f.Close()

	dir, err := os.MkdirTemp("", "cocoon-kvm-probe-")
	if err != nil {
		return false
	}
	defer os.RemoveAll(dir)
	kernel := filepath.Join(dir, "floor.elf")
	if err := os.WriteFile(kernel, FloorImage(), 0o644); err != nil {
		return false
	}
	_, err = Run(ctx, Config{
		Profile: Microvm,
		Kernel:  kernel,
		Accel:   KVM,
		Timeout: kvmProbeTimeout,
		QEMU:    qemu,
	})
	return err == nil
}
