// npm run docs:workshop — writes docs/workshop.md from the step files (workshop/*.yml); the unit tier checks that the
// committed doc is what this generates.
import { writeFileSync } from 'node:fs';
import { workshopDoc } from '../src/workshop/doc.js';
import { loadChapters, workshopDir } from '../src/workshop/runner.js';

writeFileSync('docs/workshop.md', workshopDoc(loadChapters(workshopDir())));
console.log('docs/workshop.md written from workshop/*.yml');
