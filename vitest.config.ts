import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (f: string) => fileURLToPath(new URL(`./src/${f}`, import.meta.url));

export default defineConfig({
  resolve: {
    // Examples import the package by name, as a user would; in tests that name is the source.
    alias: [
      { find: /^spikessl\/node$/, replacement: src('node.ts') },
      { find: /^spikessl$/, replacement: src('index.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 60_000,
  },
});
