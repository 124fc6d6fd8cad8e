import { CreateSchema1795766400000 } from './1795766400000-CreateSchema';
import { AddPriceBookHistory1795770000000 } from './1795770000000-AddPriceBookHistory';

/** Every migration, oldest first. Listed, not globbed, so builds and tests load the same set. */
export const MIGRATIONS = [CreateSchema1795766400000, AddPriceBookHistory1795770000000];
