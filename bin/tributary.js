#!/usr/bin/env node
// The `tributary` command. Topology files are TypeScript: tsx compiles them (and Tributary's own
// sources) as they load, so neither users nor the Docker image need a build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
