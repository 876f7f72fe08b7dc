import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { launch, pidFile, readPid, residentBytes, terminate } from '../../infra/stack/processes.ts';

describe('local stack process control', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-stack-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('records a started process, finds it alive, and stops it by its PID file', async () => {
    const file = pidFile(join(dir, 'run'), 'sleeper');
    // The marker is an argument of the command line, as the stack directory is for the servers;
    // the shell and its sleep share a process group, and terminate() stops the group.
    const record = await launch(
      { command: 'sh', args: ['-c', 'sleep 300; exit 0', dir], cwd: dir },
      join(dir, 'logs', 'sleeper.log'),
      file,
      dir,
    );
    assert.equal(readPid(file)?.pid, record.pid);
    assert.ok((residentBytes(record.pid) ?? 0) > 0);
    assert.equal(await terminate(record, 5_000), 'stopped');
    assert.equal(readPid(file), undefined, 'a PID file naming a dead process is stale');
  });

  it('never claims a live process whose command line lacks the marker (a reused PID)', () => {
    const file = pidFile(join(dir, 'run'), 'foreign');
    writeFileSync(
      file,
      JSON.stringify({ pid: process.pid, marker: `${dir}-not-ours`, startedAt: '' }),
    );
    assert.equal(readPid(file), undefined);
  });
});
