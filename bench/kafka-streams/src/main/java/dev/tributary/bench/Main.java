package dev.tributary.bench;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.EmitStrategy;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.WindowStore;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Kafka Streams side of the Tributary benchmark.
 *
 * <pre>
 * load    --brokers B --topic T                       (stdin: key TAB timestampMs TAB value)
 * streams --workload w1|w2|w3 --guarantee at_least_once|exactly_once --brokers B --input IN
 *         --output OUT --app-id ID --commit-interval-ms 100 --state-dir DIR
 *         [--w2-emit on-window-close|suppress]   (w2 only; default on-window-close)
 *         [--table META]                         (w3 only: the metadata topic)
 * verify  --workload w1|w2 --brokers B --input IN --output OUT [--isolation read_committed]
 *         [--timeout-s 120] [--settle-ms 3000]
 * </pre>
 */
public final class Main {
    static final JsonFactory JSON = new JsonFactory();
    static final long HOUR_MS = Duration.ofHours(1).toMillis();

    private static boolean firstSeen; // only touched by the single stream thread

    public static void main(String[] args) throws Exception {
        if (args.length == 0) usage("missing subcommand");
        Map<String, String> opts = options(args);
        int rc = switch (args[0]) {
            case "load" -> load(opts);
            case "streams" -> streams(opts);
            case "verify" -> Verify.run(opts);
            default -> usage("unknown subcommand " + args[0]);
        };
        System.out.flush();
        System.exit(rc);
    }

    // ---------------------------------------------------------------- load

    static int load(Map<String, String> o) {
        String topic = req(o, "topic");
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, req(o, "brokers"));
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 20);
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, 262144);
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "none");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);

        AtomicReference<Exception> failure = new AtomicReference<>();
        Callback callback = (metadata, e) -> {
            if (e != null) failure.compareAndSet(null, e);
        };
        long n = 0;
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p);
             BufferedReader in = new BufferedReader(
                 new InputStreamReader(System.in, StandardCharsets.UTF_8), 1 << 20)) {
            String line;
            while ((line = in.readLine()) != null && failure.get() == null) {
                if (line.isEmpty()) continue;
                int a = line.indexOf('\t');
                int b = a < 0 ? -1 : line.indexOf('\t', a + 1);
                if (b < 0) throw new IllegalArgumentException(
                    "line " + (n + 1) + ": expected key<TAB>timestampMs<TAB>value");
                long ts = Long.parseLong(line, a + 1, b, 10);
                producer.send(new ProducerRecord<>(topic, null, ts, line.substring(0, a),
                    line.substring(b + 1)), callback);
                n++;
            }
            producer.flush();
        } catch (Exception e) {
            failure.compareAndSet(null, e);
        }
        if (failure.get() != null) {
            System.err.println("load failed after " + n + " lines: " + failure.get());
            return 1;
        }
        System.out.println("loaded " + n);
        return 0;
    }

    // ------------------------------------------------------------- streams

    static int streams(Map<String, String> o) throws InterruptedException {
        String workload = req(o, "workload");
        String guarantee = switch (req(o, "guarantee")) {
            case "at_least_once" -> StreamsConfig.AT_LEAST_ONCE;
            case "exactly_once" -> StreamsConfig.EXACTLY_ONCE_V2;
            default -> throw new IllegalArgumentException("--guarantee at_least_once|exactly_once");
        };
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, req(o, "app-id"));
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, req(o, "brokers"));
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, guarantee);
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, Long.parseLong(req(o, "commit-interval-ms")));
        p.put(StreamsConfig.STATE_DIR_CONFIG, req(o, "state-dir"));
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
        p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
        p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        // onWindowClose() only looks for closed windows once per this many wall-clock ms (default
        // 1000), and only while processing a record: a replay moves stream time by hours per second,
        // so with the default the last closed hour can stay unemitted forever and earlier ones can
        // expire first. 0 = check on every record; the range scan still runs only when stream time
        // crosses a window end, so this costs next to nothing.
        p.put(StreamsConfig.InternalConfig.EMIT_INTERVAL_MS_KSTREAMS_WINDOWED_AGGREGATION, 0L);
        // w3: the KTable's store is restored from its own source topic (no extra changelog topic),
        // up to the group's committed offset, as Tributary restores a table read from a topic.
        if (workload.equals("w3"))
            p.put(StreamsConfig.TOPOLOGY_OPTIMIZATION_CONFIG, StreamsConfig.REUSE_KTABLE_SOURCE_TOPICS);

        StreamsBuilder builder = new StreamsBuilder();
        KStream<String, String> in = builder
            .stream(req(o, "input"), Consumed.with(Serdes.String(), Serdes.String()))
            .peek((k, v) -> {
                if (!firstSeen) {
                    firstSeen = true;
                    System.out.println("FIRST_RECORD " + System.currentTimeMillis());
                    System.out.flush();
                }
            });
        KStream<String, String> out = switch (workload) {
            case "w1" -> w1(in);
            case "w2" -> w2(in, o.getOrDefault("w2-emit", "on-window-close"));
            case "w3" -> w3(builder, in, req(o, "table"));
            default -> throw new IllegalArgumentException("--workload w1|w2|w3");
        };
        out.to(req(o, "output"), Produced.with(Serdes.String(), Serdes.String()));

        KafkaStreams streams = new KafkaStreams(builder.build(p), p);
        AtomicReference<Throwable> crashed = new AtomicReference<>();
        CountDownLatch failed = new CountDownLatch(1);
        streams.setUncaughtExceptionHandler(e -> {
            crashed.compareAndSet(null, e);
            failed.countDown();
            return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        // SIGTERM/SIGINT run the shutdown hooks: close the instance cleanly, then halt with 0 (a JVM
        // that merely finishes its hooks after a signal exits 143/130).
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            boolean clean = streams.close(Duration.ofSeconds(30));
            if (!clean) System.err.println("streams did not close within 30 s");
            System.out.flush();
            Runtime.getRuntime().halt(clean && crashed.get() == null ? 0 : 1);
        }, "ks-bench-shutdown"));
        streams.start();
        failed.await(); // only returns if the stream thread died
        System.err.println("streams failed: " + crashed.get());
        crashed.get().printStackTrace();
        return 1; // System.exit(1) runs the hook, which closes and halts with 1
    }

    /** w1: keep status ok and -40 &lt;= temperature &lt;= 85, convert to Fahrenheit. */
    static KStream<String, String> w1(KStream<String, String> in) {
        return in.flatMap((key, value) -> {
            Reading r = Reading.parse(value);
            if (!"ok".equals(r.status) || !(r.temperature >= -40 && r.temperature <= 85)) {
                return List.of();
            }
            StringBuilder sb = new StringBuilder(96).append("{\"sensor\":");
            quote(sb, r.sensor).append(",\"ts\":").append(r.ts)
                .append(",\"temperatureF\":").append(r.temperature * 9 / 5 + 32)
                .append(",\"humidity\":").append(r.humidity).append('}');
            return List.of(KeyValue.pair(r.sensor, sb.toString()));
        });
    }

    /** w2: per key, 1 h tumbling windows, no grace, count/sum/min/max of temperature, final results only. */
    static KStream<String, String> w2(KStream<String, String> in, String emit) {
        var windowed = in
            .mapValues(value -> Reading.parse(value).temperature)
            .groupByKey(Grouped.with(Serdes.String(), Serdes.Double()))
            .windowedBy(TimeWindows.ofSizeWithNoGrace(Duration.ofHours(1)));
        // Retention 2 h rather than the default size + grace = 1 h: the onWindowClose store serves a
        // closed window [s, s+1h) only while s >= streamTime - retention, and the window is emitted
        // by the first record *after* its end, so with 1 h it is only found while still in the cache.
        var materialized = Materialized.<String, Agg, WindowStore<Bytes, byte[]>>as("w2-agg")
            .withKeySerde(Serdes.String())
            .withValueSerde(Agg.SERDE)
            .withRetention(Duration.ofHours(2));
        KTable<Windowed<String>, Agg> table = switch (emit) {
            case "on-window-close" -> windowed.emitStrategy(EmitStrategy.onWindowClose())
                .aggregate(Agg::new, (k, t, agg) -> agg.add(t), materialized);
            case "suppress" -> windowed.aggregate(Agg::new, (k, t, agg) -> agg.add(t), materialized)
                .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded())
                    .withName("w2-final"));
            default -> throw new IllegalArgumentException("--w2-emit on-window-close|suppress");
        };
        return table.toStream().map((wk, agg) -> {
            StringBuilder sb = new StringBuilder(160).append("{\"sensor\":");
            quote(sb, wk.key()).append(",\"start\":").append(wk.window().start())
                .append(",\"end\":").append(wk.window().end())
                .append(",\"count\":").append(agg.count)
                .append(",\"sum\":").append(agg.sum)
                .append(",\"min\":").append(agg.min)
                .append(",\"max\":").append(agg.max).append('}');
            return KeyValue.pair(wk.key(), sb.toString());
        });
    }

    /**
     * w3: stream-table join. Readings joined with their sensor's metadata row (a KTable of the
     * compacted topic): temperature + calibrationOffset, plus location; readings without a row are
     * dropped (inner join).
     */
    static KStream<String, String> w3(StreamsBuilder builder, KStream<String, String> in, String table) {
        KTable<String, String> meta = builder.table(table, Consumed.with(Serdes.String(), Serdes.String()),
            Materialized.<String, String, KeyValueStore<Bytes, byte[]>>as("w3-meta")
                .withKeySerde(Serdes.String()).withValueSerde(Serdes.String()));
        return in.join(meta, (value, metaValue) -> {
            Reading r = Reading.parse(value);
            Meta m = Meta.parse(metaValue);
            StringBuilder sb = new StringBuilder(160).append("{\"sensorId\":");
            quote(sb, r.sensorId).append(",\"timestamp\":").append(r.timestamp)
                .append(",\"temperature\":").append(r.temperature + m.calibrationOffset)
                .append(",\"humidity\":").append(r.humidity)
                .append(",\"location\":");
            return quote(sb, m.location).append('}').toString();
        });
    }

    /** The fields of a metadata row w3 uses. */
    static final class Meta {
        double calibrationOffset = Double.NaN;
        String location;

        static Meta parse(String json) {
            Meta m = new Meta();
            try (JsonParser p = JSON.createParser(json)) {
                if (p.nextToken() != JsonToken.START_OBJECT) throw new IOException("not a JSON object");
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    p.nextToken();
                    switch (name) {
                        case "calibrationOffset" -> m.calibrationOffset = p.getDoubleValue();
                        case "location" -> m.location = p.getValueAsString();
                        default -> p.skipChildren();
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("bad metadata JSON: " + json, e);
            }
            return m;
        }
    }

    // ------------------------------------------------------------- helpers

    /** The fields of an input reading the workloads use; parsed with Jackson's streaming parser. */
    static final class Reading {
        String sensor;
        String sensorId; // w3
        long timestamp; // w3
        String status;
        long ts;
        double temperature = Double.NaN;
        double humidity = Double.NaN;

        static Reading parse(String json) {
            Reading r = new Reading();
            try (JsonParser p = JSON.createParser(json)) {
                if (p.nextToken() != JsonToken.START_OBJECT) throw new IOException("not a JSON object");
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    p.nextToken();
                    switch (name) {
                        case "sensor" -> r.sensor = p.getValueAsString();
                        case "sensorId" -> r.sensorId = p.getValueAsString();
                        case "timestamp" -> r.timestamp = p.getLongValue();
                        case "status" -> r.status = p.getValueAsString();
                        case "ts" -> r.ts = p.getLongValue();
                        case "temperature" -> r.temperature = p.getDoubleValue();
                        case "humidity" -> r.humidity = p.getDoubleValue();
                        default -> p.skipChildren();
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("bad input JSON: " + json, e);
            }
            return r;
        }
    }

    /** Window aggregate; serialized as 32 fixed bytes. */
    static final class Agg {
        static final Serde<Agg> SERDE = Serdes.serdeFrom(
            (topic, a) -> a == null ? null : ByteBuffer.allocate(32)
                .putLong(a.count).putDouble(a.sum).putDouble(a.min).putDouble(a.max).array(),
            (topic, bytes) -> {
                if (bytes == null) return null;
                ByteBuffer b = ByteBuffer.wrap(bytes);
                return new Agg(b.getLong(), b.getDouble(), b.getDouble(), b.getDouble());
            });

        long count;
        double sum;
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;

        Agg() {}

        Agg(long count, double sum, double min, double max) {
            this.count = count;
            this.sum = sum;
            this.min = min;
            this.max = max;
        }

        Agg add(double t) {
            count++;
            sum += t;
            min = Math.min(min, t);
            max = Math.max(max, t);
            return this;
        }
    }

    static StringBuilder quote(StringBuilder sb, String s) {
        sb.append('"');
        JsonStringEncoder.getInstance().quoteAsString(s, sb);
        return sb.append('"');
    }

    static Map<String, String> options(String[] args) {
        Map<String, String> o = new HashMap<>();
        for (int i = 1; i < args.length; i += 2) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) usage("bad option " + args[i]);
            o.put(args[i].substring(2), args[i + 1]);
        }
        return o;
    }

    static String req(Map<String, String> o, String name) {
        String v = o.get(name);
        if (v == null) usage("missing --" + name);
        return v;
    }

    static int usage(String problem) {
        System.err.println(problem + "\nusage: load|streams|verify --option value ... (see Main.java)");
        System.exit(2);
        return 2;
    }

    private Main() {}
}
