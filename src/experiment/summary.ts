/** The facts a link resolves to, as printed by `npm run summary`: config, problems, canonical link, network figures. */
import { planNetwork, summarizePlan, type ModelSummary } from '../model/plan';
import { parseQuery, toQuery, type Problem } from './codec';
import type { Config } from './schema';

export interface Summary {
  config: Config;
  problems: Problem[];
  shareQuery: string;
  /** Counted from the plan's shapes: a ResNet-1001 answers in milliseconds, nothing is allocated. */
  model: ModelSummary;
}

export function summarize(link: string): Summary {
  const { config, problems } = parseQuery(link);
  return { config, problems, shareQuery: toQuery(config), model: summarizePlan(planNetwork(config)) };
}
