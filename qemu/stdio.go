package qemu

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
)

// Stdio gives the application standard streams of their own, apart from
// the console: exact bytes each way, no "\r" added, end of file when
// Stdin ends. The guest's COM3 carries standard output (guest to host)
// and, but on the Microvm profile, standard input (host to guest); COM4
// carries standard error. On Microvm a virtio console (virtio-mmio)
// carries standard input: a 16550 takes at most 14 bytes (its receive
// trigger level) per turn of QEMU's I/O loop, a few KB/s under TCG on a
// loaded host, the virtio console up to a page. (Not standard output:
// QEMU's virtconsole drops what the guest sends while the host's side is
// full.) Each is a Unix socket that Run serves. The kernel is told with the command-line
// word cocoon.stdio=serial (north/cocoon), and the console keeps only the
// kernel's own messages.
//
// Two conventions make the byte streams exact:
//   - Setting a UART up clears what it has received, so the kernel writes
//     one byte, StdioReady, on COM4 once COM3 and COM4 are set up; Run
//     sends standard input only after it, and does not pass it on.
//   - A UART has no end of file, so standard input is escaped:
//     StdinEscape is sent as StdinEscape StdinEscape, and StdinEscape
//     StdinEOF marks the end (north/run.StdinReader decodes it).
type Stdio struct {
	// Stdin is the application's standard input; nil is empty input.
	Stdin io.Reader
	// Stdout and Stderr receive its standard output and error; nil
	// discards them.
	Stdout, Stderr io.Writer
}

// The stream conventions, shared with the guest (kernel.StdioReady,
// north/run.StdinEscape and StdinEOF).
const (
	StdioReady  = 0x06
	StdinEscape = 0xff
	StdinEOF    = 0x00
)

// StdioWord is the kernel command-line word that gives the application
// the serial streams.
const StdioWord = "cocoon.stdio=serial"

// stdioServer serves one run's streams.
type stdioServer struct {
	s        Stdio
	dir      string
	out, err net.Listener
	in       net.Listener  // standard input's own socket (Microvm), or nil
	ready    chan struct{} // closed when StdioReady has arrived
	quit     chan struct{} // closed by stop
	quitOnce sync.Once
	done     sync.WaitGroup

	mu    sync.Mutex
	conns []net.Conn
	fail  error
}

// startStdio listens on the sockets of s in a new directory and returns
// the QEMU arguments that connect them to a guest of profile p: COM3,
// COM4 and, on Microvm, the virtio console.
func startStdio(s Stdio, p Profile) (*stdioServer, []string, error) {
	dir, err := os.MkdirTemp("", "cocoon-stdio-")
	if err != nil {
		return nil, nil, fmt.Errorf("qemu: %w", err)
	}
	srv := &stdioServer{s: s, dir: dir, ready: make(chan struct{}), quit: make(chan struct{})}
	if srv.out, err = net.Listen("unix", filepath.Join(dir, "stdout.sock")); err == nil {
		srv.err, err = net.Listen("unix", filepath.Join(dir, "stderr.sock"))
	}
	if err == nil && p == Microvm {
		srv.in, err = net.Listen("unix", filepath.Join(dir, "stdin.sock"))
	}
	if err != nil {
		srv.stop()
		return nil, nil, fmt.Errorf("qemu: standard streams: %w", err)
	}
	srv.done.Add(2)
	go srv.serveOut()
	go srv.serveErr()
	// COM3 (0x3e8) and COM4 (0x2e8): QEMU connects at startup.
	args := []string{
		"-chardev", "socket,id=stdout,server=off,path=" + optValue(filepath.Join(dir, "stdout.sock")),
		"-device", "isa-serial,chardev=stdout,index=2",
		"-chardev", "socket,id=stderr,server=off,path=" + optValue(filepath.Join(dir, "stderr.sock")),
		"-device", "isa-serial,chardev=stderr,index=3",
	}
	if srv.in != nil {
		srv.done.Add(1)
		go srv.serveIn()
		args = append(args,
			"-chardev", "socket,id=stdin,server=off,path="+optValue(filepath.Join(dir, "stdin.sock")),
			// virtio-serial with one port, port 0 a console: the guest
			// drives it without VIRTIO_CONSOLE_F_MULTIPORT
			// (hal/virtio.Console).
			"-device", "virtio-serial-device,max_ports=1",
			"-device", "virtconsole,chardev=stdin",
			// Modern (version 2) virtio-mmio: QEMU 7.2 defaults to legacy.
			"-global", "virtio-mmio.force-legacy=false")
	}
	return srv, args, nil
}

// accept takes QEMU's connection on ln and keeps it for stop to close.
func (srv *stdioServer) accept(ln net.Listener) (net.Conn, bool) {
	c, err := ln.Accept()
	if err != nil {
		return nil, false // stopped before QEMU connected
	}
	srv.mu.Lock()
	srv.conns = append(srv.conns, c)
	srv.mu.Unlock()
	return c, true
}

// serveOut copies standard output, and sends standard input once the
// guest is ready for it.
func (srv *stdioServer) serveOut() {
	defer srv.done.Done()
	c, ok := srv.accept(srv.out)
	if !ok {
		return
	}
	if srv.in == nil {
		go srv.stdinWhenReady(c)
	}
	srv.copy(srv.s.Stdout, c, "standard output")
}

// serveIn sends standard input on its own connection (the virtio
// console's), and reads to its end what the guest writes there (nothing).
func (srv *stdioServer) serveIn() {
	defer srv.done.Done()
	c, ok := srv.accept(srv.in)
	if !ok {
		return
	}
	go srv.stdinWhenReady(c)
	io.Copy(io.Discard, c)
}

// stdinWhenReady sends standard input on c once the guest is ready for it.
func (srv *stdioServer) stdinWhenReady(c net.Conn) {
	select {
	case <-srv.ready:
		srv.sendStdin(c)
	case <-srv.quit:
	}
}

// serveErr takes the ready byte and copies standard error.
func (srv *stdioServer) serveErr() {
	defer srv.done.Done()
	c, ok := srv.accept(srv.err)
	if !ok {
		return
	}
	var b [1]byte
	if _, err := io.ReadFull(c, b[:]); err != nil {
		return // the guest never set its streams up
	}
	if b[0] != StdioReady {
		srv.setFail(fmt.Errorf("standard error began with %#x, not the kernel's ready byte %#x", b[0], StdioReady))
		return
	}
	close(srv.ready)
	srv.copy(srv.s.Stderr, c, "standard error")
}

// copy copies what the guest writes on c to w until QEMU closes c. If w
// fails, the rest is read and dropped, so that the guest never waits on a
// stream nobody reads.
func (srv *stdioServer) copy(w io.Writer, c net.Conn, what string) {
	if w == nil {
		w = io.Discard
	}
	// QEMU resets the connection if it exits with standard input the
	// guest never read: an end like any other.
	if _, err := io.Copy(w, c); err != nil && !errors.Is(err, net.ErrClosed) && !errors.Is(err, syscall.ECONNRESET) {
		srv.setFail(fmt.Errorf("%s: %w", what, err))
		io.Copy(io.Discard, c)
	}
}

// sendStdin sends standard input, escaped, then the end mark.
func (srv *stdioServer) sendStdin(c net.Conn) {
	if srv.s.Stdin != nil {
		buf := make([]byte, 32<<10)
		enc := make([]byte, 0, 2*len(buf))
		for {
			n, err := srv.s.Stdin.Read(buf)
			enc = enc[:0]
			for _, b := range buf[:n] {
				if b == StdinEscape {
					enc = append(enc, StdinEscape)
				}
				enc = append(enc, b)
			}
			if _, werr := c.Write(enc); werr != nil {
				return // the guest is gone
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				srv.setFail(fmt.Errorf("standard input: %w", err))
				break
			}
		}
	}
	c.Write([]byte{StdinEscape, StdinEOF})
}

func (srv *stdioServer) setFail(err error) {
	srv.mu.Lock()
	if srv.fail == nil {
		srv.fail = err
	}
	srv.mu.Unlock()
}

// finish waits, after QEMU has exited, for the output streams to drain,
// then stops the server and returns the first stream error.
func (srv *stdioServer) finish() error {
	// QEMU has closed its ends: the copies end at end of file. Closing
	// the listeners ends the accepts of a QEMU that never connected.
	srv.out.Close()
	srv.err.Close()
	if srv.in != nil {
		srv.in.Close()
	}
	srv.done.Wait()
	srv.stop()
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return srv.fail
}

// stop closes everything and removes the sockets' directory.
func (srv *stdioServer) stop() {
	srv.quitOnce.Do(func() { close(srv.quit) })
	for _, ln := range []net.Listener{srv.out, srv.err, srv.in} {
		if ln != nil {
			ln.Close()
		}
	}
	srv.mu.Lock()
	for _, c := range srv.conns {
		c.Close()
	}
	dir := srv.dir
	srv.dir = ""
	srv.mu.Unlock()
	if dir != "" {
		os.RemoveAll(dir)
	}
}

// withStdioWord returns the command line with StdioWord first.
func withStdioWord(line string) string {
	return strings.TrimSpace(StdioWord + " " + line)
}
