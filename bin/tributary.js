#!/usr/bin/env -S node --max-semi-space-size=64
// The `tributary` command. Topology files may be TypeScript: tsx compiles them as they load, so a
// user runs `tributary run topology.ts` without a build step (tsx is a dependency for this).
//
// Installed from the package, the command runs the compiled JavaScript in dist/ (src/ is not in
// the package). In a checkout (src/ next to bin/), it runs the TypeScript sources through tsx with
// the checkout's tsconfig.json, whatever the working directory: its `paths` map `tributary` and
// `tributary/...` to src/, so a topology importing them gets the very modules the command loaded,
// not a second copy from dist/ (two copies would break `instanceof TributaryError` and split the
// metrics). Decision 0011.
//
// --max-semi-space-size=64 (64 MiB young generation halves instead of V8's 16): a worker
// allocates short-lived objects per record, and with the default the scavenger ran often enough
// to cost ~15% of W2's throughput in `npm run bench` (the flag: +16% records/s, +100 MiB RSS).
// The shebang, the Docker image and `npm run tributary` pass it; `node bin/tributary.js` alone
// does not (set NODE_OPTIONS=--max-semi-space-size=64 then).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

const sourceMain = new URL('../src/cli/main.ts', import.meta.url);
if (existsSync(sourceMain)) {
  register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
  await import(sourceMain.href);
} else {
  register();
  await import('../dist/cli/main.js');
}
