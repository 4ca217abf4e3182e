// Package gostack gives a new goroutine its working stack at once.
//
// A goroutine starts with a small stack that the runtime doubles each time
// a call needs more, copying the stack and fixing up every frame on it. A
// goroutine started for one short task (a burst of reads, a handler, a
// write) that goes as deep as decoding and encoding JSON grows several
// times, deep in its call chain where each copy walks many frames: on the
// echo benchmark that was a tenth of the server's CPU. Growing once at the
// start, while the stack holds one frame, costs a single cheap copy.
package gostack

// Size is the stack that Grow makes room for: enough for reading, decoding,
// dispatching to a handler and encoding a reply without growing again.
const Size = 8 << 10

// Grow makes the calling goroutine's stack hold about Size bytes more than
// it uses now. Call it first thing in a goroutine that will go deep.
func Grow() { grow(0) }

// grow's frame is Size bytes: entering it makes the runtime grow the stack
// once to fit. The index keeps the array from being optimised away.
//
//go:noinline
func grow(i int) byte {
	var pad [Size]byte
	pad[i] = 1
	return pad[Size-1-i]
}
