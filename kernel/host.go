package kernel

// The launcher's secrets page, for a host-side PSP (SEV-SNP attestation
// under plain QEMU through the platform's hal.GuestRequester), and the
// application's standard streams to the launcher. Goroutine context.

import (
	"errors"
	"io"
	"runtime"
	"time"

	"github.com/cocoon-vm/cocoon/hal"
	"github.com/cocoon-vm/cocoon/kernel/cpu"
)

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

// StdioReady is the byte the kernel writes first on the application's
// standard error stream once the streams are set up. Setting a UART up
// clears what it has received, so the launcher sends standard input only
// after it, and drops it from what it passes on as standard error
// (qemu/stdio.go).
const StdioReady = 0x06

// stdioOut is standard output or error.
type stdioOut struct {
	s  hal.Stdio
	fd int
}

func (o stdioOut) Write(p []byte) (int, error) {
	o.s.StdioWrite(o.fd, p)
	return len(p), nil
}

// stdioIn is standard input; reads block until at least one byte has
// arrived. Between polls it waits without touching the device, so as not
// to starve the host's side of it (a VMM serves a device access while
// holding a lock its I/O thread needs to fill the UART, as QEMU's BQL):
// 20 microseconds while input flows, then, after 2 ms of nothing, a
// millisecond's sleep.
type stdioIn struct{ s hal.Stdio }

func (in stdioIn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return pollRead(func() (int, error) { return in.s.StdioRead(p), nil })
}

// pollRead calls read until it returns bytes or an error: 20
// microseconds apart while input flows, then, after 2 ms of nothing, a
// millisecond apart.
func pollRead(read func() (int, error)) (int, error) {
	start := time.Now()
	for {
		if n, err := read(); n > 0 || err != nil {
			return n, err
		}
		if time.Since(start) > 2*time.Millisecond {
			time.Sleep(time.Millisecond)
			continue
		}
		for t := time.Now(); time.Since(t) < 20*time.Microsecond; {
			runtime.Gosched()
		}
	}
}

// Stdio returns the application's standard streams to the launcher,
// apart from the console: standard input on a virtio console if there is
// one, else on COM3; standard output on COM3, standard error on COM4. It
// fails if the platform has no COM3 and COM4, or the virtio console does
// not work. Call it once.
func Stdio() (in io.Reader, out, errOut io.Writer, err error) {
	s, ok := platform.(hal.Stdio)
	if !ok || !s.StdioInit() {
		return nil, nil, nil, errors.New("this machine has no COM3 and COM4 for the streams")
	}
	in, out = stdioIn{s}, stdioOut{s, 1}
	c, err := VirtioConsole()
	if err != nil {
		return nil, nil, nil, err
	}
	if c != nil {
		in = consoleIn{c}
	}
	s.StdioWrite(2, []byte{StdioReady})
	return in, out, stdioOut{s, 2}, nil
}
