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
// # What QEMU hashes for -kernel
//
// For measured direct boot (QEMU -kernel with the sev-snp-guest object's
// kernel-hashes=on) QEMU writes SHA-256 digests of the kernel, the initrd
// and the command line into the kernel-hashes page, and OVMF refuses to
// start anything whose digest differs (edk2
// OvmfPkg/AmdSev/BlobVerifierLib/BlobVerifierSevHashes.c, VerifyBlob). The
// kernel digest is of the -kernel file exactly as given, setup header
// unpatched; HashKernelFiles hashes the file, and CheckQEMUKernel says
// whether QEMU takes a file down this path at all:
//
//   - QEMU's x86 loader (x86_load_linux: hw/i386/x86.c up to QEMU 9.0,
//     hw/i386/x86-common.c since 9.1, the first release with SEV-SNP)
//     loads a file as Linux when it finds the setup header magic "HdrS" at
//     offset 0x202, as in a bzImage or the cocoon.efi tools/efiimage
//     writes. It cuts the file in two: the setup part, the first
//     (setup_sects+1)*512 bytes (setup_sects at 0x1f1, where 0 means 4),
//     and the kernel part, the rest; a setup part longer than the file is
//     refused ("invalid kernel header"). Without the magic it tries
//     multiboot, then a PVH ELF note, and both return before any hashing
//     (anything else it loads as an ancient zImage, which OVMF cannot
//     start).
//   - It patches the loader fields of the setup header (type_of_loader,
//     loadflags, heap_end_ptr, cmd_line_ptr, ramdisk_image and
//     ramdisk_size) in a copy of the first 8 KiB, and copies that copy
//     over the setup part only for a guest without memory encryption:
//     under "if (!sev_enabled())" since QEMU 6.2 (commit "x86/sev:
//     generate SEV kernel loader hashes in x86_load_linux", which
//     introduced kernel hashes), "if (!MACHINE(x86ms)->cgs && protocol >
//     0)" in current QEMU. Under SEV the setup part stays the file's own
//     bytes.
//   - target/i386/sev.c hashes the setup part followed by the kernel part,
//     one SHA-256 over two iovecs (sev_add_kernel_loader_hashes in 6.2 to
//     9.0, build_kernel_loader_hashes since 9.1): the whole file. The
//     initrd is hashed as given (the empty string without -initrd), the
//     command line with its terminating NUL (a lone NUL without -append).
//   - OVMF's QemuKernelLoaderFsDxe (FetchBlob) reads the two fw_cfg items
//     QEMU serves, FW_CFG_SETUP_DATA then FW_CFG_KERNEL_DATA, into one
//     buffer and verifies that, so it hashes the same bytes. QEMU 10.0
//     (commit "x86/loader: expose unpatched kernel") also serves the whole
//     unpatched file as fw_cfg "etc/boot/kernel", which newer OVMF fetches
//     first (QemuKernelFetchNamedBlobs) and verifies under the same name:
//     again the whole file.
//
// Two things would add to the kernel part, and Cocoon's images avoid both:
// -dtb appends a device tree (QEMU's launcher never passes one), and QEMU
// 7.2.0 appended a random setup_data RNG seed to kernels declaring boot
// protocol 2.09 or later, which broke kernel hashes (AMDESE/qemu issue 10);
// tools/efiimage's header declares 2.06. Because QEMU patches a copy only
// for unencrypted guests, tools/efiimage needs no change either: its PE
// headers start at 0x280, after the setup header fields a boot loader
// writes, so plain OVMF boots and SEV boots read the same PE image.
//
// Measure works on a parsed Firmware and Options; MeasureFiles starts from
// the files the VMM is given, WriteExpected stores the result beside a
// built image for verifiers (as JSON of kind KindSNPLaunchDigest), and
// ReadExpected reads it back. "mkimage measure" is the command-line front.
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
