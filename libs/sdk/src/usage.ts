import { PROVIDER_COST_TEXT } from './fit';
import { callsFromGatewayImage, GatewayFacts } from './gateway';
import { TokenUsage } from './types';

/**
 * Usage extraction from OpenAI's wire formats, kept apart from the HTTP
 * plumbing so it can be tested on recorded responses. OpenAI counts cached
 * tokens as a subset of input tokens; TokenTally's six kinds are disjoint.
 */

export type Operation = 'images.generate' | 'images.edit' | 'responses.create' | 'chat.completions.create';

/** The tracked operation of a request path, or null for calls that are not tracked. */
export function operationOf(pathname: string): Operation | null {
  let end = pathname.length;
  while (end > 0 && pathname.charCodeAt(end - 1) === 47 /* / */) end--;
  const path = end === pathname.length ? pathname : pathname.slice(0, end);
  if (path.endsWith('/images/generations')) return 'images.generate';
  if (path.endsWith('/images/edits')) return 'images.edit';
  if (path.endsWith('/responses')) return 'responses.create';
  if (path.endsWith('/chat/completions')) return 'chat.completions.create';
  return null;
}

/** What the request body tells: the Images API response has no model field. */
export interface RequestFacts {
  model: string | null;
  stream: boolean;
  size: string | null;
  quality: string | null;
  /** Responses API: the model of the image_generation tool, when the request offers it. */
  imageToolModel: string | null;
  imageToolSize: string | null;
  imageToolQuality: string | null;
  /** A Vercel AI Gateway image call (gateway.ts): its answer is read in the gateway's own format. */
  gateway?: GatewayFacts;
}

export const EMPTY_FACTS: RequestFacts = {
  model: null,
  stream: false,
  size: null,
  quality: null,
  imageToolModel: null,
  imageToolSize: null,
  imageToolQuality: null,
};

/** The image_generation tool's default model when the request names none. */
export const DEFAULT_IMAGE_TOOL_MODEL = 'gpt-image-1';

const str = (value: unknown): string | null => (typeof value === 'string' && value ? value : null);

/** Facts from a parsed JSON body, or from a multipart form's fields. */
export function requestFacts(fields: { get(name: string): unknown } | Record<string, unknown> | null): RequestFacts {
  if (!fields) return { ...EMPTY_FACTS };
  const get = (name: string): unknown =>
    typeof (fields as { get?: unknown }).get === 'function'
      ? (fields as { get(n: string): unknown }).get(name)
      : (fields as Record<string, unknown>)[name];
  const facts: RequestFacts = {
    ...EMPTY_FACTS,
    model: str(get('model')),
    stream: get('stream') === true || get('stream') === 'true',
    size: str(get('size')),
    quality: str(get('quality')),
  };
  const tools = get('tools');
  if (Array.isArray(tools)) {
    const tool = tools.find(
      (t) => t && typeof t === 'object' && (t as { type?: unknown }).type === 'image_generation',
    ) as Record<string, unknown> | undefined;
    if (tool) {
      facts.imageToolModel = str(tool.model) ?? DEFAULT_IMAGE_TOOL_MODEL;
      facts.imageToolSize = str(tool.size);
      facts.imageToolQuality = str(tool.quality);
    }
  }
  return facts;
}

/**
 * The facts with what the API does when the request leaves a setting out, where
 * the price depends on it: DALL-E 2 and 3 make 1024x1024 images by default, and
 * DALL-E 3 at `standard` quality (OpenAI's Images API reference). The answer
 * says neither, so without this the most common DALL-E call would go unpriced.
 */
export function withApiDefaults(facts: RequestFacts): RequestFacts {
  const model = facts.model?.toLowerCase() ?? '';
  const dalle = /(^|\/)dall-e-[23]$/.exec(model);
  if (!dalle) return facts;
  if (!facts.size) facts.size = '1024x1024';
  if (!facts.quality && model.endsWith('dall-e-3')) facts.quality = 'standard';
  return facts;
}

/** One billable call found in a response; a Responses call with the image tool gives two. */
export interface ExtractedCall {
  model: string | null;
  usage: TokenUsage;
  images?: number;
  image_size?: string;
  image_quality?: string;
  /** Distinguishes the second call of one request (the image tool's). */
  part?: 'image_generation';
  /** Set when this part failed although the request succeeded (an image tool call that made no image). */
  status?: 'error';
  /** What the provider reported the call cost (OpenRouter's `usage.cost`), USD as a decimal string. */
  provider_cost_usd?: string;
}

/**
 * The cost a provider reports in a call's usage (OpenRouter: `usage.cost`, USD),
 * as a plain decimal string. The answer's JSON number was parsed to a double by
 * the caller; its shortest round-trip text (what `String` gives) is the
 * number as the provider wrote it whenever it wrote 15 significant digits or
 * fewer, and is written out without an exponent. Negative, absurd or
 * non-numeric values are no reported cost.
 */
export function providerCostOf(rawUsage: unknown): string | undefined {
  const cost = obj(rawUsage)?.cost;
  if (typeof cost === 'string') return PROVIDER_COST_TEXT.test(cost) ? cost : undefined;
  if (typeof cost !== 'number' || !Number.isFinite(cost) || cost < 0 || cost >= 1e12) return undefined;
  const text = plainDecimal(String(cost));
  return PROVIDER_COST_TEXT.test(text) ? text : undefined;
}

/** `1.5e-7` -> `0.00000015`; a text without an exponent as it is. */
function plainDecimal(text: string): string {
  const e = text.search(/e/i);
  if (e < 0) return text;
  const exponent = Number(text.slice(e + 1));
  const [whole, fraction = ''] = text.slice(0, e).split('.');
  const digits = whole + fraction;
  const point = whole.length + exponent;
  if (point <= 0) return `0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return digits + '0'.repeat(point - digits.length);
  return `${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** The calls with the provider's reported cost put on the first (the request's own call). */
function withProviderCost(calls: ExtractedCall[], rawUsage: unknown): ExtractedCall[] {
  const cost = providerCostOf(rawUsage);
  if (cost !== undefined && calls.length > 0) calls[0].provider_cost_usd = cost;
  return calls;
}

const count = (value: unknown): number =>
  typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
const obj = (value: unknown): Record<string, unknown> | null =>
  value && typeof value === 'object' ? (value as Record<string, unknown>) : null;

export function emptyUsage(): TokenUsage {
  return {
    input_text_tokens: 0,
    cached_input_text_tokens: 0,
    input_image_tokens: 0,
    cached_input_image_tokens: 0,
    output_image_tokens: 0,
    output_text_tokens: 0,
  };
}

/** For an image model, output tokens are image output unless the response splits them. */
export function isImageModel(model: string | null): boolean {
  // gpt-image-*, chatgpt-image-*, dall-e-*, imagen-*, and the image models of chat families named `-image`
  // (gemini-2.5-flash-image, gemini-3-pro-image-preview, OpenRouter's gpt-5-image).
  return !!model && /(^|\/)(gpt-image|chatgpt-image|dall-e|imagen)|-image(-|$)/i.test(model);
}

/**
 * Images API usage (also the image tool's `tool_usage.image_gen`):
 * `{input_tokens, input_tokens_details {text_tokens, image_tokens}, output_tokens, output_tokens_details?}`.
 */
export function imageUsage(raw: unknown): TokenUsage {
  const u = obj(raw);
  const usage = emptyUsage();
  if (!u) return usage;
  const input = count(u.input_tokens);
  const inDetails = obj(u.input_tokens_details);
  let inputImage = count(inDetails?.image_tokens);
  let inputText =
    inDetails && typeof inDetails.text_tokens === 'number'
      ? count(inDetails.text_tokens)
      : Math.max(0, input - inputImage);
  // Cached input is not in the published image usage types; if it appears,
  // it is a subset of input: take it out of the kind it belongs to.
  const cached = count(inDetails?.cached_tokens);
  if (cached > 0) {
    const cachedDetails = obj(inDetails?.cached_tokens_details);
    const cachedImage = cachedDetails
      ? Math.min(inputImage, count(cachedDetails.image_tokens))
      : Math.max(0, cached - inputText);
    const cachedText = Math.min(inputText, cached - cachedImage);
    inputText -= cachedText;
    inputImage -= cachedImage;
    usage.cached_input_text_tokens = cachedText;
    usage.cached_input_image_tokens = cachedImage;
  }
  usage.input_text_tokens = inputText;
  usage.input_image_tokens = inputImage;
  const output = count(u.output_tokens);
  const outDetails = obj(u.output_tokens_details);
  if (outDetails) {
    usage.output_image_tokens = count(outDetails.image_tokens);
    usage.output_text_tokens = count(outDetails.text_tokens);
  } else {
    usage.output_image_tokens = output;
  }
  return usage;
}

/** Responses API usage of the main model: cached tokens are a subset of input tokens. */
export function responsesUsage(raw: unknown, model: string | null): TokenUsage {
  const u = obj(raw);
  const usage = emptyUsage();
  if (!u) return usage;
  const input = count(u.input_tokens);
  const cached = Math.min(input, count(obj(u.input_tokens_details)?.cached_tokens));
  usage.input_text_tokens = input - cached;
  usage.cached_input_text_tokens = cached;
  const output = count(u.output_tokens);
  if (isImageModel(model)) usage.output_image_tokens = output;
  else usage.output_text_tokens = output;
  return usage;
}

/** Chat Completions usage: `prompt_tokens_details {cached_tokens, image_tokens, text_tokens}`. */
export function chatUsage(raw: unknown, model: string | null): TokenUsage {
  const u = obj(raw);
  const usage = emptyUsage();
  if (!u) return usage;
  const prompt = count(u.prompt_tokens);
  const details = obj(u.prompt_tokens_details);
  const image = Math.min(prompt, count(details?.image_tokens));
  const cached = Math.min(prompt - image, count(details?.cached_tokens));
  usage.input_image_tokens = image;
  usage.cached_input_text_tokens = cached;
  usage.input_text_tokens = prompt - image - cached;
  const completion = count(u.completion_tokens);
  const outDetails = obj(u.completion_tokens_details);
  if (outDetails && typeof outDetails.image_tokens === 'number') {
    // OpenRouter splits them: the image tokens of the completion, the rest text (and reasoning).
    usage.output_image_tokens = Math.min(completion, count(outDetails.image_tokens));
    usage.output_text_tokens = completion - usage.output_image_tokens;
  } else if (isImageModel(model)) {
    const text = count(outDetails?.text_tokens);
    usage.output_text_tokens = Math.min(text, completion);
    usage.output_image_tokens = completion - usage.output_text_tokens;
  } else {
    usage.output_text_tokens = completion;
  }
  return usage;
}

/** The calls in a complete (non-streamed) JSON response body. */
export function callsFromResponse(operation: Operation, facts: RequestFacts, body: unknown): ExtractedCall[] {
  const b = obj(body);
  if (!b) return [];
  if (facts.gateway) return callsFromGatewayImage(facts, b);
  switch (operation) {
    case 'images.generate':
    case 'images.edit':
      return withProviderCost(
        [
          {
            model: facts.model,
            usage: imageUsage(b.usage),
            images: Array.isArray(b.data) ? b.data.length : undefined,
            image_size: str(b.size) ?? facts.size ?? undefined,
            image_quality: str(b.quality) ?? facts.quality ?? undefined,
          },
        ],
        b.usage,
      );
    case 'responses.create':
      return withProviderCost(callsFromResponsesObject(facts, b), b.usage);
    case 'chat.completions.create': {
      const model = str(b.model) ?? facts.model;
      const images = chatImages(b.choices);
      return withProviderCost([{ model, usage: chatUsage(b.usage, model), ...(images ? { images } : {}) }], b.usage);
    }
  }
}

/** Images a chat answer carries (OpenRouter's `message.images`), or 0. */
function chatImages(choices: unknown): number {
  if (!Array.isArray(choices)) return 0;
  let images = 0;
  for (const choice of choices) {
    const made = obj(obj(choice)?.message)?.images;
    if (Array.isArray(made)) images += made.length;
  }
  return images;
}

/**
 * A Responses API `response` object: the main model's call, and the image
 * tool's when it ran. Per the published schema an `image_generation_call`
 * output item is `{type, id, status, result}`: it has no usage, size or
 * quality of its own. So the tool's call is priced from `tool_usage.image_gen`
 * when the answer carries it (seen in real traffic, not in the schema), else
 * recorded with what is known (images made, the size and quality the request's
 * tool asked for) and all-zero tokens, never invented ones.
 */
export function callsFromResponsesObject(facts: RequestFacts, response: Record<string, unknown>): ExtractedCall[] {
  const model = str(response.model) ?? facts.model;
  const calls: ExtractedCall[] = [{ model, usage: responsesUsage(response.usage, model) }];
  const output = Array.isArray(response.output) ? response.output : [];
  const imageCalls = output
    .map(obj)
    .filter((item): item is Record<string, unknown> => item?.type === 'image_generation_call');
  const toolUsage = obj(obj(response.tool_usage)?.image_gen);
  if (toolUsage || imageCalls.length > 0) {
    // An image is made when its call has a result; a failed call's result is null.
    const made = imageCalls.filter((item) => typeof item.result === 'string' && item.result.length > 0);
    // Not in the schema, but read when a server adds them: they say what was made, the request only what was asked.
    const described = made.find((item) => str(item.size) || str(item.quality));
    calls.push({
      model: facts.imageToolModel ?? DEFAULT_IMAGE_TOOL_MODEL,
      usage: imageUsage(toolUsage),
      images: made.length,
      image_size: str(described?.size) ?? facts.imageToolSize ?? undefined,
      image_quality: str(described?.quality) ?? facts.imageToolQuality ?? undefined,
      part: 'image_generation',
      ...(made.length === 0 ? { status: 'error' as const } : {}),
    });
  }
  return calls;
}

/** Images API stream events that carry usage (one per final image); partial images carry none. */
const IMAGE_USAGE_EVENTS = new Set(['image_generation.completed', 'image_edit.completed']);
/** Responses API stream events that carry the final response with its usage. */
const RESPONSE_USAGE_EVENTS = new Set(['response.completed', 'response.incomplete', 'response.failed']);

/**
 * Whether a stream event of this `type` (null: the data does not start with
 * one) can give callsFromStreamEvent anything, so that the others are never
 * read: partial images and output items are hundreds of KB of base64.
 */
export function streamEventFilter(operation: Operation): (type: string | null) => boolean {
  switch (operation) {
    case 'images.generate':
    case 'images.edit':
      return (type) => type === null || IMAGE_USAGE_EVENTS.has(type);
    case 'responses.create':
      return (type) => type === null || RESPONSE_USAGE_EVENTS.has(type);
    case 'chat.completions.create':
      return () => true; // chunks have no type; usage comes in the last one
  }
}

/**
 * The calls in one server-sent event of a streamed response, or null while
 * the stream has not said its usage yet.
 */
export function callsFromStreamEvent(
  operation: Operation,
  facts: RequestFacts,
  data: Record<string, unknown>,
): ExtractedCall[] | null {
  const type = str(data.type);
  switch (operation) {
    case 'images.generate':
    case 'images.edit':
      if (!type || !IMAGE_USAGE_EVENTS.has(type)) return null;
      return withProviderCost(
        [
          {
            model: facts.model,
            usage: imageUsage(data.usage),
            images: 1,
            image_size: str(data.size) ?? facts.size ?? undefined,
            image_quality: str(data.quality) ?? facts.quality ?? undefined,
          },
        ],
        data.usage,
      );
    case 'responses.create': {
      if (!type || !RESPONSE_USAGE_EVENTS.has(type)) return null;
      const response = obj(data.response);
      return response ? withProviderCost(callsFromResponsesObject(facts, response), response.usage) : null;
    }
    case 'chat.completions.create': {
      const usage = obj(data.usage);
      if (!usage) return null;
      const model = str(data.model) ?? facts.model;
      return withProviderCost([{ model, usage: chatUsage(usage, model) }], usage);
    }
  }
}

/**
 * What a whole streamed response billed, fed one usage-carrying event at a time.
 *
 * Images API streams: each `image_generation.completed` / `image_edit.completed`
 * event is one final image and carries that image's `usage` (required in the
 * schema; partial-image events carry none). With `n` > 1 the stream has one
 * completed event per image and no request-level total, so every completed
 * event counts once: images are counted and their usage added up, in one
 * event for the call. Responses and Chat Completions say their usage once,
 * in the last event that has it.
 */
export class StreamTally {
  private images: ExtractedCall | null = null;
  private last: ExtractedCall[] | null = null;

  constructor(
    private readonly operation: Operation,
    private readonly facts: RequestFacts,
  ) {}

  add(data: Record<string, unknown>): void {
    const found = callsFromStreamEvent(this.operation, this.facts, data);
    if (!found) return;
    if (this.operation !== 'images.generate' && this.operation !== 'images.edit') {
      this.last = found;
      return;
    }
    for (const call of found) {
      if (!this.images) {
        this.images = { ...call, usage: { ...call.usage } };
        continue;
      }
      const total = this.images;
      for (const kind of Object.keys(total.usage) as Array<keyof TokenUsage>) total.usage[kind] += call.usage[kind];
      total.images = (total.images ?? 0) + (call.images ?? 0);
      total.image_size ??= call.image_size;
      total.image_quality ??= call.image_quality;
    }
  }

  calls(): ExtractedCall[] {
    return this.images ? [this.images] : (this.last ?? []);
  }
}
