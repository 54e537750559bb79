import { defaults } from '../experiment/schema';
import { createPlaygroundStore } from './playground';

/** The page's single store. */
export const usePlayground = createPlaygroundStore(defaults());
export type { BackendState, PlaygroundState } from './playground';
