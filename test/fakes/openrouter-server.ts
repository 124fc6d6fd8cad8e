import { readFileSync } from 'node:fs';
import { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { TINY_PNG_B64 } from './openai-server';
import { promptText, RecordedRequest, startRecordingServer } from './recording-server';

/**
 * A local stand-in for OpenRouter's OpenAI-compatible API under `/api/v1`.
 * Where each shape comes from:
 *
 * - Image generation: openrouter.ai/docs/features/multimodal/image-generation:
 *   `POST /api/v1/chat/completions` with `modalities: ["image", "text"]`; the
 *   images come back in `choices[0].message.images[]` as
 *   `{type: "image_url", image_url: {url: "data:image/png;base64,..."}}`; streamed,
 *   in `delta.images`.
 * - Usage: openrouter.ai/docs/use-cases/usage-accounting: every answer carries
 *   `usage` (`usage: {include: true}` is deprecated and has no effect) with
 *   `prompt_tokens`, `completion_tokens`, `total_tokens`, `completion_tokens_details`,
 *   `prompt_tokens_details {cached_tokens, cache_write_tokens, audio_tokens}`,
 *   `cost` (USD, a JSON number) and `cost_details.upstream_inference_cost`
 *   (BYOK only); in a stream, in the last SSE message. The ChatUsage model of
 *   OpenRouterTeam/typescript-sdk adds `is_byok`.
 * - `completion_tokens_details.image_tokens`: a real image answer quoted in
 *   BerriAI/litellm, litellm/llms/openrouter/image_generation/transformation.py:
 *   google/gemini-2.5-flash-image, content "Here is a beautiful sunset for you! ",
 *   usage `{completion_tokens: 1299, prompt_tokens: 6, total_tokens: 1305,
 *   completion_tokens_details: {image_tokens: 1290}, cost: 0.0387243}`. That cost is
 *   exactly 6 x $0.30/M + 9 x $2.50/M + 1,290 x $30/M: `prompt` prices the input,
 *   `completion` the text output, `image_output` the image tokens. This fake
 *   reproduces that answer for a 24-character prompt.
 * - Streams start with `: OPENROUTER PROCESSING` comments (SSE comments).
 * - Errors: `{"error":{"message":"No auth credentials found","code":401}}`
 *   (musistudio/claude-code-router#227).
 *
 * Models and their prices: the real `GET /api/v1/models` answer in
 * test/fixtures/real/openrouter-models.json. The reported `cost` is what those
 * prices make, computed exactly, unless a test plants another one
 * (`reportNextCost`).
 */

export const OPENROUTER_REPLY_TEXT = 'Here is a beautiful sunset for you! ';
/** Image tokens per generated image: Gemini's 1,290 for 1024x1024, gpt-image's 4,160 (high, 1024x1024) for OpenAI's. */
export function openRouterImageTokens(model: string): number {
  return model.startsWith('openai/') ? 4160 : 1290;
}

interface OpenRouterModel {
  id: string;
  pricing: Record<string, string>;
  architecture?: { output_modalities?: string[] };
}

export type OpenRouterReceivedRequest = RecordedRequest;

export interface FakeOpenRouter {
  /** The host (`https://openrouter.ai`); the API is under `${url}/api/v1`. */
  url: string;
  received: OpenRouterReceivedRequest[];
  /** Report this `usage.cost` (USD) in the next answer instead of what the model's prices make. */
  reportNextCost(cost: number): void;
  close(): Promise<void>;
}

const FIXTURE = join(__dirname, '..', 'fixtures', 'real', 'openrouter-models.json');
const SCALE = 30n;

/** A decimal string as an integer of 10^-30 units (exact for OpenRouter's per-token prices). */
function units(text: string): bigint {
  const [whole, fraction = ''] = text.split('.');
  return BigInt(whole + fraction.padEnd(Number(SCALE), '0').slice(0, Number(SCALE)));
}

function unitsToNumber(value: bigint): number {
  const digits = value.toString().padStart(Number(SCALE) + 1, '0');
  return Number(`${digits.slice(0, -Number(SCALE))}.${digits.slice(-Number(SCALE))}`);
}

/** OpenRouter's charge for a call: prompt x `prompt` + text out x `completion` + image tokens x `image_output`. */
export function openRouterListCost(
  pricing: Record<string, string>,
  tokens: { prompt: number; text: number; image: number },
): number {
  const rate = (key: string) => (pricing[key] ? units(pricing[key]) : 0n);
  const imageRate = pricing.image_output ? rate('image_output') : rate('completion');
  return unitsToNumber(
    BigInt(tokens.prompt) * rate('prompt') +
      BigInt(tokens.text) * rate('completion') +
      BigInt(tokens.image) * imageRate,
  );
}

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

export async function startFakeOpenRouter(): Promise<FakeOpenRouter> {
  const models = new Map<string, OpenRouterModel>(
    (JSON.parse(readFileSync(FIXTURE, 'utf8')).data as OpenRouterModel[]).map((m) => [m.id, m]),
  );
  const plantedCosts: number[] = [];

  const handle = (req: OpenRouterReceivedRequest, res: ServerResponse) => {
    if (!/^Bearer \S+/.test(String(req.headers.authorization ?? ''))) {
      return json(res, 401, { error: { message: 'No auth credentials found', code: 401 } });
    }
    if (req.method !== 'POST' || req.path.replace(/\/+$/, '') !== '/api/v1/chat/completions') {
      return json(res, 404, { error: { message: `Not Found: ${req.method} ${req.path}`, code: 404 } });
    }
    let body: Record<string, any>;
    try {
      body = JSON.parse(req.body);
    } catch {
      return json(res, 400, { error: { message: 'Invalid JSON body', code: 400 } });
    }
    const model = models.get(String(body.model));
    if (!model) return json(res, 400, { error: { message: `${body.model} is not a valid model ID`, code: 400 } });

    const wantsImage =
      Array.isArray(body.modalities) &&
      body.modalities.includes('image') &&
      (model.architecture?.output_modalities ?? []).includes('image');
    const prompt = Math.max(1, Math.ceil(promptText(body.messages).length / 4));
    const text = Math.ceil(OPENROUTER_REPLY_TEXT.length / 4);
    const image = wantsImage ? openRouterImageTokens(model.id) : 0;
    const cost = plantedCosts.shift() ?? openRouterListCost(model.pricing, { prompt, text, image });
    const usage = {
      prompt_tokens: prompt,
      completion_tokens: text + image,
      total_tokens: prompt + text + image,
      cost,
      is_byok: false,
      prompt_tokens_details: { cached_tokens: 0, cache_write_tokens: 0, audio_tokens: 0 },
      cost_details: { upstream_inference_cost: null },
      completion_tokens_details: { reasoning_tokens: 0, image_tokens: image },
    };
    const images = wantsImage
      ? [{ type: 'image_url', image_url: { url: `data:image/png;base64,${TINY_PNG_B64}` }, index: 0 }]
      : undefined;
    const vendor = model.id.startsWith('openai/') ? 'OpenAI' : 'Google';
    const base = {
      id: `gen-${Date.now()}-fakeopenrouter`,
      provider: vendor,
      model: model.id,
      created: Math.floor(Date.now() / 1000),
    };

    if (body.stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const chunk = (choice: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
        `data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [choice], ...extra })}\n\n`;
      res.write(': OPENROUTER PROCESSING\n\n');
      res.write(
        chunk({
          index: 0,
          delta: { role: 'assistant', content: OPENROUTER_REPLY_TEXT },
          finish_reason: null,
          native_finish_reason: null,
          logprobs: null,
        }),
      );
      if (images) {
        res.write(
          chunk({
            index: 0,
            delta: { role: 'assistant', content: '', images },
            finish_reason: null,
            native_finish_reason: null,
            logprobs: null,
          }),
        );
      }
      res.write(
        chunk(
          {
            index: 0,
            delta: { role: 'assistant', content: '' },
            finish_reason: 'stop',
            native_finish_reason: 'STOP',
            logprobs: null,
          },
          { usage },
        ),
      );
      res.write('data: [DONE]\n\n');
      return res.end();
    }
    json(res, 200, {
      ...base,
      object: 'chat.completion',
      choices: [
        {
          logprobs: null,
          finish_reason: 'stop',
          native_finish_reason: 'STOP',
          index: 0,
          message: {
            role: 'assistant',
            content: OPENROUTER_REPLY_TEXT,
            refusal: null,
            reasoning: null,
            ...(images ? { images } : {}),
          },
        },
      ],
      usage,
    });
  };

  const server = await startRecordingServer(handle);
  return {
    ...server,
    reportNextCost: (cost) => {
      plantedCosts.push(cost);
    },
  };
}
