package kernel

// The launcher's secrets page, for a host-side PSP (SEV-SNP attestation
// under plain QEMU through the platform's hal.GuestRequester). Goroutine
// context.

import "github.com/cocoon-vm/cocoon/kernel/cpu"

// secretsPhys is the physical address of the secrets page the launcher
// placed in memory (cocoon.secrets=ADDR on the command line), 0 if none.
var secretsPhys uint64

// SecretsPage returns the launcher-provided SEV-SNP secrets page, or nil.
// Under real SNP the firmware provides it; under plain QEMU the launcher
// loads a simulated one (qemu -device loader) and names its address.
func SecretsPage() []byte {
	if secretsPhys == 0 {
		return nil
	}
	return cpu.Bytes(cpu.Virt(uintptr(secretsPhys)), pageSize)
}
