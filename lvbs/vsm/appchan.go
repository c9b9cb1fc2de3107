package vsm

import (
	"encoding/binary"
	"fmt"
	"github.com/cocoon-vm/cocoon/hal"
	"github.com/cocoon-vm/cocoon/lvbs/vtlcall"
	"sync"
	"time"
)

// The application channel carries VTL calls with function IDs
// vtlcall.AppFirst-AppLast to the hosted application and its replies
// back. The application sees it as a device (North's /dev/vtl0): read(2)
// returns one request, write(2) gives its reply. Wire format, little
// endian (docs/LVBS.md, "Application channel"):
//
//	request (read):  0 function (4: ID - AppFirst), 4 length (4), 8 sequence (8), 16 data
//	reply (write):   0 sequence (8), 8 status (4, 0 or a negative errno), 12 length (4), 16 data
const (
	AppHeaderSize = 16
	// MaxAppData bounds request and reply data: one page each.
	MaxAppData = 4096
)

// Channel connects VTL calls to the application; it implements
// hal.AppChannel, which North's /dev/vtl0 serves. Call runs on the VTL
// call path; Read and Write run on the application's side. One call is in
// flight at a time: VTL1 serves one VP.
type Channel struct {
	// Timeout bounds how long a VTL call waits for the application; the
	// call then fails with ETIMEDOUT. Zero means 10 seconds.
	Timeout time.Duration

	mu      sync.Mutex
	readers int
	seq     uint64
	queued  *appRequest // written by Call, taken by Next
	taken   *appRequest // taken by Next, awaiting Answer
	ready   chan struct{}
	notify  func()
}

type appRequest struct {
	seq  uint64
	fn   uint32
	data []byte
	done chan appReply
}

type appReply struct {
	status int32
	data   []byte
}

var _ hal.AppChannel = (*Channel)(nil)

func (c *Channel) init() {
	if c.ready == nil {
		c.ready = make(chan struct{}, 1)
	}
}

// Open records that the application opened the device; Close that it
// closed it. Calls fail with ENODEV while nobody has it open.
func (c *Channel) Open() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.init()
	c.readers++
}

// Close undoes Open.
func (c *Channel) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.readers > 0 {
		c.readers--
	}
}

// Call delivers one request and waits for its reply: the status (0 or a
// negative errno) and the reply data. errno is nonzero when the request
// did not get an answer: ENODEV (no application), ETIMEDOUT.
func (c *Channel) Call(fn uint32, data []byte) (status int32, reply []byte, errno int) {
	c.mu.Lock()
	c.init()
	if c.readers == 0 {
		c.mu.Unlock()
		return 0, nil, vtlcall.ENODEV
	}
	c.seq++
	r := &appRequest{seq: c.seq, fn: fn, data: data, done: make(chan appReply, 1)}
	c.queued, c.taken = r, nil
	notify := c.notify
	c.mu.Unlock()
	select {
	case c.ready <- struct{}{}:
	default:
	}
	if notify != nil {
		notify()
	}
	timeout := c.Timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case rep := <-r.done:
		return rep.status, rep.data, 0
	case <-t.C:
		c.mu.Lock()
		if c.queued == r {
			c.queued = nil
		}
		if c.taken == r {
			c.taken = nil
		}
		c.mu.Unlock()
		return 0, nil, vtlcall.ETIMEDOUT
	}
}

// Wait blocks until a request may be waiting or d passes.
func (c *Channel) Wait(d time.Duration) {
	c.mu.Lock()
	c.init()
	ready := c.ready
	c.mu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ready:
	case <-t.C:
	}
}

// OnRequest sets a function called after each request is queued; it must
// not block.
func (c *Channel) OnRequest(f func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.notify = f
}

// Waiting reports whether a request waits to be read.
func (c *Channel) Waiting() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.queued != nil
}

// Read takes the waiting request and encodes it into p (the device's
// read); 0 when none is waiting. p must hold the header and the data.
func (c *Channel) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.queued
	if r == nil {
		return 0, nil
	}
	n := AppHeaderSize + len(r.data)
	if len(p) < n {
		return 0, fmt.Errorf("vsm: read buffer of %d bytes, request needs %d", len(p), n)
	}
	binary.LittleEndian.PutUint32(p[0:], r.fn)
	binary.LittleEndian.PutUint32(p[4:], uint32(len(r.data)))
	binary.LittleEndian.PutUint64(p[8:], r.seq)
	copy(p[AppHeaderSize:], r.data)
	c.queued, c.taken = nil, r
	return n, nil
}

// Write decodes a reply written by the application (the device's write)
// and completes the call it answers. The application is not trusted more
// than it must be: the sequence must be the taken request's, the length
// consistent, the status 0 or a negative errno.
func (c *Channel) Write(p []byte) error {
	if len(p) < AppHeaderSize {
		return fmt.Errorf("vsm: reply of %d bytes is shorter than its header", len(p))
	}
	seq := binary.LittleEndian.Uint64(p[0:])
	status := int32(binary.LittleEndian.Uint32(p[8:]))
	n := binary.LittleEndian.Uint32(p[12:])
	if n > MaxAppData || int(n) != len(p)-AppHeaderSize {
		return fmt.Errorf("vsm: reply claims %d data bytes, carries %d (at most %d)", n, len(p)-AppHeaderSize, MaxAppData)
	}
	if status > 0 || status < -4095 {
		return fmt.Errorf("vsm: reply status %d is neither 0 nor a negative errno", status)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.taken
	if r == nil || r.seq != seq {
		return fmt.Errorf("vsm: reply to request %d, which is not awaiting one", seq)
	}
	c.taken = nil
	r.done <- appReply{status: status, data: append([]byte(nil), p[AppHeaderSize:]...)}
	return nil
}

// EncodeReply builds a reply: the application's side.
func EncodeReply(seq uint64, status int32, data []byte) []byte {
	p := make([]byte, AppHeaderSize+len(data))
	binary.LittleEndian.PutUint64(p[0:], seq)
	binary.LittleEndian.PutUint32(p[8:], uint32(status))
	binary.LittleEndian.PutUint32(p[12:], uint32(len(data)))
	copy(p[AppHeaderSize:], data)
	return p
}

// AppRequest is a decoded request: the application's side.
type AppRequest struct {
	Func uint32
	Seq  uint64
	Data []byte
}

// DecodeRequest decodes what a read of the device returned.
func DecodeRequest(p []byte) (AppRequest, error) {
	if len(p) < AppHeaderSize {
		return AppRequest{}, fmt.Errorf("vsm: request of %d bytes", len(p))
	}
	n := binary.LittleEndian.Uint32(p[4:])
	if int(n) != len(p)-AppHeaderSize {
		return AppRequest{}, fmt.Errorf("vsm: request claims %d bytes, carries %d", n, len(p)-AppHeaderSize)
	}
	return AppRequest{Func: binary.LittleEndian.Uint32(p[0:]), Seq: binary.LittleEndian.Uint64(p[8:]), Data: p[AppHeaderSize:]}, nil
}

// Opened reports whether the application holds the channel open.
func (c *Channel) Opened() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.readers > 0
}
