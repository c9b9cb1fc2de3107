//go:build nonet

package run

import (
	"fmt"
	"io"
	"sync"

	"github.com/cocoon-vm/cocoon/kernel"
	"github.com/cocoon-vm/cocoon/north/socket"
)

// A kernel built with the tag nonet (tools/kbuild Options.NoNetwork,
// 'mkimage build --network off', or auto for an image whose programs make
// no sockets) does not link gVisor's TCP/IP stack, whose package
// initialisers alone cost about 1,800 translated blocks of every boot
// under TCG. It is Linux built without CONFIG_INET and CONFIG_IPV6: there
// is no loopback either, and socket(2) fails with EAFNOSUPPORT for
// AF_INET, AF_INET6 and AF_NETLINK (Linux has NETLINK_ROUTE whenever it
// has sockets at all; here it would only describe an empty machine).
// AF_UNIX sockets are unaffected. The first refused socket says why on
// the console.

// variant names this kernel: tools/kbuild sets it to its NoNetworkMarker,
// by which 'mkimage run' knows a kernel without network.
var variant = "nonet"

// noNetworkHint explains, on the console, why there is no network.
func noNetworkHint() string {
	return "this kernel was built without network (" + variant + "): socket(2) fails with EAFNOSUPPORT for AF_INET, AF_INET6 and AF_NETLINK, " +
		"as on Linux built without TCP/IP; 'mkimage build --network on' builds the image with it"
}

// familyName names a family a kernel without network refuses.
func familyName(family int) string {
	switch family {
	case socket.AFInet:
		return "AF_INET"
	case socket.AFInet6:
		return "AF_INET6"
	}
	return "AF_NETLINK"
}

// noNetwork is the process's network in a kernel built without one.
type noNetwork struct {
	once sync.Once
	log  io.Writer
}

func (n *noNetwork) refuse(family int) error {
	n.once.Do(func() { fmt.Fprintf(n.log, "cocoon: socket(%s): %s\n", familyName(family), noNetworkHint()) })
	return socket.EAFNOSUPPORT
}

// NewSocket refuses AF_INET and AF_INET6 sockets (fdtable.Network).
func (n *noNetwork) NewSocket(family, typ, proto int) (socket.Socket, error) {
	return nil, n.refuse(family)
}

// NewNetlink refuses NETLINK_ROUTE sockets (fdtable's netlinkMaker).
func (n *noNetwork) NewNetlink(typ, proto int) (socket.Socket, error) {
	return nil, n.refuse(socket.AFNetlink)
}

// wireNetwork gives the process no network. A network device or a
// cocoon.ip= word asks for one this kernel cannot give: said on the
// console, as the first refused socket is.
func (f *files) wireNetwork(o Options) {
	f.f.SetNetwork(&noNetwork{log: o.Stdout})
	dev, err := kernel.VirtioNet()
	switch {
	case err != nil:
		fmt.Fprintf(o.Stdout, "cocoon: no network: %v\n", err)
	case dev != nil:
		fmt.Fprintf(o.Stdout, "cocoon: a network device is left unused: %s\n", noNetworkHint())
	case o.IP != "" || o.IP6 != "":
		fmt.Fprintf(o.Stdout, "cocoon: cocoon.ip= and cocoon.ip6= are ignored: %s\n", noNetworkHint())
	}
}

// netSysctls: a kernel without TCP/IP has no /proc/sys/net/ipv4 of its
// own (tcp_rmem and tcp_wmem are not there, ENOENT).
func netSysctls() map[string]func() string { return nil }
