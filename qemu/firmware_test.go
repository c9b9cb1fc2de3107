package qemu

import (
	"strings"
	"testing"
)

// TestFirmwareWatch checks that the watch stops an OVMF boot when the
// firmware gives up (no bootable option, its shell started, or its own
// fault), written in pieces as a console arrives, and keeps the lines
// saying what failed; and that a boot that reaches Cocoon is left alone.
func TestFirmwareWatch(t *testing.T) {
	const esc = "\x1b[2J\x1b[01;01H"
	for _, c := range []struct {
		name, console, gaveUp, failed string
	}{
		{"no option", esc + "BdsDxe: No bootable option or device was found.\r\nBdsDxe: Press any key to enter the Boot Manager Menu.",
			"BdsDxe: No bootable option or device was found.", ""},
		{"shell", "BdsDxe: failed to load Boot0001 \"UEFI Non-Block Boot Device\" from VenMedia(1428F772): Not Found\r\n" +
			"BdsDxe: loading Boot0002 \"EFI Internal Shell\" from Fv(7CB8)/FvFile(7C04)\r\n" +
			"BdsDxe: starting Boot0002 \"EFI Internal Shell\" from Fv(7CB8)/FvFile(7C04)\r\nUEFI Interactive Shell v2.2\r\nShell> ",
			"BdsDxe: starting Boot0002 \"EFI Internal Shell\" from Fv(7CB8)/FvFile(7C04)",
			"\n\tBdsDxe: failed to load Boot0001 \"UEFI Non-Block Boot Device\" from VenMedia(1428F772): Not Found"},
		{"fault", "!!!! X64 Exception Type - 0E(#PF - Page-Fault)  CPU Apic ID - 00000000 !!!!\r\nExceptionData - 03\r\n",
			"!!!! X64 Exception Type - 0E(#PF - Page-Fault)  CPU Apic ID - 00000000 !!!!", ""},
		{"boots", "BdsDxe: loading Boot0001 \"UEFI Non-Block Boot Device\" from VenMedia(1428F772)\r\n" +
			"BdsDxe: starting Boot0001 \"UEFI Non-Block Boot Device\" from VenMedia(1428F772)\r\ncocoon: boot (UEFI)\r\nhello\r\n", "", ""},
	} {
		stops := 0
		w := &firmwareWatch{stop: func() { stops++ }}
		for rest := c.console; rest != ""; {
			n := min(len(rest), 7)
			if _, err := w.Write([]byte(rest[:n])); err != nil {
				t.Fatal(err)
			}
			rest = rest[n:]
		}
		gaveUp, failed := w.result()
		if gaveUp != c.gaveUp || failed != c.failed || stops != min(len(c.gaveUp), 1) {
			t.Errorf("%s: gave up on %q after %q, stopped %d times; want %q, %q, %d", c.name, gaveUp, failed, stops, c.gaveUp, c.failed, min(len(c.gaveUp), 1))
		}
	}
}

// TestOVMFMemoryFloor checks that an OVMF run with less memory than the
// firmware itself needs is refused before QEMU starts, naming the floor.
func TestOVMFMemoryFloor(t *testing.T) {
	err := checkMemory(Config{Profile: OVMF, Kernel: "app.efi", MemoryMiB: 32})
	if err == nil || !strings.Contains(err.Error(), "at least 40 MiB") {
		t.Errorf("OVMF with 32 MiB: %v, want a refusal naming 40 MiB", err)
	}
	if err := checkMemory(Config{Profile: OVMF, Kernel: "app.efi", MemoryMiB: 40}); err != nil {
		t.Errorf("OVMF with 40 MiB: %v", err)
	}
}
