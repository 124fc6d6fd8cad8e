import type { Attribution } from './context';
import { PROVIDER_COST_TEXT } from './fit';
import { parseSkimmed } from './skim';
import type { TokenUsage } from './types';
import type { ExtractedCall, Operation, RequestFacts } from './usage';

/**
 * The Vercel AI Gateway's own wire format for image models: what
 * `@ai-sdk/gateway` 3.x (the AI SDK 6's `createGateway`, and its default
 * `gateway` provider) sends for `generateImage`. Read from its source
 * (`GatewayImageModel` in node_modules/@ai-sdk/gateway/dist) and a recorded
 * live answer (vercel/ai, packages/gateway/src/__fixtures__):
 *
 *   POST {baseURL}/image-model          baseURL: https://ai-gateway.vercel.sh/v3/ai by default
 *   Authorization: Bearer <API key or Vercel OIDC token>, ai-gateway-auth-method: api-key | oidc,
 *   ai-gateway-protocol-version: 0.0.1, ai-image-model-specification-version: 3,
 *   ai-model-id: openai/gpt-image-2      the model is named here, not in the body
 *   {"prompt", "n", "size"?, "aspectRatio"?, "seed"?, "providerOptions"?, "files"?, "mask"?}
 *
 *   200 {"images": ["<base64>", ...], "warnings"?: [...],
 *        "providerMetadata"?: {"openai": {"images": [{"size", "quality", "imageTokens", "textTokens", ...}]},
 *                              "gateway": {"routing": {...}, "cost": "0.168555", "generationId": ...}},
 *        "usage"?: {"inputTokens", "outputTokens", "totalTokens"}}
 *
 * `providerOptions` (all of it, every provider's key) goes in the body, so
 * `providerOptions: { tokentally: {...} }` reaches the middleware: it is read
 * as per-call attribution and taken out before the request leaves.
 */

/** The provider slug of a gateway call: who bills it. */
export const GATEWAY_PROVIDER = 'vercel';
/** The event tag that keeps the model's own provider (`openai` of `openai/gpt-image-2`). */
export const UPSTREAM_PROVIDER_TAG = 'upstream_provider';
/** The key of `providerOptions` read as attribution. */
export const PROVIDER_OPTIONS_KEY = 'tokentally';

/** What the request of a gateway image call tells before it leaves. */
export interface GatewayImageCall {
  /** `openai/gpt-image-2`, from the `ai-model-id` header. */
  modelId: string;
  /** `openai`: the part before the first `/` of the model id, or null when it has none. */
  upstream: string | null;
  /** `images.edit` when the request carries input images (`files`), as OpenAI's own API would name it. */
  operation: Operation;
  /** Per-call attribution of the request (headers, `providerOptions.tokentally`) with the upstream tag. */
  attribution: Attribution;
  /** The body to send instead, when `providerOptions.tokentally` was taken out of it. */
  body?: string;
}

/** What the gateway's answer is read with: the request facts, with the gateway's own. */
export interface GatewayFacts {
  upstream: string | null;
}

const str = (value: unknown): string | null => (typeof value === 'string' && value ? value : null);
const obj = (value: unknown): Record<string, unknown> | null =>
  value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
const count = (value: unknown): number =>
  typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;

/** Whether a request path is the gateway's image endpoint (`.../image-model`, trailing slashes ignored). */
export function isGatewayImagePath(path: string): boolean {
  let end = path.length;
  while (end > 0 && path.charCodeAt(end - 1) === 47 /* / */) end--;
  return end >= 12 && path.startsWith('/image-model', end - 12);
}

/** One header of a request, whatever form its headers take; null when absent. */
export function headerOf(headers: RequestInit['headers'] | undefined, name: string): string | null {
  if (!headers) return null;
  if (headers instanceof Headers) return headers.get(name);
  const wanted = name.toLowerCase();
  const entries: Iterable<[string, string]> = Array.isArray(headers)
    ? (headers as Array<[string, string]>)
    : Object.entries(headers as Record<string, string>);
  for (const [key, value] of entries) if (key.toLowerCase() === wanted && value != null) return String(value);
  return null;
}

const DIMENSIONS = ['team', 'user', 'feature', 'environment'] as const;

/** `providerOptions.tokentally` as attribution: its string dimensions and string tags, nothing else. */
export function attributionFromOptions(raw: unknown): Attribution | null {
  const options = obj(raw);
  if (!options) return null;
  const attribution: Attribution = {};
  for (const name of DIMENSIONS) {
    const value = str(options[name]);
    if (value) attribution[name] = value;
  }
  const tags = obj(options.tags);
  if (tags) {
    attribution.tags = {};
    for (const [key, value] of Object.entries(tags)) if (typeof value === 'string') attribution.tags[key] = value;
  }
  return attribution;
}

/**
 * A gateway image call's request, read before it leaves: null when the
 * request is not one (another path, or no `ai-model-id`). The body is parsed
 * here only when it mentions `"tokentally"` (then it is sent again without
 * `providerOptions.tokentally`, as it would have been sent without it);
 * otherwise its facts are read later, off the caller's path
 * (`gatewayImageFacts`). `attribution` is the request's own (its
 * X-TokenTally-* headers): it wins over `providerOptions.tokentally`; the
 * upstream tag is a fact of the call and wins over both.
 */
export function gatewayImageCall(
  path: string | null,
  init: RequestInit | undefined,
  attribution: Attribution | null,
): GatewayImageCall | null {
  if (path === null || !isGatewayImagePath(path)) return null;
  const modelId = headerOf(init?.headers, 'ai-model-id')?.trim();
  if (!modelId) return null;
  const slash = modelId.indexOf('/');
  const upstream = slash > 0 ? modelId.slice(0, slash).toLowerCase() : null;
  const body = init?.body;
  let fromOptions: Attribution | null = null;
  let replaced: string | undefined;
  let files = false;
  if (typeof body === 'string') {
    // `"files":[` outside a string: a quote inside a JSON string is escaped, so this is a key.
    files = body.includes('"files":[');
    if (body.includes(`"${PROVIDER_OPTIONS_KEY}"`)) {
      const taken = takeProviderOptions(body);
      if (taken) ({ attribution: fromOptions, body: replaced } = taken);
    }
  }
  const tags: Record<string, string> = { ...fromOptions?.tags, ...attribution?.tags };
  if (upstream) tags[UPSTREAM_PROVIDER_TAG] = upstream;
  return {
    modelId,
    upstream,
    operation: files ? 'images.edit' : 'images.generate',
    attribution: { ...fromOptions, ...attribution, tags },
    ...(replaced !== undefined ? { body: replaced } : {}),
  };
}

/** `providerOptions.tokentally` read and taken out of a JSON body; null when it has none (or is not JSON). */
function takeProviderOptions(body: string): { attribution: Attribution | null; body: string } | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return null;
  }
  const providerOptions = obj(obj(parsed)?.providerOptions);
  if (!providerOptions || !(PROVIDER_OPTIONS_KEY in providerOptions)) return null;
  const attribution = attributionFromOptions(providerOptions[PROVIDER_OPTIONS_KEY]);
  delete providerOptions[PROVIDER_OPTIONS_KEY];
  return { attribution, body: JSON.stringify(parsed) };
}

/** Bodies longer than this (input images inline) are parsed without their long strings. */
const MAX_PARSED_BODY = 256 * 1024;

/**
 * The request facts of a gateway image call: the model from its header, the
 * size from the body, the quality from the upstream provider's options
 * (`providerOptions.openai.quality`), where the AI SDK puts it.
 */
export function gatewayImageFacts(body: RequestInit['body'] | undefined, call: GatewayImageCall): RequestFacts {
  let request: Record<string, unknown> | null = null;
  if (typeof body === 'string') {
    try {
      request = obj(body.length <= MAX_PARSED_BODY ? JSON.parse(body) : parseSkimmed(body));
    } catch {
      // recorded with the model alone
    }
  }
  const providerOptions = obj(request?.providerOptions);
  const upstreamOptions = call.upstream ? obj(providerOptions?.[call.upstream]) : null;
  return {
    model: call.modelId,
    stream: false,
    size: str(request?.size),
    quality: str(upstreamOptions?.quality),
    imageToolModel: null,
    imageToolSize: null,
    imageToolQuality: null,
    gateway: { upstream: call.upstream },
  };
}

/**
 * The provider metadata entry that describes the images: the upstream
 * provider's (`providerMetadata.openai.images`), else the first other entry
 * but the gateway's own that has `images`.
 */
function imageMetadata(metadata: Record<string, unknown> | null, upstream: string | null): Record<string, unknown>[] {
  if (!metadata) return [];
  const entries = [
    ...(upstream ? [metadata[upstream]] : []),
    ...Object.entries(metadata)
      .filter(([key]) => key !== 'gateway' && key !== upstream)
      .map(([, value]) => value),
  ];
  for (const entry of entries) {
    const images = obj(entry)?.images;
    if (Array.isArray(images)) return images.map(obj).filter((image): image is Record<string, unknown> => !!image);
  }
  return [];
}

/**
 * The gateway's usage in TokenTally's six kinds. The gateway says
 * `inputTokens` and `outputTokens` only; input is split into text and image
 * tokens by the upstream's per-image `textTokens` / `imageTokens` when its
 * metadata has them (OpenAI's do), else it is all text (a prompt). For an
 * image model all output is image output. Nothing is cached in this format.
 */
export function gatewayUsage(raw: unknown, images: Record<string, unknown>[]): TokenUsage {
  const u = obj(raw);
  const input = count(u?.inputTokens);
  const split = images.some((image) => typeof image.imageTokens === 'number');
  const imageInput = split
    ? Math.min(
        input,
        images.reduce((sum, image) => sum + count(image.imageTokens), 0),
      )
    : 0;
  return {
    input_text_tokens: input - imageInput,
    cached_input_text_tokens: 0,
    input_image_tokens: imageInput,
    cached_input_image_tokens: 0,
    output_image_tokens: count(u?.outputTokens),
    output_text_tokens: 0,
  };
}

/**
 * What the gateway says it charged for the call: `providerMetadata.gateway.cost`,
 * a decimal string of USD (`"0.168555"`), sent as the event's `provider_cost_usd`
 * beside TokenTally's own price; anything else is no reported cost.
 */
export function gatewayCost(metadata: Record<string, unknown> | null): string | undefined {
  const cost = obj(metadata?.gateway)?.cost;
  return typeof cost === 'string' && PROVIDER_COST_TEXT.test(cost) ? cost : undefined;
}

/**
 * The call in a gateway image answer. Its images are always counted, with
 * the size and quality made (the upstream's metadata) or asked for (the
 * request): when the answer carries no token usage the call is then priced
 * per image where a per-image price exists, never as a priced $0.
 */
export function callsFromGatewayImage(facts: RequestFacts, body: Record<string, unknown>): ExtractedCall[] {
  const metadata = obj(body.providerMetadata);
  const images = imageMetadata(metadata, facts.gateway?.upstream ?? null);
  const described = images.find((image) => str(image.size) || str(image.quality));
  const cost = gatewayCost(metadata);
  return [
    {
      model: facts.model,
      usage: gatewayUsage(body.usage, images),
      images: Array.isArray(body.images) ? body.images.length : undefined,
      image_size: str(described?.size) ?? facts.size ?? undefined,
      image_quality: str(described?.quality) ?? facts.quality ?? undefined,
      ...(cost !== undefined ? { provider_cost_usd: cost } : {}),
    },
  ];
}
