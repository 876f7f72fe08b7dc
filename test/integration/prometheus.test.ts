import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { Gauge, Registry } from 'prom-client';

import { endpoints, eventually, uniqueName } from './helpers.ts';

describe('Prometheus (real server)', () => {
  const registry = new Registry();
  const gauge = new Gauge({
    name: 'tributary_smoke_value',
    help: 'set by the smoke test',
    registers: [registry],
  });
  const server = createServer((_req, res) => {
    void registry.metrics().then((body) => {
      res.writeHead(200, { 'content-type': registry.contentType });
      res.end(body);
    });
  });
  const job = uniqueName('it-scrape');
  const targetFile = join(endpoints.prometheusTargetsDir, `${job}.json`);

  after(() => {
    rmSync(targetFile, { force: true });
    server.close();
  });

  it('scrapes a /metrics endpoint and answers the value through its query API', async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const value = Math.floor(Math.random() * 1_000_000);
    gauge.set(value);
    // Register the target through file-based service discovery (what workers will do too).
    writeFileSync(
      targetFile,
      JSON.stringify([{ targets: [`127.0.0.1:${port}`], labels: { smoke: job } }]),
    );

    const query = encodeURIComponent(`tributary_smoke_value{smoke="${job}"}`);
    const seen = await eventually(
      'Prometheus to scrape the test endpoint',
      async () => {
        const response = await fetch(`${endpoints.prometheusUrl}/api/v1/query?query=${query}`);
        const body = (await response.json()) as {
          status: string;
          data: { result: { value: [number, string] }[] };
        };
        return body.data.result[0]?.value[1];
      },
      45_000,
      500,
    );
    assert.equal(Number(seen), value);
  });
});
