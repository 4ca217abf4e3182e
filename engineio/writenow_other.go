//go:build !linux

package engineio

import "syscall"

// canWriteNow tells that writeNow can write without waiting here: not
// outside Linux, where SendNow leaves every write to the writer goroutine.
const canWriteNow = false

func writeNow(syscall.RawConn, [][]byte, []syscall.Iovec) (int, []syscall.Iovec, error) {
	panic("engineio: writeNow is Linux only")
}
