import { ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { TINY_PNG_B64 } from './openai-server';
import { RecordedRequest, startRecordingServer } from './recording-server';

/**
 * A local stand-in for the Vercel AI Gateway, speaking its own wire format
 * for image models as `@ai-sdk/gateway` 3.x (AI SDK 6) uses it:
 *
 *   POST {baseURL}/image-model       baseURL http://127.0.0.1:<port>/v3/ai (the real one: https://ai-gateway.vercel.sh/v3/ai)
 *   Authorization: Bearer <key>, ai-gateway-auth-method, ai-gateway-protocol-version,
 *   ai-image-model-specification-version: 3, ai-model-id: <provider>/<model>
 *   {"prompt", "n", "size"?, "aspectRatio"?, "seed"?, "providerOptions"?, "files"?, "mask"?}
 *
 * It answers as the live gateway does (a recorded answer is in vercel/ai,
 * packages/gateway/src/__fixtures__/issue-14360-gpt-image-1-inpainting-response.json):
 * `{images: [base64], warnings, providerMetadata: {<provider>: {images: [...]},
 * gateway: {routing, cost, ...}}, usage: {inputTokens, outputTokens, totalTokens}}`.
 * Errors are `{error: {message, type, param, code}, generationId}` with the
 * status the gateway gives (401 without a key, 404 for an unknown model).
 */

/** Image output tokens per image of OpenAI's image models (the published gpt-image-1 table). */
const OUTPUT_TOKENS: Record<string, Record<string, number>> = {
  low: { '1024x1024': 272, '1024x1536': 408, '1536x1024': 400 },
  medium: { '1024x1024': 1056, '1024x1536': 1584, '1536x1024': 1568 },
  high: { '1024x1024': 4160, '1024x1536': 6240, '1536x1024': 6208 },
};
/** Image input tokens an input image counts for (as the fake OpenAI counts an edit's image). */
const INPUT_IMAGE_TOKENS = 1290;
/** The models this gateway serves, with Vercel's listed rates (USD per 1M tokens: one input and one output rate). */
const MODELS: Record<string, { input: number; output: number }> = {
  'openai/gpt-image-2': { input: 5, output: 30 },
  'openai/gpt-image-1': { input: 5, output: 40 },
  'openai/gpt-image-1-mini': { input: 2, output: 8 },
};

export interface GatewayRequest extends RecordedRequest {
  /** The body parsed (JSON), or null. */
  json: Record<string, any> | null;
}

export interface FakeVercelGateway {
  /** The base URL to give `createGateway({ baseURL })`. */
  url: string;
  /** Every request received, in order. */
  received: GatewayRequest[];
  /** Answer the next request with exactly this JSON (queued; generated answers resume after). */
  serveNext(answer: { json: unknown; status?: number }): void;
  close(): Promise<void>;
}

/** The body parsed, or null (a body that is not JSON is answered 400 by handle()). */
function parsedBody(body: string): Record<string, any> | null {
  try {
    return body ? JSON.parse(body) : null;
  } catch {
    return null;
  }
}

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json', server: 'Vercel' });
  res.end(JSON.stringify(body));
}

function gatewayError(res: ServerResponse, status: number, type: string, message: string, param: unknown = null) {
  json(res, status, { error: { message, type, param, code: null }, generationId: `gen_${randomUUID()}` });
}

/** What the gateway answers for one image generation. */
export function imageAnswer(modelId: string, request: Record<string, any>) {
  const [upstream] = modelId.split('/');
  const rates = MODELS[modelId] ?? { input: 0, output: 0 };
  const n = Number(request.n ?? 1);
  const size = String(request.size ?? '1024x1024');
  const options = request.providerOptions?.[upstream] ?? {};
  const quality = String(options.quality ?? 'high');
  const textTokens = Math.max(1, Math.ceil(String(request.prompt ?? '').length / 4));
  const imageTokens = (Array.isArray(request.files) ? request.files.length : 0) * INPUT_IMAGE_TOKENS;
  const inputTokens = textTokens + imageTokens;
  const outputTokens = n * (OUTPUT_TOKENS[quality]?.[size] ?? 4160);
  // Each image carries its share of the input token details, as @ai-sdk/openai distributes them.
  const share = (total: number, i: number) =>
    i === n - 1 ? total - Math.floor(total / n) * (n - 1) : Math.floor(total / n);
  const created = Math.floor(Date.now() / 1000);
  const now = Date.now();
  const cost = ((inputTokens * rates.input + outputTokens * rates.output) / 1e6).toFixed(6);
  return {
    images: Array.from({ length: n }, () => TINY_PNG_B64),
    warnings: request.aspectRatio
      ? [
          {
            type: 'unsupported',
            feature: 'aspectRatio',
            details: 'This model does not support aspect ratio. Use `size` instead.',
          },
        ]
      : [],
    providerMetadata: {
      [upstream]: {
        images: Array.from({ length: n }, (_, i) => ({
          created,
          size,
          quality,
          background: 'opaque',
          outputFormat: 'png',
          imageTokens: share(imageTokens, i),
          textTokens: share(textTokens, i),
        })),
      },
      gateway: {
        routing: {
          originalModelId: modelId,
          resolvedProvider: upstream,
          fallbacksAvailable: [],
          planningReasoning: `System credentials planned for: ${upstream}. Total execution order: ${upstream}(system)`,
          canonicalSlug: modelId,
          finalProvider: upstream,
          modelAttemptCount: 1,
          modelAttempts: [
            {
              canonicalSlug: modelId,
              success: true,
              providerAttemptCount: 1,
              providerAttempts: [
                {
                  provider: upstream,
                  credentialType: 'system',
                  success: true,
                  startTime: now - 20,
                  endTime: now,
                  statusCode: 200,
                },
              ],
            },
          ],
          totalProviderAttemptCount: 1,
        },
        cost,
        marketCost: cost,
        surchargeCost: '0',
        gatewayCost: cost,
        inferenceCost: cost,
        generationId: `gen_${randomUUID().replace(/-/g, '').slice(0, 26).toUpperCase()}`,
      },
    },
    usage: { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens },
  };
}

function handle(req: GatewayRequest, res: ServerResponse) {
  if (req.method !== 'POST' || !req.path.endsWith('/image-model')) {
    return gatewayError(res, 404, 'not_found', `Unknown route: ${req.method} ${req.path}`);
  }
  const auth = String(req.headers.authorization ?? '');
  if (!/^Bearer \S+$/.test(auth)) {
    return gatewayError(res, 401, 'authentication_error', 'Invalid API key or OIDC token');
  }
  if (req.headers['ai-image-model-specification-version'] !== '3') {
    return gatewayError(res, 400, 'invalid_request_error', 'Unsupported image model specification version');
  }
  const modelId = String(req.headers['ai-model-id'] ?? '');
  if (!MODELS[modelId]) {
    return gatewayError(res, 404, 'model_not_found', `Model ${modelId} not found`, { modelId });
  }
  if (!req.json || typeof req.json.prompt !== 'string') {
    return gatewayError(res, 400, 'invalid_request_error', 'Invalid request body: prompt is required');
  }
  json(res, 200, imageAnswer(modelId, req.json));
}

export async function startFakeVercelGateway(): Promise<FakeVercelGateway> {
  const scripted: Array<{ json: unknown; status?: number }> = [];
  const server = await startRecordingServer<GatewayRequest>(
    (request, res) => {
      const answer = scripted.shift();
      if (answer) return json(res, answer.status ?? 200, answer.json);
      handle(request, res);
    },
    { record: (request) => ({ ...request, json: parsedBody(request.body) }) },
  );
  return {
    ...server,
    url: `${server.url}/v3/ai`,
    serveNext: (answer) => {
      scripted.push(answer);
    },
  };
}
