// Package vsm is what Cocoon's secure kernel does for VTL0: it answers
// VTL calls (package vtlcall) and the secure intercepts its protections
// cause.
//
// Services, each a VTL call:
//
//   - Memory protection: VTL0 asks that ranges of its memory lose write or
//     execute access (LVBS PROTECT_MEMORY with a heki_page list, or
//     Cocoon's PROTECT_PAGES). Cocoon applies them with
//     HvCallModifyVtlProtectionMask; a later VTL0 access they forbid
//     arrives as a GPA intercept message, which Cocoon refuses (a #GP
//     injected into VTL0) and reports in the log ring. Protections only
//     ever tighten: a request cannot give back an access an earlier one
//     removed.
//   - Register pinning: VTL0 asks that bits of CR0/CR4 or whole system
//     MSRs keep their current values (LVBS LOCK_REGS, or Cocoon's
//     PIN_REGISTER for one register and mask). Cocoon installs secure
//     register intercepts (HvRegisterCrInterceptControl and the CR0/CR4
//     mask registers, TLFS VSM "Secure Register Intercepts"); a write that
//     keeps the pinned bits is applied for VTL0 with
//     HvCallSetVpRegisters, any other is refused with a #GP and reported.
//   - A log ring in secure memory that VTL0 may read but not write
//     (LOG_INFO tells it where).
//   - The application channel: function IDs vtlcall.AppFirst-AppLast go
//     to the hosted application through a Channel (North's /dev/vtl0).
//
// Boot-time calls of the LVBS VTL0 kernel are answered: the boot call,
// ENABLE_APS_VTL and BOOT_APS (secondary CPUs stay parked: Cocoon runs
// VTL1 on the boot CPU only, and says so), SIGNAL_END_OF_BOOT, after
// which no protection can be added or changed, as in lvbs-linux
// drivers/hv/mshv_vsm_vtl1.c.
//
// Everything VTL0 passes is untrusted: every address is checked to lie in
// VTL0's RAM and outside the secure kernel, every count is bounded, and
// Cocoon never writes for VTL0 into memory VTL0 itself may not write (no
// confused deputy). Everything the hypervisor returns is checked too.
//
// The package runs in goroutine context and is host-tested against
// package hvtest's fake hypervisor.
package vsm
