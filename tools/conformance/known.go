package main

import (
	"path"
	"strings"
)

// Why tests that pass on the host do not pass inside Cocoon, when it is
// not a bug being fixed here. Each reason says whose matter it is.
const (
	noProcesses = "The test starts another program through os/exec (often itself, or a command such as `pwd`): " +
		"Go's os/exec starts children with clone(CLONE_VM|CLONE_VFORK), which Cocoon refuses with ENOSYS " +
		"until a hang after it is fixed (issue 16); fork, vfork and execve work."
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
	noMPTCP    = "gVisor's netstack has no Multipath TCP: socket(..., IPPROTO_MPTCP) fails and the test skips."
	outsideDir = "The test reads a file outside its package directory (../testdata, /etc/services) that the conformance image does not carry."
	zeroMtimes = "The image's files have modification time 0 (archives are reproducible), which http.ServeContent " +
		"treats as no time: no Last-Modified, no 304 or 412."
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
	"runtime/debug": {{reason: noProcesses, tests: []string{"TestSetCrashOutput"}}},
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
		{reason: outsideDir, tests: []string{
			"TestSendfile", "TestSendfileWithExactLimit", "TestSendfileWithLimitLargerThanFile", "TestSendfileParts",
			"TestSendfileSeeked", "TestSendfileOnWriteTimeoutExceeded", "TestReadLine",
		}},
		{reason: noProcesses, tests: []string{"TestSplice"}}, // a client in a second process
	},
	"net/http": {
		{reason: zeroMtimes, tests: []string{"TestServeContent"}},
		{reason: noGoCommand, tests: []string{"TestCmdGoNoHTTPServer", "TestOmitHTTP2Vet"}},
		{reason: noProcesses, tests: []string{"TestLinuxSendfile"}}, // runs strace
	},
	"crypto/tls": {
		// Each runs itself again with GODEBUG=fips140=only.
		{reason: noProcesses, tests: []string{
			"TestFIPSServerProtocolVersion", "TestFIPSServerCipherSuites", "TestFIPSServerCurves", "TestFIPSServerSignatureAndHash",
		}},
	},
	"os": {
		{reason: noProcesses, tests: []string{
			"TestProcessAlreadyDone", "TestExecutable", "TestStartProcess", "TestFileChdirTestlog",
			"TestHostname", "TestStatStdin", "TestKillStartProcess", "TestGetppid", "TestKillFindProcess",
			"TestProcessWithHandleLinux", "TestStdPipe", "TestReadNonblockingFd",
			"TestRemoveAllNoFcntl", // runs strace (-short=false)
		}},
		{reason: noTun, tests: []string{"TestNonPollable"}}, // -short=false
		{reason: noGoCommand, tests: []string{
			"TestProcessReleaseTwice", "TestErrProcessDone", "TestUNIXProcessAlive", "TestExecutableDeleted",
			"TestFindProcessViaPidfd", "TestStartProcessWithPidfd",
		}},
	},
	"os/signal": {
		{reason: noProcesses, tests: []string{"TestDetectNohup", "TestNohup", "TestAtomicStop", "TestNotifyContextNotifications"}},
	},
	"syscall": {
		// TestPrlimitOtherProcess kills the child it failed to start:
		// a nil pointer dereference in the test.
		{reason: noProcesses, tests: []string{"TestPrlimitOtherProcess"}, crashes: true},
		{reason: noProcesses, tests: []string{
			"TestCloneNEWUSERAndRemap", "TestEmptyCredGroupsDisableSetgroups", "TestUnshare", "TestGroupCleanup",
			"TestGroupCleanupUserNamespace", "TestUnshareMountNameSpace", "TestUnshareMountNameSpaceChroot",
			"TestCloneTimeNamespace", "TestPidFD", "TestPidFDWithUserNS", "TestPidFDClone3", "TestAmbientCaps",
			"TestAmbientCapsUserns", "TestSetpgid", "TestPgid", "TestExec", "TestPrlimitFileLimit", "TestExecPtrace",
			"TestFcntlFlock", "TestZeroSysProcAttr",
		}},
		{reason: noProcesses, tests: []string{"TestPassFD"}},
	},
	"sync":        {{reason: noProcesses, tests: []string{"TestMutexMisuse", "TestIssue76126"}}},
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
