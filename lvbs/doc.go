// Package lvbs is Cocoon's LVBS platform: Cocoon's kernel as a Hyper-V
// VTL1 secure kernel beside a Linux kernel in VTL0, loaded the way the
// LVBS VTL0 kernel loads a secure kernel (heki-linux/lvbs-linux
// drivers/hv/hv_vsm_boot.c), protecting VTL0 and serving it through VTL
// calls (docs/LVBS.md).
//
// Start brings up the Hyper-V interface on the boot VP: detection, guest
// OS identity, hypercall page, VP assist page, SynIC message page for
// intercepts, and the VSM code page offsets through which VTL returns go.
// Serve is the VTL call loop: each entry into VTL1 is a VTL call, answered
// by package vsm's services with the result in the registers VTL0 reads,
// or an interrupt carrying an intercept message; VTL0's shared registers
// are preserved across both (TLFS VSM, "VTL Return": RAX and RCX come back
// from the VP assist page).
//
// Sub-packages: hv (the TLFS interface: detection, MSRs, hypercall
// encoders, VP assist page, SynIC messages), vtlcall (the VTL call ABI),
// vsm (the services), vtl1 (the hal.Platform the kernel runs), skimage
// (the image the VTL0 loader loads), and for tests hvtest (a fake,
// hostile-capable Hyper-V), vtl0load (the VTL0 loader in Go) and vsmsim
// (the SIMULATED VSM under QEMU).
//
// Status: host-tested against hvtest and run under QEMU with the
// simulated VSM. It has not run on Hyper-V; the project's machines have
// no VTL1, and no public emulator runs one.
package lvbs
