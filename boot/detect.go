package boot

// Platform detection (package snp): which South platform this boot runs
// on. Boot context: //go:nosplit, no allocation.

import (
	"github.com/cocoon-vm/cocoon/kernel/cpu"
	"github.com/cocoon-vm/cocoon/snp"
)

// prober is snp.Prober on the processor. Pointer methods: the wrappers
// the compiler generates for value methods called through an interface
// are not nosplit.
type prober struct{}

var theProber prober

//go:nosplit
func (*prober) CPUID(leaf, sub uint32) (uint32, uint32, uint32, uint32) { return cpu.Cpuid(leaf, sub) }

//go:nosplit
func (*prober) ReadMSR(msr uint32) uint64 { return cpu.Rdmsr(msr) }

// encryption is what detection found: NotEncrypted selects hal/pc.
var encryption snp.Status

// detect runs snp.Detect and explains a guest Cocoon cannot run. The
// UEFI entry runs SNP guests (snp.go); on the PVH path an SEV-ES or SNP
// guest never gets here (its first CPUID raises a #VC nobody handles),
// plain SEV does. Under UEFI the firmware's #VC handler still serves
// CPUID, so efiMain decides there.
//
//go:nosplit
func detect() (why string, ok bool) {
	encryption = snp.Detect(&theProber)
	if encryption.Kind == snp.Unsupported {
		return "cocoon: SEV or SEV-ES without SNP, SNP with features Cocoon does not implement (vTOM, restricted injection, Secure TSC, ...), or inconsistent SEV_STATUS: not supported\r\n", false
	}
	return "", true
}
