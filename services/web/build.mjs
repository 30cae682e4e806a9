// Builds dist/ (or the folder given as the argument): index.html, app.js (the app and its
// libraries in one ES module) and app.css. Reproducible: fixed names, no timestamp, no
// absolute path; the same sources and package-lock.json give the same bytes.
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const source = join(here, 'src');
const dist = process.argv[2] ? resolve(process.argv[2]) : join(here, 'dist');

await rm(dist, { recursive: true, force: true });
await mkdir(dist);
await build({
  absWorkingDir: here,
  entryPoints: ['src/app.js', 'src/app.css'],
  outdir: dist,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  // Browsers of the last few years: top-level await, private fields, `??=`.
  target: ['es2022'],
  minify: true,
  // The libraries' licence notices, kept at the end of the bundle.
  legalComments: 'eof',
  logLevel: 'warning',
});
await copyFile(join(source, 'index.html'), join(dist, 'index.html'));
