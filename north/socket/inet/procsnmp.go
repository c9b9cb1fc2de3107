package inet

import (
	"bytes"
	"fmt"
	"strings"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// /proc/net/snmp (net/ipv4/proc.c snmp_seq_show): the IPv4 MIB of RFC
// 2011-2013 as pairs of lines, names then values, for Ip, Icmp, IcmpMsg
// (only when some ICMP type was counted), Tcp, Udp and UdpLite, with
// Linux 6.x's columns. The values are netstack's counters: Ip and Icmp
// summed over the interfaces' IPv4 endpoints; Tcp the stack's (Linux's
// Tcp counts IPv6 connections too); Udp the stack's, which netstack
// keeps for IPv4 and IPv6 together. A column netstack does not count
// reads 0, and so does one for what Cocoon never does (forwarding; no
// IP tables to discard by; no UDP-Lite).

var (
	snmpIPNames = []string{"Forwarding", "DefaultTTL", "InReceives", "InHdrErrors", "InAddrErrors", "ForwDatagrams",
		"InUnknownProtos", "InDiscards", "InDelivers", "OutRequests", "OutDiscards", "OutNoRoutes", "ReasmTimeout",
		"ReasmReqds", "ReasmOKs", "ReasmFails", "FragOKs", "FragFails", "FragCreates", "OutTransmits"}
	// snmpICMPTypes are icmp_put's types (net/ipv4/proc.c icmpmibmap),
	// in its order, with their ICMP type numbers.
	snmpICMPTypes = []struct {
		name string
		typ  int
	}{{"DestUnreachs", 3}, {"TimeExcds", 11}, {"ParmProbs", 12}, {"SrcQuenchs", 4}, {"Redirects", 5},
		{"Echos", 8}, {"EchoReps", 0}, {"Timestamps", 13}, {"TimestampReps", 14}, {"AddrMasks", 17}, {"AddrMaskReps", 18}}
	snmpTCPNames = []string{"RtoAlgorithm", "RtoMin", "RtoMax", "MaxConn", "ActiveOpens", "PassiveOpens", "AttemptFails",
		"EstabResets", "CurrEstab", "InSegs", "OutSegs", "RetransSegs", "InErrs", "OutRsts", "InCsumErrors"}
	snmpUDPNames = []string{"InDatagrams", "NoPorts", "InErrors", "OutDatagrams", "RcvbufErrors", "SndbufErrors",
		"InCsumErrors", "IgnoredMulti", "MemErrors"}
)

// icmpCounts returns netstack's ICMPv4 counters by ICMP type.
func icmpCounts(s *tcpip.ICMPv4PacketStats) map[int]uint64 {
	return map[int]uint64{0: s.EchoReply.Value(), 3: s.DstUnreachable.Value(), 4: s.SrcQuench.Value(),
		5: s.Redirect.Value(), 8: s.EchoRequest.Value(), 11: s.TimeExceeded.Value(), 12: s.ParamProblem.Value(),
		13: s.Timestamp.Value(), 14: s.TimestampReply.Value(), 15: s.InfoRequest.Value(), 16: s.InfoReply.Value()}
}

// snmpPair writes one table: its names line and its values line.
func snmpPair(b *bytes.Buffer, table string, names []string, values []string) {
	fmt.Fprintf(b, "%s: %s\n%s: %s\n", table, strings.Join(names, " "), table, strings.Join(values, " "))
}

func u(v uint64) string { return fmt.Sprint(v) }

// procSnmp is /proc/net/snmp, made now.
func (st *Stack) procSnmp() []byte {
	var ip [18]uint64 // the IPv4 counters after Forwarding and DefaultTTL
	in, out := map[int]uint64{}, map[int]uint64{}
	var icmpInErr, icmpOutErr, icmpRateLimited uint64
	_, info := st.nics()
	for _, n := range info {
		s, ok := n.NetworkStats[ipv4.ProtocolNumber].(*ipv4.Stats)
		if !ok {
			continue
		}
		ip[0] += s.IP.PacketsReceived.Value()
		ip[1] += s.IP.MalformedPacketsReceived.Value()
		ip[2] += s.IP.InvalidDestinationAddressesReceived.Value()
		ip[6] += s.IP.PacketsDelivered.Value()
		ip[7] += s.IP.PacketsSent.Value()
		ip[8] += s.IP.OutgoingPacketErrors.Value()
		ip[17] += s.IP.PacketsSent.Value() // OutTransmits: nothing is forwarded
		for t, v := range icmpCounts(&s.ICMP.PacketsReceived.ICMPv4PacketStats) {
			in[t] += v
		}
		for t, v := range icmpCounts(&s.ICMP.PacketsSent.ICMPv4PacketStats) {
			out[t] += v
		}
		icmpInErr += s.ICMP.PacketsReceived.Invalid.Value()
		icmpOutErr += s.ICMP.PacketsSent.Dropped.Value()
		icmpRateLimited += s.ICMP.PacketsSent.RateLimited.Value()
	}
	var b bytes.Buffer
	vals := []string{"2", u(ipv4.DefaultTTL)} // not forwarding (2); netstack's default TTL
	for _, v := range ip {
		vals = append(vals, u(v))
	}
	snmpPair(&b, "Ip", snmpIPNames, vals)

	// icmp_put: InMsgs counts every message received, the bad ones too.
	var inMsgs, outMsgs uint64
	for _, v := range in {
		inMsgs += v
	}
	for _, v := range out {
		outMsgs += v
	}
	names := []string{"InMsgs", "InErrors", "InCsumErrors"}
	vals = []string{u(inMsgs + icmpInErr), u(icmpInErr), "0"}
	for _, t := range snmpICMPTypes {
		names, vals = append(names, "In"+t.name), append(vals, u(in[t.typ]))
	}
	names = append(names, "OutMsgs", "OutErrors", "OutRateLimitGlobal", "OutRateLimitHost")
	vals = append(vals, u(outMsgs), u(icmpOutErr), u(icmpRateLimited), "0")
	for _, t := range snmpICMPTypes {
		names, vals = append(names, "Out"+t.name), append(vals, u(out[t.typ]))
	}
	snmpPair(&b, "Icmp", names, vals)

	// icmpmsg_put: the types counted, received then sent, 16 a line.
	names, vals = nil, nil
	for dir, m := range []map[int]uint64{in, out} {
		for t := range 256 {
			if m[t] == 0 {
				continue
			}
			names = append(names, fmt.Sprintf("%sType%d", [2]string{"In", "Out"}[dir], t))
			vals = append(vals, u(m[t]))
			if len(names) == 16 {
				snmpPair(&b, "IcmpMsg", names, vals)
				names, vals = nil, nil
			}
		}
	}
	if len(names) > 0 {
		snmpPair(&b, "IcmpMsg", names, vals)
	}

	stats := st.s.Stats()
	ts := stats.TCP
	// RFC 2012's "other" algorithm, netstack's bounds of the RTO in
	// ms, no limit on connections (-1).
	snmpPair(&b, "Tcp", snmpTCPNames, []string{"1", u(uint64(tcp.MinRTO.Milliseconds())), u(uint64(tcp.MaxRTO.Milliseconds())), "-1",
		u(ts.ActiveConnectionOpenings.Value()), u(ts.PassiveConnectionOpenings.Value()),
		u(ts.FailedConnectionAttempts.Value()), u(ts.EstablishedResets.Value()), u(ts.CurrentEstablished.Value()),
		u(ts.ValidSegmentsReceived.Value() + ts.InvalidSegmentsReceived.Value()), u(ts.SegmentsSent.Value()),
		u(ts.Retransmits.Value()), u(ts.InvalidSegmentsReceived.Value()), u(ts.ResetsSent.Value()),
		u(ts.ChecksumErrors.Value())})
	udp := stats.UDP
	snmpPair(&b, "Udp", snmpUDPNames, []string{u(udp.PacketsReceived.Value()), u(udp.UnknownPortErrors.Value()),
		u(udp.MalformedPacketsReceived.Value() + udp.ReceiveBufferErrors.Value() + udp.ChecksumErrors.Value()),
		u(udp.PacketsSent.Value()), u(udp.ReceiveBufferErrors.Value()), "0", u(udp.ChecksumErrors.Value()), "0", "0"})
	snmpPair(&b, "UdpLite", snmpUDPNames, strings.Fields(strings.Repeat("0 ", len(snmpUDPNames))))
	return b.Bytes()
}
