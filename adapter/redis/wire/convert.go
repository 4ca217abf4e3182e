package wire

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// The conversion between the two shapes a Socket.IO payload takes.
//
// In a Roomcast server, event arguments are JSON exactly as a client sent
// them, with every binary value replaced by {"_placeholder":true,"num":N} and
// carried as attachment N (parser.Packet). Between cluster nodes, the Node.js
// adapter sends the JavaScript values themselves as MessagePack (notepack.io):
// a Buffer is a bin value where the placeholder stood, a Date a timestamp
// extension. AppendMsgpack goes one way, ToJSON the other; both are iterative
// over a single buffer and never re-order object keys.

// maxDepth bounds nesting, as parser.MaxDepth does for client packets.
const maxDepth = 1000

// AppendMsgpack appends the MessagePack form of the JSON value data, as
// notepack.io would encode the JavaScript value JSON.parse gives, except that
// every placeholder object {"_placeholder":true,"num":N} with a valid N
// becomes attachments[N] as a bin value. Integers are written in the smallest
// integer form (exactly, when they are written without fraction or exponent),
// other numbers as float64.
func AppendMsgpack(dst []byte, data json.RawMessage, attachments [][]byte) ([]byte, error) {
	c := jsonReader{src: data, atts: attachments}
	dst, err := c.value(dst, 0)
	if err != nil {
		return nil, err
	}
	c.ws()
	if c.i != len(c.src) {
		return nil, ErrMalformed
	}
	return dst, nil
}

// jsonReader converts JSON to MessagePack while scanning it.
type jsonReader struct {
	src  []byte
	i    int
	atts [][]byte
}

func (c *jsonReader) ws() {
	for c.i < len(c.src) {
		switch c.src[c.i] {
		case ' ', '\t', '\n', '\r':
			c.i++
		default:
			return
		}
	}
}

func (c *jsonReader) value(dst []byte, depth int) ([]byte, error) {
	if depth > maxDepth {
		return nil, ErrMalformed
	}
	c.ws()
	if c.i >= len(c.src) {
		return nil, ErrMalformed
	}
	switch ch := c.src[c.i]; {
	case ch == '{':
		return c.object(dst, depth)
	case ch == '[':
		return c.array(dst, depth)
	case ch == '"':
		s, err := c.str()
		if err != nil {
			return nil, err
		}
		return append(appendStrHeader(dst, len(s)), s...), nil
	case ch == 't':
		return appendBool(dst, true), c.literal("true")
	case ch == 'f':
		return appendBool(dst, false), c.literal("false")
	case ch == 'n':
		return appendNil(dst), c.literal("null")
	case ch == '-' || ch >= '0' && ch <= '9':
		lit, err := c.number()
		if err != nil {
			return nil, err
		}
		return appendJSONNumber(dst, lit), nil
	}
	return nil, ErrMalformed
}

func (c *jsonReader) literal(lit string) error {
	if len(c.src)-c.i < len(lit) || string(c.src[c.i:c.i+len(lit)]) != lit {
		return ErrMalformed
	}
	c.i += len(lit)
	return nil
}

// object writes the members, then either puts the map header in front of
// them or, for a placeholder, replaces them with the attachment.
func (c *jsonReader) object(dst []byte, depth int) ([]byte, error) {
	c.i++ // {
	start := len(dst)
	n, placeholder, num := 0, false, -1
	c.ws()
	if c.i < len(c.src) && c.src[c.i] == '}' {
		c.i++
		return appendMapHeader(dst, 0), nil
	}
	for {
		c.ws()
		if c.i >= len(c.src) || c.src[c.i] != '"' {
			return nil, ErrMalformed
		}
		key, err := c.str()
		if err != nil {
			return nil, err
		}
		c.ws()
		if c.i >= len(c.src) || c.src[c.i] != ':' {
			return nil, ErrMalformed
		}
		c.i++
		c.ws()
		valStart := c.i
		dst = append(appendStrHeader(dst, len(key)), key...)
		if dst, err = c.value(dst, depth+1); err != nil {
			return nil, err
		}
		switch string(key) {
		case "_placeholder":
			placeholder = string(c.src[valStart:c.i]) == "true"
		case "num":
			num = -1
			if v, err := strconv.Atoi(string(c.src[valStart:c.i])); err == nil {
				num = v
			}
		}
		n++
		c.ws()
		if c.i >= len(c.src) {
			return nil, ErrMalformed
		}
		if c.src[c.i] == ',' {
			c.i++
			continue
		}
		if c.src[c.i] != '}' {
			return nil, ErrMalformed
		}
		c.i++
		break
	}
	if placeholder && num >= 0 && num < len(c.atts) {
		return appendBin(dst[:start], c.atts[num]), nil
	}
	var h [5]byte
	return slices.Insert(dst, start, appendMapHeader(h[:0], n)...), nil
}

func (c *jsonReader) array(dst []byte, depth int) ([]byte, error) {
	c.i++ // [
	start := len(dst)
	n := 0
	c.ws()
	if c.i < len(c.src) && c.src[c.i] == ']' {
		c.i++
		return appendArrayHeader(dst, 0), nil
	}
	for {
		var err error
		if dst, err = c.value(dst, depth+1); err != nil {
			return nil, err
		}
		n++
		c.ws()
		if c.i >= len(c.src) {
			return nil, ErrMalformed
		}
		if c.src[c.i] == ',' {
			c.i++
			continue
		}
		if c.src[c.i] != ']' {
			return nil, ErrMalformed
		}
		c.i++
		break
	}
	var h [5]byte
	return slices.Insert(dst, start, appendArrayHeader(h[:0], n)...), nil
}

// str reads a JSON string and returns its UTF-8 value; it shares src's
// memory when the string has no escapes.
func (c *jsonReader) str() ([]byte, error) {
	start := c.i
	c.i++ // opening quote
	escaped := false
	for c.i < len(c.src) {
		switch ch := c.src[c.i]; {
		case ch == '"':
			c.i++
			raw := c.src[start:c.i]
			body := raw[1 : len(raw)-1]
			if !escaped && utf8.Valid(body) {
				return body, nil
			}
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return nil, ErrMalformed
			}
			return []byte(s), nil
		case ch == '\\':
			escaped = true
			c.i += 2
		case ch < 0x20:
			return nil, ErrMalformed
		default:
			c.i++
		}
	}
	return nil, ErrMalformed
}

// number scans a JSON number and returns its literal.
func (c *jsonReader) number() ([]byte, error) {
	start := c.i
	if c.src[c.i] == '-' {
		c.i++
	}
	digits := func() int {
		n := 0
		for c.i < len(c.src) && c.src[c.i] >= '0' && c.src[c.i] <= '9' {
			c.i++
			n++
		}
		return n
	}
	intStart := c.i
	if n := digits(); n == 0 || n > 1 && c.src[intStart] == '0' {
		return nil, ErrMalformed // JSON has no leading zeros
	}
	if c.i < len(c.src) && c.src[c.i] == '.' {
		c.i++
		if digits() == 0 {
			return nil, ErrMalformed
		}
	}
	if c.i < len(c.src) && (c.src[c.i] == 'e' || c.src[c.i] == 'E') {
		c.i++
		if c.i < len(c.src) && (c.src[c.i] == '+' || c.src[c.i] == '-') {
			c.i++
		}
		if digits() == 0 {
			return nil, ErrMalformed
		}
	}
	return c.src[start:c.i], nil
}

// appendJSONNumber writes a JSON number literal. An integer literal that
// fits 64 bits is written exactly (a Go peer gets the value it was sent; a
// JavaScript peer rounds it, as it would rounding the JSON); anything else
// is the JavaScript number that JSON.parse would make of it.
func appendJSONNumber(dst []byte, lit []byte) []byte {
	if !slices.ContainsFunc(lit, func(b byte) bool { return b == '.' || b == 'e' || b == 'E' }) {
		if v, err := strconv.ParseInt(string(lit), 10, 64); err == nil {
			return appendInt(dst, v)
		}
		if v, err := strconv.ParseUint(string(lit), 10, 64); err == nil {
			return appendUint(dst, v)
		}
	}
	f, _ := strconv.ParseFloat(string(lit), 64) // a range error still gives ±Inf or 0, like JSON.parse
	return appendNumber(dst, f)
}

// ToJSON converts one MessagePack value (all of b) to JSON with its binary
// values as attachments: the inverse of AppendMsgpack, for what a Node.js
// server publishes. It maps the JavaScript values notepack.io decodes to the
// JSON that JSON.stringify would give a client, except that a bin value
// becomes a placeholder: a Date (timestamp extension, or the legacy ext 0
// forms) becomes its ISO string, undefined becomes null in arrays and drops
// its key in maps, NaN and ±Infinity become null.
func ToJSON(b []byte) (json.RawMessage, [][]byte, error) {
	return toJSON(b, false)
}

// ToJSONBuffers is ToJSON for a JSON-only channel: each bin value becomes
// {"type":"Buffer","data":[...]}, as JSON.stringify writes a Node.js
// Buffer, and there are no attachments.
func ToJSONBuffers(b []byte) (json.RawMessage, error) {
	out, _, err := toJSON(b, true)
	return out, err
}

// JSONWithBuffers rewrites a JSON value with placeholders into the JSON that
// JSON.stringify gives for the same value with Buffers in the placeholders'
// stead: what the Node.js adapter sends in its JSON requests.
func JSONWithBuffers(data json.RawMessage, attachments [][]byte) (json.RawMessage, error) {
	if len(attachments) == 0 {
		return data, nil
	}
	mp, err := AppendMsgpack(nil, data, attachments)
	if err != nil {
		return nil, err
	}
	return ToJSONBuffers(mp)
}

func toJSON(b []byte, buffers bool) (json.RawMessage, [][]byte, error) {
	w := jsonWriter{buffers: buffers}
	r := reader{b: b}
	out, undefined, err := w.value(&r, make([]byte, 0, len(b)+len(b)/4+8), 0)
	if err != nil {
		return nil, nil, err
	}
	if !r.done() {
		return nil, nil, ErrMalformed // notepack refuses trailing bytes too
	}
	if undefined {
		out = append(out[:0], "null"...)
	}
	return out, w.atts, nil
}

// jsonWriter converts MessagePack to JSON.
type jsonWriter struct {
	buffers bool
	atts    [][]byte
}

// value appends one value; undefined reports the JavaScript undefined, for
// which nothing was appended.
func (w *jsonWriter) value(r *reader, dst []byte, depth int) (_ []byte, undefined bool, err error) {
	if depth > maxDepth {
		return nil, false, ErrMalformed
	}
	c, err := r.peek()
	if err != nil {
		return nil, false, err
	}
	switch {
	case c&0xf0 == 0x80 || c == 0xde || c == 0xdf:
		dst, err = w.object(r, dst, depth)
		return dst, false, err
	case c&0xf0 == 0x90 || c == 0xdc || c == 0xdd:
		dst, err = w.array(r, dst, depth)
		return dst, false, err
	}
	raw, err := r.scalar()
	if err != nil {
		return nil, false, err
	}
	return w.scalar(raw, dst)
}

func (w *jsonWriter) object(r *reader, dst []byte, depth int) ([]byte, error) {
	n, err := r.mapLen()
	if err != nil {
		return nil, err
	}
	dst = append(dst, '{')
	first := true
	for range n {
		mark := len(dst)
		if !first {
			dst = append(dst, ',')
		}
		if dst, err = w.key(r, dst, depth); err != nil {
			return nil, err
		}
		dst = append(dst, ':')
		var undefined bool
		if dst, undefined, err = w.value(r, dst, depth+1); err != nil {
			return nil, err
		}
		if undefined { // JSON.stringify drops the key
			dst = dst[:mark]
			continue
		}
		first = false
	}
	return append(dst, '}'), nil
}

// key appends a map key as the string a JavaScript object key becomes.
func (w *jsonWriter) key(r *reader, dst []byte, depth int) ([]byte, error) {
	c, err := r.peek()
	if err != nil {
		return nil, err
	}
	if c&0xe0 == 0xa0 || c == 0xd9 || c == 0xda || c == 0xdb {
		s, err := r.str()
		if err != nil {
			return nil, err
		}
		return appendJSONString(dst, []byte(s)), nil
	}
	start := r.off
	if f, err := r.number(); err == nil {
		return appendJSONString(dst, appendJSNumber(nil, f, true)), nil
	}
	r.off = start
	// Anything else is rare enough to key by its JSON text.
	sub := jsonWriter{buffers: true}
	v, undefined, err := sub.value(r, nil, depth+1)
	if err != nil {
		return nil, err
	}
	if undefined {
		v = []byte("undefined")
	}
	return appendJSONString(dst, v), nil
}

func (w *jsonWriter) array(r *reader, dst []byte, depth int) ([]byte, error) {
	n, err := r.arrayLen()
	if err != nil {
		return nil, err
	}
	dst = append(dst, '[')
	for i := range n {
		if i > 0 {
			dst = append(dst, ',')
		}
		var undefined bool
		if dst, undefined, err = w.value(r, dst, depth+1); err != nil {
			return nil, err
		}
		if undefined {
			dst = append(dst, "null"...)
		}
	}
	return append(dst, ']'), nil
}

// scalar appends a value that is not a container, given its raw bytes.
func (w *jsonWriter) scalar(raw []byte, dst []byte) ([]byte, bool, error) {
	c := raw[0]
	switch {
	case c < 0x80 || c >= 0xe0 || c >= 0xcc && c <= 0xd3:
		return appendInteger(dst, raw), false, nil
	case c&0xe0 == 0xa0 || c == 0xd9 || c == 0xda || c == 0xdb:
		r := reader{b: raw}
		s, err := r.str()
		return appendJSONString(dst, []byte(s)), false, err
	case c == 0xc0:
		return append(dst, "null"...), false, nil
	case c == 0xc2:
		return append(dst, "false"...), false, nil
	case c == 0xc3:
		return append(dst, "true"...), false, nil
	case c == 0xca || c == 0xcb:
		r := reader{b: raw}
		f, err := r.number()
		return appendJSNumber(dst, f, false), false, err
	case c >= 0xc4 && c <= 0xc6:
		return w.bin(dst, raw[1+(1<<(c-0xc4)):]), false, nil
	}
	return w.ext(raw, dst)
}

// appendInteger writes an integer form exactly (a uint64 beyond 2^53 keeps
// its digits, where JavaScript would round it).
func appendInteger(dst []byte, raw []byte) []byte {
	c := raw[0]
	switch {
	case c < 0x80:
		return strconv.AppendUint(dst, uint64(c), 10)
	case c >= 0xe0:
		return strconv.AppendInt(dst, int64(int8(c)), 10)
	}
	var v uint64
	for _, b := range raw[1:] {
		v = v<<8 | uint64(b)
	}
	if c <= 0xcf {
		return strconv.AppendUint(dst, v, 10)
	}
	shift := 64 - 8*(len(raw)-1)
	return strconv.AppendInt(dst, int64(v<<shift)>>shift, 10)
}

// bin appends a binary value: a placeholder and an attachment, or a Buffer's JSON.
func (w *jsonWriter) bin(dst []byte, b []byte) []byte {
	if w.buffers {
		dst = append(dst, `{"type":"Buffer","data":[`...)
		for i, x := range b {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = strconv.AppendUint(dst, uint64(x), 10)
		}
		return append(dst, "]}"...)
	}
	dst = append(dst, `{"_placeholder":true,"num":`...)
	dst = strconv.AppendInt(dst, int64(len(w.atts)), 10)
	w.atts = append(w.atts, b)
	return append(dst, '}')
}

// ext appends an extension value the way notepack.io decodes it.
func (w *jsonWriter) ext(raw []byte, dst []byte) ([]byte, bool, error) {
	var typ int8
	var data []byte
	switch c := raw[0]; {
	case c >= 0xd4 && c <= 0xd8: // fixext: type, then 1, 2, 4, 8 or 16 bytes
		typ, data = int8(raw[1]), raw[2:]
	case c == 0xc7:
		typ, data = int8(raw[2]), raw[3:]
	case c == 0xc8:
		typ, data = int8(raw[3]), raw[4:]
	case c == 0xc9:
		typ, data = int8(raw[5]), raw[6:]
	default:
		return nil, false, ErrMalformed
	}
	fixed := raw[0] >= 0xd4
	switch {
	case typ == 0 && raw[0] == 0xd4: // notepack's legacy undefined
		return dst, true, nil
	case typ == 0 && !fixed: // notepack's legacy ArrayBuffer
		return w.bin(dst, data), false, nil
	case typ == 0 && raw[0] == 0xd7: // notepack's legacy Date: int64 milliseconds
		ms := int64(be64(data))
		return appendDate(dst, float64(ms)), false, nil
	case typ == -1 && len(data) == 4: // timestamp 32
		return appendDate(dst, float64(be64(data))*1e3), false, nil
	case typ == -1 && len(data) == 8: // timestamp 64: 30-bit ns, 34-bit s
		v := be64(data)
		return appendDate(dst, float64(v&(1<<34-1))*1e3+float64(v>>34)/1e6), false, nil
	case typ == -1 && len(data) == 12: // timestamp 96: u32 ns, i64 s
		ns, s := be64(data[:4]), int64(be64(data[4:]))
		return appendDate(dst, float64(s)*1e3+float64(ns)/1e6), false, nil
	}
	// notepack decodes any other extension to [type, Buffer].
	dst = append(dst, '[')
	dst = strconv.AppendInt(dst, int64(typ), 10)
	dst = append(dst, ',')
	return append(w.bin(dst, data), ']'), false, nil
}

func be64(b []byte) uint64 {
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}

// maxDateMs is the largest time a JavaScript Date holds (±8.64e15 ms).
const maxDateMs = 8.64e15

// appendDate writes what Date.prototype.toJSON gives for new Date(ms):
// "YYYY-MM-DDTHH:mm:ss.sssZ" in UTC (years outside 0..9999 as ±YYYYYY),
// or null for an invalid date.
func appendDate(dst []byte, ms float64) []byte {
	ms = math.Trunc(ms) // TimeClip
	if math.IsNaN(ms) || math.Abs(ms) > maxDateMs {
		return append(dst, "null"...)
	}
	t := time.UnixMilli(int64(ms)).UTC()
	dst = append(dst, '"')
	switch y := t.Year(); {
	case y >= 0 && y <= 9999:
		dst = appendPadded(dst, y, 4)
	case y < 0:
		dst = appendPadded(append(dst, '-'), -y, 6)
	default:
		dst = appendPadded(append(dst, '+'), y, 6)
	}
	dst = t.AppendFormat(dst, "-01-02T15:04:05.000")
	return append(dst, 'Z', '"')
}

func appendPadded(dst []byte, v, width int) []byte {
	s := strconv.Itoa(v)
	for i := len(s); i < width; i++ {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}

// appendJSNumber writes a float as JavaScript's Number#toString does (the
// shortest round-trip digits, exponent form below 1e-6 and from 1e21). In
// JSON (asKey false) NaN and ±Infinity are null; as an object key they keep
// their names.
func appendJSNumber(dst []byte, f float64, asKey bool) []byte {
	switch {
	case math.IsNaN(f):
		if asKey {
			return append(dst, "NaN"...)
		}
		return append(dst, "null"...)
	case math.IsInf(f, 0):
		if !asKey {
			return append(dst, "null"...)
		}
		if f < 0 {
			return append(dst, "-Infinity"...)
		}
		return append(dst, "Infinity"...)
	case f == 0:
		return append(dst, '0') // -0 too
	}
	abs := math.Abs(f)
	if abs < 1e-6 || abs >= 1e21 {
		start := len(dst)
		dst = strconv.AppendFloat(dst, f, 'e', -1, 64)
		// Go writes e-07 and e+21; JavaScript e-7 and e+21.
		if e := slices.Index(dst[start:], 'e'); e >= 0 {
			e += start
			if len(dst)-e > 3 && dst[e+2] == '0' {
				dst = append(dst[:e+2], dst[e+3:]...)
			}
		}
		return dst
	}
	return strconv.AppendFloat(dst, f, 'f', -1, 64)
}

// appendJSONString quotes s as JSON.stringify does: only '"', '\\' and
// control characters are escaped; invalid UTF-8 becomes U+FFFD, as Node's
// decoding of the bytes would make it.
func appendJSONString(dst []byte, s []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\b':
				dst = append(dst, '\\', 'b')
			case c == '\f':
				dst = append(dst, '\\', 'f')
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c < 0x20:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, "\uFFFD"...)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}
