#!/usr/bin/env node
/**
 * Bundles the demo page (web/main.ts and web/worker.ts, with spikessl from src/) into web/dist
 * with tsup, then serves web/ on localhost and prints the address.
 *
 *   node scripts/serve-web.mjs [--port 8080] [--host 127.0.0.1] [--build-only] [--no-build] [--dir web]
 *
 * `--port 0` picks a free port; `--dir` serves another folder (the tests use it). The browser test
 * (test-browser/) imports buildWeb and serveWeb; test/scripts/serve-web.test.ts runs this script.
 */
import { realpathSync } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
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

/** Sent with every response: no MIME sniffing (a .md or .map file is never run as script), no caching. */
const COMMON = { 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' };

/**
 * Serves `dir` (default web/) as static files, GET and HEAD only (405 otherwise). Resolves to
 * { url, close } once listening. Only regular files whose real path (symbolic links resolved)
 * lies inside `dir` are served, and no name starting with a dot (dotfiles, .git/); anything else
 * is a 404. A file that cannot be opened is a 403 and the server keeps running.
 */
export function serveWeb({ port = 8080, host = '127.0.0.1', dir = webDir } = {}) {
  const base = realpathSync(dir);
  const reply = (res, status, text, extra = {}) => {
    res.writeHead(status, { ...COMMON, 'content-type': 'text/plain; charset=utf-8', ...extra }).end(text);
  };
  const handle = async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, 'method not allowed', { allow: 'GET, HEAD' });
    let path;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      return reply(res, 400, 'bad request');
    }
    if (path.includes('\0')) return reply(res, 400, 'bad request');
    if (path.endsWith('/')) path += 'index.html';
    const notFound = () => reply(res, 404, `not found: ${path}`);
    if (path.split(/[\\/]/).some((part) => part.startsWith('.'))) return notFound();
    const file = normalize(join(base, path));
    if (!file.startsWith(base + sep)) return notFound();
    let real;
    try {
      real = await realpath(file);
    } catch {
      return notFound();
    }
    if (!real.startsWith(base + sep)) return notFound(); // a symbolic link leading out of dir
    let fh;
    try {
      fh = await open(real, 'r');
    } catch (e) {
      return e.code === 'EACCES' || e.code === 'EPERM' ? reply(res, 403, `forbidden: ${path}`) : notFound();
    }
    let size;
    try {
      const st = await fh.stat();
      if (!st.isFile()) {
        await fh.close();
        return notFound();
      }
      size = st.size;
    } catch {
      await fh.close().catch(() => {});
      return notFound();
    }
    res.writeHead(200, { ...COMMON, 'content-type': TYPES[extname(real)] ?? 'application/octet-stream', 'content-length': size });
    if (req.method === 'HEAD') {
      await fh.close();
      return res.end();
    }
    const stream = fh.createReadStream(); // closes the file when done
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  };
  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) reply(res, 500, 'internal error');
      else res.destroy();
    });
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
      dir: { type: 'string', default: webDir },
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
      const { url } = await serveWeb({ port, host: values.host, dir: values.dir });
      console.log(`spikessl demo page: ${url}  (Ctrl-C to stop)`);
    } catch (e) {
      const why = e.code === 'EADDRINUSE' ? `port ${port} is in use (--port 0 picks a free one)` : e.message;
      console.error(`serve-web: cannot listen on ${values.host}:${port}: ${why}`);
      process.exit(1);
    }
  }
}
