package engineio

import (
	"encoding/json"
	"errors"
	"net/http"
)

// Reason tells why a session closed. The values are the strings the Node.js
// server uses, so that logs and the Socket.IO layer can pass them on as they are.
type Reason string

// Why a session closes.
const (
	ReasonTransportClose Reason = "transport close"      // the client closed it or went away
	ReasonTransportError Reason = "transport error"      // an I/O or protocol error, or a slow client
	ReasonPingTimeout    Reason = "ping timeout"         // no pong in time
	ReasonForcedClose    Reason = "forced close"         // Session.Close was called
	ReasonParseError     Reason = "parse error"          // the client sent something undecodable
	ReasonServerShutdown Reason = "server shutting down" // Server.Shutdown or Close
)

// Sentinel errors a caller can test with errors.Is.
var (
	// ErrSessionClosed is returned by Send on a session that is closing or closed.
	ErrSessionClosed = errors.New("engineio: session closed")
	// ErrQueueFull is the error a session closes with when its outbound queue
	// exceeds Options.MaxQueueBytes.
	ErrQueueFull = errors.New("engineio: outbound queue over its byte budget")
	// ErrPayloadTooLarge is the error a session closes with when a client sends
	// more than Options.MaxBufferSize in one message or request.
	ErrPayloadTooLarge = errors.New("engineio: payload over MaxBufferSize")
)

// The error codes of the Engine.IO protocol's JSON error bodies.
const (
	codeUnknownTransport   = 0
	codeUnknownSID         = 1
	codeBadHandshakeMethod = 2
	codeBadRequest         = 3
	codeForbidden          = 4
	codeUnsupportedVersion = 5
)

var codeMessages = [...]string{
	codeUnknownTransport:   "Transport unknown",
	codeUnknownSID:         "Session ID unknown",
	codeBadHandshakeMethod: "Bad handshake method",
	codeBadRequest:         "Bad request",
	codeForbidden:          "Forbidden",
	codeUnsupportedVersion: "Unsupported protocol version",
}

// requestError is a refusal of a request, written as the protocol's JSON body.
type requestError struct {
	code       int
	message    string // defaults to the code's standard message
	httpStatus int    // defaults to 400, or 403 for codeForbidden
}

func (e *requestError) Error() string { return "engineio: " + e.text() }

func (e *requestError) text() string {
	if e.message != "" {
		return e.message
	}
	return codeMessages[e.code]
}

func (e *requestError) status() int {
	if e.httpStatus != 0 {
		return e.httpStatus
	}
	if e.code == codeForbidden {
		return http.StatusForbidden
	}
	return http.StatusBadRequest
}

func (e *requestError) write(w http.ResponseWriter) {
	body, _ := json.Marshal(struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}{e.code, e.text()})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.status())
	w.Write(body)
}
