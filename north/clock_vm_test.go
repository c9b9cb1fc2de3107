package north_test

// The TSC calibration (hal/pc/calib.go) inside a real QEMU: exact under
// instruction counting, and unmoved by a host that stops QEMU at random
// while the guest calibrates (an earlier calibration made the guest's
// clock run 25x fast under load).

import (
	"context"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cocoon-vm/cocoon/internal/timeline"
	"github.com/cocoon-vm/cocoon/qemu"
)

// calibratedBoot boots images/hello with the timeline on and returns the
// TSC frequency the kernel calibrated (the timeline line's tsc_hz) and
// the console. extra goes to QEMU's command line; stall, if set, is
// started with QEMU's PID once QEMU wrote it and stopped when the run
// ends.
func calibratedBoot(t *testing.T, app string, extra []string, stall func(pid int, done <-chan struct{})) (uint64, string) {
	t.Helper()
	pidfile := filepath.Join(t.TempDir(), "qemu.pid")
	done := make(chan struct{})
	var wg sync.WaitGroup
	if stall != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				case <-time.After(time.Millisecond):
				}
				b, err := os.ReadFile(pidfile)
				if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && perr == nil && pid > 0 {
					stall(pid, done)
					return
				}
			}
		}()
	}
	res, err := qemu.Run(context.Background(), qemu.Config{
		Profile: qemu.Microvm, Kernel: cocoonKernel(t), Initrd: app, Append: timeline.CmdlineWord,
		MemoryMiB: 256, Timeout: 5 * time.Minute, Extra: append([]string{"-pidfile", pidfile}, extra...),
	})
	close(done)
	wg.Wait()
	if res == nil {
		t.Fatalf("qemu: %v", err)
	}
	console := strings.ReplaceAll(res.Console, "\r", "")
	if err != nil {
		t.Fatalf("boot: %v\n%s", err, console)
	}
	tl, err := timeline.Find(console)
	if err != nil {
		t.Fatalf("%v\n%s", err, console)
	}
	return tl.TSCHz, console
}

// TestVMCalibrationExact: under -icount shift=0,sleep=off QEMU's TSC and
// PIT both count guest instructions, the TSC at exactly 1 GHz, so the
// calibration has an exact answer, which two agreeing windows must find
// within their bound (1/2048).
func TestVMCalibrationExact(t *testing.T) {
	cocoonKernel(t)
	app := packELF(t, buildGo(t, "./images/hello"))
	hz, console := calibratedBoot(t, app, []string{"-icount", "shift=0,sleep=off"}, nil)
	if strings.Contains(console, "TSC calibration:") {
		t.Errorf("calibration did not converge under instruction counting:\n%s", console)
	}
	if e := math.Abs(float64(hz)-1e9) / 1e9; e > 1.0/2048 {
		t.Errorf("calibrated TSC %d Hz under -icount shift=0: want 1 GHz within 1/2048 (error %.1e)", hz, e)
	}
}

// TestVMCalibrationHostStalls: QEMU is stopped (SIGSTOP) and continued
// at random while the guest boots: running 1-8 ms, stopped 1-70 ms
// (longer than the PIT's 55 ms wrap at times). Under TCG the guest's
// TSC is the host's, so every boot must calibrate the same frequency as
// an undisturbed boot, within the calibration's bound.
func TestVMCalibrationHostStalls(t *testing.T) {
	cocoonKernel(t)
	app := packELF(t, buildGo(t, "./images/hello"))
	ref, _ := calibratedBoot(t, app, nil, nil)
	t.Logf("undisturbed: %d Hz", ref)
	seed := time.Now().UnixNano()
	r := rand.New(rand.NewSource(seed))
	stall := func(pid int, done <-chan struct{}) {
		// Stall the first two seconds of QEMU's life: calibration
		// happens within them even on a loaded machine.
		end := time.Now().Add(2 * time.Second)
		for time.Now().Before(end) {
			select {
			case <-done:
				return
			case <-time.After(time.Duration(1+r.Intn(8)) * time.Millisecond):
			}
			if syscall.Kill(pid, syscall.SIGSTOP) != nil {
				return
			}
			time.Sleep(time.Duration(1+r.Intn(70)) * time.Millisecond)
			if syscall.Kill(pid, syscall.SIGCONT) != nil {
				return
			}
		}
	}
	for i := 0; i < 3; i++ {
		hz, console := calibratedBoot(t, app, nil, stall)
		t.Logf("stalled boot %d (seed %d): %d Hz", i, seed, hz)
		if e := math.Abs(float64(hz)-float64(ref)) / float64(ref); e > 1.0/512 {
			t.Errorf("stalled boot %d (seed %d): calibrated %d Hz, the undisturbed boot %d Hz (error %.1e, more than 1/512)\n%s", i, seed, hz, ref, e, console)
		}
	}
}
