// Package qemu boots Cocoon guests under QEMU from the host: it builds the
// command line for a named machine profile, runs qemu-system-x86_64 with a
// timeout, captures the guest's serial console and turns the status the
// guest reports through isa-debug-exit into a Go error.
//
// A guest reports its result by writing a status byte v to I/O port 0xf4;
// QEMU then exits with (v<<1)|1 and Run maps that back: v == 0 is success
// (nil error), any other v is an *ExitError. A guest that stops any other
// way (triple fault, reset, power-off) yields ErrNoExitStatus, and one
// that never stops is killed after Config.Timeout.
//
// The microvm and q35 profiles boot a PVH ELF kernel with -kernel; ovmf
// boots UEFI firmware and a UEFI application, with -kernel or from a disk
// image. The Profile constants list the devices each gives the guest.
package qemu
