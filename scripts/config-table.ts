// npm run docs:config — prints the README's configuration table, generated from the one table in src/config.ts.
import { configurationTable } from '../src/config.js';

console.log(configurationTable());
