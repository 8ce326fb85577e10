/**
 * The demo server (scripts/serve-web.mjs) against hostile requests, run as a child process as a
 * user the file permissions apply to (nobody, when these tests run as root): GET and HEAD only,
 * no dotfiles, no symbolic links out of the served folder, a file it can see but not open is a
 * 403 and the server keeps serving, and every response says nosniff.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { root } from '../helpers/bundle';

let tmp = '';
let child: ChildProcess | undefined;
let base = '';
let stderr = '';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One raw HTTP request (fetch refuses TRACE and rewrites some paths; this sends what it is given). */
function send(method: string, path: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path.slice(1)}`, { method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    // new URL() would resolve '..' and %2e%2e away; request() with a path string keeps them.
    req.path = path;
    req.end();
  });
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'spikessl-serve-'));
  chmodSync(tmp, 0o755);
  const web = join(tmp, 'web');
  const outside = join(tmp, 'outside');
  mkdirSync(web);
  mkdirSync(outside);
  mkdirSync(join(web, 'sub'));
  mkdirSync(join(web, '.git'));
  writeFileSync(join(web, 'index.html'), '<p>demo</p>');
  writeFileSync(join(web, 'sub', 'app.js'), 'export {};');
  writeFileSync(join(web, '.env'), 'SECRET=1');
  writeFileSync(join(web, '.git', 'config'), '[core]');
  writeFileSync(join(outside, 'passwd'), 'root:x:0:0');
  symlinkSync(outside, join(web, 'escape')); // a directory link leading out
  symlinkSync(join(outside, 'passwd'), join(web, 'passwd.txt')); // a file link leading out
  symlinkSync(join(web, 'index.html'), join(web, 'home.html')); // a link that stays inside: fine
  writeFileSync(join(web, 'locked.txt'), 'no');
  chmodSync(join(web, 'locked.txt'), 0o000);
  const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
  child = spawn(process.execPath, [join(root, 'scripts/serve-web.mjs'), '--no-build', '--port', '0', '--dir', web], { ...asNobody, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  base = await new Promise<string>((resolve, reject) => {
    let out = '';
    child?.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /(http:\/\/\S+\/)/.exec(out);
      if (m) resolve(m[1]);
    });
    child?.on('exit', (code) => reject(new Error(`serve-web exited with ${code}: ${stderr}`)));
  });
}, 30_000);

afterAll(() => {
  child?.kill();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('scripts/serve-web.mjs', () => {
  it('serves files inside the folder with nosniff, to GET and HEAD', async () => {
    const page = await send('GET', '/');
    expect([page.status, page.body, page.headers['x-content-type-options'], page.headers['content-type']]).toEqual([200, '<p>demo</p>', 'nosniff', 'text/html; charset=utf-8']);
    const head = await send('HEAD', '/sub/app.js');
    expect([head.status, head.body, head.headers['content-length'], head.headers['x-content-type-options']]).toEqual([200, '', '10', 'nosniff']);
    expect((await send('GET', '/home.html')).body).toBe('<p>demo</p>');
  });

  it('answers every other method with 405 and Allow: GET, HEAD', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'TRACE', 'OPTIONS']) {
      const r = await send(method, '/index.html');
      expect([method, r.status, r.headers.allow, r.headers['x-content-type-options']]).toEqual([method, 405, 'GET, HEAD', 'nosniff']);
      expect(r.body).not.toContain('demo');
    }
  });

  it('serves no dotfile and follows no link out of the folder', async () => {
    for (const path of ['/.env', '/.git/config', '/sub/../.env', '/%2eenv', '/escape/passwd', '/passwd.txt', '/%2e%2e/outside/passwd', '/..%2foutside%2fpasswd', '/sub/%2e%2e/%2e%2e/outside/passwd', '/escape/']) {
      const r = await send('GET', path);
      expect([path, r.status]).toEqual([path, 404]);
      expect(r.body).not.toMatch(/SECRET|root:x|\[core\]/);
      expect(r.headers['x-content-type-options']).toBe('nosniff');
    }
  });

  it('keeps running after a file it can see but not open (403)', async () => {
    const r = await send('GET', '/locked.txt');
    expect(r.status).toBe(403);
    expect((await send('GET', '/')).status).toBe(200);
    expect(child?.exitCode).toBe(null);
  });
});
