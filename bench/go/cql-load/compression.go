package main

import (
	"encoding/binary"
	"fmt"

	"github.com/golang/snappy"
	"github.com/pierrec/lz4/v4"
)

// bodyCodec compresses frame bodies as agreed in STARTUP (spec v4 §5).
type bodyCodec interface {
	name() string
	compress(dst, src []byte) []byte
	decompress(dst, src []byte) ([]byte, error)
}

func codecNamed(name string) (bodyCodec, error) {
	switch name {
	case "none":
		return nil, nil
	case "lz4":
		return &lz4Codec{}, nil
	case "snappy":
		return snappyCodec{}, nil
	}
	return nil, fmt.Errorf("unknown compression %q: use none, lz4 or snappy", name)
}

// lz4Codec: a 4-byte big-endian decompressed length, then one LZ4 block (Cassandra's v4 LZ4 body).
type lz4Codec struct{ c lz4.Compressor }

func (*lz4Codec) name() string { return "lz4" }

func (l *lz4Codec) compress(dst, src []byte) []byte {
	need := 4 + lz4.CompressBlockBound(len(src))
	if cap(dst) < need {
		dst = make([]byte, need)
	}
	dst = dst[:need]
	binary.BigEndian.PutUint32(dst, uint32(len(src)))
	// With room for CompressBlockBound bytes it always succeeds (lz4.Compressor.CompressBlock).
	n, _ := l.c.CompressBlock(src, dst[4:])
	return dst[:4+n]
}

func (*lz4Codec) decompress(dst, src []byte) ([]byte, error) {
	if len(src) < 4 {
		return nil, fmt.Errorf("lz4 body of %d bytes has no length", len(src))
	}
	n := int(binary.BigEndian.Uint32(src))
	if cap(dst) < n {
		dst = make([]byte, n)
	}
	got, err := lz4.UncompressBlock(src[4:], dst[:n])
	if err == nil && got != n {
		err = fmt.Errorf("lz4 body decompressed to %d bytes, announced %d", got, n)
	}
	return dst[:got], err
}

// snappyCodec: one raw Snappy block (Cassandra's v4 Snappy body).
type snappyCodec struct{}

func (snappyCodec) name() string { return "snappy" }

func (snappyCodec) compress(dst, src []byte) []byte {
	return snappy.Encode(dst[:cap(dst)], src)
}

func (snappyCodec) decompress(dst, src []byte) ([]byte, error) {
	return snappy.Decode(dst[:cap(dst)], src)
}
