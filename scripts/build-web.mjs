// Bundles the dashboard (web/) into dist/web: one ES module with uPlot inside, no CDN, works offline.
import { watch } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import { build, context } from 'esbuild';

const out = 'dist/web';
await mkdir(out, { recursive: true });
const options = {
  entryPoints: ['web/main.ts'],
  bundle: true,
  minify: true,
  sourcemap: true,
  format: 'esm',
  target: 'es2020',
  outfile: `${out}/app.js`,
  logLevel: 'warning',
};
// The class page (`dockercoins class`): its own small bundle beside the dashboard's.
const classOptions = { ...options, entryPoints: ['web/class.ts'], outfile: `${out}/class.js` };
const copyStatic = () =>
  Promise.all([
    copyFile('web/index.html', `${out}/index.html`),
    copyFile('web/style.css', `${out}/style.css`),
    copyFile('node_modules/uplot/dist/uPlot.min.css', `${out}/uplot.css`),
    copyFile('web/class.html', `${out}/class.html`),
    copyFile('web/class.css', `${out}/class.css`),
  ]);
if (process.argv.includes('--watch')) {
  const copyOnRebuild = { name: 'copy-static', setup: (b) => b.onEnd(() => copyStatic()) };
  const ctx = await context({ ...options, plugins: [copyOnRebuild] });
  await ctx.watch();
  await (await context(classOptions)).watch();
  watch('web', () => void copyStatic());
  console.log('watching web/ → dist/web');
} else {
  await Promise.all([build(options), build(classOptions)]);
  await copyStatic();
}
