// Package snp is the AMD SEV-SNP South platform: the hal.Platform an image
// runs on when the processor says it is an SEV-SNP guest. It is chosen at
// boot by Detect; on anything else the same image runs on the generic PC
// platform (hal/pc).
//
// Shape. Under SNP the hypervisor cannot read guest registers or memory,
// so every port, MSR or MMIO access that would exit to it raises a #VC
// exception in the guest instead (AMD APM vol. 2, 15.35 "Encrypted State
// (SEV-ES)"). Platform keeps the generic PC devices (it embeds pc.PC: the
// same COM1, PIT, RTC and local APIC) and makes them work by handling #VC:
// HandleVC decodes the instruction, performs the access through the GHCB
// (GHCB spec, AMD publication 56421, section 4 "Non-Automatic Exit
// Events") and completes it in the saved registers. CPUID is answered from
// the SNP CPUID page the PSP checked at launch, never by the host.
//
// The sub-packages hold the protocols, each host-tested on its own:
// ghcbmsr (MSR protocol), ghcb (the GHCB page), psc (page state changes),
// cpuidpage, secrets, guestmsg (guest messages to the PSP), mmio and vc
// (instruction decoding for #VC), measure (launch digest, host side).
//
// Contexts. HandleVC, the hal.Platform methods and everything they call
// run in trap context: //go:nosplit, no allocation, no errors created, no
// interfaces other than Machine. Init and Validate run at boot before the
// kernel's runtime exists and follow the same rules. GuestRequest runs on
// a goroutine with interrupts off around the exit.
//
// Status: this code is proven by host tests against a fake hypervisor
// (snp/snptest) driving these entry points, including hostile answers. It
// has not run on SNP hardware; the project's machines have none and QEMU
// cannot emulate SNP. docs/SNP.md says what the boot path still lacks.
package snp
