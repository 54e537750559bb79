/** npm run docs:keys — rewrites the URL key table in README.md from the schema. */
import { readFileSync, writeFileSync } from 'node:fs';
import { withKeysTable } from '../src/experiment/docs';

const path = new URL('../README.md', import.meta.url);
writeFileSync(path, withKeysTable(readFileSync(path, 'utf8')));
console.log('README.md: URL key table regenerated');
