import { CreateSchema1795766400000 } from './1795766400000-CreateSchema';
import { AddPriceBookHistory1795770000000 } from './1795770000000-AddPriceBookHistory';
import { AddTagRollup1795773600000 } from './1795773600000-AddTagRollup';

/** Every migration, oldest first. Listed, not globbed, so builds and tests load the same set. */
export const MIGRATIONS = [CreateSchema1795766400000, AddPriceBookHistory1795770000000, AddTagRollup1795773600000];
