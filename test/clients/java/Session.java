import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import com.datastax.oss.driver.api.core.config.ProgrammaticDriverConfigLoaderBuilder;
import com.datastax.oss.driver.api.core.cql.BatchStatement;
import com.datastax.oss.driver.api.core.cql.BatchType;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.ResultSet;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import com.datastax.oss.driver.api.core.data.CqlDuration;
import com.datastax.oss.driver.api.core.metadata.Node;
import com.datastax.oss.driver.api.core.type.TupleType;
import com.datastax.oss.driver.api.core.type.UserDefinedType;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;

/**
 * The scripted client session (test/clients/README.md) with the Java driver 4.x.
 *
 * <p>Usage: java Session HOST PORT KEYSPACE. Prints one JSON report line last.
 */
public final class Session {
  private static final long START = System.nanoTime();

  /** Progress on stderr, so a slow or stuck session shows where it is. */
  private static void step(String what) {
    System.err.printf("%.1f s: %s%n", (System.nanoTime() - START) / 1e9, what);
  }

  public static void main(String[] args) throws Exception {
    String host = args[0];
    int port = Integer.parseInt(args[1]);
    String keyspace = args[2];
    // An optional fourth argument names the compression to ask for in STARTUP (e.g. lz4).
    String compressionAsked = args.length > 3 ? args[3] : "none";
    // An optional fifth argument pins the protocol version (e.g. V4); the driver negotiates otherwise.
    String versionPinned = args.length > 4 ? args[4] : null;
    // Only timeouts are raised: schema changes go to both clusters through the proxy on a busy machine.
    ProgrammaticDriverConfigLoaderBuilder builder = DriverConfigLoader.programmaticBuilder();
    if (versionPinned != null) {
      builder = builder.withString(DefaultDriverOption.PROTOCOL_VERSION, versionPinned);
    }
    DriverConfigLoader config =
        builder
            .withDuration(DefaultDriverOption.REQUEST_TIMEOUT, Duration.ofSeconds(60))
            .withDuration(DefaultDriverOption.CONNECTION_INIT_QUERY_TIMEOUT, Duration.ofSeconds(30))
            .withDuration(DefaultDriverOption.CONTROL_CONNECTION_AGREEMENT_TIMEOUT, Duration.ofSeconds(60))
            .withDuration(DefaultDriverOption.METADATA_SCHEMA_REQUEST_TIMEOUT, Duration.ofSeconds(60))
            .withString(DefaultDriverOption.PROTOCOL_COMPRESSION, compressionAsked)
            .build();
    try (CqlSession session =
        CqlSession.builder()
            .addContactPoint(new InetSocketAddress(host, port))
            .withLocalDatacenter("datacenter1")
            .withConfigLoader(config)
            .build()) {
      step("connected");
      session.execute("DROP KEYSPACE IF EXISTS " + keyspace);
      session.execute(
          "CREATE KEYSPACE "
              + keyspace
              + " WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
      session.execute("USE " + keyspace);
      session.execute("CREATE TYPE address (street text, number int)");
      session.execute("CREATE TABLE kv (k int PRIMARY KEY, v text)");
      session.execute("CREATE TABLE lwt (k int PRIMARY KEY, v text)");
      session.execute("CREATE TABLE counters (k int PRIMARY KEY, c counter)");
      session.execute(
          "CREATE TABLE types (k int PRIMARY KEY, ascii_v ascii, bigint_v bigint, blob_v blob,"
              + " boolean_v boolean, date_v date, decimal_v decimal, double_v double, duration_v duration,"
              + " float_v float, inet_v inet, int_v int, smallint_v smallint, text_v text, time_v time,"
              + " timestamp_v timestamp, timeuuid_v timeuuid, tinyint_v tinyint, uuid_v uuid, varint_v varint,"
              + " list_v list<int>, set_v set<text>, map_v map<text, int>, tuple_v tuple<int, text>,"
              + " udt_v frozen<address>)");

      step("schema created");

      // Simple statements.
      session.execute("INSERT INTO kv (k, v) VALUES (0, 'simple')");
      session.execute("UPDATE kv SET v = 'simple-updated' WHERE k = 0");

      // Prepared statements.
      PreparedStatement insert = session.prepare("INSERT INTO kv (k, v) VALUES (?, ?)");
      for (int k = 1; k <= 120; k++) session.execute(insert.bind(k, "row-" + k));
      session.execute(session.prepare("DELETE FROM kv WHERE k = ?").bind(2));

      // A logged batch of prepared statements.
      BatchStatement batch = BatchStatement.newInstance(BatchType.LOGGED);
      for (int k = 121; k <= 123; k++) batch = batch.add(insert.bind(k, "batch-" + k));
      session.execute(batch);

      session.execute(
          session.prepare("INSERT INTO kv (k, v) VALUES (?, ?) USING TTL 86400").bind(124, "ttl"));

      step("rows written");

      // Paging: each page asked for with the paging state of the previous one.
      SimpleStatement select = SimpleStatement.newInstance("SELECT k, v FROM kv").setPageSize(50);
      int pagedRows = 0;
      int pages = 0;
      ResultSet page = session.execute(select);
      while (true) {
        pages++;
        for (int left = page.getAvailableWithoutFetching(); left > 0; left--) {
          page.one();
          pagedRows++;
        }
        ByteBuffer pagingState = page.getExecutionInfo().getPagingState();
        if (pagingState == null) break;
        page = session.execute(select.setPagingState(pagingState));
      }

      boolean first = session.execute("INSERT INTO lwt (k, v) VALUES (1, 'first') IF NOT EXISTS").wasApplied();
      boolean second = session.execute("INSERT INTO lwt (k, v) VALUES (1, 'second') IF NOT EXISTS").wasApplied();

      session.execute("UPDATE counters SET c = c + 5 WHERE k = 1");
      session.execute(session.prepare("UPDATE counters SET c = c + ? WHERE k = ?").bind(2L, 1));

      PreparedStatement types =
          session.prepare(
              "INSERT INTO types (k, ascii_v, bigint_v, blob_v, boolean_v, date_v, decimal_v, double_v,"
                  + " duration_v, float_v, inet_v, int_v, smallint_v, text_v, time_v, timestamp_v, timeuuid_v,"
                  + " tinyint_v, uuid_v, varint_v, list_v, set_v, map_v, tuple_v, udt_v) VALUES (1, ?, ?, ?,"
                  + " ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
      TupleType tupleType = (TupleType) types.getVariableDefinitions().get("tuple_v").getType();
      UserDefinedType addressType = (UserDefinedType) types.getVariableDefinitions().get("udt_v").getType();
      session.execute(
          types.bind(
              "ascii",
              9007199254740993L,
              ByteBuffer.wrap(new byte[] {(byte) 0xca, (byte) 0xfe, (byte) 0xba, (byte) 0xbe}),
              true,
              LocalDate.of(2024, 2, 29),
              new BigDecimal("12345.6789"),
              3.5d,
              CqlDuration.newInstance(1, 2, 3L * 3600 * 1_000_000_000L),
              1.25f,
              InetAddress.getByName("127.0.0.1"),
              2147483647,
              (short) -32768,
              "héllo wörld ✓",
              LocalTime.of(12, 34, 56, 789_000_000),
              Instant.parse("2024-02-29T12:34:56.789Z"),
              UUID.fromString("50554d6e-29bb-11e5-b345-feff819cdc9f"),
              (byte) -128,
              UUID.fromString("6f1a1c1e-5d2c-4c5b-9f1a-2b3c4d5e6f70"),
              new BigInteger("123456789012345678901234567890"),
              List.of(1, 2, 3),
              new TreeSet<>(List.of("a", "b")),
              new TreeMap<>(Map.of("x", 1, "y", 2)),
              tupleType.newValue(7, "seven"),
              addressType.newValue().setString("street", "Main").setInt("number", 5)));

      step("session done");

      // What the driver negotiated: its context's protocol version, and the compression it asks for in
      // STARTUP (its configuration; the Java driver does not consult SUPPORTED first).
      List<String> hosts = new ArrayList<>();
      for (Node node : session.getMetadata().getNodes().values()) {
        InetSocketAddress address = (InetSocketAddress) node.getEndPoint().resolve();
        hosts.add(address.getAddress().getHostAddress() + ":" + address.getPort());
      }
      String compression =
          session
              .getContext()
              .getConfig()
              .getDefaultProfile()
              .getString(DefaultDriverOption.PROTOCOL_COMPRESSION, "none");
      System.out.println(
          "{\"driver\": \"java-driver-core "
              + CqlSession.OSS_DRIVER_COORDINATES.getVersion()
              + "\", \"protocolVersion\": "
              + session.getContext().getProtocolVersion().getCode()
              + ", \"compression\": \""
              + compression
              + "\", \"hosts\": "
              + jsonStrings(hosts)
              + ", \"pagedRows\": "
              + pagedRows
              + ", \"pages\": "
              + pages
              + ", \"lwtApplied\": ["
              + first
              + ", "
              + second
              + "]}");
    }
  }

  private static String jsonStrings(List<String> values) {
    List<String> quoted = new ArrayList<>();
    for (String v : values) quoted.add("\"" + v + "\"");
    return "[" + String.join(", ", quoted) + "]";
  }
}
