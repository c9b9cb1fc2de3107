// Package hv is the Hyper-V guest interface a VTL1 secure kernel needs,
// as the Hypervisor Top-Level Functional Specification (TLFS) defines it:
// detection through the hypervisor CPUID leaves, the synthetic MSRs (guest
// OS identity, hypercall page, VP assist page, SynIC), hypercall input and
// result values, the typed input and output blocks of the hypercalls Cocoon
// makes (HvCallModifyVtlProtectionMask, HvCallGetVpRegisters,
// HvCallSetVpRegisters, and the VTL0 loader's HvCallEnablePartitionVtl and
// HvCallEnableVpVtl), the VP assist page's VTL control and SynIC messages.
//
// Citations name the TLFS by the sections of its published form
// (MicrosoftDocs/Virtualization-Documentation,
// virtualization/hyper-v-on-windows/tlfs/): "TLFS Hypercall Interface",
// "TLFS Feature Discovery", "TLFS VSM" (vsm.md) and the data type and
// hypercall pages (datatypes/*.md, hypercalls/*.md). Layouts the public
// TLFS does not spell out (intercept message payloads, the pending event
// register) follow the LVBS VTL0/VTL1 kernel, heki-linux/lvbs-linux, and
// say so.
//
// The package is pure Go and allocation-free in its decoders: the
// privileged operations (CPUID, RDMSR/WRMSR, the call into the hypercall
// page) are reached through small interfaces, so package hvtest's fake
// hypervisor, honest or hostile, drives the same code in host tests.
// Everything read from the hypervisor is validated before use.
package hv
