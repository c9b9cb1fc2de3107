// Command splicego moves a stream from a Unix socket to a TCP socket
// with splice, the peers being two child processes, as Go's net
// TestSplice "unix-to-tcp" does: a writer child fills the Unix socket,
// the parent's io.Copy splices it to TCP through a pipe, a reader child
// drains the TCP socket and checks every byte. It prints the same
// natively and inside Cocoon (TestVMSpliceProcesses). Its argument is a
// scratch directory; "child OP" runs a peer on descriptor 3.
package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

const (
	chunk = 1 << 20
	total = 32 << 20
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == "child" {
		if err := child(os.Args[2]); err != nil {
			fmt.Printf("FAIL: child %s: %v\n", os.Args[2], err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) != 2 {
		fmt.Println("FAIL: usage: splicego DIR")
		return
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Println("FAIL:", err)
		return
	}
	fmt.Println("splicego: done")
}

// pattern is the byte at offset i of the stream.
func pattern(i int) byte { return byte(i % 251) }

// child writes ("w") or reads and checks ("r") the stream on fd 3.
func child(op string) error {
	c, err := net.FileConn(os.NewFile(3, "peer"))
	if err != nil {
		return err
	}
	defer c.Close()
	buf := make([]byte, chunk)
	for n := 0; n < total; {
		b := buf[:min(len(buf), total-n)]
		if op == "w" {
			for i := range b {
				b[i] = pattern(n + i)
			}
			k, err := c.Write(b)
			if err != nil {
				return fmt.Errorf("at %d: %v", n, err)
			}
			n += k
			continue
		}
		k, err := c.Read(b)
		if err != nil {
			return fmt.Errorf("at %d of %d: %v", n, total, err)
		}
		for i := range k {
			if b[i] != pattern(n+i) {
				return fmt.Errorf("byte %d is %d, want %d", n+i, b[i], pattern(n+i))
			}
		}
		n += k
	}
	return nil
}

// pair returns a connected client and server of network nw.
func pair(nw, addr string) (client, server net.Conn, err error) {
	ln, err := net.Listen(nw, addr)
	if err != nil {
		return nil, nil, err
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		var err error
		server, err = ln.Accept()
		done <- err
	}()
	client, err = net.Dial(nw, ln.Addr().String())
	if aerr := <-done; err == nil {
		err = aerr
	}
	return client, server, err
}

// peer starts a child running op on c's file, and closes c.
func peer(self string, c net.Conn, op string) (*exec.Cmd, error) {
	f, err := c.(interface{ File() (*os.File, error) }).File()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	defer c.Close()
	cmd := exec.Command(self, "child", op)
	cmd.ExtraFiles = []*os.File{f}
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	return cmd, cmd.Start()
}

func run(dir string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	upC, upS, err := pair("unix", filepath.Join(dir, "splice.sock"))
	if err != nil {
		return err
	}
	defer upS.Close()
	w, err := peer(self, upC, "w")
	if err != nil {
		return err
	}
	downC, downS, err := pair("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	r, err := peer(self, downC, "r")
	if err != nil {
		return err
	}
	type result struct {
		n   int64
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := io.Copy(downS, upS) // TCPConn.ReadFrom: splice(2) through a pipe
		downS.Close()
		done <- result{n, err}
	}()
	var res result
	select {
	case res = <-done:
	case <-time.After(4 * time.Minute):
		w.Process.Kill()
		r.Process.Kill()
		return fmt.Errorf("the copy did not finish in 4 minutes (a lost wake-up?)")
	}
	if res.err != nil || res.n != total {
		return fmt.Errorf("copied %d of %d bytes: %v", res.n, total, res.err)
	}
	fmt.Printf("spliced %d bytes\n", res.n)
	if err := w.Wait(); err != nil {
		return fmt.Errorf("writer: %v", err)
	}
	if err := r.Wait(); err != nil {
		return fmt.Errorf("reader: %v", err)
	}
	fmt.Println("the reader had every byte in order")
	return nil
}
