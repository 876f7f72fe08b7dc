// What the tests of the counts fixture (fixtures/counts-worker.ts: a count and sum per key) share:
// its workers as processes, and its output decoded per key.
import { startWorkerProcess } from './workers.ts';
import type { WorkerProcess } from './workers.ts';

const fixture = 'test/integration/fixtures/counts-worker.ts';

/** A key's aggregate, as the counts fixture outputs it. */
export interface Total {
  n: number;
  sum: number;
}

/** A worker of the counts fixture on `<appId>-in` and `<appId>-out`. */
export function startCountsWorker(settings: {
  id: string;
  appId: string;
  stateDir: string;
  guarantee?: 'at_least_once' | 'exactly_once';
  env: Record<string, string>;
}): WorkerProcess {
  return startWorkerProcess({
    ...settings,
    input: `${settings.appId}-in`,
    output: `${settings.appId}-out`,
    fixture,
  });
}

/** The output's records decoded, per key in offset order. */
export function totalsByKey(
  records: { key: string | null; value: Buffer | null }[],
): Map<string, Total[]> {
  const out = new Map<string, Total[]>();
  for (const r of records) {
    const key = r.key ?? '';
    const list = out.get(key) ?? [];
    list.push(JSON.parse(r.value?.toString() ?? 'null') as Total);
    out.set(key, list);
  }
  return out;
}
