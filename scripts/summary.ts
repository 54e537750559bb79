/**
 * npm run --silent summary -- '<query string or full link>'
 * Prints one JSON object: the resolved config, the problems of the link, and its canonical query.
 * Exits 0 whatever the link holds: a bad link is reported in "problems", not by failing.
 */
import { summarize } from '../src/experiment/summary';

const arg = process.argv.slice(2).find((a) => !a.startsWith('--')) ?? '';
process.stdout.write(`${JSON.stringify(summarize(arg), null, 2)}\n`);
