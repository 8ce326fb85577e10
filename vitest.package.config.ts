import { defineConfig } from 'vitest/config';

// `npm run test:package`: the packed tarball installed into fresh consumer projects
// (test-package/). Not part of `npm test`: it packs (and so builds) the package, which takes
// about half a minute; CI runs it after `npm test`.
export default defineConfig({
  test: {
    include: ['test-package/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 240_000,
  },
});
