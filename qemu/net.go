package qemu

import (
	"fmt"
	"strconv"
	"strings"
)

// Net gives the guest a network device on QEMU's user-mode network
// (slirp): the guest gets 10.0.2.15 by DHCP, reaches the host's loopback
// as 10.0.2.2, and the host reaches the guest's ports through Forwards.
// The device is virtio-net: over virtio-mmio on Microvm, a virtio-pci
// function on Q35 and OVMF.
type Net struct {
	Forwards []Forward
	// Bridged puts the q35/OVMF network function behind a PCI Express
	// root port (on bus 1) instead of on bus 0.
	Bridged bool
}

// Forward publishes a guest port on the host's loopback interface.
type Forward struct {
	UDP       bool // UDP instead of TCP
	HostPort  int
	GuestPort int
}

// String is the --publish form: HOSTPORT:GUESTPORT[/udp].
func (f Forward) String() string {
	s := fmt.Sprintf("%d:%d", f.HostPort, f.GuestPort)
	if f.UDP {
		s += "/udp"
	}
	return s
}

// ParseForward reads HOSTPORT:GUESTPORT[/udp].
func ParseForward(s string) (Forward, error) {
	var f Forward
	spec, proto, hasProto := strings.Cut(s, "/")
	switch {
	case !hasProto, proto == "tcp":
	case proto == "udp":
		f.UDP = true
	default:
		return f, fmt.Errorf("%q: the protocol after / is tcp or udp", s)
	}
	h, g, ok := strings.Cut(spec, ":")
	hp, err1 := strconv.Atoi(h)
	gp, err2 := strconv.Atoi(g)
	if !ok || err1 != nil || err2 != nil || hp < 1 || hp > 65535 || gp < 1 || gp > 65535 {
		return f, fmt.Errorf("%q: want HOSTPORT:GUESTPORT[/udp] with ports 1-65535, as 8080:80", s)
	}
	f.HostPort, f.GuestPort = hp, gp
	return f, nil
}

// netArgs returns the options that add n to a guest of profile p.
func netArgs(n *Net, p Profile) ([]string, error) {
	nd := "user,id=net0"
	for _, f := range n.Forwards {
		proto := "tcp"
		if f.UDP {
			proto = "udp"
		}
		// Published on the host's loopback only.
		nd += fmt.Sprintf(",hostfwd=%s:127.0.0.1:%d-:%d", proto, f.HostPort, f.GuestPort)
	}
	switch p {
	case Microvm:
		return []string{
			"-netdev", nd,
			"-device", "virtio-net-device,netdev=net0",
			// Modern (version 2) virtio-mmio: QEMU 7.2 defaults to legacy.
			"-global", "virtio-mmio.force-legacy=false",
		}, nil
	case Q35, OVMF:
		if n.Bridged {
			return []string{
				"-netdev", nd,
				"-device", "pcie-root-port,id=rp1,bus=pcie.0,chassis=1",
				"-device", "virtio-net-pci,netdev=net0,romfile=,bus=rp1",
			}, nil
		}
		return []string{
			"-netdev", nd,
			// A transitional function; Cocoon uses its modern
			// (virtio 1.0) interface. No option ROM: nothing boots from
			// the network.
			"-device", "virtio-net-pci,netdev=net0,romfile=",
		}, nil
	}
	return nil, fmt.Errorf("qemu: no network device for profile %q", p)
}
