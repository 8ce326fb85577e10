import { defineConfig } from 'vitest/config';
import base from './vitest.config';

// The demo page's tests (`npm run test:browser`): test-browser/demo.test.ts drives Debian's
// Chromium with playwright-core; test-browser/lib.test.ts checks the page's helpers in Node.
// They are not part of `npm test`, which runs without a browser.
export default defineConfig({
  // The page imports the package by name; here that name is the source, as in `npm test`.
  resolve: base.resolve,
  test: {
    include: ['test-browser/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 120_000,
    // One file at a time: the page trains a network, and the machine's cores are shared.
    fileParallelism: false,
  },
});
