package dev.tributary.bench;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Consumer;

/**
 * Recomputes the expected output of w1/w2 from the input topic, then reads the output topic until
 * it holds that many records (prints {@code REACHED n <epoch ms>}), waits --settle-ms for
 * stragglers/duplicates and compares record by record. Exit 0 when everything matches.
 *
 * <p>w1: per key, the output sequence must equal the filtered/mapped input sequence (same order,
 * numbers compared as doubles). w2: exactly one result per (key, window) for every window that is
 * closed in its partition (window end &lt;= max timestamp seen in that input partition), none for
 * open windows, with count/sum/min/max equal (sum added in input order).
 */
final class Verify {
    static int run(Map<String, String> o) {
        String workload = Main.req(o, "workload");
        String brokers = Main.req(o, "brokers");
        String isolation = o.getOrDefault("isolation", "read_uncommitted");
        long timeoutMs = Long.parseLong(o.getOrDefault("timeout-s", "120")) * 1000;
        long settleMs = Long.parseLong(o.getOrDefault("settle-ms", "3000"));

        // 1. expected output, from the input topic
        Map<String, List<double[]>> expectW1 = new HashMap<>();         // key -> [ts, tempF, humidity]
        Map<String, Main.Agg> windows = new LinkedHashMap<>();           // key|start -> aggregate
        Map<String, Integer> keyPartition = new HashMap<>();
        Map<Integer, Long> streamTime = new HashMap<>();
        long[] inputCount = {0};
        readAll(brokers, Main.req(o, "input"), "read_uncommitted", rec -> {
            inputCount[0]++;
            Main.Reading r = Main.Reading.parse(rec.value());
            if (workload.equals("w1")) {
                if ("ok".equals(r.status) && r.temperature >= -40 && r.temperature <= 85) {
                    expectW1.computeIfAbsent(r.sensor, k -> new ArrayList<>())
                        .add(new double[] {r.ts, r.temperature * 9 / 5 + 32, r.humidity});
                }
            } else {
                long start = rec.timestamp() - Math.floorMod(rec.timestamp(), Main.HOUR_MS);
                windows.computeIfAbsent(rec.key() + "|" + start, k -> new Main.Agg()).add(r.temperature);
                keyPartition.put(rec.key(), rec.partition());
                streamTime.merge(rec.partition(), rec.timestamp(), Math::max);
            }
        });
        if (workload.equals("w2")) {
            windows.keySet().removeIf(kw -> {
                String key = kw.substring(0, kw.lastIndexOf('|'));
                long end = Long.parseLong(kw.substring(kw.lastIndexOf('|') + 1)) + Main.HOUR_MS;
                return end > streamTime.get(keyPartition.get(key));
            });
        }
        long expected = workload.equals("w1")
            ? expectW1.values().stream().mapToLong(List::size).sum() : windows.size();
        System.out.println("EXPECTED " + expected + " (input " + inputCount[0] + ")");
        System.out.flush();

        // 2. read the output until it has `expected` records, then settle
        List<ConsumerRecord<String, String>> out = new ArrayList<>();
        long deadline = System.currentTimeMillis() + timeoutMs;
        long[] lastNew = {System.currentTimeMillis()};
        boolean[] reached = {expected == 0};
        try (KafkaConsumer<String, String> c = consumer(brokers, isolation)) {
            List<TopicPartition> parts = partitions(c, Main.req(o, "output"));
            c.assign(parts);
            c.seekToBeginning(parts);
            while (System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<String, String> rec : c.poll(Duration.ofMillis(50))) {
                    out.add(rec);
                    lastNew[0] = System.currentTimeMillis();
                    if (!reached[0] && out.size() >= expected) {
                        reached[0] = true;
                        System.out.println("REACHED " + out.size() + " " + System.currentTimeMillis());
                        System.out.flush();
                    }
                }
                if (reached[0] && System.currentTimeMillis() - lastNew[0] >= settleMs) break;
            }
        }

        // 3. compare
        List<String> errors = new ArrayList<>();
        if (out.size() != expected) errors.add("output has " + out.size() + " records, expected " + expected);
        if (workload.equals("w1")) {
            Map<String, Integer> next = new HashMap<>();
            for (ConsumerRecord<String, String> rec : out) {
                Map<String, Object> v = fields(rec.value());
                String sensor = (String) v.get("sensor");
                if (!v.keySet().equals(java.util.Set.of("sensor", "ts", "temperatureF", "humidity"))) {
                    errors.add("bad fields: " + rec.value());
                    continue;
                }
                if (!sensor.equals(rec.key())) errors.add("key " + rec.key() + " != sensor in " + rec.value());
                List<double[]> exp = expectW1.getOrDefault(sensor, List.of());
                int i = next.merge(sensor, 1, Integer::sum) - 1;
                if (i >= exp.size()) {
                    errors.add("unexpected extra record: " + rec.value());
                    continue;
                }
                double[] e = exp.get(i);
                if (num(v, "ts") != e[0] || num(v, "temperatureF") != e[1] || num(v, "humidity") != e[2]) {
                    errors.add("mismatch #" + i + " for " + sensor + ": got " + rec.value()
                        + " expected ts=" + (long) e[0] + " temperatureF=" + e[1] + " humidity=" + e[2]);
                }
            }
        } else {
            Map<String, Boolean> seen = new HashMap<>();
            for (ConsumerRecord<String, String> rec : out) {
                Map<String, Object> v = fields(rec.value());
                String sensor = (String) v.get("sensor");
                long start = (long) num(v, "start");
                String id = sensor + "|" + start;
                if (!sensor.equals(rec.key())) errors.add("key " + rec.key() + " != sensor in " + rec.value());
                if (seen.put(id, true) != null) errors.add("duplicate window: " + rec.value());
                Main.Agg e = windows.get(id);
                if (e == null) {
                    errors.add("unexpected (open or unknown) window: " + rec.value());
                } else if ((long) num(v, "end") != start + Main.HOUR_MS || (long) num(v, "count") != e.count
                    || num(v, "sum") != e.sum || num(v, "min") != e.min || num(v, "max") != e.max) {
                    errors.add("mismatch: got " + rec.value() + " expected count=" + e.count + " sum=" + e.sum
                        + " min=" + e.min + " max=" + e.max);
                }
            }
            long missing = windows.keySet().stream().filter(id -> !seen.containsKey(id)).count();
            if (missing > 0) errors.add(missing + " closed windows missing, e.g. "
                + windows.keySet().stream().filter(id -> !seen.containsKey(id)).limit(5).toList());
        }
        if (errors.isEmpty()) {
            System.out.println("VERIFY OK " + workload + " records=" + out.size());
            return 0;
        }
        System.out.println("VERIFY FAIL " + workload + " (" + errors.size() + " problems)");
        errors.stream().limit(20).forEach(e -> System.out.println("  " + e));
        return 1;
    }

    static double num(Map<String, Object> v, String name) {
        Object x = v.get(name);
        if (!(x instanceof Number n)) throw new IllegalStateException("field " + name + " is not a number: " + v);
        return n.doubleValue();
    }

    /** Flat JSON object -> field map (numbers as Long or Double, strings as String). */
    static Map<String, Object> fields(String json) {
        Map<String, Object> m = new HashMap<>();
        try (JsonParser p = Main.JSON.createParser(json)) {
            if (p.nextToken() != JsonToken.START_OBJECT) throw new IOException("not an object: " + json);
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken t = p.nextToken();
                m.put(name, switch (t) {
                    case VALUE_NUMBER_INT -> p.getLongValue();
                    case VALUE_NUMBER_FLOAT -> p.getDoubleValue();
                    case VALUE_STRING -> p.getText();
                    default -> throw new IOException("unexpected " + t + " in " + json);
                });
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return m;
    }

    static void readAll(String brokers, String topic, String isolation,
                        Consumer<ConsumerRecord<String, String>> each) {
        try (KafkaConsumer<String, String> c = consumer(brokers, isolation)) {
            List<TopicPartition> parts = partitions(c, topic);
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> end = c.endOffsets(parts);
            while (parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
                c.poll(Duration.ofMillis(200)).forEach(each);
            }
        }
    }

    static List<TopicPartition> partitions(KafkaConsumer<?, ?> c, String topic) {
        List<TopicPartition> parts = new ArrayList<>();
        c.partitionsFor(topic).forEach(pi -> parts.add(new TopicPartition(topic, pi.partition())));
        if (parts.isEmpty()) throw new IllegalStateException("no such topic " + topic);
        return parts;
    }

    static KafkaConsumer<String, String> consumer(String brokers, String isolation) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 10000);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        return new KafkaConsumer<>(p);
    }

    private Verify() {}
}
