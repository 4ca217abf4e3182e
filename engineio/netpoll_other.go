//go:build !linux

package engineio

// Elsewhere than on Linux, every WebSocket connection has a reader
// goroutine of its own.

var netpoll poller

type poller struct{}

func (poller) watch(*wsConn) bool { return false }
func (poller) rearm(*wsConn) bool { return false }
func (poller) forget(*wsConn)     {}
