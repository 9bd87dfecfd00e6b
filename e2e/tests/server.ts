// Starts the real parley binary on a free port with a fresh data directory, and a separate
// static server (another origin) for the customer's website that embeds the widget.
import { spawn, ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ADMIN = { email: 'admin@example.com', password: 'e2e admin password' };

export interface Parley {
  url: string;
  stop(): Promise<void>;
}

export async function startParley(): Promise<Parley> {
  const bin = process.env.PARLEY_BIN || fileURLToPath(new URL('../../target/debug/parley', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'parley-e2e-'));
  const child: ChildProcess = spawn(bin, ['serve', '--listen', '127.0.0.1:0', '--data-dir', dir], {
    env: { ...process.env, PARLEY_ADMIN_EMAIL: ADMIN.email, PARLEY_ADMIN_PASSWORD: ADMIN.password, RUST_LOG: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const url = await new Promise<string>((ok, fail) => {
    let log = '';
    const timer = setTimeout(() => fail(new Error('parley did not start:\n' + log)), 20_000);
    const onData = (b: Buffer) => {
      log += b.toString();
      const m = log.match(/listening on (http:\/\/[0-9.:]+)/);
      if (m) {
        clearTimeout(timer);
        ok(m[1]);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => fail(new Error(`parley exited with ${code}:\n${log}`)));
  });
  // The console is opened as localhost so that the customer site (127.0.0.1) is another origin.
  return {
    url: url.replace('127.0.0.1', 'localhost'),
    async stop() {
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await done;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A customer's website: serves `html` at / from 127.0.0.1 on a free port. */
export async function startSite(html: () => string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    if (req.url === '/' || req.url?.startsWith('/?') || req.url?.startsWith('/page')) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(html());
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address() as { port: number };
  return { url: `http://127.0.0.1:${addr.port}`, server };
}
