package main

import (
	"crypto/md5"
	"encoding/binary"
	"strings"

	"zdm/bench/cql"
)

// Result kinds (spec v4 §4.2.5).
const (
	resultVoid        = 1
	resultRows        = 2
	resultSetKeyspace = 3
	resultPrepared    = 4
)

// Metadata flags (spec v4 §4.2.5.2).
const (
	globalTablesSpec = 0x0001
	noMetadata       = 0x0004
)

// Error codes (spec v4 §9).
const (
	errProtocol   = 0x000A
	errUnprepared = 0x2500
)

// Column types as [option] (spec v4 §4.2.5.2).
var (
	tBigint     = []byte{0, 0x02}
	tInt        = []byte{0, 0x09}
	tUUID       = []byte{0, 0x0C}
	tVarchar    = []byte{0, 0x0D}
	tInet       = []byte{0, 0x10}
	tSetVarchar = []byte{0, 0x22, 0, 0x0D}
)

type column struct {
	name string
	typ  []byte
}

type table struct {
	keyspace, name string
	columns        []column
}

var (
	kv = table{cql.Keyspace, cql.Table, []column{{"k", tBigint}, {"v", tVarchar}, {"n", tInt}}}
	// The columns of system.local and system.peers that the Node driver and the proxy read at start.
	local = table{"system", "local", []column{
		{"key", tVarchar}, {"cluster_name", tVarchar}, {"cql_version", tVarchar}, {"data_center", tVarchar},
		{"host_id", tUUID}, {"native_protocol_version", tVarchar}, {"partitioner", tVarchar}, {"rack", tVarchar},
		{"release_version", tVarchar}, {"rpc_address", tInet}, {"schema_version", tUUID}, {"tokens", tSetVarchar},
	}}
	peers = table{"system", "peers", []column{
		{"peer", tInet}, {"data_center", tVarchar}, {"host_id", tUUID}, {"rack", tVarchar},
		{"release_version", tVarchar}, {"rpc_address", tInet}, {"schema_version", tUUID}, {"tokens", tSetVarchar},
	}}
	// Any other SELECT (the driver's schema queries): no columns, no rows.
	nothing = table{"system", "none", nil}
)

// localRow is the one row of system.local: a one-node cluster owning token 0.
func localRow() [][]byte {
	hostID := md5.Sum([]byte("zdm null cluster host"))
	schema := md5.Sum([]byte("zdm null cluster schema"))
	tokens := cql.AppendBytes(cql.AppendInt(nil, 1), []byte("0")) // set<text> {'0'}: [int n] then n [bytes]
	return [][]byte{
		[]byte("local"), []byte("null cluster"), []byte("3.4.7"), []byte("datacenter1"),
		hostID[:], []byte("4"), []byte("org.apache.cassandra.dht.Murmur3Partitioner"), []byte("rack1"),
		[]byte("5.0.9"), {127, 0, 0, 1}, schema[:], tokens,
	}
}

// kvRow is the row every read of the benchmark's table gets back.
func kvRow() [][]byte {
	return [][]byte{binary.BigEndian.AppendUint64(nil, 42), []byte("value-42"), binary.BigEndian.AppendUint32(nil, 42)}
}

// appendMetadata appends a <metadata> (spec v4 §4.2.5.2); emptyFlags is written when there are no columns.
func appendMetadata(b []byte, t table, columns []column, emptyFlags int) []byte {
	if len(columns) == 0 {
		return cql.AppendInt(cql.AppendInt(b, emptyFlags), 0)
	}
	b = cql.AppendInt(b, globalTablesSpec)
	b = cql.AppendInt(b, len(columns))
	b = cql.AppendString(cql.AppendString(b, t.keyspace), t.name)
	return appendColumns(b, columns)
}

func appendColumns(b []byte, columns []column) []byte {
	for _, c := range columns {
		b = append(cql.AppendString(b, c.name), c.typ...)
	}
	return b
}

func rowsResult(t table, rows ...[][]byte) []byte {
	b := appendMetadata(cql.AppendInt(nil, resultRows), t, t.columns, 0)
	b = cql.AppendInt(b, len(rows))
	for _, row := range rows {
		for _, cell := range row {
			b = cql.AppendBytes(b, cell)
		}
	}
	return b
}

// preparedResult is a PREPARED result (spec v4 §4.2.5.4): id, bind variables with the partition
// key's indexes, result metadata.
func preparedResult(id []byte, t table, variables []column, pk []int, result []column) []byte {
	b := cql.AppendShortBytes(cql.AppendInt(nil, resultPrepared), id)
	flags := 0
	if len(variables) > 0 {
		flags = globalTablesSpec
	}
	b = cql.AppendInt(b, flags)
	b = cql.AppendInt(b, len(variables))
	b = cql.AppendInt(b, len(pk))
	for _, i := range pk {
		b = cql.AppendShort(b, i)
	}
	if len(variables) > 0 {
		b = appendColumns(cql.AppendString(cql.AppendString(b, t.keyspace), t.name), variables)
	}
	return appendMetadata(b, t, result, noMetadata)
}

// statement is what a statement text gets, as whole response frames with stream id 0.
type statement struct {
	result   []byte // to QUERY and EXECUTE
	prepared []byte // to PREPARE
	id       []byte
}

// statementFor builds the answers to a statement text: the benchmark's write and read, the
// system tables a driver reads at start, USE, and for anything else an empty result.
func statementFor(text string) *statement {
	sum := md5.Sum([]byte(text)) // Cassandra's ids are an MD5 too (of keyspace and text)
	id := sum[:]
	result, prepared := func() ([]byte, []byte) {
		lower := strings.ToLower(strings.TrimSpace(text))
		switch {
		case text == cql.Insert:
			return cql.AppendInt(nil, resultVoid), preparedResult(id, kv, kv.columns, []int{0}, nil)
		case text == cql.Select:
			return rowsResult(kv, kvRow()), preparedResult(id, kv, kv.columns[:1], []int{0}, kv.columns)
		case strings.HasPrefix(lower, "use "):
			keyspace := strings.Trim(strings.TrimSpace(text[4:]), `"`)
			return cql.AppendString(cql.AppendInt(nil, resultSetKeyspace), keyspace), preparedResult(id, nothing, nil, nil, nil)
		case strings.HasPrefix(lower, "select"):
			t, rows := nothing, [][][]byte(nil)
			if strings.Contains(lower, "system.local") {
				t, rows = local, [][][]byte{localRow()}
			} else if strings.Contains(lower, "system.peers") {
				t = peers
			}
			return rowsResult(t, rows...), preparedResult(id, t, nil, nil, t.columns)
		default:
			return cql.AppendInt(nil, resultVoid), preparedResult(id, nothing, nil, nil, nil)
		}
	}()
	return &statement{result: response(cql.OpResult, result), prepared: response(cql.OpResult, prepared), id: id}
}

func response(opcode byte, body []byte) []byte {
	return cql.Frame(cql.Version|cql.ResponseBit, 0, 0, opcode, body)
}

func errorResponse(code int, message string, extra []byte) []byte {
	return response(cql.OpError, append(cql.AppendString(cql.AppendInt(nil, code), message), extra...))
}

// supported is the SUPPORTED answer to OPTIONS (spec v4 §4.2.4): v4 only, no compression (the
// proxy never compresses toward a cluster).
func supported() []byte {
	b := cql.AppendShort(nil, 3)
	b = cql.AppendStringList(cql.AppendString(b, "CQL_VERSION"), "3.4.7")
	b = cql.AppendStringList(cql.AppendString(b, "COMPRESSION"))
	b = cql.AppendStringList(cql.AppendString(b, "PROTOCOL_VERSIONS"), "4/v4")
	return response(cql.OpSupported, b)
}
