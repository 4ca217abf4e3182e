//go:build !linux

package engineio

import (
	"io"
	"syscall"
)

// canWriteNow tells that writeNow can write without waiting here: not
// outside Linux, where SendNow leaves every write to the writer goroutine.
const canWriteNow = false

// rawWriter is writeNow's scratch space: none here.
type rawWriter struct{}

func writeNow(syscall.RawConn, [][]byte, *rawWriter) (int, error) {
	panic("engineio: writeNow is Linux only")
}

// connReader returns what a burst reads c's socket with.
func (c *wsConn) connReader() io.Reader { return c.conn }
