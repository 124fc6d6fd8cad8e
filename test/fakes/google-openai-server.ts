import { ServerResponse } from 'node:http';
import { TINY_PNG_B64 } from './openai-server';
import { promptText, RecordedRequest, startRecordingServer } from './recording-server';

/**
 * A local stand-in for the Gemini API's OpenAI-compatible endpoint,
 * `https://generativelanguage.googleapis.com/v1beta/openai/`. Where each shape
 * comes from:
 *
 * - Paths and auth: ai.google.dev/gemini-api/docs/openai: `POST .../v1beta/openai/chat/completions`
 *   and `POST .../v1beta/openai/images/generations` with `Authorization: Bearer GEMINI_API_KEY`;
 *   images.generate takes `model` (imagen-*, and in the current page gemini-2.5-flash-image),
 *   `prompt`, `n`, `size` and `response_format: "b64_json"` and answers the Images API's
 *   `{created, data: [{b64_json}]}`, priced per image: no usage.
 * - Chat answers: OpenAI's chat.completion with the documented usage
 *   `{prompt_tokens, completion_tokens, total_tokens}`; Gemini's candidatesTokenCount
 *   becomes completion_tokens, which for an image model is the image's 1,290 tokens
 *   (1024x1024; Google's pricing of gemini-2.5-flash-image, $30 per 1M image output
 *   tokens, "each 1024x1024 image = 1290 tokens = $0.039/image", as quoted from
 *   ai.google.dev/gemini-api/docs/pricing in pydantic/genai-prices#177). The compatibility layer does
 *   not split completion tokens by modality. Where a chat answer puts the image is
 *   not documented by Google: this fake sends it as a Markdown data URI in `content`,
 *   as gateways in front of this endpoint report it. TokenTally reads only `usage`.
 * - Errors: the compatibility endpoint wraps Google's error in a list,
 *   `[{"error": {"code", "message", "status"}}]` (continuedev/continue#8516); a call
 *   without credentials is Google's 401 UNAUTHENTICATED.
 */

/** Image output tokens of one 1024x1024 image of a Gemini image model. */
export const GEMINI_IMAGE_TOKENS = 1290;
const GEMINI_IMAGE_MODEL = /^gemini-[\d.]+-(flash|pro)(-lite)?-image/;

export type GoogleReceivedRequest = RecordedRequest;

export interface FakeGoogleOpenAI {
  /** The host; the API is under `${url}/v1beta/openai/`. */
  url: string;
  received: GoogleReceivedRequest[];
  close(): Promise<void>;
}

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
  res.end(JSON.stringify(body));
}

function googleError(res: ServerResponse, code: number, status: string, message: string) {
  json(res, code, [{ error: { code, message, status } }]);
}

function handle(req: GoogleReceivedRequest, res: ServerResponse) {
  if (!/^Bearer \S+/.test(String(req.headers.authorization ?? ''))) {
    return googleError(
      res,
      401,
      'UNAUTHENTICATED',
      'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
    );
  }
  let body: Record<string, any>;
  try {
    body = JSON.parse(req.body || '{}');
  } catch {
    return googleError(res, 400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.');
  }
  const path = req.path.replace(/\/+$/, '');
  const model = String(body.model ?? '').replace(/^models\//, '');
  const created = Math.floor(Date.now() / 1000);

  if (req.method === 'POST' && path === '/v1beta/openai/images/generations') {
    if (!/^imagen-|^gemini-.*-image/.test(model)) {
      return googleError(res, 400, 'INVALID_ARGUMENT', `Model ${model} does not support image generation.`);
    }
    const n = Number(body.n ?? 1);
    return json(res, 200, { created, data: Array.from({ length: n }, () => ({ b64_json: TINY_PNG_B64 })) });
  }

  if (req.method === 'POST' && path === '/v1beta/openai/chat/completions') {
    if (body.stream) {
      return googleError(res, 400, 'INVALID_ARGUMENT', 'This fake does not stream chat completions.');
    }
    const prompt = Math.max(1, Math.ceil(promptText(body.messages).length / 4));
    const image = GEMINI_IMAGE_MODEL.test(model);
    const content = image ? `![image](data:image/png;base64,${TINY_PNG_B64})` : 'Hello';
    const completion = image ? GEMINI_IMAGE_TOKENS : 2;
    return json(res, 200, {
      choices: [{ finish_reason: 'stop', index: 0, message: { content, role: 'assistant' } }],
      created,
      id: 'fakeGoogleCompletionId',
      model,
      object: 'chat.completion',
      usage: { completion_tokens: completion, prompt_tokens: prompt, total_tokens: prompt + completion },
    });
  }

  googleError(res, 404, 'NOT_FOUND', `Method not found: ${req.method} ${req.path}`);
}

export async function startFakeGoogleOpenAI(): Promise<FakeGoogleOpenAI> {
  return startRecordingServer(handle);
}
