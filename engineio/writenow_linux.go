//go:build linux

package engineio

import (
	"io"
	"syscall"
	"unsafe"
)

// canWriteNow tells that writeNow can write without waiting here.
const canWriteNow = true

// iovMax is the most buffers one writev takes (IOV_MAX on Linux).
const iovMax = 1024

// rawWriter makes writeNow's writev. It lives in a pooled writeBuffers, so
// that its iovecs, and the function RawConn.Control is given, are made
// once rather than for every write.
type rawWriter struct {
	iov   []syscall.Iovec
	n     int
	errno syscall.Errno
	fn    func(fd uintptr) // w.writev, bound once
}

func (w *rawWriter) writev(fd uintptr) {
	for {
		// Raw: the call never blocks, and the runtime's bookkeeping of a
		// system call would wake its monitor thread from its sleep after
		// every idle moment (see rawReader).
		r, _, e := syscall.RawSyscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&w.iov[0])), uintptr(len(w.iov)))
		if e != syscall.EINTR {
			w.n, w.errno = int(r), e
			return
		}
	}
}

// writeNow makes one writev of bufs on the socket and returns at once with
// the number of bytes the kernel took: fewer than asked, or none, when the
// socket's send buffer is full. w is scratch space.
//
// It runs inside RawConn.Control, which only holds the descriptor open: the
// caller is the connection's one writer (see wsConn.writing), and a write
// that must wait is left to it, so RawConn.Write's own locking and
// readiness bookkeeping would buy nothing.
func writeNow(raw syscall.RawConn, bufs [][]byte, w *rawWriter) (int, error) {
	w.iov = w.iov[:0]
	for _, b := range bufs {
		if len(b) > 0 {
			v := syscall.Iovec{Base: &b[0]}
			v.SetLen(len(b))
			w.iov = append(w.iov, v)
		}
	}
	if len(w.iov) == 0 || len(w.iov) > iovMax {
		return 0, nil
	}
	if w.fn == nil {
		w.fn = w.writev
	}
	w.n, w.errno = 0, 0
	err := raw.Control(w.fn)
	clear(w.iov) // the pointers would pin the buffers while w sits in a pool
	switch {
	case err != nil:
		return 0, err
	case w.errno == syscall.EAGAIN:
		return 0, nil
	case w.errno != 0:
		return 0, w.errno
	}
	return w.n, nil
}

// rawReader reads a socket as net.Conn's Read does, waiting in Go's
// netpoller when nothing has arrived, but makes each read(2) a raw system
// call. The socket is non-blocking, so the call returns at once; and the
// runtime does not see it. That matters between bursts of messages: when
// every processor has gone idle, the runtime's monitor thread sleeps until
// a goroutine enters a system call, and each such wake-up has it poll
// every 20 µs for the next millisecond or more. A reader that wakes it for
// every message costs more than its reads.
type rawReader struct{ raw syscall.RawConn }

func (r rawReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	var errno syscall.Errno
	err := r.raw.Read(func(fd uintptr) bool {
		for {
			m, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
			switch e {
			case syscall.EINTR:
				continue
			case syscall.EAGAIN:
				return false // wait until readable
			}
			n, errno = int(m), e
			return true
		}
	})
	switch {
	case err != nil:
		return 0, err
	case errno != 0:
		return 0, errno
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

// connReader returns what a burst reads c's socket with.
func (c *wsConn) connReader() io.Reader {
	if c.raw != nil {
		return rawReader{c.raw}
	}
	return c.conn
}
