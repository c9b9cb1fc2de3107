package virtio

import "fmt"

// Regs is a device's register window: 32-bit reads and writes at byte
// offsets. The platform implements it over the mapped MMIO range; it is
// the only way this package touches device registers.
type Regs interface {
	Read32(off uint32) uint32
	Write32(off uint32, v uint32)
}

// virtio-mmio registers (VIRTIO 1.2, 4.2.2 "MMIO Device Register
// Layout"), for Version 2 (modern) devices.
const (
	mmioMagic             = 0x000 // "virt"
	mmioVersion           = 0x004
	mmioDeviceID          = 0x008
	mmioDeviceFeatures    = 0x010
	mmioDeviceFeaturesSel = 0x014
	mmioDriverFeatures    = 0x020
	mmioDriverFeaturesSel = 0x024
	mmioQueueSel          = 0x030
	mmioQueueNumMax       = 0x034
	mmioQueueNum          = 0x038
	mmioQueueReady        = 0x044
	mmioQueueNotify       = 0x050
	mmioInterruptStatus   = 0x060
	mmioInterruptACK      = 0x064
	mmioStatus            = 0x070
	mmioQueueDescLow      = 0x080
	mmioQueueDescHigh     = 0x084
	mmioQueueDriverLow    = 0x090
	mmioQueueDriverHigh   = 0x094
	mmioQueueDeviceLow    = 0x0a0
	mmioQueueDeviceHigh   = 0x0a4
	mmioConfigGeneration  = 0x0fc
	mmioConfig            = 0x100

	mmioMagicValue = 0x74726976
	// MMIOSize is the register window of one transport as QEMU lays
	// them out (hw/virtio/virtio-mmio.c, 0x200 bytes each).
	MMIOSize = 0x200
)

// MMIO is a virtio-mmio transport.
type MMIO struct{ r Regs }

// NewMMIO checks the magic value and version of the window r and returns
// its transport; a window without a device (DeviceID 0) is not an error.
func NewMMIO(r Regs) (*MMIO, error) {
	if m := r.Read32(mmioMagic); m != mmioMagicValue {
		return nil, fmt.Errorf("virtio-mmio: magic %#x, not a virtio-mmio window", m)
	}
	switch v := r.Read32(mmioVersion); v {
	case 2:
	case 1:
		return nil, fmt.Errorf("virtio-mmio: a legacy (version 1) transport; with QEMU, add -global virtio-mmio.force-legacy=false")
	default:
		return nil, fmt.Errorf("virtio-mmio: unknown version %d", v)
	}
	return &MMIO{r}, nil
}

func (m *MMIO) DeviceID() uint32 { return m.r.Read32(mmioDeviceID) }
func (m *MMIO) Status() uint8    { return uint8(m.r.Read32(mmioStatus)) }
func (m *MMIO) SetStatus(s uint8) {
	m.r.Write32(mmioStatus, uint32(s))
}

func (m *MMIO) DeviceFeatures() uint64 {
	m.r.Write32(mmioDeviceFeaturesSel, 0)
	lo := m.r.Read32(mmioDeviceFeatures)
	m.r.Write32(mmioDeviceFeaturesSel, 1)
	hi := m.r.Read32(mmioDeviceFeatures)
	return uint64(hi)<<32 | uint64(lo)
}

func (m *MMIO) SetDriverFeatures(f uint64) {
	m.r.Write32(mmioDriverFeaturesSel, 0)
	m.r.Write32(mmioDriverFeatures, uint32(f))
	m.r.Write32(mmioDriverFeaturesSel, 1)
	m.r.Write32(mmioDriverFeatures, uint32(f>>32))
}

func (m *MMIO) QueueMax(q uint16) uint16 {
	m.r.Write32(mmioQueueSel, uint32(q))
	if m.r.Read32(mmioQueueReady) != 0 {
		return 0
	}
	n := m.r.Read32(mmioQueueNumMax)
	if n > 0xffff {
		return 0
	}
	return uint16(n)
}

func (m *MMIO) EnableQueue(q uint16, size uint16, desc, driver, device uint64) error {
	m.r.Write32(mmioQueueSel, uint32(q))
	m.r.Write32(mmioQueueNum, uint32(size))
	m.r.Write32(mmioQueueDescLow, uint32(desc))
	m.r.Write32(mmioQueueDescHigh, uint32(desc>>32))
	m.r.Write32(mmioQueueDriverLow, uint32(driver))
	m.r.Write32(mmioQueueDriverHigh, uint32(driver>>32))
	m.r.Write32(mmioQueueDeviceLow, uint32(device))
	m.r.Write32(mmioQueueDeviceHigh, uint32(device>>32))
	m.r.Write32(mmioQueueReady, 1)
	return nil
}

func (m *MMIO) Notify(q uint16) { m.r.Write32(mmioQueueNotify, uint32(q)) }

// ConfigSize is what the window holds past the configuration's start.
func (m *MMIO) ConfigSize() uint32 { return MMIOSize - mmioConfig }

func (m *MMIO) ConfigRead8(off uint32) uint8 {
	if off >= m.ConfigSize() {
		return 0
	}
	w := m.r.Read32(mmioConfig + off&^3)
	return uint8(w >> (8 * (off & 3)))
}

func (m *MMIO) ConfigGeneration() uint32 { return m.r.Read32(mmioConfigGeneration) }

func (m *MMIO) AckInterrupt() {
	// One write, no read of InterruptStatus first: acknowledging a bit
	// that is not set changes nothing (4.2.2 InterruptACK), and each
	// register access is an exit to the host.
	m.r.Write32(mmioInterruptACK, 3)
}
