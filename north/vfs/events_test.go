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
