// Command nonetgo checks the sockets of a Cocoon kernel built without
// network (tools/kbuild Options.NoNetwork): AF_INET, AF_INET6 and
// AF_NETLINK sockets fail with EAFNOSUPPORT, as on Linux built without
// TCP/IP, loopback included, and AF_UNIX sockets work.
package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
)

func main() {
	failed := false
	check := func(name string, err error) {
		if err != nil {
			fmt.Printf("nonetgo: %s: %v\n", name, err)
			failed = true
			return
		}
		fmt.Printf("nonetgo: %s: ok\n", name)
	}
	refused := func(family, typ, proto int) error {
		fd, err := syscall.Socket(family, typ, proto)
		if err == nil {
			syscall.Close(fd)
			return errors.New("socket made")
		}
		if err != syscall.EAFNOSUPPORT {
			return fmt.Errorf("%v, want EAFNOSUPPORT", err)
		}
		return nil
	}
	check("inet", refused(syscall.AF_INET, syscall.SOCK_STREAM, 0))
	check("inet6", refused(syscall.AF_INET6, syscall.SOCK_DGRAM, 0))
	check("netlink", refused(syscall.AF_NETLINK, syscall.SOCK_RAW, syscall.NETLINK_ROUTE))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err == nil {
		l.Close()
		err = errors.New("listening on loopback")
	} else if errors.Is(err, syscall.EAFNOSUPPORT) {
		err = nil
	}
	check("loopback", err)
	check("unix", unixPair())
	if failed {
		fmt.Println("nonetgo: FAIL")
		os.Exit(1)
	}
	fmt.Println("nonetgo: PASS")
}

// unixPair sends bytes through an AF_UNIX socket pair.
func unixPair() error {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(fds[0])
	defer syscall.Close(fds[1])
	if _, err := syscall.Write(fds[0], []byte("ping")); err != nil {
		return err
	}
	b := make([]byte, 8)
	n, err := syscall.Read(fds[1], b)
	if err != nil {
		return err
	}
	if string(b[:n]) != "ping" {
		return fmt.Errorf("read %q, want ping", b[:n])
	}
	return nil
}
