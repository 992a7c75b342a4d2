// Child-process servers for the enforcement benchmark, so the load generator does not share their event loop.
// `node enforce-servers.mjs bare` → a bare node:http JSON handler; `node enforce-servers.mjs tollgate` → Tollgate
// on SQLite with the 100-rule policy active. Each prints one JSON line { url, key? } on stdout.
import { createServer } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchPolicyYaml } from './enforce-policy-fixture.mjs';

async function bare() {
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString() || '{}');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ decision: 'ALLOW', reason: 'bare', toolName: body.toolName ?? null }));
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}` };
}

async function tollgate() {
  // The V8 settings `tollgate serve` applies before anything else runs (packages/cli/src/v8-flags.ts).
  await import('../packages/cli/dist/v8-flags.js');
  const { generateApiKey, loadConfig, startTollgate } = await import('../packages/server/dist/index.js');
  const dataDir = await mkdtemp(join(tmpdir(), 'tollgate-bench-enforce-'));
  const key = generateApiKey().token;
  const config = loadConfig({}, { port: 0, host: '127.0.0.1', dataDir, adminKey: key, logLevel: 'silent' });
  const running = await startTollgate({ config });
  const res = await fetch(`${running.url}/api/v1/policies`, {
    method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'bench', source: benchPolicyYaml(), activate: true }),
  });
  if (res.status !== 201) throw new Error(`policy create failed: ${res.status} ${await res.text()}`);
  process.once('SIGTERM', () => {
    running.close().then(() => rm(dataDir, { recursive: true, force: true })).finally(() => process.exit(0));
  });
  return { url: running.url, key, dataDir };
}

const mode = process.argv.at(-1);
const started = mode === 'bare' ? await bare() : await tollgate();
process.stdout.write(`${JSON.stringify(started)}\n`);
