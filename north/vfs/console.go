package vfs

import (
	"bytes"
	"encoding/binary"
	"io"
	"sync"

	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/mem"
)

// consoleBufMax is how much console input is read ahead of the
// application.
const consoleBufMax = 64 << 10

// console is the system console: /dev/console and /dev/tty, and the first
// three descriptors. Input comes from an io.Reader, read ahead by a
// goroutine started on first use, so that reads and polls never block the
// caller; output goes straight to an io.Writer.
//
// It is a minimal terminal: termios settings are kept and reported but
// only ICANON has an effect (a read returns at most one line); there is
// no echo, no line editing and no signal generation.
type console struct {
	in  io.Reader
	out io.Writer
	q   Queue

	mu      sync.Mutex
	room    sync.Cond // signalled when the application consumes input
	buf     []byte    // input read ahead
	eof     bool      // in has ended
	pumping bool
	termios linux.Termios
	winsize [4]uint16 // rows, columns, x and y pixels
	stopped bool      // output suspended by TCXONC TCOOFF until TCOON

	outMu sync.Mutex // serializes writes
}

func newConsole(in io.Reader, out io.Writer) *console {
	c := &console{in: in, out: out, termios: linux.DefaultTermios, winsize: [4]uint16{24, 80}}
	c.room.L = &c.mu
	if in == nil {
		c.eof = true
	}
	return c
}

// start starts the read-ahead goroutine if it is not running. Called with
// c.mu held.
func (c *console) start() {
	if c.pumping || c.eof {
		return
	}
	c.pumping = true
	go c.pump()
}

func (c *console) pump() {
	p := make([]byte, 4096)
	for {
		c.mu.Lock()
		for len(c.buf) >= consoleBufMax {
			c.room.Wait()
		}
		c.mu.Unlock()
		n, err := c.in.Read(p)
		c.mu.Lock()
		c.buf = append(c.buf, p[:n]...)
		if err != nil {
			c.eof = true
		}
		c.mu.Unlock()
		if n > 0 || err != nil {
			c.q.Notify(EventIn | EventRdNorm)
		}
		if err != nil {
			return
		}
	}
}

func (c *console) read(dst Buf) (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.start()
	if len(c.buf) == 0 {
		if c.eof {
			return 0, nil
		}
		return 0, EAGAIN
	}
	avail := c.buf
	if c.termios.Lflag&linux.Icanon != 0 {
		if i := bytes.IndexByte(avail, '\n'); i >= 0 {
			avail = avail[:i+1]
		}
	}
	n, err := dst.CopyOut(avail)
	if n == 0 && err != nil {
		return 0, EFAULT
	}
	c.buf = c.buf[n:]
	if len(c.buf) == 0 {
		c.buf = nil
	}
	c.room.Signal()
	return int64(n), nil
}

func (c *console) write(src Buf) (int64, error) {
	c.mu.Lock()
	stopped := c.stopped
	c.mu.Unlock()
	if stopped {
		return 0, EAGAIN // a blocking writer waits for TCOON (readiness)
	}
	want := src.Len()
	buf := make([]byte, min(want, ioChunk))
	var done int64
	c.outMu.Lock()
	defer c.outMu.Unlock()
	for done < want {
		n, ferr := src.DropFirst(done).CopyIn(buf[:min(want-done, ioChunk)])
		if n > 0 && c.out != nil {
			if _, err := c.out.Write(buf[:n]); err != nil {
				if done == 0 {
					return 0, EIO
				}
				return done, nil
			}
		}
		done += int64(n)
		if ferr != nil {
			if done == 0 {
				return 0, EFAULT
			}
			break
		}
	}
	return done, nil
}

func (c *console) readiness(mask Events) Events {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.start()
	var ev Events
	if !c.stopped {
		ev = EventOut | EventWrNorm
	}
	if len(c.buf) > 0 || c.eof {
		ev |= EventIn | EventRdNorm
	}
	return ev & mask
}

func (c *console) ioctl(m mem.Memory, cmd uint32, arg uint64) (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch cmd {
	case linux.TCGETS:
		return 0, copyOut(m, arg, c.termios.Marshal())
	case linux.TCSETS, linux.TCSETSW, linux.TCSETSF:
		var b [linux.SizeofTermios]byte
		if err := m.CopyIn(arg, b[:]); err != nil {
			return 0, EFAULT
		}
		c.termios = linux.UnmarshalTermios(b[:])
		if cmd == linux.TCSETSF {
			c.buf = nil
			c.room.Signal()
		}
		return 0, nil
	case linux.TIOCGWINSZ:
		var b [linux.SizeofWinsize]byte
		for i, v := range c.winsize {
			binary.LittleEndian.PutUint16(b[2*i:], v)
		}
		return 0, copyOut(m, arg, b[:])
	case linux.TIOCSWINSZ:
		var b [linux.SizeofWinsize]byte
		if err := m.CopyIn(arg, b[:]); err != nil {
			return 0, EFAULT
		}
		for i := range c.winsize {
			c.winsize[i] = binary.LittleEndian.Uint16(b[2*i:])
		}
		return 0, nil
	case linux.FIONREAD:
		return 0, copyOut(m, arg, binary.LittleEndian.AppendUint32(nil, uint32(len(c.buf))))
	case linux.TCFLSH: // tty_perform_flush (drivers/tty/tty_ioctl.c)
		switch arg {
		case linux.TCIFLUSH, linux.TCIOFLUSH:
			c.buf = nil
			c.room.Signal()
		case linux.TCOFLUSH: // output is never held back
		default:
			return 0, EINVAL
		}
		return 0, nil
	case linux.TCSBRK:
		// A break (arg 0) on a line without break_ctl, or tcdrain
		// (output is written through at once): nothing to wait for, as
		// Linux's send_break for a driver without break_ctl.
		return 0, nil
	case linux.TCXONC: // n_tty_ioctl_helper (drivers/tty/tty_ioctl.c)
		switch arg {
		case linux.TCOOFF:
			c.stopped = true
		case linux.TCOON:
			if c.stopped {
				c.stopped = false
				c.q.Notify(EventOut | EventWrNorm)
			}
		case linux.TCIOFF, linux.TCION:
			ch := c.termios.CC[linux.VSTOP]
			if arg == linux.TCION {
				ch = c.termios.CC[linux.VSTART]
			}
			if ch != 0 && c.out != nil { // 0 is _POSIX_VDISABLE (__DISABLED_CHAR)
				c.outMu.Lock()
				_, err := c.out.Write([]byte{ch})
				c.outMu.Unlock()
				if err != nil {
					return 0, EIO
				}
			}
		default:
			return 0, EINVAL
		}
		return 0, nil
	}
	return 0, ENOTTY
}

// ConsoleLflag reports whether f is the console, and its termios c_lflag
// (the personality's job control asks, north/jobctl.go; it serves the
// controlling-terminal ioctls, which the console alone answers ENOTTY).
func ConsoleLflag(f *File) (uint32, bool) {
	cf, ok := f.impl.(*consoleFile)
	if !ok {
		return 0, false
	}
	cf.c.mu.Lock()
	defer cf.c.mu.Unlock()
	return cf.c.termios.Lflag, true
}

// copyOut writes b at addr, EFAULT if it cannot.
func copyOut(m mem.Memory, addr uint64, b []byte) error {
	if m.CopyOut(addr, b) != nil {
		return EFAULT
	}
	return nil
}

// consoleFile is an open console.
type consoleFile struct {
	devFile
	c *console
}

func (f *consoleFile) Read(_ *File, dst Buf, _ int64) (int64, error)  { return f.c.read(dst) }
func (f *consoleFile) Write(_ *File, src Buf, _ int64) (int64, error) { return f.c.write(src) }
func (f *consoleFile) Stream() bool                                   { return true }
func (f *consoleFile) Seek(*File, int64, int64, int) (int64, error) {
	return 0, ESPIPE
}
func (f *consoleFile) Readiness(mask Events) Events { return f.c.readiness(mask) }
func (f *consoleFile) Queue() *Queue                { return &f.c.q }
func (f *consoleFile) Ioctl(_ *File, m mem.Memory, cmd uint32, arg uint64) (int64, error) {
	return f.c.ioctl(m, cmd, arg)
}
