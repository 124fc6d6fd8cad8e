import { UsageEvent } from './types';

/**
 * TokenTally's limits on an event's text (POST /v1/events refuses an event
 * that passes one, and a refused event is a billed call never counted).
 */
export const LIMITS = {
  provider: 100,
  model: 200,
  operation: 100,
  imageText: 50,
  dimension: 200,
  tags: 20,
  tagName: 64,
  tagValue: 200,
} as const;

/**
 * What TokenTally takes as `provider_cost_usd`: a decimal string, 12 digits
 * before the point and 24 after (providers compute costs in floats).
 */
export const PROVIDER_COST_TEXT = /^\d{1,12}(\.\d{1,24})?$/;

/** A lone surrogate: half of a pair without its other half (PostgreSQL text cannot hold it). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g');
const storable = (text: string) => !text.includes('\u0000') && !LONE_SURROGATE.test(text);

/** `text` as the server stores it: at most `max` UTF-16 units (a pair is never split), no NUL, no lone surrogate. */
export function fitText(value: string, max: number): string {
  const text = typeof value === 'string' ? value : String(value ?? ''); // from JavaScript callers, anything
  if (text.length <= max && storable(text)) return text;
  let cut = text.length <= max ? text : text.slice(0, max);
  const last = cut.charCodeAt(cut.length - 1);
  if (cut.length < text.length && last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  return cut.replaceAll('\u0000', '\uFFFD').replace(LONE_SURROGATES, '\uFFFD');
}

const fits = (value: string | undefined, max: number) =>
  value === undefined || (typeof value === 'string' && value.length <= max && storable(value));

/**
 * The event cut to the server's limits, so that the call is counted whatever
 * an attribute holds (an end user's id, a header, a tag of unbounded text):
 * texts cut to their length, NUL and lone surrogates replaced by U+FFFD, tags
 * past the 20th dropped, an empty model or provider named `unknown`. The same
 * object when it already fits (the common case: checked, not copied).
 */
export function fitEvent(event: UsageEvent): UsageEvent {
  const { dimensions, tags } = event;
  let tagCount = 0;
  let tagsFit = true;
  if (tags) {
    for (const key in tags) {
      if (
        ++tagCount > LIMITS.tags ||
        key.length === 0 ||
        !fits(key, LIMITS.tagName) ||
        !fits(tags[key], LIMITS.tagValue)
      ) {
        tagsFit = false;
        break;
      }
    }
  }
  if (
    tagsFit &&
    event.model.length > 0 &&
    event.provider.length > 0 &&
    fits(event.model, LIMITS.model) &&
    fits(event.provider, LIMITS.provider) &&
    fits(event.operation, LIMITS.operation) &&
    fits(event.image_size, LIMITS.imageText) &&
    fits(event.image_quality, LIMITS.imageText) &&
    (!dimensions ||
      (fits(dimensions.team, LIMITS.dimension) &&
        fits(dimensions.user, LIMITS.dimension) &&
        fits(dimensions.feature, LIMITS.dimension) &&
        fits(dimensions.environment, LIMITS.dimension)))
  ) {
    return event;
  }
  const text = (value: string | undefined, max: number) => (value === undefined ? undefined : fitText(value, max));
  const fitted: UsageEvent = {
    ...event,
    provider: fitText(event.provider, LIMITS.provider) || 'unknown',
    model: fitText(event.model, LIMITS.model) || 'unknown',
    operation: text(event.operation, LIMITS.operation),
    image_size: text(event.image_size, LIMITS.imageText),
    image_quality: text(event.image_quality, LIMITS.imageText),
  };
  if (dimensions) {
    fitted.dimensions = {};
    for (const name of ['team', 'user', 'feature', 'environment'] as const) {
      const value = dimensions[name];
      if (typeof value === 'string') fitted.dimensions[name] = fitText(value, LIMITS.dimension);
    }
  }
  if (tags) {
    const kept: Record<string, string> = {};
    let count = 0;
    for (const key in tags) {
      const name = fitText(key, LIMITS.tagName);
      if (name.length === 0 || name === '__proto__' || typeof tags[key] !== 'string') continue;
      if (++count > LIMITS.tags) break;
      kept[name] = fitText(tags[key], LIMITS.tagValue);
    }
    fitted.tags = kept;
  }
  for (const key of ['operation', 'image_size', 'image_quality'] as const)
    if (fitted[key] === undefined) delete fitted[key];
  return fitted;
}
