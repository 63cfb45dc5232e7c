// The scripted client session (test/clients/README.md) with gocql v2.
//
// Usage: session HOST PORT KEYSPACE [COMPRESSION [PROTOCOL_VERSION]]. COMPRESSION is none (the
// default), lz4 or snappy; without a version the driver negotiates. Prints one JSON report line last.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"net"
	"os"
	"runtime/debug"
	"sort"
	"strconv"
	"sync"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/apache/cassandra-gocql-driver/v2/lz4"
	"github.com/apache/cassandra-gocql-driver/v2/snappy"
	"gopkg.in/inf.v0"
)

// options are the optional arguments after HOST PORT KEYSPACE.
type options struct {
	compression string
	version     int
}

func parseOptions(args []string) options {
	opts := options{compression: "none"}
	if len(args) > 0 {
		opts.compression = args[0]
	}
	if len(args) > 1 {
		version, err := strconv.Atoi(args[1])
		must(err, "protocol version")
		opts.version = version
	}
	return opts
}

// versions records the protocol version of the RESULT frames the driver reads: what it negotiated
// (frames of a refused handshake attempt at a higher version are not RESULTs).
type versions struct {
	mu   sync.Mutex
	seen map[int]bool
}

func (v *versions) ObserveFrameHeader(_ context.Context, header gocql.ObservedFrameHeader) {
	const result = 0x08 // opcode of RESULT (spec v4 §4.2.5)
	if byte(header.Opcode) != result {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.seen[int(byte(header.Version)&0x7f)] = true
}

func must(err error, what string) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", what, err)
		os.Exit(1)
	}
}

func uuid(text string) gocql.UUID {
	id, err := gocql.ParseUUID(text)
	must(err, "uuid")
	return id
}

// compression is what the driver asks for in STARTUP: its configured compressor, none by default.
func compression(cluster *gocql.ClusterConfig) string {
	if cluster.Compressor == nil {
		return "none"
	}
	return cluster.Compressor.Name()
}

// driverVersion names the gocql module this program was built with.
func driverVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "github.com/apache/cassandra-gocql-driver/v2" {
				return "gocql " + dep.Version
			}
		}
	}
	return "gocql (version unknown)"
}

func newCluster(host string, port int, observer *versions, opts options) *gocql.ClusterConfig {
	cluster := gocql.NewCluster(host)
	cluster.Port = port
	cluster.ProtoVersion = opts.version
	switch opts.compression {
	case "none":
	case "lz4":
		cluster.Compressor = lz4.LZ4Compressor{}
	case "snappy":
		cluster.Compressor = snappy.SnappyCompressor{}
	default:
		must(fmt.Errorf("unknown compression %q", opts.compression), "compression")
	}
	// Only timeouts are raised: schema changes go to both clusters through the proxy on a busy machine.
	cluster.Timeout = 60 * time.Second
	cluster.ConnectTimeout = 30 * time.Second
	cluster.MaxWaitSchemaAgreement = 120 * time.Second
	cluster.FrameHeaderObserver = observer
	return cluster
}

func main() {
	host, keyspace := os.Args[1], os.Args[3]
	port, err := strconv.Atoi(os.Args[2])
	must(err, "port")
	observer := &versions{seen: map[int]bool{}}
	opts := parseOptions(os.Args[4:])

	admin, err := newCluster(host, port, observer, opts).CreateSession()
	must(err, "connect")
	must(admin.Query("DROP KEYSPACE IF EXISTS "+keyspace).Exec(), "drop keyspace")
	must(admin.Query("CREATE KEYSPACE "+keyspace+
		" WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}").Exec(), "create keyspace")
	admin.Close()

	// gocql refuses a USE statement (it would change the keyspace of one pooled connection only); its
	// keyspace setting sends USE on every connection it opens instead.
	cluster := newCluster(host, port, observer, opts)
	cluster.Keyspace = keyspace
	session, err := cluster.CreateSession()
	must(err, "connect to the keyspace")
	defer session.Close()

	for _, ddl := range []string{
		"CREATE TYPE address (street text, number int)",
		"CREATE TABLE kv (k int PRIMARY KEY, v text)",
		"CREATE TABLE lwt (k int PRIMARY KEY, v text)",
		"CREATE TABLE counters (k int PRIMARY KEY, c counter)",
		"CREATE TABLE types (k int PRIMARY KEY, ascii_v ascii, bigint_v bigint, blob_v blob, boolean_v boolean," +
			" date_v date, decimal_v decimal, double_v double, duration_v duration, float_v float, inet_v inet," +
			" int_v int, smallint_v smallint, text_v text, time_v time, timestamp_v timestamp, timeuuid_v timeuuid," +
			" tinyint_v tinyint, uuid_v uuid, varint_v varint, list_v list<int>, set_v set<text>," +
			" map_v map<text, int>, tuple_v tuple<int, text>, udt_v frozen<address>)",
	} {
		must(session.Query(ddl).Exec(), ddl)
	}

	// Simple statements: gocql prepares every statement that has bind markers, so these have none.
	must(session.Query("INSERT INTO kv (k, v) VALUES (0, 'simple')").Exec(), "simple insert")
	must(session.Query("UPDATE kv SET v = 'simple-updated' WHERE k = 0").Exec(), "simple update")

	// Prepared statements.
	for k := 1; k <= 120; k++ {
		must(session.Query("INSERT INTO kv (k, v) VALUES (?, ?)", k, fmt.Sprintf("row-%d", k)).Exec(), "prepared insert")
	}
	must(session.Query("DELETE FROM kv WHERE k = ?", 2).Exec(), "prepared delete")

	batch := session.Batch(gocql.LoggedBatch)
	for k := 121; k <= 123; k++ {
		batch.Query("INSERT INTO kv (k, v) VALUES (?, ?)", k, fmt.Sprintf("batch-%d", k))
	}
	must(batch.Exec(), "batch")

	must(session.Query("INSERT INTO kv (k, v) VALUES (?, ?) USING TTL 86400", 124, "ttl").Exec(), "ttl insert")

	// Paging: each page asked for with the paging state of the previous one.
	pagedRows, pages := 0, 0
	var state []byte
	for {
		iter := session.Query("SELECT k, v FROM kv").PageSize(50).PageState(state).Iter()
		pages++
		var k int
		var v string
		for iter.Scan(&k, &v) {
			pagedRows++
		}
		state = iter.PageState()
		must(iter.Close(), "paged select")
		if len(state) == 0 {
			break
		}
	}

	var existingK int
	var existingV string
	first, err := session.Query("INSERT INTO lwt (k, v) VALUES (1, 'first') IF NOT EXISTS").ScanCAS(&existingK, &existingV)
	must(err, "lwt 1")
	second, err := session.Query("INSERT INTO lwt (k, v) VALUES (1, 'second') IF NOT EXISTS").ScanCAS(&existingK, &existingV)
	must(err, "lwt 2")

	must(session.Query("UPDATE counters SET c = c + 5 WHERE k = 1").Exec(), "counter")
	must(session.Query("UPDATE counters SET c = c + ? WHERE k = ?", int64(2), 1).Exec(), "prepared counter")

	// The tuple is a literal: gocql v2.1.2 counts a tuple marker as one value per element but marshals
	// one value per column, so no argument list satisfies both (the statement fails before it is sent).
	varint, _ := new(big.Int).SetString("123456789012345678901234567890", 10)
	must(session.Query(
		"INSERT INTO types (k, ascii_v, bigint_v, blob_v, boolean_v, date_v, decimal_v, double_v, duration_v,"+
			" float_v, inet_v, int_v, smallint_v, text_v, time_v, timestamp_v, timeuuid_v, tinyint_v, uuid_v, varint_v,"+
			" list_v, set_v, map_v, tuple_v, udt_v) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"+
			" ?, ?, ?, (7, 'seven'), ?)",
		"ascii",
		int64(9007199254740993),
		[]byte{0xca, 0xfe, 0xba, 0xbe},
		true,
		time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC),
		inf.NewDec(123456789, 4),
		3.5,
		gocql.Duration{Months: 1, Days: 2, Nanoseconds: int64(3 * time.Hour)},
		float32(1.25),
		net.ParseIP("127.0.0.1"),
		int32(2147483647),
		int16(-32768),
		"héllo wörld ✓",
		12*time.Hour+34*time.Minute+56*time.Second+789*time.Millisecond,
		time.Date(2024, 2, 29, 12, 34, 56, 789_000_000, time.UTC),
		uuid("50554d6e-29bb-11e5-b345-feff819cdc9f"),
		int8(-128),
		uuid("6f1a1c1e-5d2c-4c5b-9f1a-2b3c4d5e6f70"),
		varint,
		[]int{1, 2, 3},
		[]string{"a", "b"},
		map[string]int{"x": 1, "y": 2},
		map[string]interface{}{"street": "Main", "number": 5},
	).Exec(), "types insert")

	hosts := []string{}
	for _, h := range session.GetHosts() {
		hosts = append(hosts, net.JoinHostPort(h.ConnectAddress().String(), strconv.Itoa(h.Port())))
	}
	sort.Strings(hosts)
	observer.mu.Lock()
	protocol := 0
	for v := range observer.seen {
		if v > protocol {
			protocol = v
		}
	}
	if len(observer.seen) != 1 {
		must(fmt.Errorf("%v", observer.seen), "results of one protocol version expected")
	}
	observer.mu.Unlock()
	report, err := json.Marshal(map[string]interface{}{
		"driver":          driverVersion(),
		"protocolVersion": protocol,
		"compression":     compression(cluster),
		"hosts":           hosts,
		"pagedRows":       pagedRows,
		"pages":           pages,
		"lwtApplied":      []bool{first, second},
	})
	must(err, "report")
	fmt.Println(string(report))
}
