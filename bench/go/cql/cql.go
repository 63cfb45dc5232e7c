// Package cql holds the little of CQL native protocol v4 that the proxy scaling benchmark's null
// cluster and load generator share: frame headers (spec v4 §2), the primitives they write (§3),
// and the benchmark's two statements, so both programs agree on them.
package cql

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
)

// Version is the only protocol version spoken; responses carry Version|ResponseBit.
const (
	Version     = 4
	ResponseBit = 0x80
	HeaderLen   = 9
	// MaxBody bounds a frame body: Cassandra's default native_transport_max_frame_size (16 MiB).
	MaxBody = 16 << 20
)

// Opcodes (spec v4 §2.4).
const (
	OpError     = 0x00
	OpStartup   = 0x01
	OpReady     = 0x02
	OpOptions   = 0x05
	OpSupported = 0x06
	OpQuery     = 0x07
	OpResult    = 0x08
	OpPrepare   = 0x09
	OpExecute   = 0x0A
	OpRegister  = 0x0B
	OpBatch     = 0x0D
)

// FlagCompression marks a compressed body (spec v4 §2.2).
const FlagCompression = 0x01

// The benchmark's table and statements (the same as bench/proxy-bench.ts).
const (
	Keyspace = "zdm_proxy_bench"
	Table    = "kv"
	Insert   = "INSERT INTO zdm_proxy_bench.kv (k, v, n) VALUES (?, ?, ?)"
	Select   = "SELECT k, v, n FROM zdm_proxy_bench.kv WHERE k = ?"
)

// Header is a v3/v4 frame header (spec v4 §2).
type Header struct {
	Version byte
	Flags   byte
	Stream  int16
	Opcode  byte
	Length  int
}

// ReadFrame reads one frame; the body lands in buf (grown when too small) and is valid until the next call.
func ReadFrame(r *bufio.Reader, buf []byte) (Header, []byte, error) {
	var head [HeaderLen]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return Header{}, buf, err
	}
	h := Header{
		Version: head[0],
		Flags:   head[1],
		Stream:  int16(binary.BigEndian.Uint16(head[2:])),
		Opcode:  head[4],
		Length:  int(int32(binary.BigEndian.Uint32(head[5:]))),
	}
	if h.Length < 0 || h.Length > MaxBody {
		return h, buf, fmt.Errorf("frame body length %d out of range", h.Length)
	}
	if cap(buf) < h.Length {
		buf = make([]byte, h.Length)
	}
	body := buf[:h.Length]
	_, err := io.ReadFull(r, body)
	return h, body, err
}

// HasFrame says whether r holds a whole frame already: when it does not, the caller flushes its
// answers before it blocks reading (answers go out in batches, never held back).
func HasFrame(r *bufio.Reader) bool {
	if r.Buffered() < HeaderLen {
		return false
	}
	head, _ := r.Peek(HeaderLen)
	return r.Buffered() >= HeaderLen+int(binary.BigEndian.Uint32(head[5:]))
}

// AppendHeader appends a header for a body of h.Length bytes.
func AppendHeader(b []byte, h Header) []byte {
	b = append(b, h.Version, h.Flags)
	b = binary.BigEndian.AppendUint16(b, uint16(h.Stream))
	b = append(b, h.Opcode)
	return binary.BigEndian.AppendUint32(b, uint32(h.Length))
}

// Frame is a whole frame: header and body.
func Frame(version, flags byte, stream int16, opcode byte, body []byte) []byte {
	b := make([]byte, 0, HeaderLen+len(body))
	b = AppendHeader(b, Header{Version: version, Flags: flags, Stream: stream, Opcode: opcode, Length: len(body)})
	return append(b, body...)
}

// Primitives (spec v4 §3).

func AppendShort(b []byte, v int) []byte { return binary.BigEndian.AppendUint16(b, uint16(v)) }
func AppendInt(b []byte, v int) []byte   { return binary.BigEndian.AppendUint32(b, uint32(int32(v))) }

func AppendString(b []byte, s string) []byte { return append(AppendShort(b, len(s)), s...) }

func AppendLongString(b []byte, s string) []byte { return append(AppendInt(b, len(s)), s...) }

// AppendBytes appends [bytes]; nil is the null value (length -1).
func AppendBytes(b []byte, v []byte) []byte {
	if v == nil {
		return AppendInt(b, -1)
	}
	return append(AppendInt(b, len(v)), v...)
}

func AppendShortBytes(b []byte, v []byte) []byte { return append(AppendShort(b, len(v)), v...) }

// AppendStringList appends a [string list].
func AppendStringList(b []byte, list ...string) []byte {
	b = AppendShort(b, len(list))
	for _, s := range list {
		b = AppendString(b, s)
	}
	return b
}

// ReadLongString reads the [long string] at the start of b.
func ReadLongString(b []byte) (string, bool) {
	if len(b) < 4 {
		return "", false
	}
	n := int(int32(binary.BigEndian.Uint32(b)))
	if n < 0 || len(b) < 4+n {
		return "", false
	}
	return string(b[4 : 4+n]), true
}

// ReadShortBytes reads the [short bytes] at the start of b.
func ReadShortBytes(b []byte) ([]byte, bool) {
	if len(b) < 2 {
		return nil, false
	}
	n := int(binary.BigEndian.Uint16(b))
	if len(b) < 2+n {
		return nil, false
	}
	return b[2 : 2+n], true
}
