package roomcast

import (
	"encoding/json"
	"errors"
)

// Reason tells why a socket disconnected. The values are the strings of the
// Node.js server, so that logs and cluster peers agree.
type Reason string

// Disconnect reasons, as the Node.js server names them.
const (
	ReasonServerNamespaceDisconnect Reason = "server namespace disconnect" // Socket.Disconnect(false)
	ReasonClientNamespaceDisconnect Reason = "client namespace disconnect" // the client left the namespace
	ReasonServerShutdown            Reason = "server shutting down"        // Server.Shutdown
	ReasonPingTimeout               Reason = "ping timeout"                // no pong in time
	ReasonTransportClose            Reason = "transport close"             // the connection was closed or lost
	ReasonTransportError            Reason = "transport error"             // an I/O error, or a client too slow to read
	ReasonParseError                Reason = "parse error"                 // the client sent an undecodable Engine.IO packet
	ReasonForcedClose               Reason = "forced close"                // the connection was closed by the server
	ReasonForcedServerClose         Reason = "forced server close"         // the client was closed with Disconnect(true)
)

// Errors a caller can test with errors.Is.
var (
	// ErrReservedEvent is returned when emitting an event name that the
	// protocol reserves (connect, connect_error, disconnect, disconnecting,
	// newListener, removeListener).
	ErrReservedEvent = errors.New("roomcast: reserved event name")
	// ErrDisconnected is returned when the socket is, or gets, disconnected.
	ErrDisconnected = errors.New("roomcast: socket disconnected")
	// ErrTimeout is returned when acknowledgements did not all arrive in
	// time. Its text is the Node.js server's.
	ErrTimeout = errors.New("operation has timed out")
	// ErrNoAck is returned by Event.Ack when the client asked for no acknowledgement.
	ErrNoAck = errors.New("roomcast: the event has no acknowledgement")
	// ErrAlreadyAcked is returned by Event.Ack after the first call.
	ErrAlreadyAcked = errors.New("roomcast: the event was already acknowledged")
	// ErrMissingArgument is returned by Bind when the event has fewer
	// arguments than destinations.
	ErrMissingArgument = errors.New("roomcast: missing argument")
)

// ConnectError refuses a connection to a namespace: a middleware returns it,
// and the client receives it as a connect_error with Message and Data. Any
// other error a middleware returns is sent with its text as the message.
type ConnectError struct {
	Message string
	Data    any // sent as the error's data when non-nil; it must marshal to JSON
}

func (e *ConnectError) Error() string { return e.Message }

// payload is the CONNECT_ERROR packet's data.
func (e *ConnectError) payload() json.RawMessage {
	v := struct {
		Message string `json:"message"`
		Data    any    `json:"data,omitempty"`
	}{e.Message, e.Data}
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(struct {
			Message string `json:"message"`
		}{e.Message})
	}
	return b
}

func connectErrorOf(err error) *ConnectError {
	var ce *ConnectError
	if errors.As(err, &ce) {
		return ce
	}
	return &ConnectError{Message: err.Error()}
}
