package virtio

import (
	"errors"
	"fmt"
)

// Device status bits (VIRTIO 1.2, 2.1 "Device Status Field").
const (
	StatusAcknowledge = 1
	StatusDriver      = 2
	StatusDriverOK    = 4
	StatusFeaturesOK  = 8
	StatusNeedsReset  = 64
	StatusFailed      = 128
)

// FeatureVersion1 is VIRTIO_F_VERSION_1 (6 "Reserved Feature Bits"): a
// modern device. Cocoon drives no legacy device.
const FeatureVersion1 = 1 << 32

// Device ids (5 "Device Types").
const (
	DeviceNet = 1
)

// Transport is how the driver reaches one device's registers: a
// virtio-mmio register block or a virtio-pci device's capabilities. Every
// value it returns comes from the host and is checked by its callers.
type Transport interface {
	// DeviceID is the virtio device type, 0 for an empty slot.
	DeviceID() uint32
	Status() uint8
	SetStatus(s uint8)
	DeviceFeatures() uint64
	SetDriverFeatures(f uint64)
	// QueueMax returns the largest size queue q may have, 0 if q does
	// not exist.
	QueueMax(q uint16) uint16
	// EnableQueue gives the device queue q's size and ring addresses
	// and marks it ready; it fails when the device described the queue
	// impossibly.
	EnableQueue(q uint16, size uint16, desc, driver, device uint64) error
	// Notify tells the device queue q has new buffers.
	Notify(q uint16)
	// ConfigSize is the length of the device-specific configuration.
	ConfigSize() uint32
	// ConfigRead8 reads byte off of the device-specific configuration
	// (0 past ConfigSize).
	ConfigRead8(off uint32) uint8
	// ConfigGeneration is the configuration's generation count, which
	// the device changes whenever the configuration may have changed
	// (2.5 "Device Configuration Space"; 4.2.2 ConfigGeneration,
	// 4.1.4.3 config_generation).
	ConfigGeneration() uint32
	// AckInterrupt acknowledges the interrupt status.
	AckInterrupt()
}

// Negotiate runs the initialization sequence up to FEATURES_OK (3.1.1
// "Driver Requirements: Device Initialization"): reset, ACKNOWLEDGE,
// DRIVER, the features both sides have out of want, FEATURES_OK and the
// device's confirmation. It returns the negotiated features; on failure
// the device is marked FAILED.
func Negotiate(t Transport, want uint64) (uint64, error) {
	t.SetStatus(0)
	if t.Status() != 0 {
		return 0, fail(t, errors.New("virtio: the device did not reset"))
	}
	t.SetStatus(StatusAcknowledge)
	t.SetStatus(StatusAcknowledge | StatusDriver)
	have := t.DeviceFeatures()
	if have&FeatureVersion1 == 0 {
		return 0, fail(t, errors.New("virtio: a legacy device (no VIRTIO_F_VERSION_1); with QEMU's virtio-mmio, add -global virtio-mmio.force-legacy=false"))
	}
	f := have & want
	t.SetDriverFeatures(f)
	t.SetStatus(StatusAcknowledge | StatusDriver | StatusFeaturesOK)
	if t.Status()&StatusFeaturesOK == 0 {
		return 0, fail(t, fmt.Errorf("virtio: the device refused features %#x", f))
	}
	return f, nil
}

// Start sets DRIVER_OK once the queues are set up.
func Start(t Transport) {
	t.SetStatus(StatusAcknowledge | StatusDriver | StatusFeaturesOK | StatusDriverOK)
}

// configTries bounds ReadConfig's attempts: a device whose configuration
// changes under every read is refused rather than waited for.
const configTries = 16

// ReadConfig reads n bytes of the device-specific configuration from off
// as one consistent snapshot: the reads are repeated until the
// generation count is the same before and after them (2.5.1 "Driver
// Requirements: Device Configuration Space": a driver cannot assume
// reads of several bytes or fields are atomic). A device whose
// generation changes across every one of configTries attempts broke the
// protocol.
func ReadConfig(t Transport, off, n uint32) ([]byte, error) {
	b := make([]byte, n)
	for range configTries {
		before := t.ConfigGeneration()
		for i := range b {
			b[i] = t.ConfigRead8(off + uint32(i))
		}
		if t.ConfigGeneration() == before {
			return b, nil
		}
	}
	return nil, deviceError("the configuration generation changed across each of %d reads of %d bytes at %#x", configTries, n, off)
}

func fail(t Transport, err error) error {
	t.SetStatus(t.Status() | StatusFailed)
	return err
}
