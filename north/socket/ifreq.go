package socket

import (
	"encoding/binary"
	"net/netip"

	"github.com/cocoon-vm/cocoon/north/mem"
	"github.com/cocoon-vm/cocoon/north/vfs"
)

// Interface is what the interface ioctls tell of a network interface.
type Interface struct {
	Name   string
	Index  int
	Flags  uint16 // IFF_* (include/uapi/linux/if.h), the low 16 bits
	MTU    int
	HWType uint16 // ARPHRD_* (include/uapi/linux/if_arp.h)
	HWAddr []byte
	Addrs  []netip.Prefix // IPv4 addresses
}

// Interface ioctls (include/uapi/linux/sockios.h).
const (
	siocgifname    = 0x8910
	siocgifconf    = 0x8912
	siocgifflags   = 0x8913
	siocgifaddr    = 0x8915
	siocgifdstaddr = 0x8917
	siocgifbrdaddr = 0x8919
	siocgifnetmask = 0x891b
	siocgifmetric  = 0x891d
	siocgifmtu     = 0x8921
	siocgifhwaddr  = 0x8927
	siocgifindex   = 0x8933
	siocgiftxqlen  = 0x8942
	siocgmiiphy    = 0x8947
	siocgifmap     = 0x8970

	ifreqSize    = 40   // sizeof(struct ifreq): ifr_name[16], a 24-byte union
	ifNameSize   = 16   // IFNAMSIZ
	txQueueLen   = 1000 // DEFAULT_TX_QUEUE_LEN, every interface's here
	iffBroadcast = 0x2
)

// IsIfIoctl reports whether cmd is an interface ioctl IfIoctl serves.
func IsIfIoctl(cmd uint32) bool {
	switch cmd {
	case siocgifname, siocgifconf, siocgifflags, siocgifaddr, siocgifdstaddr, siocgifbrdaddr,
		siocgifnetmask, siocgifmetric, siocgifmtu, siocgifhwaddr, siocgifindex, siocgiftxqlen,
		siocgmiiphy, siocgifmap:
		return true
	}
	return false
}

// IfIoctl serves interface ioctl cmd on a socket of family, whose
// argument is at arg, with the system's interfaces ifs: net/core/dev_ioctl.c
// dev_ioctl and dev_ifconf for every family, the IPv4 address requests
// of net/ipv4/devinet.c devinet_ioctl for AF_INET sockets only (others:
// ENOTTY).
func IfIoctl(m mem.Memory, ifs []Interface, family int, cmd uint32, arg uint64) (int64, error) {
	if cmd == siocgifconf {
		return 0, ifconf(m, ifs, arg)
	}
	var r [ifreqSize]byte
	if m.CopyIn(arg, r[:]) != nil {
		return 0, vfs.EFAULT
	}
	le := binary.LittleEndian
	var it *Interface
	if cmd == siocgifname {
		idx := int(int32(le.Uint32(r[ifNameSize:])))
		for i := range ifs {
			if ifs[i].Index == idx {
				it = &ifs[i]
			}
		}
	} else {
		name := r[:ifNameSize]
		for i, c := range name {
			if c == 0 {
				name = name[:i]
				break
			}
		}
		for i := range ifs {
			if ifs[i].Name == string(name) {
				it = &ifs[i]
			}
		}
	}
	switch cmd {
	case siocgifaddr, siocgifdstaddr, siocgifbrdaddr, siocgifnetmask:
		if family != AFInet {
			return 0, vfs.ENOTTY
		}
	}
	if it == nil {
		return 0, vfs.ENODEV
	}
	u := r[ifNameSize:]
	clear(u)
	switch cmd {
	case siocgifname:
		clear(r[:ifNameSize])
		copy(r[:ifNameSize-1], it.Name)
	case siocgifflags:
		le.PutUint16(u, it.Flags)
	case siocgifmetric:
	case siocgifmtu:
		le.PutUint32(u, uint32(it.MTU))
	case siocgifindex:
		le.PutUint32(u, uint32(it.Index))
	case siocgiftxqlen:
		le.PutUint32(u, txQueueLen)
	case siocgifhwaddr:
		le.PutUint16(u, it.HWType)
		copy(u[2:16], it.HWAddr)
	case siocgifmap:
		// struct ifmap: no memory window, I/O port, IRQ or DMA
		// channel on a virtual device.
	case siocgmiiphy:
		return 0, EOPNOTSUPP // no MII: neither lo nor virtio-net has one
	default:
		// devinet_ioctl: the interface's first IPv4 address, its mask,
		// its broadcast address (ifa_broadcast: 0.0.0.0 without
		// one), its peer (ifa_address: the address itself off a
		// point-to-point link); EADDRNOTAVAIL without an address.
		if len(it.Addrs) == 0 {
			return 0, EADDRNOTAVAIL
		}
		p := it.Addrs[0]
		a := p.Addr().As4()
		switch cmd {
		case siocgifnetmask:
			a = mask4(p.Bits())
		case siocgifbrdaddr:
			if it.Flags&iffBroadcast == 0 {
				a = [4]byte{}
				break
			}
			mk := mask4(p.Bits())
			for i := range a {
				a[i] |= ^mk[i]
			}
		}
		le.PutUint16(u, AFInet)
		copy(u[4:8], a[:])
	}
	if m.CopyOut(arg, r[:]) != nil {
		return 0, vfs.EFAULT
	}
	return 0, nil
}

func mask4(bits int) [4]byte {
	var a [4]byte
	binary.BigEndian.PutUint32(a[:], ^uint32(0)<<(32-bits))
	if bits == 0 {
		a = [4]byte{}
	}
	return a
}

// ifconf is SIOCGIFCONF (dev_ifconf, inet_gifconf): struct ifconf's
// ifc_len (int at 0) and ifc_buf (pointer at 8); one struct ifreq per
// IPv4 address, as many whole ones as fit; with no buffer, the length
// all would take.
func ifconf(m mem.Memory, ifs []Interface, arg uint64) error {
	var c [16]byte
	if m.CopyIn(arg, c[:]) != nil {
		return vfs.EFAULT
	}
	le := binary.LittleEndian
	room := int(int32(le.Uint32(c[:])))
	buf := le.Uint64(c[8:])
	var out []byte
	n := 0
	for _, it := range ifs {
		for _, p := range it.Addrs {
			n += ifreqSize
			if buf == 0 || len(out)+ifreqSize > room {
				continue
			}
			var r [ifreqSize]byte
			copy(r[:ifNameSize-1], it.Name)
			le.PutUint16(r[ifNameSize:], AFInet)
			a := p.Addr().As4()
			copy(r[ifNameSize+4:], a[:])
			out = append(out, r[:]...)
		}
	}
	if buf == 0 {
		return mem.WriteUint32(m, arg, uint32(n))
	}
	if len(out) > 0 && m.CopyOut(buf, out) != nil {
		return vfs.EFAULT
	}
	return mem.WriteUint32(m, arg, uint32(len(out)))
}
