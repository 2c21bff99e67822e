#!/usr/bin/env node
// `npx verifik-erasure …`: the command line is TypeScript, run through tsx (a dev dependency of this
// repository). Under npx and npm scripts `node` is the repository's pinned Node 24.
import { register } from 'tsx/esm/api';

register();
await import('./run.ts');
