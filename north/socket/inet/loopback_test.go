package inet

import (
	"testing"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// TestLoopbackV6BindsAtOnce checks that ::1 can be bound as soon as the
// stack exists: loopback does no duplicate address detection, as on
// Linux, so the address is never tentative (the stack starts at the
// application's first socket, which may bind ::1 at once).
func TestLoopbackV6BindsAtOnce(t *testing.T) {
	st, err := New()
	if err != nil {
		t.Fatal(err)
	}
	ep, terr := st.s.NewEndpoint(tcp.ProtocolNumber, ipv6.ProtocolNumber, &waiter.Queue{})
	if terr != nil {
		t.Fatal(terr)
	}
	defer ep.Close()
	if terr := ep.Bind(tcpip.FullAddress{Addr: tcpip.AddrFrom16([16]byte{15: 1})}); terr != nil {
		t.Fatalf("binding [::1] right after New: %v, want success", terr)
	}
}
