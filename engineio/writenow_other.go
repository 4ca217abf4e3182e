//go:build !linux

package engineio

import (
	"io"
	"syscall"
)

// canWriteNow tells that writeNow can write without waiting here: not
// outside Linux, where SendNow leaves every write to the writer goroutine.
const canWriteNow = false

func writeNow(syscall.RawConn, [][]byte, []syscall.Iovec) (int, []syscall.Iovec, error) {
	panic("engineio: writeNow is Linux only")
}

// connReader returns what a burst reads c's socket with.
func (c *wsConn) connReader() io.Reader { return c.conn }
