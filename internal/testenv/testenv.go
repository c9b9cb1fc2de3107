// Package testenv decides what a test does when something it needs from
// the machine (QEMU, OVMF, a C compiler, a static C library...) is
// missing: on a developer's machine it skips, saying what to install; under
// CI=true it fails, so that a CI run can never pass by skipping the tests
// it exists to run.
package testenv

import (
	"os"
	"testing"
)

// CI reports whether the tests run under CI (the environment variable CI
// is "true", as .ci/run and most CI systems set it).
func CI() bool { return os.Getenv("CI") == "true" }

// Missing ends the test because a prerequisite is missing. The message
// says what is missing and what to install. Under CI=true the test fails;
// elsewhere it is skipped.
func Missing(tb testing.TB, format string, args ...any) {
	tb.Helper()
	if CI() {
		tb.Fatalf("CI=true and a prerequisite is missing (install it, .ci/run does): "+format, args...)
		return
	}
	tb.Skipf(format, args...)
}
