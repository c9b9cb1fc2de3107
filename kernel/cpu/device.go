package cpu

import "github.com/cocoon-vm/cocoon/hal"

// Device returns the direct-map address of the device register window
// [phys, phys+size) on platform, or false when the window lies outside
// the platform's MMIO ranges (hal.MMIOAllowed): every mapping of device
// memory goes through it, so the image reaches no MMIO the host
// interface does not list. tools/hostcheck checks its callers like a
// port accessor's. Trap and boot context: no allocation.
//
//go:noinline
//go:nosplit
func Device(phys, size uint64, platform string) (uintptr, bool) {
	if !hal.MMIOAllowed(platform, phys, size) || phys+size > uint64(DirectMapSize) {
		return 0, false
	}
	return Virt(uintptr(phys)), true
}
