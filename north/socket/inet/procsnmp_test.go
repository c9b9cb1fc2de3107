package inet

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestProcSnmp: /proc/net/snmp has Linux 6.x's tables, each a line of
// names and one of as many values, and counts what the stack did: a
// loopback TCP connection is an active and a passive open, established
// twice, and segments in and out; IPv4 packets received and delivered.
func TestProcSnmp(t *testing.T) {
	st, err := New(0)
	if err != nil {
		t.Fatal(err)
	}
	loopbackPair(t, st, 0)
	text := string(st.ProcNetFile("snmp"))
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	want := []string{
		"Ip: Forwarding DefaultTTL InReceives InHdrErrors InAddrErrors ForwDatagrams InUnknownProtos InDiscards InDelivers OutRequests OutDiscards OutNoRoutes ReasmTimeout ReasmReqds ReasmOKs ReasmFails FragOKs FragFails FragCreates OutTransmits",
		"Icmp: InMsgs InErrors InCsumErrors InDestUnreachs InTimeExcds InParmProbs InSrcQuenchs InRedirects InEchos InEchoReps InTimestamps InTimestampReps InAddrMasks InAddrMaskReps OutMsgs OutErrors OutRateLimitGlobal OutRateLimitHost OutDestUnreachs OutTimeExcds OutParmProbs OutSrcQuenchs OutRedirects OutEchos OutEchoReps OutTimestamps OutTimestampReps OutAddrMasks OutAddrMaskReps",
		"Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors",
		"Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors",
		"UdpLite: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors",
	}
	if len(lines) != 2*len(want) {
		t.Fatalf("snmp has %d lines, want %d:\n%s", len(lines), 2*len(want), text)
	}
	values := map[string]map[string]int64{}
	for i, w := range want {
		names, vals := strings.Fields(lines[2*i]), strings.Fields(lines[2*i+1])
		if lines[2*i] != w || len(vals) != len(names) || vals[0] != names[0] {
			t.Errorf("snmp table %d:\n%s\n%s\nwant names %s", i, lines[2*i], lines[2*i+1], w)
			continue
		}
		table := map[string]int64{}
		for j := 1; j < len(names); j++ {
			v, err := strconv.ParseInt(vals[j], 10, 64)
			if err != nil {
				t.Errorf("%s %s = %q", names[0], names[j], vals[j])
			}
			table[names[j]] = v
		}
		values[strings.TrimSuffix(names[0], ":")] = table
	}
	tcp, ip := values["Tcp"], values["Ip"]
	if tcp["RtoMin"] != 200 || tcp["RtoMax"] != 120000 || tcp["MaxConn"] != -1 || tcp["ActiveOpens"] != 1 || tcp["PassiveOpens"] != 1 ||
		tcp["CurrEstab"] != 2 || tcp["InSegs"] < 3 || tcp["OutSegs"] < 3 {
		t.Errorf("Tcp after one loopback connection: %v", tcp)
	}
	if ip["Forwarding"] != 2 || ip["DefaultTTL"] != 64 || ip["InReceives"] < 3 || ip["InDelivers"] < 3 || ip["OutRequests"] < 3 {
		t.Errorf("Ip after one loopback connection: %v", ip)
	}
}

// TestProcNetstat: /proc/net/netstat's TcpExt and IpExt, each a line of
// names and one of as many values.
func TestProcNetstat(t *testing.T) {
	st, err := New(0)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(st.ProcNetFile("netstat")), "\n"), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "TcpExt: SyncookiesSent SyncookiesRecv ") || !strings.HasPrefix(lines[2], "IpExt: InNoRoutes ") {
		t.Fatalf("netstat:\n%s", strings.Join(lines, "\n"))
	}
	for i := 0; i < 4; i += 2 {
		names, vals := strings.Fields(lines[i]), strings.Fields(lines[i+1])
		if len(names) != len(vals) || names[0] != vals[0] || !slices.Contains(names, "ListenOverflows") && i == 0 || !slices.Contains(names, "InOctets") && i == 2 {
			t.Errorf("netstat table:\n%s\n%s", lines[i], lines[i+1])
		}
	}
}
