import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', internals: 'src/internals.ts', node: 'src/node.ts', cli: 'src/cli.ts', worker: 'src/node/worker.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  platform: 'neutral',
  splitting: true,
  treeshake: true,
});
