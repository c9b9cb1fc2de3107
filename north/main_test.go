package north_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/cocoon-vm/cocoon/internal/testenv"
)

// TestMain keeps descriptors the test process inherited out of the
// programs the differential tests run natively (testenv.NoInheritedFDs).
func TestMain(m *testing.M) {
	if err := testenv.NoInheritedFDs(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}
