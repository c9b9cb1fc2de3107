package inet

import (
	"bytes"
	"strings"

	"gvisor.dev/gvisor/pkg/tcpip"
)

// /proc/net/netstat (net/ipv4/proc.c netstat_seq_show): the Linux MIB's
// extensions, TcpExt (snmp4_net_list) and IpExt (snmp4_ipextstats_list),
// as snmp's pairs of lines, with Linux 6.x's columns; no MPTcpExt (no
// MPTCP, as Linux without CONFIG_MPTCP) and no TCPAO columns (no TCP-AO,
// as without CONFIG_TCP_AO). The TCP columns netstack counts
// are its stack's (TCPStats); the others read 0, netstack counting
// nothing of the kind (IpExt's octets and ECN codepoints among them).

var (
	netstatTCPExt = strings.Fields(
		"SyncookiesSent SyncookiesRecv SyncookiesFailed EmbryonicRsts PruneCalled RcvPruned OfoPruned " +
			"OutOfWindowIcmps LockDroppedIcmps ArpFilter TW TWRecycled TWKilled PAWSActive PAWSEstab " +
			"BeyondWindow TSEcrRejected PAWSOldAck PAWSTimewait DelayedACKs DelayedACKLocked DelayedACKLost " +
			"ListenOverflows ListenDrops TCPHPHits TCPPureAcks TCPHPAcks TCPRenoRecovery TCPSackRecovery " +
			"TCPSACKReneging TCPSACKReorder TCPRenoReorder TCPTSReorder TCPFullUndo TCPPartialUndo TCPDSACKUndo " +
			"TCPLossUndo TCPLostRetransmit TCPRenoFailures TCPSackFailures TCPLossFailures TCPFastRetrans " +
			"TCPSlowStartRetrans TCPTimeouts TCPLossProbes TCPLossProbeRecovery TCPRenoRecoveryFail " +
			"TCPSackRecoveryFail TCPRcvCollapsed TCPBacklogCoalesce TCPDSACKOldSent TCPDSACKOfoSent TCPDSACKRecv " +
			"TCPDSACKOfoRecv TCPAbortOnData TCPAbortOnClose TCPAbortOnMemory TCPAbortOnTimeout TCPAbortOnLinger " +
			"TCPAbortFailed TCPMemoryPressures TCPMemoryPressuresChrono TCPSACKDiscard TCPDSACKIgnoredOld " +
			"TCPDSACKIgnoredNoUndo TCPSpuriousRTOs TCPMD5NotFound TCPMD5Unexpected TCPMD5Failure TCPSackShifted " +
			"TCPSackMerged TCPSackShiftFallback TCPBacklogDrop PFMemallocDrop TCPMinTTLDrop TCPDeferAcceptDrop " +
			"IPReversePathFilter TCPTimeWaitOverflow TCPReqQFullDoCookies TCPReqQFullDrop TCPRetransFail " +
			"TCPRcvCoalesce TCPOFOQueue TCPOFODrop TCPOFOMerge TCPChallengeACK TCPSYNChallenge TCPFastOpenActive " +
			"TCPFastOpenActiveFail TCPFastOpenPassive TCPFastOpenPassiveFail TCPFastOpenListenOverflow " +
			"TCPFastOpenCookieReqd TCPFastOpenBlackhole TCPSpuriousRtxHostQueues BusyPollRxPackets " +
			"TCPAutoCorking TCPFromZeroWindowAdv TCPToZeroWindowAdv TCPWantZeroWindowAdv TCPSynRetrans " +
			"TCPOrigDataSent TCPHystartTrainDetect TCPHystartTrainCwnd TCPHystartDelayDetect TCPHystartDelayCwnd " +
			"TCPACKSkippedSynRecv TCPACKSkippedPAWS TCPACKSkippedSeq TCPACKSkippedFinWait2 TCPACKSkippedTimeWait " +
			"TCPACKSkippedChallenge TCPWinProbe TCPKeepAlive TCPMTUPFail TCPMTUPSuccess TCPDelivered " +
			"TCPDeliveredCE TCPAckCompressed TCPZeroWindowDrop TCPRcvQDrop TCPWqueueTooBig " +
			"TCPFastOpenPassiveAltKey TcpTimeoutRehash TcpDuplicateDataRehash TCPDSACKRecvSegs " +
			"TCPDSACKIgnoredDubious TCPMigrateReqSuccess TCPMigrateReqFailure TCPPLBRehash TCPAORequired " +
			"TCPAOBad TCPAOKeyNotFound TCPAOGood TCPAODroppedIcmps")
	netstatIPExt = strings.Fields("InNoRoutes InTruncatedPkts InMcastPkts OutMcastPkts InBcastPkts OutBcastPkts InOctets OutOctets InMcastOctets OutMcastOctets InBcastOctets OutBcastOctets InCsumErrors InNoECTPkts InECT1Pkts InECT0Pkts InCEPkts ReasmOverlaps")
)

// tcpExt returns the TcpExt columns netstack counts.
func tcpExt(s *tcpip.TCPStats) map[string]uint64 {
	overflows := s.ListenOverflowSynDrop.Value() + s.ListenOverflowAckDrop.Value()
	return map[string]uint64{
		"SyncookiesSent":   s.ListenOverflowSynCookieSent.Value(),
		"SyncookiesRecv":   s.ListenOverflowSynCookieRcvd.Value(),
		"SyncookiesFailed": s.ListenOverflowInvalidSynCookieRcvd.Value(),
		// tcp_listendrop counts every overflow among the drops.
		"ListenOverflows":      overflows,
		"ListenDrops":          overflows,
		"TCPSackRecovery":      s.SACKRecovery.Value(),
		"TCPFastRetrans":       s.FastRetransmit.Value(),
		"TCPSlowStartRetrans":  s.SlowStartRetransmits.Value(),
		"TCPTimeouts":          s.Timeouts.Value(),
		"TCPLossProbeRecovery": s.TLPRecovery.Value(),
		"TCPSpuriousRTOs":      s.SpuriousRTORecovery.Value(),
		"TCPDSACKRecv":         s.SegmentsAckedWithDSACK.Value(),
		"TCPAbortOnTimeout":    s.EstablishedTimedout.Value(),
	}
}

// procNetstat is /proc/net/netstat, made now.
func (st *Stack) procNetstat() []byte {
	var b bytes.Buffer
	stats := st.s.Stats()
	ext := tcpExt(&stats.TCP)
	vals := make([]string, len(netstatTCPExt))
	for i, n := range netstatTCPExt {
		vals[i] = u(ext[n])
	}
	snmpPair(&b, "TcpExt", netstatTCPExt, vals)
	snmpPair(&b, "IpExt", netstatIPExt, strings.Fields(strings.Repeat("0 ", len(netstatIPExt))))
	return b.Bytes()
}
