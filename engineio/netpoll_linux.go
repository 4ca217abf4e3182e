//go:build linux

package engineio

import (
	"os"
	"sync"
	"syscall"
	"unsafe"
)

// The idle-connection poller. A WebSocket connection waiting for its
// client's next message costs no goroutine: its socket is registered, one
// shot at a time, with an epoll instance of this package's, and when it
// becomes readable a goroutine is started that reads what has arrived
// (readBurst) and then arms it again. A server with 100,000 quiet
// connections thus holds no reader stacks, and no read buffers either
// (they are pooled between bursts).
//
// One goroutine waits on the epoll instance, for every server of the
// process, and only while some connection is registered: it closes the
// instance and ends when the last one goes, so that nothing outlives the
// connections. It waits in Go's own netpoller, which watches the instance
// as it watches a socket (an epoll instance is readable when events are
// ready in it). Go's netpoller keeps the sockets too (writes that must
// wait, and reads within a message, wait there as usual); a second epoll
// instance watching the same socket is allowed and independent.
//
// Registrations are keyed by an id of their own, not by the descriptor: a
// closed descriptor's number is soon reused by a new connection, and an
// event already taken from the kernel for the old one must not reach the
// new one. Every epoll_ctl on a socket runs inside RawConn.Control, which
// holds the descriptor open for the call.

var netpoll poller

type poller struct {
	mu      sync.Mutex
	epfd    int // the epoll instance while running, -1 when not
	wakefd  int // an eventfd in the instance: written to make the loop look at conns
	running bool
	next    uint64
	conns   map[uint64]*wsConn
}

// wakeID is the registration id of the wake eventfd; connections get others.
const wakeID = 0

const pollEvents = syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT

func setEventID(ev *syscall.EpollEvent, id uint64) {
	ev.Fd, ev.Pad = int32(uint32(id)), int32(uint32(id>>32))
}

func eventID(ev *syscall.EpollEvent) uint64 {
	return uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
}

// watch registers c, which has no reader running, so that a reader starts
// when data arrives. It reports false when c cannot be watched (not a
// socket, or epoll failed): the caller then gives it a reader goroutine of
// its own.
func (p *poller) watch(c *wsConn) bool {
	raw := c.raw
	if raw == nil {
		return false // not a socket
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if c.stopped.Load() {
		// shutdown has run forget already (it sets stopped first, then takes
		// p.mu): a registration made now would never be removed.
		return false
	}
	if !p.running && !p.startLocked() {
		return false
	}
	p.next++
	id := p.next
	var ev syscall.EpollEvent
	ev.Events = pollEvents
	setEventID(&ev, id)
	var ctlErr error
	if err := raw.Control(func(fd uintptr) {
		ctlErr = syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, int(fd), &ev)
	}); err != nil || ctlErr != nil {
		p.wakeIfEmptyLocked()
		return false
	}
	c.pollID = id
	p.conns[id] = c
	return true
}

// startLocked creates the epoll instance and starts the loop.
func (p *poller) startLocked() bool {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return false
	}
	wakefd, _, errno := syscall.Syscall(syscall.SYS_EVENTFD2, 0, syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
	if errno != 0 {
		syscall.Close(epfd)
		return false
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN}
	setEventID(&ev, wakeID)
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, int(wakefd), &ev); err != nil {
		syscall.Close(int(wakefd))
		syscall.Close(epfd)
		return false
	}
	// The loop waits for the instance in Go's own netpoller, not in a
	// blocking epoll_wait: a goroutine blocked in a system call holds a
	// processor, which the runtime's monitor keeps taking back, and while it
	// does so it wakes every 20 µs instead of backing off to 10 ms.
	if err := syscall.SetNonblock(epfd, true); err != nil {
		syscall.Close(int(wakefd))
		syscall.Close(epfd)
		return false
	}
	f := os.NewFile(uintptr(epfd), "roomcast-epoll") // owns epfd from here: f.Close closes it
	rc, err := f.SyscallConn()
	if err != nil {
		syscall.Close(int(wakefd))
		f.Close()
		return false
	}
	if p.conns == nil {
		p.conns = make(map[uint64]*wsConn)
	}
	p.epfd, p.wakefd, p.running = epfd, int(wakefd), true
	go p.loop(f, rc, int(wakefd))
	return true
}

// rearm arms c again after a burst of reads; false if c is no longer
// registered or the socket is gone.
func (p *poller) rearm(c *wsConn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns[c.pollID] != c {
		return false
	}
	var ev syscall.EpollEvent
	ev.Events = pollEvents
	setEventID(&ev, c.pollID)
	var ctlErr error
	err := c.raw.Control(func(fd uintptr) {
		ctlErr = syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_MOD, int(fd), &ev)
	})
	return err == nil && ctlErr == nil
}

// forget unregisters c; it is called before c's socket is closed.
func (p *poller) forget(c *wsConn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c.pollID == 0 || p.conns[c.pollID] != c {
		return
	}
	delete(p.conns, c.pollID)
	c.raw.Control(func(fd uintptr) {
		syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_DEL, int(fd), nil)
	})
	p.wakeIfEmptyLocked()
}

// wakeIfEmptyLocked has the loop end when nothing is registered.
func (p *poller) wakeIfEmptyLocked() {
	if len(p.conns) == 0 && p.running {
		one := [8]byte{1}
		syscall.Write(p.wakefd, one[:])
	}
}

// loop waits for readable connections and starts a burst for each. The
// instance is read without waiting (a zero timeout); the wait is the
// runtime's, through rc.
func (p *poller) loop(f *os.File, rc syscall.RawConn, wakefd int) {
	events := make([]syscall.EpollEvent, 128)
	for {
		var n int
		rc.Read(func(epfd uintptr) bool {
			n = epollNow(int(epfd), events)
			return n != 0
		})
		p.mu.Lock()
		for i := range n {
			id := eventID(&events[i])
			if id == wakeID {
				var b [8]byte
				syscall.Read(wakefd, b[:])
				continue
			}
			if c := p.conns[id]; c != nil {
				c.startBurst()
			}
		}
		if len(p.conns) == 0 {
			p.running = false
			p.epfd, p.wakefd = -1, -1
			f.Close()
			syscall.Close(wakefd)
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
	}
}

// epollNow takes the events ready in the instance without waiting and
// returns how many it put in events. epoll_wait cannot fail on an instance
// of ours but for a signal, when it is called again; were it to fail
// otherwise, it counts as nothing ready, and the loop waits for the next
// readiness rather than spin.
func epollNow(epfd int, events []syscall.EpollEvent) int {
	for {
		// epoll_pwait with no mask is epoll_wait, and exists on every
		// architecture. It returns at once: a raw call, which the runtime
		// does not see (see rawReader for why that matters).
		n, _, errno := syscall.RawSyscall6(syscall.SYS_EPOLL_PWAIT, uintptr(epfd),
			uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
		switch errno {
		case 0:
			return int(n)
		case syscall.EINTR:
			continue
		}
		return 0
	}
}
