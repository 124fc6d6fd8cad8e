/**
 * The dimensions of usage: what reports group and filter by, what a budget's
 * scope names, what the rollups are keyed by. The one list, and the subsets
 * derived from it; pure data, imported by the dashboard's browser bundle too.
 */

/** Every dimension, in the order the API lists them. */
export const DIMENSIONS = ['provider', 'model', 'project', 'team', 'user', 'feature', 'environment'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/** The same dimensions in the order people pick them from (menus, filter lists, the dashboard's URL): project first. */
export const DIMENSIONS_FOR_DISPLAY: readonly Dimension[] = ['project', ...DIMENSIONS.filter((d) => d !== 'project')];

/** Dimensions whose values are text as given at ingest: every one but the project, which is named by its id. */
export const TEXT_DIMENSIONS: readonly Dimension[] = DIMENSIONS.filter((d) => d !== 'project');

/** The rollup families (migrations, libs/ingest's ROLLUPS). */
export type RollupFamilyName = 'main' | 'tag' | 'user';

/**
 * The dimensions each rollup family is keyed by, and so can filter and group
 * on: the main and tag rollups every dimension but the user; the user rollup
 * provider, model, project and user only (docs/reports.md).
 */
export const ROLLUP_DIMENSIONS: Readonly<Record<RollupFamilyName, readonly Dimension[]>> = {
  main: DIMENSIONS.filter((d) => d !== 'user'),
  tag: DIMENSIONS.filter((d) => d !== 'user'),
  user: ['provider', 'model', 'project', 'user'],
};

/** Dimensions that cannot be combined with a user (the user rollup does not have them). */
export const DIMENSIONS_WITHOUT_USER: readonly Dimension[] = DIMENSIONS.filter(
  (d) => !ROLLUP_DIMENSIONS.user.includes(d),
);

/** Dimensions a budget's scope can name, one value each (with at most one tag). */
export const BUDGET_SCOPE_DIMENSIONS: readonly Dimension[] = DIMENSIONS;

export function isDimension(value: unknown): value is Dimension {
  return (DIMENSIONS as readonly unknown[]).includes(value);
}
