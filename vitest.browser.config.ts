import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (f: string) => fileURLToPath(new URL(`./src/${f}`, import.meta.url));

// The demo page's tests (`npm run test:browser`): test-browser/demo.test.ts drives Debian's
// Chromium with playwright-core; test-browser/lib.test.ts checks the page's helpers in Node.
// They are not part of `npm test`, which runs without a browser.
export default defineConfig({
  resolve: {
    // The page imports the package by name; here that name is the source, as in vitest.config.ts.
    alias: [
      { find: /^spikessl\/node$/, replacement: src('node.ts') },
      { find: /^spikessl$/, replacement: src('index.ts') },
    ],
  },
  test: {
    include: ['test-browser/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 120_000,
    // One file at a time: the page trains a network, and the machine's cores are shared.
    fileParallelism: false,
  },
});
