import { Decimal, formatUsd, modelWithoutSnapshot, normalizeModelName, TOKEN_KINDS, TokenKind } from '@tokentally/core';
import type { CostResult, ImagesUsageResult } from './openai/admin-pages';

/**
 * Reconciliation as pure data: OpenAI's bill and usage beside TokenTally's
 * tracked usage, per UTC day and OpenAI project, with the difference, its
 * percent, whether it is drift, and the likely causes, each named
 * (docs/reconciliation.md says what each means to a finance lead). No I/O:
 * the service reads both sides and stores what this returns.
 */

/** Why billed and tracked differ, in the order they are listed. */
export const CAUSES = [
  'untracked_calls',
  'tracked_not_billed',
  'unpriced_events',
  'partially_priced_events',
  'credits',
  'price_drift',
  'usage_without_cost',
  'unexplained',
] as const;
export type CauseName = (typeof CAUSES)[number];

export interface Cause {
  cause: CauseName;
  /** One sentence for people. */
  detail: string;
  /** The figures behind it (counts as numbers, exact amounts as strings). */
  [figure: string]: unknown;
}

/**
 * What a row compares:
 * - `project`: an OpenAI project mapped to a TokenTally project;
 * - `organization`: nothing is mapped, the whole organization's bill against
 *   every project's `openai` spend;
 * - `unmapped_openai_project`: billed to an OpenAI project no TokenTally
 *   project is mapped to (or to no project): shown, not compared;
 * - `unmapped_tracked_project`: `openai` spend of a TokenTally project no
 *   OpenAI project is mapped to: shown, not compared.
 */
export const SCOPES = ['project', 'organization', 'unmapped_openai_project', 'unmapped_tracked_project'] as const;
export type Scope = (typeof SCOPES)[number];

/**
 * `match` (difference exactly 0), `within_threshold`, `drift` (above the
 * threshold: a webhook), `not_comparable` (some of the bill is in another
 * currency than USD), `unmapped` (one side only).
 */
export const ROW_STATUSES = ['match', 'within_threshold', 'drift', 'not_comparable', 'unmapped'] as const;
export type RowStatus = (typeof ROW_STATUSES)[number];

export interface BilledCost extends CostResult {
  day: string;
}
export interface BilledImages extends ImagesUsageResult {
  day: string;
}

/** TokenTally's `openai` usage of one UTC day, project and model (from the rollups). */
export interface TrackedUsage {
  day: string;
  projectId: string;
  model: string;
  /** Every stored call, failed ones too. */
  calls: bigint;
  errorCalls: bigint;
  images: bigint;
  tokens: Record<TokenKind, bigint>;
  /** Restated cost (what reports show): unpriced calls count nothing, partly priced ones their priced kinds. */
  costUsd: Decimal;
  unpricedEvents: bigint;
  partialEvents: bigint;
}

export interface LineItemView {
  line_item: string | null;
  model: string | null;
  kind: string | null;
  currency: string;
  amount: string;
  quantity: string | null;
  quantity_unit: string | null;
}

export interface ModelView {
  model: string;
  billed_usd: string | null;
  billed_requests: number | null;
  billed_images: number | null;
  tracked_calls: number;
  tracked_error_calls: number;
  tracked_images: number;
  tracked_usd: string;
}

export interface ReconciledRow {
  day: string;
  /** Unique within a run and day: the OpenAI project id, `*` (organization), `(none)`, or `tracked:<uuid>`. */
  rowKey: string;
  scope: Scope;
  openaiProjectId: string | null;
  projectId: string | null;
  status: RowStatus;
  billedUsd: Decimal | null;
  otherCurrencies: Array<{ currency: string; amount: string }>;
  billedRequests: bigint | null;
  billedImages: bigint | null;
  /** Tokens the bill's line items give a quantity for; null when none does. */
  billedTokens: Decimal | null;
  trackedUsd: Decimal | null;
  trackedCalls: bigint | null;
  trackedErrorCalls: bigint | null;
  trackedImages: bigint | null;
  trackedTokens: bigint | null;
  unpricedEvents: bigint | null;
  partialEvents: bigint | null;
  /** billed - tracked, exact. */
  differenceUsd: Decimal | null;
  /** difference / |billed| x 100, rounded half up to 2 decimals; null when billed is 0. */
  percent: Decimal | null;
  causes: Cause[];
  lineItems: LineItemView[];
  models: ModelView[];
}

/** TokenTally's rate (USD per 1M tokens) for these token kinds of a model on a day, if one rate prices them all. */
export type RateOf = (model: string, kinds: readonly TokenKind[], day: string) => Decimal | null;

export interface ReconcileInput {
  costs: BilledCost[];
  images: BilledImages[];
  tracked: TrackedUsage[];
  /** OpenAI project id -> TokenTally project id. Empty: the whole organization is compared. */
  mapping: ReadonlyMap<string, string>;
  thresholdPct: Decimal;
  rateOf: RateOf;
}

export interface Reconciliation {
  comparison: 'projects' | 'organization';
  rows: ReconciledRow[];
}

// ---------------------------------------------------------------- line items

/** Token kinds a line item may bill: one kind, or one direction of every modality. */
export const KIND_GROUPS: Record<string, readonly TokenKind[]> = {
  ...Object.fromEntries(TOKEN_KINDS.map((kind) => [kind, [kind]])),
  input: ['input_text', 'input_image'],
  cached_input: ['cached_input_text', 'cached_input_image'],
  output: ['output_text', 'output_image'],
};

/** A model name as both sides are compared: lower case, without a gateway prefix or a dated snapshot suffix. */
export function canonicalModel(raw: string): string {
  const name = normalizeModelName(raw);
  return modelWithoutSnapshot(name) ?? name;
}

/**
 * What a Costs line item names: `"gpt-image-2, output image"` is the model
 * and a token kind (or one direction, `"gpt-4o, input"`: input text and
 * image). OpenAI's line item names are not a published list: words are
 * read leniently (input/prompt, output/completion, cached, image, text) and
 * an item that says no direction has no kind.
 */
export function parseLineItem(lineItem: string | null): { model: string | null; kind: string | null } {
  if (!lineItem || !lineItem.trim()) return { model: null, kind: null };
  const comma = lineItem.indexOf(',');
  const model = canonicalModel(comma >= 0 ? lineItem.slice(0, comma) : lineItem);
  // A line item of one word names a model only when it is shaped like one (gpt-image-2, dall-e-3): "credit",
  // "Tax" or "Support" are charges of the bill, not models.
  if (comma < 0) return { model: model && /[\d-]/.test(model) ? model : null, kind: null };
  const words = lineItem.slice(comma + 1).toLowerCase();
  const cached = /\bcache(d|\s+read)?\b/.test(words);
  const image = /\bimages?\b/.test(words);
  const text = /\btext\b/.test(words);
  const output = /\b(output|completion|generated)\b/.test(words);
  const input = cached || /\b(input|prompt)\b/.test(words);
  let kind: string | null = null;
  if (output && !input) kind = image ? 'output_image' : text ? 'output_text' : 'output';
  else if (input && !output)
    kind = cached
      ? image
        ? 'cached_input_image'
        : text
          ? 'cached_input_text'
          : 'cached_input'
      : image
        ? 'input_image'
        : text
          ? 'input_text'
          : 'input';
  return { model: model || null, kind };
}

/** The tokens a result's quantity stands for, or null when its unit is not tokens. */
export function tokenQuantity(quantity: Decimal | null, unit: string | null): Decimal | null {
  if (quantity === null) return null;
  if (unit === 'tokens') return quantity;
  if (unit === '1000_tokens') return quantity.shiftLeft(3);
  return null;
}

// ---------------------------------------------------------------- the drift rule

/** difference / |billed| x 100, half up to 2 decimals; null when nothing was billed. */
export function percentOf(difference: Decimal, billed: Decimal): Decimal | null {
  if (billed.isZero()) return null;
  return difference.shiftLeft(2).divide(billed.abs(), 2);
}

/**
 * Drift: |billed - tracked| / |billed| > threshold %, compared exactly (no
 * rounding). With nothing billed, any tracked spend is drift (TokenTally
 * counts money OpenAI did not bill); with nothing tracked, a bill is 100 %
 * off. Both zero: a match.
 */
export function isDrift(billed: Decimal, tracked: Decimal, thresholdPct: Decimal): boolean {
  const difference = billed.subtract(tracked).abs();
  if (difference.isZero()) return false;
  if (billed.isZero()) return true;
  return difference.shiftLeft(2).compare(thresholdPct.multiply(billed.abs())) > 0;
}

// ---------------------------------------------------------------- grouping

interface Group {
  day: string;
  rowKey: string;
  scope: Scope;
  openaiProjectId: string | null;
  projectId: string | null;
  costs: BilledCost[];
  images: BilledImages[];
  tracked: TrackedUsage[];
}

const SCOPE_ORDER: Record<Scope, number> = {
  organization: 0,
  project: 1,
  unmapped_openai_project: 2,
  unmapped_tracked_project: 3,
};

/** Every row of a run: the groups of both sides, each compared. */
export function reconcile(input: ReconcileInput): Reconciliation {
  const comparison = input.mapping.size === 0 ? 'organization' : 'projects';
  const byTracked = new Map([...input.mapping].map(([openai, project]) => [project, openai]));
  const groups = new Map<string, Group>();
  const group = (day: string, g: Omit<Group, 'day' | 'costs' | 'images' | 'tracked'>): Group => {
    const id = `${day}|${g.rowKey}`;
    let found = groups.get(id);
    if (!found) groups.set(id, (found = { day, ...g, costs: [], images: [], tracked: [] }));
    return found;
  };
  const billedGroup = (day: string, openaiProjectId: string | null): Group => {
    if (comparison === 'organization')
      return group(day, { rowKey: '*', scope: 'organization', openaiProjectId: null, projectId: null });
    const mapped = openaiProjectId === null ? undefined : input.mapping.get(openaiProjectId);
    return mapped
      ? group(day, { rowKey: openaiProjectId!, scope: 'project', openaiProjectId, projectId: mapped })
      : group(day, {
          rowKey: openaiProjectId ?? '(none)',
          scope: 'unmapped_openai_project',
          openaiProjectId,
          projectId: null,
        });
  };
  for (const cost of input.costs) billedGroup(cost.day, cost.projectId).costs.push(cost);
  for (const usage of input.images) billedGroup(usage.day, usage.projectId).images.push(usage);
  for (const usage of input.tracked) {
    const openai = byTracked.get(usage.projectId);
    const g =
      comparison === 'organization'
        ? group(usage.day, { rowKey: '*', scope: 'organization', openaiProjectId: null, projectId: null })
        : openai
          ? group(usage.day, { rowKey: openai, scope: 'project', openaiProjectId: openai, projectId: usage.projectId })
          : group(usage.day, {
              rowKey: `tracked:${usage.projectId}`,
              scope: 'unmapped_tracked_project',
              openaiProjectId: null,
              projectId: usage.projectId,
            });
    g.tracked.push(usage);
  }
  const rows = [...groups.values()]
    .map((g) => compareGroup(g, input))
    // A day and project with nothing on either side (a zero bill line and no calls) is no row worth showing.
    .filter((row) => row !== null)
    .sort(
      (a, b) =>
        a.day.localeCompare(b.day) || SCOPE_ORDER[a.scope] - SCOPE_ORDER[b.scope] || a.rowKey.localeCompare(b.rowKey),
    );
  return { comparison, rows };
}

// ---------------------------------------------------------------- one row

interface ModelFigures {
  model: string;
  billedUsd: Decimal | null;
  billedRequests: bigint | null;
  billedImages: bigint | null;
  calls: bigint;
  errorCalls: bigint;
  images: bigint;
  tokens: Record<TokenKind, bigint>;
  trackedUsd: Decimal;
  tracked: boolean;
}

const sumBig = (values: bigint[]) => values.reduce((a, b) => a + b, 0n);
const sumDec = (values: Decimal[]) => values.reduce((a, b) => a.add(b), Decimal.ZERO);
const noTokens = (): Record<TokenKind, bigint> =>
  Object.fromEntries(TOKEN_KINDS.map((k) => [k, 0n])) as Record<TokenKind, bigint>;

function compareGroup(g: Group, input: ReconcileInput): ReconciledRow | null {
  const usd = g.costs.filter((c) => c.currency === 'usd');
  const other = g.costs.filter((c) => c.currency !== 'usd');
  const billedSide = g.scope !== 'unmapped_tracked_project';
  const trackedSide = g.scope !== 'unmapped_openai_project';

  // Per model, both sides.
  const models = new Map<string, ModelFigures>();
  const model = (name: string): ModelFigures => {
    let m = models.get(name);
    if (!m)
      models.set(
        name,
        (m = {
          model: name,
          billedUsd: null,
          billedRequests: null,
          billedImages: null,
          calls: 0n,
          errorCalls: 0n,
          images: 0n,
          tokens: noTokens(),
          trackedUsd: Decimal.ZERO,
          tracked: false,
        }),
      );
    return m;
  };
  // One line per line item, currency and unit: results split over pages or repeated are added up (exactly).
  const shown = new Map<string, { item: LineItemView; amount: Decimal; quantity: Decimal | null }>();
  const parsedItems = g.costs.map((c) => ({ cost: c, ...parseLineItem(c.lineItem) }));
  for (const item of parsedItems) {
    const id = JSON.stringify([item.cost.lineItem, item.cost.currency, item.cost.quantityUnit]);
    const seen = shown.get(id);
    if (seen) {
      seen.amount = seen.amount.add(item.cost.amount);
      seen.quantity =
        seen.quantity === null || item.cost.quantity === null ? null : seen.quantity.add(item.cost.quantity);
    } else
      shown.set(id, {
        item: {
          line_item: item.cost.lineItem,
          model: item.model,
          kind: item.kind,
          currency: item.cost.currency,
          amount: '',
          quantity: null,
          quantity_unit: item.cost.quantityUnit,
        },
        amount: item.cost.amount,
        quantity: item.cost.quantity,
      });
    if (item.model && item.cost.currency === 'usd') {
      const m = model(item.model);
      m.billedUsd = (m.billedUsd ?? Decimal.ZERO).add(item.cost.amount);
    }
  }
  for (const usage of g.images) {
    const m = model(canonicalModel(usage.model ?? '(no model)'));
    m.billedRequests = (m.billedRequests ?? 0n) + usage.requests;
    m.billedImages = (m.billedImages ?? 0n) + usage.images;
  }
  for (const usage of g.tracked) {
    const m = model(canonicalModel(usage.model));
    m.tracked = true;
    m.calls += usage.calls;
    m.errorCalls += usage.errorCalls;
    m.images += usage.images;
    m.trackedUsd = m.trackedUsd.add(usage.costUsd);
    for (const kind of TOKEN_KINDS) m.tokens[kind] += usage.tokens[kind];
  }

  const billedUsd = billedSide ? sumDec(usd.map((c) => c.amount)) : null;
  const trackedUsd = trackedSide ? sumDec(g.tracked.map((t) => t.costUsd)) : null;
  const tokenItems = usd.map((c) => tokenQuantity(c.quantity, c.quantityUnit)).filter((q): q is Decimal => q !== null);
  const trackedCalls = trackedSide ? sumBig(g.tracked.map((t) => t.calls)) : null;
  const row: ReconciledRow = {
    day: g.day,
    rowKey: g.rowKey,
    scope: g.scope,
    openaiProjectId: g.openaiProjectId,
    projectId: g.projectId,
    status: 'unmapped',
    billedUsd,
    otherCurrencies: other.map((c) => ({ currency: c.currency, amount: c.amount.toFixedString() })),
    billedRequests: billedSide ? sumBig(g.images.map((i) => i.requests)) : null,
    billedImages: billedSide ? sumBig(g.images.map((i) => i.images)) : null,
    billedTokens: billedSide && tokenItems.length > 0 ? sumDec(tokenItems) : null,
    trackedUsd,
    trackedCalls,
    trackedErrorCalls: trackedSide ? sumBig(g.tracked.map((t) => t.errorCalls)) : null,
    trackedImages: trackedSide ? sumBig(g.tracked.map((t) => t.images)) : null,
    trackedTokens: trackedSide ? sumBig(g.tracked.flatMap((t) => TOKEN_KINDS.map((k) => t.tokens[k]))) : null,
    unpricedEvents: trackedSide ? sumBig(g.tracked.map((t) => t.unpricedEvents)) : null,
    partialEvents: trackedSide ? sumBig(g.tracked.map((t) => t.partialEvents)) : null,
    differenceUsd: null,
    percent: null,
    causes: [],
    lineItems: [...shown.values()].map(({ item, amount, quantity }) => ({
      ...item,
      amount: amount.toFixedString(),
      quantity: quantity?.toFixedString() ?? null,
    })),
    models: [...models.values()]
      .sort((a, b) => a.model.localeCompare(b.model))
      .map((m) => ({
        model: m.model,
        billed_usd: m.billedUsd === null ? null : formatUsd(m.billedUsd),
        // Counts as numbers, as everywhere in the API (they are far below 2^53).
        billed_requests: m.billedRequests === null ? null : Number(m.billedRequests),
        billed_images: m.billedImages === null ? null : Number(m.billedImages),
        tracked_calls: Number(m.calls),
        tracked_error_calls: Number(m.errorCalls),
        tracked_images: Number(m.images),
        tracked_usd: formatUsd(m.trackedUsd),
      })),
  };
  const empty =
    g.costs.every((c) => c.amount.isZero()) &&
    g.images.every((i) => i.requests === 0n && i.images === 0n) &&
    g.tracked.every((t) => t.calls === 0n);
  if (empty) return null;
  if (billedUsd === null || trackedUsd === null) return row;
  if (other.length > 0) {
    row.status = 'not_comparable';
    return row;
  }
  const difference = billedUsd.subtract(trackedUsd);
  row.differenceUsd = difference;
  row.percent = percentOf(difference, billedUsd);
  row.status = difference.isZero()
    ? 'match'
    : isDrift(billedUsd, trackedUsd, input.thresholdPct)
      ? 'drift'
      : 'within_threshold';
  if (!difference.isZero()) row.causes = causesOf(g, [...models.values()], parsedItems, row, input.rateOf);
  return row;
}

/** The likely causes of a difference, from what both sides say; see CAUSES for their order. */
function causesOf(
  g: Group,
  models: ModelFigures[],
  items: Array<{ cost: BilledCost; model: string | null; kind: string | null }>,
  row: ReconciledRow,
  rateOf: RateOf,
): Cause[] {
  const untracked: string[] = [];
  const notBilled: string[] = [];
  let evidence = false;
  let missingCalls = 0n;
  let extraCalls = 0n;

  // Requests and images: OpenAI's image usage against the calls TokenTally stored (failed calls are not billed).
  // A tracked model is compared when it made images (or image output tokens: an image model) or OpenAI's image
  // usage names it.
  for (const m of models) {
    const imageModel = m.images > 0n || m.tokens.output_image > 0n;
    if (m.billedRequests === null && !(m.tracked && imageModel)) continue;
    const billedRequests = m.billedRequests ?? 0n;
    const billedImages = m.billedImages ?? 0n;
    const ok = m.calls - m.errorCalls;
    evidence = true;
    if (billedRequests > ok) {
      missingCalls += billedRequests - ok;
      untracked.push(`${m.model}: ${billedRequests} requests billed, ${ok} tracked`);
    } else if (billedRequests < ok) {
      extraCalls += ok - billedRequests;
      notBilled.push(`${m.model}: ${ok} calls tracked, ${billedRequests} requests billed`);
    }
    // Successful calls that carry no image count (OpenTelemetry spans without tokentally.images, docs/otlp.md) say
    // nothing about images: only requests are compared then.
    const imagesKnown = m.images > 0n || ok === 0n;
    if (!imagesKnown) continue;
    if (billedImages > m.images) untracked.push(`${m.model}: ${billedImages} images billed, ${m.images} tracked`);
    else if (billedImages < m.images) notBilled.push(`${m.model}: ${m.images} images tracked, ${billedImages} billed`);
  }

  // Line items of models TokenTally has no call of (and that the image usage did not already count).
  for (const item of items) {
    if (item.cost.currency !== 'usd' || item.cost.amount.isZero() || item.cost.amount.isNegative()) continue;
    const m = item.model ? models.find((x) => x.model === item.model) : undefined;
    if (m?.tracked || m?.billedRequests) continue;
    untracked.push(
      `${formatUsd(item.cost.amount)} billed as "${item.cost.lineItem ?? '(no line item)'}" with no tracked call`,
    );
  }

  // Token quantities the line items give, summed per model and kind, against the same kinds tracked; where they
  // agree, the rates. A model and kind with a line item that gives no token quantity is not compared (its tokens are
  // not all known).
  const rates: Array<Record<string, string>> = [];
  const byKind = new Map<
    string,
    { model: string; kind: string; items: string[]; quantity: Decimal; amount: Decimal; complete: boolean }
  >();
  for (const item of items) {
    if (!item.model || !item.kind || item.cost.currency !== 'usd') continue;
    const id = `${item.model}|${item.kind}`;
    const entry = byKind.get(id) ?? {
      model: item.model,
      kind: item.kind,
      items: [],
      quantity: Decimal.ZERO,
      amount: Decimal.ZERO,
      complete: true,
    };
    const quantity = tokenQuantity(item.cost.quantity, item.cost.quantityUnit);
    if (quantity === null) entry.complete = false;
    else entry.quantity = entry.quantity.add(quantity);
    entry.amount = entry.amount.add(item.cost.amount);
    if (!entry.items.includes(item.cost.lineItem ?? '')) entry.items.push(item.cost.lineItem ?? '');
    byKind.set(id, entry);
  }
  for (const entry of byKind.values()) {
    const m = models.find((x) => x.model === entry.model);
    if (!entry.complete || !m?.tracked) continue;
    const kinds = KIND_GROUPS[entry.kind];
    const tracked = Decimal.fromInteger(sumBig(kinds.map((k) => m.tokens[k])));
    const name = entry.items.join(' + ');
    evidence = true;
    const order = entry.quantity.compare(tracked);
    if (order > 0) untracked.push(`${name}: ${entry.quantity} tokens billed, ${tracked} tracked`);
    else if (order < 0) notBilled.push(`${name}: ${tracked} tokens tracked, ${entry.quantity} billed`);
    else if (!entry.quantity.isZero()) {
      const rate = rateOf(m.model, kinds, g.day);
      if (rate === null) continue;
      const expected = rate.multiply(entry.quantity).shiftRight(6);
      if (expected.equals(entry.amount)) continue;
      rates.push({
        line_item: name,
        model: m.model,
        kind: entry.kind,
        tokens: entry.quantity.toFixedString(),
        billed_usd: entry.amount.toFixedString(),
        expected_usd: expected.toFixedString(),
        billed_per_1m_usd: entry.amount.shiftLeft(6).divide(entry.quantity, 6).toFixedString(),
        tracked_per_1m_usd: rate.toFixedString(),
      });
    }
  }

  const causes: Cause[] = [];
  if (untracked.length > 0)
    causes.push({
      cause: 'untracked_calls',
      detail: `OpenAI billed usage TokenTally has no event for (calls made without the SDK, another app on the same OpenAI project, or events that never arrived): ${untracked.join('; ')}.`,
      missing_calls: Number(missingCalls),
      findings: untracked,
    });
  if (notBilled.length > 0)
    causes.push({
      cause: 'tracked_not_billed',
      detail: `TokenTally has calls OpenAI did not bill on this day and project (test events, calls made with another organization's key, events with a wrong date, or the bill not settled yet): ${notBilled.join('; ')}.`,
      extra_calls: Number(extraCalls),
      findings: notBilled,
    });
  if ((row.unpricedEvents ?? 0n) > 0n)
    causes.push({
      cause: 'unpriced_events',
      detail: `${row.unpricedEvents} tracked calls have no price, so their cost is missing from tracked (set a price, then re-price the range).`,
      events: Number(row.unpricedEvents!),
    });
  if ((row.partialEvents ?? 0n) > 0n)
    causes.push({
      cause: 'partially_priced_events',
      detail: `${row.partialEvents} tracked calls are priced only in part (a token kind has no rate), so part of their cost is missing from tracked.`,
      events: Number(row.partialEvents!),
    });
  const credited = sumDec(g.costs.filter((c) => c.currency === 'usd' && c.amount.isNegative()).map((c) => c.amount));
  if (credited.isNegative())
    causes.push({
      cause: 'credits',
      detail: `The bill holds credits or refunds of ${formatUsd(credited.abs())} (negative line items), which TokenTally does not track.`,
      credited_usd: formatUsd(credited),
    });
  if (causes.length === 0 && evidence) {
    // Usage agrees on both sides and every call is priced: the money differs by the rates.
    const perModel = models
      .filter((m) => m.tracked && m.billedUsd !== null && !m.billedUsd.equals(m.trackedUsd))
      .map((m) => `${m.model}: billed ${formatUsd(m.billedUsd!)}, tracked ${formatUsd(m.trackedUsd)}`);
    const which = rates.length
      ? rates
          .map(
            (r) =>
              `${r.line_item}: billed ${r.billed_per_1m_usd} USD per 1M tokens, TokenTally ${r.tracked_per_1m_usd}`,
          )
          .join('; ')
      : perModel.join('; ');
    causes.push({
      cause: 'price_drift',
      detail: `The same usage on both sides costs a different amount: a rate differs (a price change, a negotiated rate or discount not entered as an override, or a wrong price in TokenTally)${which ? `: ${which}` : ''}.`,
      rates,
    });
  }
  // Usage counted but no cost given: the bill of that day is not complete (OpenAI's costs come later than its usage),
  // not TokenTally missing calls or a rate: nothing else can be read from it yet.
  if ((row.billedUsd === null || row.billedUsd.isZero()) && (row.billedRequests ?? 0n) > 0n) {
    const kept = causes.filter((c) => !['untracked_calls', 'price_drift'].includes(c.cause));
    causes.splice(0, causes.length, ...kept);
    causes.push({
      cause: 'usage_without_cost',
      detail: `OpenAI's usage counts ${row.billedRequests} requests on this day and project, but its costs give no amount for them: the bill is not complete yet (costs arrive later than usage), or the usage is free. Reconcile the day again once it is settled.`,
      requests: Number(row.billedRequests),
    });
  }
  if (causes.length === 0)
    causes.push({
      cause: 'unexplained',
      detail:
        "Billed and tracked differ and OpenAI's usage figures do not say why (the bill gives no usage to compare for this day and project).",
    });
  return causes;
}
