package wire

import (
	"encoding/binary"
	"errors"
	"math"
)

// The MessagePack primitives, written the way notepack.io 3 writes them
// (the encoder of @socket.io/redis-adapter and @socket.io/redis-emitter):
// the smallest form of each family, strings always as str, bytes as bin,
// every non-integral number as float64.

// ErrMalformed is returned for MessagePack or JSON input that cannot be decoded.
var ErrMalformed = errors.New("wire: malformed message")

func appendNil(dst []byte) []byte { return append(dst, 0xc0) }

func appendBool(dst []byte, b bool) []byte {
	if b {
		return append(dst, 0xc3)
	}
	return append(dst, 0xc2)
}

func appendStrHeader(dst []byte, n int) []byte {
	switch {
	case n < 0x20:
		return append(dst, 0xa0|byte(n))
	case n < 0x100:
		return append(dst, 0xd9, byte(n))
	case n < 0x10000:
		return append(dst, 0xda, byte(n>>8), byte(n))
	}
	return binary.BigEndian.AppendUint32(append(dst, 0xdb), uint32(n))
}

func appendStr(dst []byte, s string) []byte {
	return append(appendStrHeader(dst, len(s)), s...)
}

func appendBin(dst []byte, b []byte) []byte {
	n := len(b)
	switch {
	case n < 0x100:
		dst = append(dst, 0xc4, byte(n))
	case n < 0x10000:
		dst = append(dst, 0xc5, byte(n>>8), byte(n))
	default:
		dst = binary.BigEndian.AppendUint32(append(dst, 0xc6), uint32(n))
	}
	return append(dst, b...)
}

// containerHeader returns the header of an array (fix 0x90, 16-bit 0xdc) or a
// map (fix 0x80, 16-bit 0xde) of n elements; the 32-bit forms follow the
// 16-bit ones.
func appendContainerHeader(dst []byte, fix, c16 byte, n int) []byte {
	switch {
	case n < 0x10:
		return append(dst, fix|byte(n))
	case n < 0x10000:
		return append(dst, c16, byte(n>>8), byte(n))
	}
	return binary.BigEndian.AppendUint32(append(dst, c16+1), uint32(n))
}

func appendArrayHeader(dst []byte, n int) []byte { return appendContainerHeader(dst, 0x90, 0xdc, n) }
func appendMapHeader(dst []byte, n int) []byte   { return appendContainerHeader(dst, 0x80, 0xde, n) }

func containerHeaderLen(n int) int {
	switch {
	case n < 0x10:
		return 1
	case n < 0x10000:
		return 3
	}
	return 5
}

func appendInt(dst []byte, v int64) []byte {
	if v >= 0 {
		return appendUint(dst, uint64(v))
	}
	switch {
	case v >= -0x20:
		return append(dst, byte(v))
	case v >= -0x80:
		return append(dst, 0xd0, byte(v))
	case v >= -0x8000:
		return append(dst, 0xd1, byte(v>>8), byte(v))
	case v >= -0x80000000:
		return binary.BigEndian.AppendUint32(append(dst, 0xd2), uint32(v))
	}
	return binary.BigEndian.AppendUint64(append(dst, 0xd3), uint64(v))
}

func appendUint(dst []byte, v uint64) []byte {
	switch {
	case v < 0x80:
		return append(dst, byte(v))
	case v < 0x100:
		return append(dst, 0xcc, byte(v))
	case v < 0x10000:
		return append(dst, 0xcd, byte(v>>8), byte(v))
	case v < 0x100000000:
		return binary.BigEndian.AppendUint32(append(dst, 0xce), uint32(v))
	}
	return binary.BigEndian.AppendUint64(append(dst, 0xcf), v)
}

func appendFloat64(dst []byte, f float64) []byte {
	return binary.BigEndian.AppendUint64(append(dst, 0xcb), math.Float64bits(f))
}

// appendNumber writes a JavaScript number as notepack does: integral finite
// values with the smallest integer form, anything else as float64.
func appendNumber(dst []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 0) || math.IsNaN(f) || f != math.Trunc(f):
		return appendFloat64(dst, f)
	case f >= 0 && f < 1<<64:
		return appendUint(dst, uint64(f))
	case f < 0 && f >= -(1<<63):
		return appendInt(dst, int64(f))
	}
	return appendFloat64(dst, f)
}

// reader walks a MessagePack buffer. Every method checks bounds and reports
// ErrMalformed instead of panicking.
type reader struct {
	b   []byte
	off int
}

func (r *reader) done() bool { return r.off >= len(r.b) }

func (r *reader) peek() (byte, error) {
	if r.off >= len(r.b) {
		return 0, ErrMalformed
	}
	return r.b[r.off], nil
}

func (r *reader) next(n int) ([]byte, error) {
	if n < 0 || len(r.b)-r.off < n {
		return nil, ErrMalformed
	}
	s := r.b[r.off : r.off+n : r.off+n]
	r.off += n
	return s, nil
}

func (r *reader) byte() (byte, error) {
	b, err := r.next(1)
	if err != nil {
		return 0, err
	}
	return b[0], nil
}

func (r *reader) uintN(n int) (uint64, error) {
	b, err := r.next(n)
	if err != nil {
		return 0, err
	}
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v, nil
}

// length reads the n-byte length that follows a header byte.
func (r *reader) length(n int) (int, error) {
	v, err := r.uintN(n)
	if err != nil {
		return 0, err
	}
	if v > uint64(len(r.b)) { // cannot be satisfied: refuse before allocating
		return 0, ErrMalformed
	}
	return int(v), nil
}

// containerLen reads an array (wantMap false) or map header.
func (r *reader) containerLen(wantMap bool) (int, error) {
	c, err := r.byte()
	if err != nil {
		return 0, err
	}
	fix, c16 := byte(0x90), byte(0xdc)
	if wantMap {
		fix, c16 = 0x80, 0xde
	}
	switch {
	case c&0xf0 == fix:
		return int(c & 0x0f), nil
	case c == c16:
		return r.length(2)
	case c == c16+1:
		return r.length(4)
	}
	return 0, ErrMalformed
}

func (r *reader) arrayLen() (int, error) { return r.containerLen(false) }
func (r *reader) mapLen() (int, error)   { return r.containerLen(true) }

// str reads a string; as notepack and JSON.parse would, it accepts only the str family.
func (r *reader) str() (string, error) {
	c, err := r.byte()
	if err != nil {
		return "", err
	}
	var n int
	switch {
	case c&0xe0 == 0xa0:
		n = int(c & 0x1f)
	case c == 0xd9:
		n, err = r.length(1)
	case c == 0xda:
		n, err = r.length(2)
	case c == 0xdb:
		n, err = r.length(4)
	default:
		return "", ErrMalformed
	}
	if err != nil {
		return "", err
	}
	b, err := r.next(n)
	return string(b), err
}

// number reads any integer or float form as a float64 (a JavaScript number).
func (r *reader) number() (float64, error) {
	c, err := r.byte()
	if err != nil {
		return 0, err
	}
	switch {
	case c < 0x80:
		return float64(c), nil
	case c >= 0xe0:
		return float64(int8(c)), nil
	}
	switch c {
	case 0xcc, 0xcd, 0xce, 0xcf:
		v, err := r.uintN(1 << (c - 0xcc))
		return float64(v), err
	case 0xd0, 0xd1, 0xd2, 0xd3:
		n := 1 << (c - 0xd0)
		v, err := r.uintN(n)
		shift := 64 - 8*n
		return float64(int64(v<<shift) >> shift), err
	case 0xca:
		v, err := r.uintN(4)
		return float64(math.Float32frombits(uint32(v))), err
	case 0xcb:
		v, err := r.uintN(8)
		return math.Float64frombits(v), err
	}
	return 0, ErrMalformed
}

// skip passes over one value of any type.
func (r *reader) skip() error {
	return r.skipDepth(0)
}

func (r *reader) skipDepth(depth int) error {
	if depth > maxDepth {
		return ErrMalformed
	}
	c, err := r.peek()
	if err != nil {
		return err
	}
	switch {
	case c&0xf0 == 0x80 || c == 0xde || c == 0xdf:
		n, err := r.mapLen()
		if err != nil {
			return err
		}
		for i := 0; i < 2*n; i++ {
			if err := r.skipDepth(depth + 1); err != nil {
				return err
			}
		}
		return nil
	case c&0xf0 == 0x90 || c == 0xdc || c == 0xdd:
		n, err := r.arrayLen()
		if err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			if err := r.skipDepth(depth + 1); err != nil {
				return err
			}
		}
		return nil
	}
	_, err = r.scalar()
	return err
}

// scalar reads a value that is not an array or map and returns its raw
// bytes (header included).
func (r *reader) scalar() ([]byte, error) {
	start := r.off
	c, err := r.byte()
	if err != nil {
		return nil, err
	}
	var n int // payload bytes after the header
	switch {
	case c < 0x80 || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3:
	case c&0xe0 == 0xa0:
		n = int(c & 0x1f)
	case c == 0xc4 || c == 0xd9:
		n, err = r.length(1)
	case c == 0xc5 || c == 0xda:
		n, err = r.length(2)
	case c == 0xc6 || c == 0xdb:
		n, err = r.length(4)
	case c == 0xc7:
		n, err = r.length(1)
		n++ // the ext type
	case c == 0xc8:
		n, err = r.length(2)
		n++
	case c == 0xc9:
		n, err = r.length(4)
		n++
	case c == 0xca:
		n = 4
	case c == 0xcb:
		n = 8
	case c >= 0xcc && c <= 0xcf:
		n = 1 << (c - 0xcc)
	case c >= 0xd0 && c <= 0xd3:
		n = 1 << (c - 0xd0)
	case c >= 0xd4 && c <= 0xd8:
		n = 1 + 1<<(c-0xd4) // type byte, then 1, 2, 4, 8 or 16 bytes
	default: // 0xc1 is never used; containers are not scalars
		return nil, ErrMalformed
	}
	if err != nil {
		return nil, err
	}
	if _, err := r.next(n); err != nil {
		return nil, err
	}
	return r.b[start:r.off], nil
}
