package engineio

import (
	"log/slog"
	"net/http"
	"time"
)

// Transport names an Engine.IO transport, as the "transport" query parameter does.
type Transport string

// The transports of Engine.IO v4.
const (
	Polling   Transport = "polling"
	WebSocket Transport = "websocket"
)

// Options configures a Server. The zero value gives the defaults of the
// official Node.js server; each field documents its own.
type Options struct {
	// Path is where the server answers. Default "/engine.io/". Requests are
	// matched on this prefix, so mount the server on the same path.
	Path string

	// PingInterval is how often the server pings each client. Default 25s.
	PingInterval time.Duration
	// PingTimeout is how long the server waits for the pong after a ping
	// before it closes the session. Default 20s.
	PingTimeout time.Duration
	// UpgradeTimeout bounds the upgrade from polling to WebSocket; an upgrade
	// not completed in time closes the WebSocket, not the session. Default 10s.
	UpgradeTimeout time.Duration

	// MaxBufferSize is the largest message or polling request body, in bytes,
	// that a client may send. Default 1e6. It is announced as maxPayload.
	MaxBufferSize int64

	// MaxQueueBytes is how many bytes may wait in one session's outbound queue.
	// A session over it is closed with a transport error: a slow client is
	// dropped, never waited for. Default 8 MiB (at least 2×MaxBufferSize).
	MaxQueueBytes int

	// MaxSessions bounds the sessions open at once; a handshake over it is
	// refused with HTTP 503. Default 0: no bound.
	MaxSessions int
	// HandshakeRate bounds the handshakes per second from one remote address
	// (a token bucket of HandshakeBurst, default the rate); over it a
	// handshake is refused with HTTP 429. Default 0: no bound. Behind a proxy
	// every client has the proxy's address: leave it off there.
	HandshakeRate  float64
	HandshakeBurst int

	// WriteTimeout bounds one write to a WebSocket. Default 10s.
	WriteTimeout time.Duration

	// PerMessageDeflate accepts the WebSocket permessage-deflate extension
	// (RFC 7692) from clients that offer it, with no context takeover either
	// way: each message is compressed on its own. Default off, as in the
	// Node.js server. Incoming messages inflate to at most MaxBufferSize.
	PerMessageDeflate bool
	// PerMessageDeflateThreshold is the size, in bytes, from which outgoing
	// WebSocket messages are compressed; smaller ones go as they are.
	// Default 1024.
	PerMessageDeflateThreshold int

	// Transports lists the transports clients may use. Default both.
	Transports []Transport
	// DisableUpgrades stops polling sessions from upgrading to WebSocket.
	DisableUpgrades bool

	// CORS, when non-nil, makes the server answer cross-origin requests and
	// OPTIONS preflights. Default nil: no CORS headers are written.
	CORS *CORSOptions

	// AllowRequest, when set, is asked about every handshake (polling or
	// WebSocket); a non-nil error refuses it with HTTP 403 and the error's text.
	AllowRequest func(r *http.Request) error

	// Cookie, when set, is sent with the handshake response with the session id
	// as its value (Name defaults to "io", Path to "/"). Default: no cookie.
	Cookie *http.Cookie

	// Headers, when set, may add headers to every response; handshake tells
	// whether the response opens a session.
	Headers func(h http.Header, r *http.Request, handshake bool)

	// DisableHTTPCompression turns off gzip/deflate of polling responses.
	// Default on for responses of at least HTTPCompressionThreshold bytes.
	DisableHTTPCompression bool
	// HTTPCompressionThreshold is the smallest polling response compressed.
	// Default 1024.
	HTTPCompressionThreshold int

	// Logger receives the server's log lines. Default slog.Default().
	Logger *slog.Logger
}

// CORSOptions are the Cross-Origin Resource Sharing settings.
type CORSOptions struct {
	// Origins lists the allowed origins; "*" allows any. An empty list
	// allows any origin, reflected back (as the cors package does with origin: true).
	Origins []string
	// Credentials allows cookies and credentials in cross-origin requests.
	Credentials bool
	// Methods answered to preflights. Default GET, HEAD, PUT, PATCH, POST, DELETE.
	Methods []string
	// Headers allowed in requests. Default: those the preflight asks for.
	Headers []string
	// MaxAge of a preflight answer. Default: not sent.
	MaxAge time.Duration
}

func (o Options) withDefaults() Options {
	if o.Path == "" {
		o.Path = "/engine.io/"
	}
	if o.Path[len(o.Path)-1] != '/' {
		o.Path += "/"
	}
	if o.PingInterval <= 0 {
		o.PingInterval = 25 * time.Second
	}
	if o.PingTimeout <= 0 {
		o.PingTimeout = 20 * time.Second
	}
	if o.UpgradeTimeout <= 0 {
		o.UpgradeTimeout = 10 * time.Second
	}
	if o.MaxBufferSize <= 0 {
		o.MaxBufferSize = 1e6
	}
	if o.MaxQueueBytes <= 0 {
		o.MaxQueueBytes = 8 << 20
		if min := 2 * int(o.MaxBufferSize); o.MaxQueueBytes < min {
			o.MaxQueueBytes = min
		}
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if len(o.Transports) == 0 {
		o.Transports = []Transport{Polling, WebSocket}
	}
	if o.PerMessageDeflateThreshold <= 0 {
		o.PerMessageDeflateThreshold = 1024
	}
	if o.HTTPCompressionThreshold <= 0 {
		o.HTTPCompressionThreshold = 1024
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

func (o *Options) allows(t Transport) bool {
	for _, x := range o.Transports {
		if x == t {
			return true
		}
	}
	return false
}
