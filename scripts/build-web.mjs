// Bundles the dashboard (web/) into dist/web: one ES module with uPlot inside, no CDN, works offline.
import { copyFile, mkdir } from 'node:fs/promises';
import { build } from 'esbuild';

const out = 'dist/web';
await mkdir(out, { recursive: true });
await build({
  entryPoints: ['web/main.ts'],
  bundle: true,
  minify: true,
  sourcemap: true,
  format: 'esm',
  target: 'es2020',
  outfile: `${out}/app.js`,
  logLevel: 'warning',
});
await Promise.all([
  copyFile('web/index.html', `${out}/index.html`),
  copyFile('web/style.css', `${out}/style.css`),
  copyFile('node_modules/uplot/dist/uPlot.min.css', `${out}/uplot.css`),
]);
