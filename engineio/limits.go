package engineio

import (
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// limiter enforces Options.MaxSessions and Options.HandshakeRate: what one
// client or a flood of them may take of the server, refused with an HTTP
// status before any session state is made.
type limiter struct {
	opts *Options

	mu      sync.Mutex
	buckets map[string]*bucket // by remote IP

	lastLog atomic.Int64 // unix nanoseconds of the last refusal logged
}

// bucket is a token bucket of handshakes for one address.
type bucket struct {
	tokens float64
	last   time.Time
}

// bucketIdle is how long an address's bucket is kept after its last handshake.
const bucketIdle = time.Minute

// allow decides about a handshake from r given the current session count.
// It returns 0, or the HTTP status of the refusal.
func (l *limiter) allow(r *http.Request, sessions int) int {
	if max := l.opts.MaxSessions; max > 0 && sessions >= max {
		l.log("engineio: refusing a session: MaxSessions reached", "max", max)
		return http.StatusServiceUnavailable
	}
	rate := l.opts.HandshakeRate
	if rate <= 0 {
		return 0
	}
	ip := r.RemoteAddr
	if host, _, err := net.SplitHostPort(ip); err == nil {
		ip = host
	}
	burst := float64(l.opts.HandshakeBurst)
	if burst < 1 {
		burst = rate
	}
	now := time.Now()
	l.mu.Lock()
	if l.buckets == nil {
		l.buckets = make(map[string]*bucket)
	}
	b := l.buckets[ip]
	if b == nil {
		if len(l.buckets) >= 10000 {
			l.sweepLocked(now)
		}
		b = &bucket{tokens: burst, last: now}
		l.buckets[ip] = b
	}
	b.tokens = min(burst, b.tokens+now.Sub(b.last).Seconds()*rate)
	b.last = now
	ok := b.tokens >= 1
	if ok {
		b.tokens--
	}
	l.mu.Unlock()
	if !ok {
		l.log("engineio: refusing a handshake: HandshakeRate exceeded", "addr", ip, "rate", rate)
		return http.StatusTooManyRequests
	}
	return 0
}

// sweepLocked forgets the buckets of addresses that have been quiet.
func (l *limiter) sweepLocked(now time.Time) {
	for ip, b := range l.buckets {
		if now.Sub(b.last) > bucketIdle {
			delete(l.buckets, ip)
		}
	}
}

// log writes at most one refusal line a second: a flood must not become a
// flood of log lines too.
func (l *limiter) log(msg string, args ...any) {
	now := time.Now().UnixNano()
	last := l.lastLog.Load()
	if now-last < int64(time.Second) || !l.lastLog.CompareAndSwap(last, now) {
		return
	}
	l.opts.Logger.Warn(msg, args...)
}
