#!/usr/bin/env node
// The `spikessl` command (see src/cli.ts). Run `npm run build` first when working from a clone.
import { main } from '../dist/cli.js';

process.exitCode = await main(process.argv.slice(2));
