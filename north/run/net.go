//go:build !nonet

package run

import (
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cocoon-vm/cocoon/kernel"
	"github.com/cocoon-vm/cocoon/kernel/linux"
	"github.com/cocoon-vm/cocoon/north/socket"
	"github.com/cocoon-vm/cocoon/north/socket/inet"
	"github.com/cocoon-vm/cocoon/north/vfs"
)

// wireNetwork gives the process gVisor's TCP/IP stack for its sockets,
// started at once only with a network device (lazyStack), and an
// /etc/hosts naming localhost unless the image has its own. A kernel
// built with the tag nonet has none (nonet.go).
func (f *files) wireNetwork(o Options) {
	net := &lazyStack{log: o.Stdout}
	f.f.SetNetwork(net)
	procNet := map[string]func() []byte{}
	for _, name := range inet.ProcNetFiles {
		procNet[name] = func() []byte {
			st, err := net.stack()
			if err != nil {
				return nil
			}
			return st.ProcNetFile(name)
		}
	}
	f.fs.SetNetFiles(procNet)
	if _, err := f.writeIfMissing(etcHosts, hosts, true); err != nil {
		fmt.Fprintf(o.Stdout, "cocoon: writing %s: %v\n", etcHosts, err)
	}
	if err := startNetwork(net, f, o.IP, o.IP6, o.Stdout); err != nil {
		fmt.Fprintf(o.Stdout, "cocoon: no network: %v\n", err)
	}
}

// netSysctls are the files of /proc/sys/net the stack's configuration
// gives: tcp_rmem and tcp_wmem, the buffer sizes it applies.
func netSysctls() map[string]func() string {
	rmem, wmem := inet.BufferSizes(kernel.Stats().RAM)
	three := func(v [3]int) func() string {
		s := fmt.Sprintf("%d\t%d\t%d\n", v[0], v[1], v[2])
		return func() string { return s }
	}
	return map[string]func() string{"net/ipv4/tcp_rmem": three(rmem), "net/ipv4/tcp_wmem": three(wmem)}
}

// dhcpTimeout bounds the wait for a DHCP server at boot.
const dhcpTimeout = 10 * time.Second

// lazyStack is the process's network (fdtable.Network): gVisor's TCP/IP
// stack, started when first needed, at boot with a network device
// (startNetwork), else at the first AF_INET, AF_INET6 or AF_NETLINK
// socket. An application that makes none never pays for the stack's
// start (its loopback interface, protocols and their goroutines).
type lazyStack struct {
	once sync.Once
	log  io.Writer
	st   *inet.Stack
	err  error
}

// stack starts the stack if it has not been, and returns it.
func (l *lazyStack) stack() (*inet.Stack, error) {
	l.once.Do(func() {
		inet.SetLog(l.log)
		if l.st, l.err = inet.New(kernel.Stats().RAM); l.err != nil {
			fmt.Fprintf(l.log, "cocoon: starting the TCP/IP stack: %v\n", l.err)
		}
	})
	return l.st, l.err
}

// NewSocket makes an internet socket; if the stack cannot start (said
// once on the console), the call fails with ENOBUFS, as Linux's socket(2)
// does when it lacks the resources for one.
func (l *lazyStack) NewSocket(family, typ, proto int) (socket.Socket, error) {
	st, err := l.stack()
	if err != nil {
		return nil, socket.ENOBUFS
	}
	return st.NewSocket(family, typ, proto)
}

// NewNetlink makes a NETLINK_ROUTE socket (fdtable's netlinkMaker).
func (l *lazyStack) NewNetlink(typ, proto int) (socket.Socket, error) {
	st, err := l.stack()
	if err != nil {
		return nil, socket.ENOBUFS
	}
	return st.NewNetlink(typ, proto)
}

// Interfaces lists the stack's interfaces for the interface ioctls
// (fdtable's ifaceLister); none if the stack cannot start.
func (l *lazyStack) Interfaces() []socket.Interface {
	st, err := l.stack()
	if err != nil {
		return nil
	}
	return st.Interfaces()
}

// startNetwork joins the machine's network device, if it has one, to the
// stack and configures it: statically from ip (cocoon.ip=), else by
// DHCP; IPv6 from the link-local address, router advertisements and ip6
// (cocoon.ip6=). /etc/resolv.conf gets the name servers unless the image
// has its own. Without a device the stack waits for the first socket and
// has loopback only, and that is not an error.
func startNetwork(net *lazyStack, f *files, ip, ip6 string, log io.Writer) error {
	dev, err := kernel.VirtioNet()
	if err != nil {
		return err
	}
	if dev == nil {
		return nil
	}
	st, err := net.stack()
	if err != nil {
		return err
	}
	var cfg inet.Config
	var cfg6 inet.Config6
	if ip6 != "" {
		if cfg6, err = inet.ParseStatic6(ip6); err != nil {
			return err
		}
	}
	if ip != "" {
		if cfg, err = inet.ParseStatic(ip); err != nil {
			return err
		}
	} else {
		var b [4]byte
		random(b[:])
		if cfg, err = inet.DHCP(dev, binary.LittleEndian.Uint32(b[:]), dhcpTimeout); err != nil {
			return fmt.Errorf("%v (give a static address with cocoon.ip=ADDRESS/PREFIX,GATEWAY,DNS)", err)
		}
	}
	if err := st.AddNIC(dev, func(s string) { fmt.Fprintln(log, s) }); err != nil {
		return err
	}
	if err := st.Configure(cfg); err != nil {
		return err
	}
	if cfg6.Addr.IsValid() {
		if err := st.Configure6(cfg6); err != nil {
			return err
		}
	}
	// /etc/resolv.conf, unless the image has its own: the DHCP servers,
	// then those IPv6 router advertisements give (RDNSS, RFC 8106),
	// rewritten as those come and go.
	written, err := f.writeIfMissing(resolvConf, resolv(cfg.DNS, nil), len(cfg.DNS) > 0)
	if err != nil {
		return fmt.Errorf("writing %s: %v", resolvConf, err)
	}
	if written || len(cfg.DNS) == 0 && !f.exists(resolvConf) {
		st.OnIPv6DNS(func(v6 []netip.Addr) {
			if err := f.replace(resolvConf, resolv(cfg.DNS, v6)); err != nil {
				fmt.Fprintf(log, "cocoon: writing %s: %v\n", resolvConf, err)
			}
		})
	}
	return nil
}

const resolvConf = "/etc/resolv.conf"

// etcHosts is hosts(5). Every Linux system has one naming localhost
// (Debian's netbase, the file a container runtime writes): without it
// "localhost" is asked of the DNS server, which does not know it, and a
// program that listens on or dials localhost:PORT fails with "no such
// host" (Go's resolver reads only this file for it, as glibc's files
// module does). The loopback addresses here are those the stack has.
const etcHosts = "/etc/hosts"

// hosts is the /etc/hosts written when the image brings none: Debian's
// and Docker's loopback lines.
const hosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"

// resolv is the text of /etc/resolv.conf naming v4's and v6's servers
// (resolv.conf(5)).
func resolv(v4, v6 []netip.Addr) string {
	var b strings.Builder
	for _, d := range append(slices.Clip(v4), v6...) {
		fmt.Fprintf(&b, "nameserver %s\n", d)
	}
	return b.String()
}

// exists reports whether path names a file.
func (f *files) exists(path string) bool {
	file, err := f.fs.Open(f.f, f.fs.Root(), path, linux.ORdonly, 0)
	if err != nil {
		return false
	}
	file.DecRef()
	return true
}

// replace writes data as the whole of path, creating it if need be.
func (f *files) replace(path, data string) error {
	file, err := f.fs.Open(f.f, f.fs.Root(), path, linux.OWronly|linux.OCreat|linux.OTrunc, 0o644)
	if err != nil {
		return err
	}
	defer file.DecRef()
	_, err = file.Write(vfs.BytesBuf([]byte(data)))
	return err
}
