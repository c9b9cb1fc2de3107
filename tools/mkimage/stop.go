package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// stopSignals end a run that boots QEMU: Ctrl-C, kill's default, and the
// hangup of a closed terminal. Without a handler SIGTERM or SIGHUP ended
// mkimage alone and left QEMU running on, orphaned, with the guest and
// the host ports it publishes; on one of these, mkimage kills QEMU, waits
// for it, and exits as a command killed by that signal would, 128+N
// (stoppedBy).
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

// stopContext returns a context that ends when one of stopSignals
// arrives, and a function that stops listening and returns that signal's
// error (stoppedBy), or nil if none came.
func stopContext() (context.Context, func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, stopSignals...)
	var (
		mu  sync.Mutex
		got os.Signal
	)
	done := make(chan struct{})
	go func() {
		defer close(done)
		select {
		case s := <-sigs:
			mu.Lock()
			got = s
			mu.Unlock()
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, func() error {
		signal.Stop(sigs)
		cancel()
		<-done
		mu.Lock()
		defer mu.Unlock()
		if s, ok := got.(syscall.Signal); ok {
			return stoppedBy(s)
		}
		return nil
	}
}

// stoppedBy is the error of a run ended by a signal; mkimage's exit
// status is then 128 plus its number.
type stoppedBy syscall.Signal

func (s stoppedBy) Error() string {
	return fmt.Sprintf("stopped by %v: QEMU and the guest were killed", syscall.Signal(s))
}

func (s stoppedBy) ExitCode() int { return 128 + int(s) }
