//go:build linux

package engineio

import (
	"syscall"
	"unsafe"
)

// canWriteNow tells that writeNow can write without waiting here.
const canWriteNow = true

// iovMax is the most buffers one writev takes (IOV_MAX on Linux).
const iovMax = 1024

// writeNow makes one writev of bufs on the socket and returns at once with
// the number of bytes the kernel took: fewer than asked, or none, when the
// socket's send buffer is full. iov is scratch space, returned for reuse.
func writeNow(raw syscall.RawConn, bufs [][]byte, iov []syscall.Iovec) (int, []syscall.Iovec, error) {
	iov = iov[:0]
	for _, b := range bufs {
		if len(b) > 0 {
			v := syscall.Iovec{Base: &b[0]}
			v.SetLen(len(b))
			iov = append(iov, v)
		}
	}
	if len(iov) == 0 || len(iov) > iovMax {
		return 0, iov, nil
	}
	var n int
	var errno syscall.Errno
	err := raw.Write(func(fd uintptr) bool {
		for {
			r, _, e := syscall.Syscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)))
			if e != syscall.EINTR {
				n, errno = int(r), e
				return true // never wait for the socket: the caller's writer will
			}
		}
	})
	clear(iov) // the pointers would pin the buffers while iov sits in a pool
	switch {
	case err != nil:
		return 0, iov, err
	case errno == syscall.EAGAIN:
		return 0, iov, nil
	case errno != 0:
		return 0, iov, errno
	}
	return n, iov, nil
}
