package virtio

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
)

// fakeConsole is fakeNetDevice's registers and rings as a console.
type fakeConsole struct {
	*fakeNetDevice
}

func (d *fakeConsole) Read32(off uint32) uint32 {
	switch off {
	case mmioDeviceID:
		return DeviceConsole
	case mmioDeviceFeatures:
		return uint32(uint64(FeatureVersion1) >> (32 * d.sel.dev))
	}
	return d.fakeNetDevice.Read32(off)
}

// send puts up to one receive buffer's worth of b in the next receive
// buffer and returns how much it took (0 if the driver lent none).
func (d *fakeConsole) send(b []byte) int {
	id, addr, n, ok := d.take(consoleRxQueue)
	if !ok {
		return 0
	}
	k := copy(d.mem.at(addr, int(n)), b)
	d.use(consoleRxQueue, id, uint32(k))
	return k
}

func newTestConsole(t *testing.T) (*Console, *fakeConsole) {
	t.Helper()
	mem := &fakeMem{}
	dev := &fakeConsole{fakeNetDevice: newFakeNet(mem)}
	tr, err := NewMMIO(dev)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewConsole(tr, mem.alloc, 64)
	if err != nil {
		t.Fatal(err)
	}
	return c, dev
}

// TestConsoleStream sends random bytes, more than the queue holds, in
// sends and reads of random sizes: the reader gets exactly the bytes
// sent, in order, and nothing more.
func TestConsoleStream(t *testing.T) {
	c, dev := newTestConsole(t)
	if st := dev.regs[mmioStatus]; st != StatusAcknowledge|StatusDriver|StatusFeaturesOK|StatusDriverOK || dev.driver != FeatureVersion1 {
		t.Fatalf("status %#x, driver features %#x", st, dev.driver)
	}
	r := rand.New(rand.NewPCG(1, 2))
	in := make([]byte, 300<<10)
	for i := range in {
		in[i] = byte(r.Uint32())
	}
	var got []byte
	for sent := 0; len(got) < len(in); {
		// The host sends a few buffers' worth; the guest reads some.
		for k := r.IntN(4); k > 0 && sent < len(in); k-- {
			n := dev.send(in[sent:min(len(in), sent+1+r.IntN(2*PageSize))])
			if n == 0 {
				break
			}
			sent += n
		}
		p := make([]byte, 1+r.IntN(3*PageSize))
		n, err := c.Read(p)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p[:n]...)
		if n == 0 && sent == len(in) && len(got) < len(in) {
			t.Fatalf("read nothing with %d bytes sent and %d read", sent, len(got))
		}
	}
	if !bytes.Equal(got, in) {
		t.Fatalf("read %d bytes, not the %d sent", len(got), len(in))
	}
	if n, err := c.Read(make([]byte, 10)); n != 0 || err != nil {
		t.Errorf("Read with nothing sent = %d, %v", n, err)
	}

}

// TestConsoleHostileReceive has the device claim more bytes than a
// receive buffer holds: Read stops with ErrDevice, reading nothing.
func TestConsoleHostileReceive(t *testing.T) {
	c, dev := newTestConsole(t)
	id, _, _, _ := dev.take(consoleRxQueue)
	dev.use(consoleRxQueue, id, PageSize+1)
	if n, err := c.Read(make([]byte, 2*PageSize)); n != 0 || !errors.Is(err, ErrDevice) {
		t.Errorf("Read = %d, %v; want 0 and ErrDevice", n, err)
	}
}

func TestConsoleRefusesOtherDevices(t *testing.T) {
	mem := &fakeMem{}
	tr, _ := NewMMIO(newFakeNet(mem))
	if _, err := NewConsole(tr, mem.alloc, 16); err == nil {
		t.Error("a network device was driven as a console")
	}
}
