package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
)

// wsConn is a minimal client side of RFC 6455, just what a load generator
// needs: one reader goroutine that sees each message in place in its bufio
// buffer (no copy, no allocation for messages that fit), and writers that
// frame and mask several messages into one buffer and one write(2).
type wsConn struct {
	nc  net.Conn
	br  *bufio.Reader
	key [4]byte // masking key, fixed per connection

	discard int    // bytes of the last message still to drop from br
	frag    []byte // reassembly of fragmented or oversized messages

	wmu  sync.Mutex
	wbuf []byte
}

const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// errClosed is returned once the peer sent a close frame or an Engine.IO close.
var errClosed = errors.New("connection closed")

// dialWS opens a WebSocket to host ("127.0.0.1:3000") at target (a path with
// its query) and performs the upgrade handshake.
func dialWS(ctx context.Context, d *net.Dialer, host, target string, bufSize int) (*wsConn, error) {
	nc, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		nc.SetDeadline(dl)
	}
	c := &wsConn{nc: nc, br: bufio.NewReaderSize(nc, bufSize)}
	if err := c.handshake(host, target); err != nil {
		nc.Close()
		return nil, err
	}
	nc.SetDeadline(noDeadline)
	return c, nil
}

func (c *wsConn) handshake(host, target string) error {
	var nonce [16]byte
	rand.Read(nonce[:])
	rand.Read(c.key[:])
	key := base64.StdEncoding.EncodeToString(nonce[:])
	req := "GET " + target + " HTTP/1.1\r\nHost: " + host +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
		"\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := io.WriteString(c.nc, req); err != nil {
		return err
	}
	status, err := c.br.ReadSlice('\n')
	if err != nil {
		return fmt.Errorf("websocket handshake: %w", err)
	}
	if !bytes.HasPrefix(status, []byte("HTTP/1.1 101")) {
		return fmt.Errorf("websocket handshake: %s", bytes.TrimSpace(status))
	}
	sum := sha1.Sum([]byte(key + wsGUID))
	want := base64.StdEncoding.EncodeToString(sum[:])
	accepted := false
	for {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			return fmt.Errorf("websocket handshake: %w", err)
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if ok && strings.EqualFold(string(name), "Sec-WebSocket-Accept") &&
			string(bytes.TrimSpace(value)) == want {
			accepted = true
		}
	}
	if !accepted {
		return errors.New("websocket handshake: bad Sec-WebSocket-Accept")
	}
	return nil
}

// WebSocket opcodes.
const (
	opCont   = 0x0
	opText   = 0x1
	opBinary = 0x2
	opClose  = 0x8
	opPing   = 0x9
	opPong   = 0xA
)

// read returns the next data message. Its bytes stay valid until the next
// call; only the reader goroutine may call it. Pings are answered here.
func (c *wsConn) read() (msg []byte, bin bool, err error) {
	if c.discard > 0 {
		c.br.Discard(c.discard)
		c.discard = 0
	}
	c.frag = c.frag[:0]
	fragmented := false
	var msgOp byte
	for {
		h, err := c.br.Peek(2)
		if err != nil {
			return nil, false, err
		}
		fin, op, masked := h[0]&0x80 != 0, h[0]&0x0f, h[1]&0x80 != 0
		n, hlen := uint64(h[1]&0x7f), 2
		switch n {
		case 126:
			if h, err = c.br.Peek(4); err != nil {
				return nil, false, err
			}
			n, hlen = uint64(binary.BigEndian.Uint16(h[2:])), 4
		case 127:
			if h, err = c.br.Peek(10); err != nil {
				return nil, false, err
			}
			n, hlen = binary.BigEndian.Uint64(h[2:]), 10
		}
		var mask [4]byte
		if masked { // servers must not mask, but tolerate it
			if h, err = c.br.Peek(hlen + 4); err != nil {
				return nil, false, err
			}
			copy(mask[:], h[hlen:])
			hlen += 4
		}
		c.br.Discard(hlen)
		if n > 1<<30 {
			return nil, false, fmt.Errorf("websocket: frame of %d bytes", n)
		}
		// A whole message that fits the buffer is returned in place.
		if op != opCont && fin && !fragmented && int(n) <= c.br.Size() && op < opClose {
			b, err := c.br.Peek(int(n))
			if err != nil {
				return nil, false, err
			}
			if masked {
				maskBytes(b, mask)
			}
			c.discard = int(n)
			return b, op == opBinary, nil
		}
		start := len(c.frag)
		c.frag = append(c.frag, make([]byte, n)...)
		if _, err := io.ReadFull(c.br, c.frag[start:]); err != nil {
			return nil, false, err
		}
		payload := c.frag[start:]
		if masked {
			maskBytes(payload, mask)
		}
		switch op {
		case opClose:
			return nil, false, errClosed
		case opPing:
			body := append([]byte(nil), payload...)
			c.frag = c.frag[:start]
			if err := c.writeFrame(opPong, body); err != nil {
				return nil, false, err
			}
			continue
		case opPong:
			c.frag = c.frag[:start]
			continue
		case opCont:
		default:
			msgOp, fragmented = op, true
		}
		if fin {
			return c.frag, msgOp == opBinary, nil
		}
	}
}

func maskBytes(b []byte, key [4]byte) {
	for i := range b {
		b[i] ^= key[i&3]
	}
}

// writeText sends each element of msgs as one text message, all in one write.
// Safe for concurrent use.
func (c *wsConn) writeText(msgs ...[]byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.wbuf = c.wbuf[:0]
	for _, m := range msgs {
		c.wbuf = c.appendFrame(c.wbuf, opText, m)
	}
	_, err := c.nc.Write(c.wbuf)
	return err
}

func (c *wsConn) writeFrame(op byte, payload []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.wbuf = c.appendFrame(c.wbuf[:0], op, payload)
	_, err := c.nc.Write(c.wbuf)
	return err
}

// appendFrame appends one final, masked client frame.
func (c *wsConn) appendFrame(dst []byte, op byte, payload []byte) []byte {
	dst = append(dst, 0x80|op)
	switch n := len(payload); {
	case n < 126:
		dst = append(dst, 0x80|byte(n))
	case n <= 0xffff:
		dst = append(dst, 0x80|126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	default:
		dst = append(dst, 0x80|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	dst = append(dst, c.key[:]...)
	start := len(dst)
	dst = append(dst, payload...)
	maskBytes(dst[start:], c.key)
	return dst
}

// close sends a close frame and closes the socket.
func (c *wsConn) close() error {
	c.writeFrame(opClose, []byte{0x03, 0xe8}) // 1000: normal closure
	return c.nc.Close()
}
