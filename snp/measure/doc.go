// Package measure computes the SEV-SNP launch measurement of a guest on the
// host, before the guest starts.
//
// The AMD secure processor (ASP) builds the MEASUREMENT field of an SNP
// attestation report while the VMM loads the guest: every SNP_LAUNCH_UPDATE
// command folds one 4 KiB page, described by a PAGE_INFO structure, into a
// running SHA-384 digest (SEV Secure Nested Paging Firmware ABI
// Specification, AMD publication 56860, section 8.17 "SNP_LAUNCH_UPDATE").
// This package replays the same sequence of updates the VMM issues:
//
//  1. the OVMF firmware image, as NORMAL pages mapped so that it ends at 4 GiB
//     (the result of this step alone is the "OVMF hash");
//  2. the sections listed in OVMF's SEV metadata ("ASEV"): pre-validated
//     memory (ZERO pages), the secrets page, the CPUID page, the SVSM calling
//     area, and the kernel-hashes page (NORMAL when QEMU is given -kernel);
//  3. one VMSA page per vCPU, holding the reset-vector register state.
//
// Three VMMs are modelled, because each one loads the guest slightly
// differently: QEMU/KVM, Amazon EC2 and Google Compute Engine.
//
// Measure works on a parsed Firmware and Options; MeasureFiles starts from
// the files the VMM is given, and WriteExpected stores the result beside a
// built image for verifiers. "mkimage measure" is the command-line front.
//
// Performance: measuring a 4 MiB firmware with a 10 MiB kernel takes about
// 11 ms from memory and 13 ms from files on two vCPUs of an AMD EPYC host
// (BenchmarkMeasure4MiBFirmware10MiBKernel and
// BenchmarkMeasureFiles4MiBFirmware10MiBKernel); the firmware pages are
// hashed on all CPUs.
//
// Everything here is host-side, allocation-friendly Go; nothing in this
// package runs inside a guest.
package measure
