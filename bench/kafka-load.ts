// Helpers the benchmarks share: pre-loading a topic with kcat, reading a group's progress, and
// describing the machine.
import { spawn } from 'node:child_process';
import { cpus, totalmem } from 'node:os';

import type { Admin } from 'kafkajs';

/** Pre-loads `count` lines `key<TAB>value` with kcat (librdkafka, Java's partitioner); not measured. */
export async function preloadWithKcat(
  brokers: string[],
  topic: string,
  count: number,
  line: (i: number) => string,
): Promise<void> {
  const args = ['-b', brokers.join(','), '-P', '-t', topic, '-K', '\t', '-z', 'none'];
  for (const setting of [
    'partitioner=murmur2_random',
    'linger.ms=20',
    'batch.num.messages=10000',
  ]) {
    args.push('-X', setting);
  }
  const kcat = spawn('kcat', args, { stdio: ['pipe', 'inherit', 'inherit'] });
  const done = new Promise<number | null>((resolve) => kcat.on('exit', resolve));
  for (let i = 0; i < count; i += 10_000) {
    let text = '';
    for (let j = i; j < Math.min(count, i + 10_000); j++) text += line(j) + '\n';
    if (!kcat.stdin.write(text)) await new Promise((r) => kcat.stdin.once('drain', r));
  }
  kcat.stdin.end();
  if ((await done) !== 0) throw new Error(`kcat failed to pre-load ${topic}`);
}

/** The sum of a group's committed offsets over a topic's partitions (how far it has come). */
export async function committedTotal(
  admin: Admin,
  groupId: string,
  topic: string,
): Promise<number> {
  const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return (entry?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
}

export function machine(): {
  cpu: string | undefined;
  cores: number;
  memoryGiB: number;
  node: string;
} {
  return {
    cpu: cpus()[0]?.model,
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
}
