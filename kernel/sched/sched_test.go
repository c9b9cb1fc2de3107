package sched

import "testing"

func TestRunQueueRoundRobin(t *testing.T) {
	var s Table
	boot := s.Init()
	a, b := s.Spawn(), s.Spawn()
	if a < 0 || b < 0 || s.Runnable() != 2 {
		t.Fatalf("Spawn = %d, %d; runnable %d", a, b, s.Runnable())
	}
	// Within the slice the current thread keeps running.
	if prev, next := s.Pick(0); prev != boot || next != boot {
		t.Fatalf("Pick(0) = %d,%d; want no switch", prev, next)
	}
	order := []int{}
	now := int64(0)
	for i := 0; i < 6; i++ {
		now += Slice
		_, next := s.Pick(now)
		order = append(order, next)
	}
	want := []int{a, b, boot, a, b, boot}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("run order = %v, want %v", order, want)
		}
	}
}

func TestFutexWakeOrderAndCount(t *testing.T) {
	var s Table
	s.Init()
	x, y := s.Spawn(), s.Spawn()
	const key = 0x1000
	// boot blocks first, then x, then y.
	s.Block(key, 0, WokenTimedOut, -1)
	s.Pick(0)
	if s.Current() != x {
		t.Fatalf("current = %d, want %d", s.Current(), x)
	}
	s.Block(key, 0, WokenTimedOut, -1)
	s.Pick(0)
	s.Block(key, 0, WokenTimedOut, -1)
	if _, next := s.Pick(0); next != Idle {
		t.Fatalf("all blocked: Pick = %d, want idle", next)
	}
	if n := s.Waiting(key); n != 3 {
		t.Fatalf("Waiting = %d, want 3", n)
	}
	if n := s.Wake(key+4, 10); n != 0 {
		t.Fatalf("Wake(other key) = %d, want 0", n)
	}
	if n := s.Wake(key, 2); n != 2 {
		t.Fatalf("Wake(key, 2) = %d, want 2", n)
	}
	if _, next := s.Pick(0); next != 1 {
		t.Fatalf("first woken = %d, want the oldest waiter 1", next)
	}
	if s.T[y].State != Blocked || s.T[x].State != Runnable {
		t.Fatalf("states x=%d y=%d, want Runnable, Blocked", s.T[x].State, s.T[y].State)
	}
	if s.T[x].Frame.RAX != WokenOK {
		t.Fatalf("woken RAX = %d, want 0", int64(s.T[x].Frame.RAX))
	}
}

func TestDeadlines(t *testing.T) {
	var s Table
	s.Init()
	a := s.Spawn()
	s.Block(0x2000, 500, WokenTimedOut, -1) // futex wait with timeout
	s.Pick(0)                               // a runs
	s.Block(0, 300, 0, -1)                  // nanosleep
	s.Pick(0)
	if got := s.NextDeadline(); got != 300 {
		t.Fatalf("NextDeadline = %d, want 300", got)
	}
	s.Expire(299)
	if s.Runnable() != 0 {
		t.Fatal("Expire before any deadline woke a thread")
	}
	s.Expire(300)
	if s.T[a].State != Runnable || s.T[a].Frame.RAX != 0 {
		t.Fatalf("sleeper after deadline: state %d rax %d", s.T[a].State, int64(s.T[a].Frame.RAX))
	}
	s.Expire(1000)
	if s.T[1].State != Runnable || int64(s.T[1].Frame.RAX) != WokenTimedOut {
		t.Fatalf("futex waiter after deadline: state %d rax %d, want ETIMEDOUT", s.T[1].State, int64(s.T[1].Frame.RAX))
	}
	if s.NextDeadline() != 0 {
		t.Fatal("NextDeadline after all expired != 0")
	}
	// A woken waiter's deadline is gone: a later Expire must not wake it twice.
	s.Pick(0)
	s.Expire(1 << 40)
	if s.Runnable() != 1 {
		t.Fatalf("runnable = %d, want 1", s.Runnable())
	}
}

func TestRestartOnWake(t *testing.T) {
	var s Table
	s.Init()
	s.T[1].Frame.RIP = 0x1002
	s.T[1].Frame.RAX = 281
	s.Block(0x3000, 100, 0, 281)
	s.Pick(0)
	s.Wake(0x3000, 1)
	if f := s.T[1].Frame; f.RIP != 0x1000 || f.RAX != 281 {
		t.Fatalf("restarted frame RIP=%#x RAX=%d, want 0x1000, 281", f.RIP, f.RAX)
	}
	// A timeout does not restart: it returns the timeout result.
	s.Pick(0)
	s.Block(0x3000, 100, 0, 281)
	s.Pick(0)
	s.Expire(100)
	if f := s.T[1].Frame; f.RIP != 0x1000 || f.RAX != 0 {
		t.Fatalf("timed-out frame RIP=%#x RAX=%d, want 0x1000, 0", f.RIP, f.RAX)
	}
}

func TestSpawnFullAndExit(t *testing.T) {
	var s Table
	s.Init()
	n := 0
	for s.Spawn() >= 0 {
		n++
	}
	if n != MaxThreads-2 {
		t.Fatalf("spawned %d, want %d", n, MaxThreads-2)
	}
	s.Exit()
	if _, next := s.Pick(0); next == 1 {
		t.Fatal("exited thread picked again")
	}
	if s.Live() != MaxThreads-2 {
		t.Fatalf("Live = %d", s.Live())
	}
	tids := map[int32]bool{}
	for i := 1; i < MaxThreads; i++ {
		if s.T[i].State != Free {
			if tids[s.T[i].Tid] {
				t.Fatalf("duplicate tid %d", s.T[i].Tid)
			}
			tids[s.T[i].Tid] = true
		}
	}
}

// TestDeadlinesAgainstModel drives random blocks, wake-ups, expiries,
// spawns and exits and checks, after each step, that NextDeadline is the
// earliest deadline of a blocked thread and that Expire woke exactly the
// threads whose deadline had come (NextDeadline and Expire keep a cached
// earliest deadline and scan only the slots in use).
func TestDeadlinesAgainstModel(t *testing.T) {
	rng := uint64(0x9e3779b97f4a7c15)
	rand := func(n int) int {
		rng ^= rng << 13
		rng ^= rng >> 7
		rng ^= rng << 17
		return int(rng % uint64(n))
	}
	var s Table
	s.Init()
	now := int64(1000)
	for step := 0; step < 20000; step++ {
		switch op := rand(10); {
		case op < 2:
			s.Spawn()
		case op < 5:
			// The current thread (if not idle) blocks; a key of 0 with
			// no deadline would sleep for ever: give it one then.
			if s.Current() == Idle {
				break
			}
			key := uintptr(rand(3)) * 0x1000
			var dl int64
			if rand(3) > 0 || key == 0 {
				dl = now + int64(rand(500))
			}
			s.Block(key, dl, WokenTimedOut, -1)
		case op < 6:
			s.Wake(uintptr(1+rand(2))*0x1000, 1+rand(3))
		case op < 7:
			if s.Current() != Idle && s.Live() > 1 {
				s.Exit()
			}
		case op < 9:
			now += int64(rand(200))
			var due []int
			for i := 1; i < MaxThreads; i++ {
				if th := &s.T[i]; th.State == Blocked && th.deadline != 0 && th.deadline <= now {
					due = append(due, i)
				}
			}
			s.Expire(now)
			for _, i := range due {
				if s.T[i].State != Runnable {
					t.Fatalf("step %d: thread %d due at %d not woken at %d", step, i, s.T[i].deadline, now)
				}
			}
		default:
			s.Pick(now)
		}
		if s.Current() != Idle && s.T[s.Current()].State != Running {
			s.Pick(now)
		}
		var want int64
		live := 0
		for i := 1; i < MaxThreads; i++ {
			th := &s.T[i]
			if th.State != Free {
				live++
				if i >= s.hi {
					t.Fatalf("step %d: slot %d in use beyond hi %d", step, i, s.hi)
				}
			}
			if th.State == Blocked && th.deadline != 0 && (want == 0 || th.deadline < want) {
				want = th.deadline
			}
			if th.State == Blocked && th.deadline != 0 && th.deadline <= now {
				// Only Expire wakes sleepers; one due now is fine until
				// the next Expire, but it must count as the earliest.
				if got := s.NextDeadline(); got > th.deadline {
					t.Fatalf("step %d: NextDeadline %d after a due deadline %d", step, got, th.deadline)
				}
			}
		}
		if got := s.NextDeadline(); got != want {
			t.Fatalf("step %d: NextDeadline = %d, want %d", step, got, want)
		}
		if got := s.Live(); got != live {
			t.Fatalf("step %d: Live = %d, want %d", step, got, live)
		}
	}
}
