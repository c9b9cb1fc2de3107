package inet

import (
	"net/netip"
	"sort"

	"github.com/cocoon-vm/cocoon/north/socket"
)

// iffBroadcast is IFF_BROADCAST (include/uapi/linux/if.h): an Ethernet
// interface has a broadcast address.
const iffBroadcast = 0x2

// Interfaces returns the stack's interfaces as the interface ioctls
// (SIOCGIFFLAGS, SIOCGIFCONF, ...) tell them, by index.
func (st *Stack) Interfaces() []socket.Interface {
	info := st.s.NICInfo()
	var out []socket.Interface
	for id, n := range info {
		it := socket.Interface{Name: n.Name, Index: int(id), MTU: int(n.MTU), HWType: arphrdEther, HWAddr: []byte(n.LinkAddress)}
		flags := uint16(iffBroadcast | iffMulticast)
		if n.Flags.Loopback {
			flags, it.HWType = iffLoopback, arphrdLoopback
		}
		if n.Flags.Up {
			flags |= iffUp
		}
		if n.Flags.Running {
			flags |= iffRunning
		}
		it.Flags = flags
		if len(it.HWAddr) == 0 {
			it.HWAddr = make([]byte, 6)
		}
		for _, pa := range n.ProtocolAddresses {
			a := pa.AddressWithPrefix
			if a.Address.Len() != 4 {
				continue
			}
			it.Addrs = append(it.Addrs, netip.PrefixFrom(netip.AddrFrom4(a.Address.As4()), a.PrefixLen))
		}
		out = append(out, it)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Index < out[j].Index })
	return out
}
