package guestwire

import (
	"errors"
	"runtime"
	"sync"

	"github.com/cocoon-vm/cocoon/hal"
)

// Serial is the PC platform's host channel: a byte line that never
// blocks (hal/pc's COM2).
type Serial interface {
	// ChannelPresent reports whether the line exists on this machine.
	ChannelPresent() bool
	// ChannelWrite writes all of p.
	ChannelWrite(p []byte)
	// ChannelRead reads what has arrived, up to len(p) bytes; 0 if none.
	ChannelRead(p []byte) int
}

// Requests is hal.GuestTransport over a Serial line: one request frame
// out, one response frame back, one exchange at a time. The zero value is
// ready for Open. Goroutine context: reads yield until bytes arrive.
type Requests struct {
	once    sync.Once
	present bool
	mu      sync.Mutex
	s       Serial
}

// Open returns r as the transport over s, or nil when s is absent.
func (r *Requests) Open(s Serial) hal.GuestTransport {
	r.once.Do(func() {
		r.s = s
		r.present = s.ChannelPresent()
	})
	if !r.present {
		return nil
	}
	return r
}

// MaxCertPages implements hal.GuestTransport.
func (r *Requests) MaxCertPages() int { return MaxCertPages }

// Send implements hal.GuestTransport.
func (r *Requests) Send(req, resp, certs []byte) (hal.GuestResult, error) {
	if r.s == nil {
		return hal.GuestResult{}, errors.New("guest requests: the host channel was not opened")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	res, err := (&Transport{RW: line{r.s}}).Send(req, resp, certs)
	return hal.GuestResult{VMM: uint32(res.VMM), Firmware: uint32(res.Firmware), CertPages: res.CertPages}, err
}

// line is a Serial as an io.ReadWriter whose reads block (yielding)
// until at least one byte has arrived.
type line struct{ s Serial }

func (l line) Write(p []byte) (int, error) {
	l.s.ChannelWrite(p)
	return len(p), nil
}

func (l line) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		if n := l.s.ChannelRead(p); n > 0 {
			return n, nil
		}
		runtime.Gosched()
	}
}
