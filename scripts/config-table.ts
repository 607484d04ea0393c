// npm run docs:config — prints the README's configuration table, generated from the one table in src/config.ts;
// `-- --write` replaces the table in README.md (the unit tier checks they are the same).
import { readFileSync, writeFileSync } from 'node:fs';
import { configurationTable } from '../src/config.js';

const table = configurationTable();
if (!process.argv.includes('--write')) {
  console.log(table);
} else {
  const lines = readFileSync('README.md', 'utf8').split('\n');
  const start = lines.indexOf(table.split('\n')[0]!);
  if (start < 0) throw new Error('README.md has no configuration table to replace');
  let end = start;
  while (end < lines.length && lines[end]!.startsWith('|')) end++;
  lines.splice(start, end - start, ...table.split('\n'));
  writeFileSync('README.md', lines.join('\n'));
  console.log('README.md: configuration table written');
}
