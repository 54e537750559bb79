/** The facts a link resolves to, as printed by `npm run summary` (later issues add the network's figures). */
import { parseQuery, toQuery, type Problem } from './codec';
import type { Config } from './schema';

export interface Summary {
  config: Config;
  problems: Problem[];
  shareQuery: string;
}

export function summarize(link: string): Summary {
  const { config, problems } = parseQuery(link);
  return { config, problems, shareQuery: toQuery(config) };
}
