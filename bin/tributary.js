#!/usr/bin/env -S node --max-semi-space-size=64
// The `tributary` command. Topology files are TypeScript: tsx compiles them (and Tributary's own
// sources) as they load, so neither users nor the Docker image need a build step.
//
// --max-semi-space-size=64 (64 MiB young generation halves instead of V8's 16): a worker
// allocates short-lived objects per record, and with the default the scavenger ran often enough
// to cost ~15% of W2's throughput in `npm run bench` (the flag: +16% records/s, +100 MiB RSS).
// The shebang, the Docker image and `npm run tributary` pass it; `node bin/tributary.js` alone
// does not (set NODE_OPTIONS=--max-semi-space-size=64 then).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
