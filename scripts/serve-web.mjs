#!/usr/bin/env node
/**
 * Bundles the demo page (web/main.ts and web/worker.ts, with spikessl from src/) into web/dist
 * with tsup, then serves web/ on localhost and prints the address.
 *
 *   node scripts/serve-web.mjs [--port 8080] [--host 127.0.0.1] [--build-only] [--no-build]
 *
 * `--port 0` picks a free port. The test (test-browser/) imports buildWeb and serveWeb.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
export const webDir = join(root, 'web');

/** Bundles web/main.ts and web/worker.ts into web/dist (ES modules for the browser, with source maps). */
export async function buildWeb({ silent = false } = {}) {
  const { build } = await import('tsup');
  await build({
    config: false,
    entry: { main: join(webDir, 'main.ts'), worker: join(webDir, 'worker.ts') },
    outDir: join(webDir, 'dist'),
    format: ['esm'],
    platform: 'browser',
    target: 'es2022',
    bundle: true,
    splitting: false,
    sourcemap: true,
    clean: true,
    dts: false,
    silent,
    // `spikessl` is this package: bundle it from source rather than from a prior build.
    noExternal: ['spikessl'],
    tsconfig: join(webDir, 'tsconfig.json'),
  });
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/**
 * Serves web/ as static files. Resolves to { url, close } once listening.
 * Only paths inside web/ are served; anything else is a 404.
 */
export function serveWeb({ port = 8080, host = '127.0.0.1' } = {}) {
  const server = createServer((req, res) => {
    let path;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      res.writeHead(400).end('bad request');
      return;
    }
    if (path.endsWith('/')) path += 'index.html';
    const file = normalize(join(webDir, path));
    if (!file.startsWith(webDir + sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`not found: ${path}`);
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': statSync(file).size,
      'cache-control': 'no-store',
    });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const addr = server.address();
      const url = `http://${host}:${addr.port}/`;
      resolvePromise({ url, close: () => new Promise((r) => server.close(() => r(undefined))) });
    });
  });
}

const invokedDirectly = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '8080' },
      host: { type: 'string', default: '127.0.0.1' },
      'build-only': { type: 'boolean', default: false },
      build: { type: 'boolean', default: true },
    },
    allowNegative: true,
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`serve-web: --port must be an integer in 0…65535, got ${values.port}`);
    process.exit(1);
  }
  if (values.build) {
    const t0 = performance.now();
    await buildWeb({ silent: true });
    console.log(`built web/dist in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  if (!values['build-only']) {
    try {
      const { url } = await serveWeb({ port, host: values.host });
      console.log(`spikessl demo page: ${url}  (Ctrl-C to stop)`);
    } catch (e) {
      const why = e.code === 'EADDRINUSE' ? `port ${port} is in use (--port 0 picks a free one)` : e.message;
      console.error(`serve-web: cannot listen on ${values.host}:${port}: ${why}`);
      process.exit(1);
    }
  }
}
