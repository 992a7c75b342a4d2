import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, relative, sep } from 'node:path';
import { gzipSync } from 'node:zlib';

/** One built file kept in memory (the dashboard's dist/ is a few hundred KB). */
export interface StaticFile {
  readonly urlPath: string;
  readonly contentType: string;
  readonly body: Buffer;
  readonly gzip: Buffer | undefined;
  /** Hashed file names (assets/*) never change, so browsers may cache them for a year. */
  readonly immutable: boolean;
  readonly etag: string;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
};

const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.svg', '.txt', '.map']);

/**
 * Where the built dashboard lives: `explicitDir` when given, else `dist/` of the installed
 * `@tollgate/dashboard` package. Returns undefined when neither has an index.html.
 *
 * @example
 * const dir = resolveDashboardDir(config.dashboardDir);
 */
export function resolveDashboardDir(explicitDir?: string | null): string | undefined {
  if (explicitDir) return existsSync(join(explicitDir, 'index.html')) ? explicitDir : undefined;
  try {
    const require = createRequire(import.meta.url);
    const dir = join(dirname(require.resolve('@tollgate/dashboard/package.json')), 'dist');
    return existsSync(join(dir, 'index.html')) ? dir : undefined;
  } catch {
    return undefined;
  }
}

function walk(root: string, dir: string, out: string[]): void {
  for (const entry of readdirSync(dir)) {
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) walk(root, full, out);
    else out.push(relative(root, full));
  }
}

/**
 * Reads every file under `dir` into memory, gzipping the text ones once.
 *
 * @example
 * const files = loadStaticFiles('/srv/dashboard/dist');
 */
export function loadStaticFiles(dir: string): StaticFile[] {
  const names: string[] = [];
  walk(dir, dir, names);
  return names.map((name) => {
    const body = readFileSync(join(dir, name));
    const extension = extname(name).toLowerCase();
    const urlPath = `/${name.split(sep).join('/')}`;
    return {
      urlPath,
      contentType: CONTENT_TYPES[extension] ?? 'application/octet-stream',
      body,
      gzip: COMPRESSIBLE.has(extension) && body.length > 1024 ? gzipSync(body, { level: 9 }) : undefined,
      immutable: urlPath.startsWith('/assets/'),
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
    };
  });
}
