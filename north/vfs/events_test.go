package vfs

import (
	"slices"
	"testing"
)

// TestQueueSubscriptions checks that Notify reaches exactly the live
// subscriptions whose mask overlaps the events, whatever order they
// were added and removed in, and that unsubscribing twice is harmless.
func TestQueueSubscriptions(t *testing.T) {
	var q Queue
	var got []int
	sub := func(id int, mask Events) *Subscription {
		return q.Subscribe(mask, func(Events) { got = append(got, id) })
	}
	notify := func(ev Events) []int {
		got = nil
		q.Notify(ev)
		slices.Sort(got)
		return got
	}
	var subs []*Subscription
	for i := range 12 { // more than Notify collects inline
		mask := EventIn
		if i%3 == 0 {
			mask = EventOut
		}
		subs = append(subs, sub(i, mask))
	}
	if g, w := notify(EventOut), []int{0, 3, 6, 9}; !slices.Equal(g, w) {
		t.Fatalf("EventOut reached %v, want %v", g, w)
	}
	if g := notify(EventIn); len(g) != 8 {
		t.Fatalf("EventIn reached %v, want the 8 others", g)
	}
	for _, i := range []int{3, 0, 11, 5, 3} {
		q.Unsubscribe(subs[i])
	}
	if g, w := notify(EventOut), []int{6, 9}; !slices.Equal(g, w) {
		t.Fatalf("after unsubscribing, EventOut reached %v, want %v", g, w)
	}
	if g, w := notify(EventIn), []int{1, 2, 4, 7, 8, 10}; !slices.Equal(g, w) {
		t.Fatalf("after unsubscribing, EventIn reached %v, want %v", g, w)
	}
	s := sub(20, EventIn|EventOut)
	if g, w := notify(EventOut), []int{6, 9, 20}; !slices.Equal(g, w) {
		t.Fatalf("a new subscription: EventOut reached %v, want %v", g, w)
	}
	q.Unsubscribe(s)
	for _, x := range subs {
		q.Unsubscribe(x)
	}
	if g := notify(EventIn | EventOut); len(g) != 0 {
		t.Fatalf("with every subscription ended, Notify reached %v", g)
	}
}

// TestPooledWaiter checks a Waiter from GetWaiter across reuse: it hears
// only the queues it watches now (also past its inline subscriptions),
// Release leaves no subscription behind, and a token the last user left
// unread is gone when the Waiter comes back.
func TestPooledWaiter(t *testing.T) {
	var qs [4]Queue
	pending := func(w *Waiter) bool {
		select {
		case <-w.C:
			return true
		default:
			return false
		}
	}
	for round := range 50 {
		w := GetWaiter()
		if pending(w) {
			t.Fatalf("round %d: a fresh waiter has a token", round)
		}
		watched := round % 4 // 0..3 queues, the last past the inline two
		for i := range watched + 1 {
			w.Watch(&qs[i], EventIn)
		}
		for i := range qs {
			qs[i].Notify(EventIn)
			if got, want := pending(w), i <= watched; got != want {
				t.Fatalf("round %d: notify of queue %d reached the waiter: %v, want %v", round, i, got, want)
			}
		}
		qs[watched].Notify(EventOut)
		if pending(w) {
			t.Fatalf("round %d: an event outside the mask reached the waiter", round)
		}
		qs[0].Notify(EventIn) // left unread for the next user
		w.Release()
		for i := range qs {
			qs[i].mu.Lock()
			n := len(qs[i].subs)
			qs[i].mu.Unlock()
			if n != 0 {
				t.Fatalf("round %d: queue %d keeps %d subscriptions after Release", round, i, n)
			}
		}
	}
}
