package qemu

import "testing"

func TestWatch(t *testing.T) {
	w := NewWatch("ready")
	w.Write([]byte("not rea"))
	select {
	case <-w.Seen():
		t.Fatal("Seen before the text appeared")
	default:
	}
	w.Write([]byte("dy\n"))
	w.Write([]byte("more ready\n")) // a second match must not close twice
	select {
	case <-w.Seen():
	default:
		t.Fatal("Seen not closed after the text, split across writes, appeared")
	}
	if got := w.String(); got != "not ready\nmore ready\n" {
		t.Errorf("String() = %q", got)
	}
}
