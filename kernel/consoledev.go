package kernel

// The application's standard input on a virtio console, when the
// launcher gives one (qemu.Stdio on microvm): a page per buffer moves far
// more per turn of the host's I/O loop than a 16550's 14-byte FIFO.
// Goroutine context.

import (
	"fmt"

	"github.com/cocoon-vm/cocoon/hal/virtio"
	"github.com/cocoon-vm/cocoon/kernel/cpu"
)

// ConsoleQueueSize is the largest receive queue the console driver sets
// up: 64 pages.
const ConsoleQueueSize = 64

// VirtioConsole finds the first virtio console on microvm's virtio-mmio
// transports and starts its driver; nil, nil if there is none (and on
// platforms other than the plain PC, as VirtioNet).
func VirtioConsole() (*virtio.Console, error) {
	if platform == nil || platform.Name() != "pc" {
		return nil, nil
	}
	for i := 0; i < virtioMMIOSlots; i++ {
		base := uint64(virtioMMIOBase + i*virtio.MMIOSize)
		va, ok := cpu.Device(base, virtio.MMIOSize, platform.Name())
		if !ok {
			return nil, fmt.Errorf("virtio-mmio window %#x is not in the %s platform's host interface (hal.PCExits)", base, platform.Name())
		}
		regs := mmioRegs{va}
		if regs.Read32(0) != 0x74726976 || regs.Read32(8) != virtio.DeviceConsole { // "virt"
			continue
		}
		t, err := virtio.NewMMIO(regs)
		if err != nil {
			return nil, fmt.Errorf("virtio-mmio at %#x: %v", base, err)
		}
		c, err := virtio.NewConsole(t, dmaAlloc, ConsoleQueueSize)
		if err != nil {
			return nil, fmt.Errorf("virtio console at %#x: %v", base, err)
		}
		return c, nil
	}
	return nil, nil
}

// consoleIn is standard input on a virtio console: reads block until at
// least one byte has arrived, polling as stdioIn does.
type consoleIn struct{ c *virtio.Console }

func (in consoleIn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return pollRead(func() (int, error) { return in.c.Read(p) })
}
