package main

import (
	"path"
	"strings"

	"github.com/cocoon-vm/cocoon/tools/conformance/report"
)

// Why tests that pass on the host do not pass inside Cocoon, when it is
// not a bug being fixed here. Each reason says whose matter it is.
const (
	noNamespaces = "Cocoon has no namespaces: clone with CLONE_NEWUSER fails with EPERM, clone3 with CLONE_NEWTIME " +
		"with EINVAL, unshare (a new mount namespace) with EINVAL, and /proc has no net/dev (TestUnshare looks for it first), so the test skips."
	noCommand = "The test runs a program the conformance image does not carry (`nohup`, `strace`: the image's " +
		"commands are Debian's busybox-static, which has neither): it skips, or fails where the host has it."
	noGoCommand = "The test needs the `go` command (testenv.MustHaveGoBuild): the image has no toolchain."
	oneCPU      = "Cocoon runs the application on one CPU (sched_getaffinity reports one); the test needs two."
	noSHANI     = "QEMU 7.2's TCG CPU has no SHA extensions, so the SHA-NI code is not run: the emulated CPU's matter, not Cocoon's."
	noTun       = "Cocoon's /dev has no /dev/net/tun (it offers no TUN devices); " +
		"the test wants it as a character device that cannot be polled."
	tcgTiming = "The test bounds wall-clock time (a 128 MiB commit within 5 s; natively 1-2 s): under QEMU's TCG " +
		"emulation, which runs every instruction in software, the commit takes 4-6 s. A timing bound, not behaviour."
	racerWait = "The test gives the losing dialers of a dual-stack (Happy Eyeballs) dial a fixed 200 ms to close their sockets; " +
		"under QEMU's TCG on a loaded machine they sometimes need longer (it passes in other runs)."
	noRawSockets = "Cocoon offers no raw IP sockets (SOCK_RAW, Go's \"ip4:icmp\" and \"ip:tcp\" networks): " +
		"socket returns EPROTONOSUPPORT so the application cannot forge packets."
	noMPTCP = "gVisor's netstack has no Multipath TCP: socket(..., IPPROTO_MPTCP) fails and the test skips."
	noMount = "Cocoon's file tree is fixed at boot: mount(2) fails with EPERM (as without CAP_SYS_ADMIN), so the test cannot mount the noexec tmpfs it needs and skips."
)

// knownDifference is a reason and the tests it explains, as path.Match
// patterns ('*' does not cross '/'); a test's entry covers its subtests.
type knownDifference struct {
	reason string
	tests  []string
	// crashes says the tests end the whole test binary inside Cocoon
	// (an unrecovered panic), so they are skipped there (-test.skip) to
	// let the package's other tests run.
	crashes bool
}

// known lists the differences that remain, by package.
var known = map[string][]knownDifference{
	"crypto/sha1": {{reason: noSHANI, tests: []string{
		"TestGolden/SHA-NI", "TestGoldenMarshal/SHA-NI", "TestLargeHashes/SHA-NI", "TestSHA1Hash/SHA-NI",
		"TestOutOfBoundsRead/SHA-NI",
	}}},
	"crypto/sha256": {{reason: noSHANI, tests: []string{
		"TestGolden/SHA-NI", "TestGoldenMarshal/SHA-NI", "TestHash/SHA-224/SHA-NI",
		"TestHash/SHA-256/SHA-NI", "TestExtraMethods/SHA-224/SHA-NI", "TestExtraMethods/SHA-256/SHA-NI",
	}}},
	"go.etcd.io/bbolt": {{reason: tcgTiming, tests: []string{"TestDB_Open_InitialMmapSize"}}},
	"math/big":         {{reason: noGoCommand, tests: []string{"TestEscape", "TestLinkerGC"}}},
	"net": {
		{reason: noRawSockets, tests: []string{"TestIPConnLocalName", "TestIPConnRemoteName", "TestIPConnSpecificMethods"}},
		{reason: noMPTCP, tests: []string{"TestMultiPathTCP"}},
		{reason: racerWait, tests: []string{"TestDialerDualStackFDLeak"}},
	},
	"net/http": {
		{reason: noGoCommand, tests: []string{"TestCmdGoNoHTTPServer", "TestOmitHTTP2Vet"}},
		{reason: noCommand, tests: []string{"TestLinuxSendfile"}}, // runs strace
	},
	"os": {
		{reason: noCommand, tests: []string{"TestRemoveAllNoFcntl"}}, // runs strace (-short=false)
		{reason: noTun, tests: []string{"TestNonPollable"}},          // -short=false
		{reason: noGoCommand, tests: []string{
			"TestProcessReleaseTwice", "TestErrProcessDone", "TestUNIXProcessAlive", "TestExecutableDeleted",
			"TestFindProcessViaPidfd", "TestStartProcessWithPidfd",
		}},
	},
	"os/exec": {
		{reason: noGoCommand, tests: []string{"TestAbsPathExec"}},
		{reason: noMount, tests: []string{"TestFindExecutableVsNoexec"}},
	},
	"os/signal": {
		{reason: noCommand, tests: []string{"TestDetectNohup", "TestNohup/nohup"}},
	},
	"syscall": {
		{reason: noNamespaces, tests: []string{
			"TestCloneNEWUSERAndRemap", "TestEmptyCredGroupsDisableSetgroups", "TestUnshare", "TestGroupCleanupUserNamespace",
			"TestUnshareMountNameSpace", "TestCloneTimeNamespace", "TestPidFDWithUserNS", "TestAmbientCapsUserns",
		}},
		// It builds a program with the go command before it unshares.
		{reason: noGoCommand, tests: []string{"TestUnshareMountNameSpaceChroot"}},
	},
	"sync/atomic": {{reason: oneCPU, tests: []string{"TestStoreLoadSeqCst32", "TestStoreLoadSeqCst64", "TestStoreLoadRelAcq32", "TestStoreLoadRelAcq64"}}},
	"time":        {{reason: oneCPU, tests: []string{"TestLongAdjustTimers"}}},
}

// knownReason returns why test in package pkg is known to behave
// differently inside Cocoon, or "".
func knownReason(pkg, test string) string {
	for name := test; ; {
		for _, k := range known[pkg] {
			for _, t := range k.tests {
				if ok, _ := path.Match(t, name); ok {
					return k.reason
				}
			}
		}
		i := strings.LastIndex(name, "/")
		if i < 0 {
			return ""
		}
		name = name[:i]
	}
}

// unseenKnown returns the known differences of package pkg that match
// none of diffs, the differences of a run: tests that now pass inside
// Cocoon (their entry is stale), or that this run did not reach (-run,
// -short, a flaky test that passed this time).
func unseenKnown(pkg string, diffs []report.Difference) []string {
	var unseen []string
	for _, k := range known[pkg] {
		for _, t := range k.tests {
			seen := false
			for _, d := range diffs {
				if d.Regression() && matchesKnown(t, d.Test) {
					seen = true
					break
				}
			}
			if !seen {
				unseen = append(unseen, t)
			}
		}
	}
	return unseen
}

// matchesKnown reports whether the known pattern covers test: the test
// or one of the tests it is a subtest of matches it.
func matchesKnown(pattern, test string) bool {
	for name := test; ; {
		if ok, _ := path.Match(pattern, name); ok {
			return true
		}
		i := strings.LastIndex(name, "/")
		if i < 0 {
			return false
		}
		name = name[:i]
	}
}

// cocoonSkips returns the -test.skip pattern for package pkg's tests that
// crash the binary inside Cocoon, or "" if there are none. (Their entries
// are plain names.)
func cocoonSkips(pkg string) string {
	var names []string
	for _, k := range known[pkg] {
		if k.crashes {
			names = append(names, k.tests...)
		}
	}
	if len(names) == 0 {
		return ""
	}
	return "^(" + strings.Join(names, "|") + ")$"
}
