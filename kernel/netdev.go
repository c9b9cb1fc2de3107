package kernel

// Network devices: finding a virtio-net device and giving its driver
// (hal/virtio) register access and shared memory. Goroutine context.

import (
	"errors"
	"fmt"
	"sync/atomic"
	"syscall"

	"github.com/cocoon-vm/cocoon/hal/virtio"
	"github.com/cocoon-vm/cocoon/kernel/cpu"
)

// microvm's virtio-mmio transports (QEMU hw/i386/microvm.c
// VIRTIO_MMIO_BASE): 0x200-byte windows from 0xfeb00000, up to 24 of
// them (8 without the second IO-APIC).
const (
	virtioMMIOBase  = 0xfeb00000
	virtioMMIOSlots = 24
)

// NetQueueSize is the largest virtqueue the network driver sets up.
const NetQueueSize = 256

// mmioRegs is a device register window reached through the direct map.
type mmioRegs struct{ va uintptr }

// Read32 and Write32 are single 32-bit accesses: atomics, so the compiler
// neither merges, reorders nor drops them.
func (r mmioRegs) Read32(off uint32) uint32 {
	return atomic.LoadUint32(cpu.Ptr32(r.va + uintptr(off)))
}

func (r mmioRegs) Write32(off uint32, v uint32) {
	atomic.StoreUint32(cpu.Ptr32(r.va+uintptr(off)), v)
}

// VirtioNet finds the first virtio-net device and starts its driver. It
// returns nil and no error when the machine has none.
func VirtioNet() (*virtio.Net, error) {
	if platform == nil || platform.Name() != "pc" {
		// Under SEV-SNP the rings and buffers must be pages shared with
		// the host (page state change and a C-bit clear mapping), which
		// dmaAlloc does not do yet: no network device rather than one
		// that leaks private memory.
		return nil, nil
	}
	for i := 0; i < virtioMMIOSlots; i++ {
		va, ok := cpu.Device(uint64(virtioMMIOBase+i*virtio.MMIOSize), virtio.MMIOSize, platform.Name())
		if !ok {
			return nil, fmt.Errorf("virtio-mmio window %#x is not in the %s platform's host interface (hal.PCExits)", virtioMMIOBase+i*virtio.MMIOSize, platform.Name())
		}
		regs := mmioRegs{va}
		if regs.Read32(0) != 0x74726976 { // "virt": a transport is there
			continue
		}
		if regs.Read32(8) != virtio.DeviceNet {
			continue
		}
		t, err := virtio.NewMMIO(regs)
		if err != nil {
			return nil, fmt.Errorf("virtio-mmio at %#x: %v", virtioMMIOBase+i*virtio.MMIOSize, err)
		}
		n, err := virtio.NewNet(t, dmaAlloc, NetQueueSize)
		if err != nil {
			return nil, fmt.Errorf("virtio-net at %#x: %v", virtioMMIOBase+i*virtio.MMIOSize, err)
		}
		return n, nil
	}
	return nil, nil
}

// dmaAlloc returns pages of memory for a device: fresh pages of the
// kernel's own runtime memory, present, whose physical addresses it
// reads from the page tables. Nothing else lives on them.
func dmaAlloc(pages int) (virtio.Region, error) {
	b, err := syscall.Mmap(-1, 0, pages*pageSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return virtio.Region{}, fmt.Errorf("memory for a device: %v", err)
	}
	r := virtio.Region{Bytes: b}
	for i := 0; i < pages; i++ {
		b[i*pageSize] = 0 // fault the page in
		pte, _ := walk(addrOf(&b[i*pageSize]), false)
		if pte == nil || *pte&ptePresent == 0 {
			return virtio.Region{}, errors.New("memory for a device: a page is not present")
		}
		r.Pages = append(r.Pages, *pte&pteFrame)
	}
	return r, nil
}
