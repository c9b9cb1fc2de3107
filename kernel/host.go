package kernel

// The host channel and the launcher's secrets page, for the simulated PSP
// (SEV-SNP attestation under plain QEMU). Goroutine context.

import (
	"io"
	"runtime"
	"sync"

	"github.com/cocoon-vm/cocoon/hal"
	"github.com/cocoon-vm/cocoon/kernel/cpu"
)

// hostChannel adapts the platform's HostChannel to io.ReadWriter; reads
// block (yielding) until at least one byte has arrived.
type hostChannel struct {
	mu sync.Mutex
	c  hal.HostChannel
}

func (h *hostChannel) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.c.ChannelWrite(p)
	return len(p), nil
}

func (h *hostChannel) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		h.mu.Lock()
		n := h.c.ChannelRead(p)
		h.mu.Unlock()
		if n > 0 {
			return n, nil
		}
		runtime.Gosched()
	}
}

var (
	channelOnce sync.Once
	channel     io.ReadWriter
)

// HostChannel returns the byte stream to the host-side helper, or nil if
// the platform has none.
func HostChannel() io.ReadWriter {
	channelOnce.Do(func() {
		if c, ok := platform.(hal.HostChannel); ok && c.ChannelPresent() {
			channel = &hostChannel{c: c}
		}
	})
	return channel
}

// secretsPhys is the physical address of the secrets page the launcher
// placed in memory (cocoon.secrets=ADDR on the command line), 0 if none.
var secretsPhys uint64

// SecretsPage returns the launcher-provided SEV-SNP secrets page, or nil.
// Under real SNP the firmware provides it; under plain QEMU the launcher
// loads a simulated one (qemu -device loader) and names its address.
func SecretsPage() []byte {
	if secretsPhys == 0 {
		return nil
	}
	return cpu.Bytes(cpu.Virt(uintptr(secretsPhys)), pageSize)
}
