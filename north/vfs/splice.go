package vfs

// Pipe access for splice(2): look at a pipe's bytes before taking them,
// so that bytes the other file refuses stay in the pipe.

// PipePeek copies up to len(dst) unread bytes of the pipe or FIFO f is
// an end of, without taking them. It returns 0 at end of file (no
// writers left), EAGAIN when the pipe is empty, EINVAL if f is no pipe.
func PipePeek(f *File, dst []byte) (int, error) {
	p := pipeOf(f)
	if p == nil {
		return 0, EINVAL
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n == 0 {
		if p.writers == 0 {
			return 0, nil
		}
		return 0, EAGAIN
	}
	a, b := p.segments(p.start, min(len(dst), p.n))
	return copy(dst[copy(dst, a):], b) + len(a), nil
}

// PipeDiscard takes the first n unread bytes (at most what is unread) of
// the pipe f is an end of, after PipePeek.
func PipeDiscard(f *File, n int) {
	p := pipeOf(f)
	if p == nil || n <= 0 {
		return
	}
	p.mu.Lock()
	n = min(n, p.n)
	p.consume(n)
	p.mu.Unlock()
	p.q.Notify(EventOut | EventWrNorm)
}

// PipeRoom returns how many bytes the pipe f is an end of can take now,
// EINVAL if f is no pipe, EPIPE if it has no readers.
func PipeRoom(f *File) (int, error) {
	p := pipeOf(f)
	if p == nil {
		return 0, EINVAL
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.readers == 0 {
		return 0, EPIPE
	}
	return p.size - p.n, nil
}

// IsPipe reports a pipe or FIFO end.
func IsPipe(f *File) bool { return pipeOf(f) != nil }

// SamePipe reports whether a and b are ends of one pipe.
func SamePipe(a, b *File) bool {
	p := pipeOf(a)
	return p != nil && p == pipeOf(b)
}
