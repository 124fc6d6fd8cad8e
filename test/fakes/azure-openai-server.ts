import { ServerResponse } from 'node:http';
import { TINY_PNG_B64 } from './openai-server';
import { RecordedRequest, startRecordingServer } from './recording-server';

/**
 * A local stand-in for Azure OpenAI, answering in its wire format. Where each
 * shape comes from:
 *
 * - Paths and auth: Azure OpenAI's data-plane reference (MicrosoftDocs/azure-ai-docs,
 *   articles/ai-foundry/openai/includes/api-versions/latest-inference-preview.md,
 *   api-version 2025-04-01-preview): `POST {endpoint}/openai/deployments/{deployment-id}/images/generations`,
 *   `/images/edits` (multipart, gpt-image-1 series), `/chat/completions`, each with a
 *   required `api-version` query parameter; auth by the `api-key` header or
 *   `Authorization: Bearer <Entra token>`. The v1 API of new-inference-preview.md:
 *   `POST {endpoint}/openai/v1/images/generations?api-version=preview` with the
 *   deployment named by `model` in the body (the openai client sends
 *   `Authorization: Bearer <api key>` there).
 * - How the real `openai` client calls it: node_modules/openai/src/azure.ts builds
 *   `${endpoint}/openai` + `/deployments/${deployment || body.model}` + the path,
 *   adds `api-version` to every query and sends the key as `api-key`.
 * - Image answers: the `AzureImagesResponse` schema (created, data[], background,
 *   output_format, quality, size, usage {input_tokens, input_tokens_details
 *   {image_tokens, text_tokens}, output_tokens, total_tokens}); "The GPT-image-1
 *   model doesn't return content filtering annotations". DALL-E 3 answers carry
 *   no usage: data[] of {url | b64_json, revised_prompt, prompt_filter_results,
 *   content_filter_results} (the reference's "Creates images given a prompt"
 *   example). No image answer names its model.
 * - Errors: `{"error":{"code":"401","message":"Access denied due to invalid subscription key
 *   or wrong API endpoint. ..."}}` as users report it (microsoft/semantic-kernel#10337,
 *   SciSharp/BotSharp#386); `DeploymentNotFound` and "Resource not found" are the
 *   service's answers to an unknown deployment and a missing api-version.
 * - Chat Completions: OpenAI's chat.completion plus Azure's prompt_filter_results and
 *   per-choice content_filter_results.
 *
 * Token counts are the fake's own (text: a token per 4 prompt characters; image
 * output: OpenAI's published gpt-image-1 table), as in openai-server.ts.
 */

/** Output tokens per image of the gpt-image models (the published gpt-image-1 table). */
const OUTPUT_TOKENS: Record<string, Record<string, number>> = {
  low: { '1024x1024': 272, '1024x1536': 408, '1536x1024': 400 },
  medium: { '1024x1024': 1056, '1024x1536': 1584, '1536x1024': 1568 },
  high: { '1024x1024': 4160, '1024x1536': 6240, '1536x1024': 6208 },
};
/** Image input tokens per input image of an edit (the fake's figure, as in openai-server.ts). */
export const AZURE_INPUT_IMAGE_TOKENS = 1290;
const DALLE3_SIZES = new Set(['1024x1024', '1792x1024', '1024x1792']);

/** Deployment name -> the model deployed under it, as an Azure resource would have them. */
export const DEFAULT_AZURE_DEPLOYMENTS: Record<string, string> = {
  'img-prod': 'gpt-image-2',
  'dall-e-3': 'dall-e-3',
  'chat-prod': 'gpt-4.1',
};

export const AZURE_ACCESS_DENIED = {
  error: {
    code: '401',
    message:
      'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.',
  },
};

export type AzureReceivedRequest = RecordedRequest;

export interface FakeAzureOpenAI {
  /** The resource endpoint (`https://<resource>.openai.azure.com` of the real service). */
  url: string;
  /** Every request received, in order. */
  received: AzureReceivedRequest[];
  close(): Promise<void>;
}

const FILTER_SAFE = {
  hate: { filtered: false, severity: 'safe' },
  self_harm: { filtered: false, severity: 'safe' },
  sexual: { filtered: false, severity: 'safe' },
  violence: { filtered: false, severity: 'safe' },
};

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json', 'apim-request-id': 'fake-apim-request' });
  res.end(JSON.stringify(body));
}

function azureError(res: ServerResponse, status: number, code: string, message: string) {
  json(res, status, { error: { code, message } });
}

/** Reads a field of a multipart/form-data body (enough for the fields the openai client sends). */
function formField(body: string, name: string): string | null {
  const match = new RegExp(`name="${name}"\\r\\n(?:[^\\r\\n]+\\r\\n)*\\r\\n([^\\r]*)\\r\\n`).exec(body);
  return match ? match[1] : null;
}

/** Input images of a multipart edit: `image` or `image[]` parts that carry a file. */
function inputImages(body: string): number {
  return (body.match(/name="image(?:\[\])?"; filename=/g) ?? []).length;
}

function imagesAnswer(res: ServerResponse, model: string, field: (name: string) => unknown, edit: boolean) {
  const created = Math.floor(Date.now() / 1000);
  const prompt = String(field('prompt') ?? '');
  const n = Number(field('n') ?? 1);
  if (model === 'dall-e-3') {
    const size = String(field('size') ?? '1024x1024');
    const quality = String(field('quality') ?? 'standard');
    if (edit)
      return azureError(res, 400, 'OperationNotSupported', 'The images/edits operation does not work with dall-e-3.');
    if (n !== 1 || !DALLE3_SIZES.has(size) || (quality !== 'standard' && quality !== 'hd')) {
      return azureError(
        res,
        400,
        'invalid_request_error',
        'The request is not valid for dall-e-3 (n must be 1; size 1024x1024, 1792x1024 or 1024x1792; quality standard or hd).',
      );
    }
    const asB64 = field('response_format') === 'b64_json';
    return json(res, 200, {
      created,
      data: [
        {
          ...(asB64
            ? { b64_json: TINY_PNG_B64 }
            : { url: 'https://dalleprodsec.blob.core.windows.net/private/images/fake/generated_00.png?se=fake' }),
          revised_prompt: `A vivid rendering of: ${prompt}`,
          prompt_filter_results: { ...FILTER_SAFE, profanity: { detected: false, filtered: false } },
          content_filter_results: FILTER_SAFE,
        },
      ],
    });
  }
  const size = String(field('size') ?? '1024x1024');
  const quality = String(field('quality') ?? 'high');
  const textTokens = Math.max(1, Math.ceil(prompt.length / 4));
  const imageTokens = edit ? AZURE_INPUT_IMAGE_TOKENS * Math.max(1, Number(field('__images') ?? 1)) : 0;
  const output = (OUTPUT_TOKENS[quality]?.[size] ?? 4160) * n;
  return json(res, 200, {
    created,
    background: 'opaque',
    data: Array.from({ length: n }, () => ({ b64_json: TINY_PNG_B64 })),
    output_format: 'png',
    quality,
    size,
    usage: {
      input_tokens: textTokens + imageTokens,
      input_tokens_details: { image_tokens: imageTokens, text_tokens: textTokens },
      output_tokens: output,
      total_tokens: textTokens + imageTokens + output,
    },
  });
}

function chatAnswer(res: ServerResponse, model: string, body: Record<string, any>) {
  const created = Math.floor(Date.now() / 1000);
  const text = JSON.stringify(body.messages ?? []);
  const prompt = Math.max(1, Math.ceil(text.length / 4));
  const usage = {
    completion_tokens: 2,
    completion_tokens_details: {
      accepted_prediction_tokens: 0,
      audio_tokens: 0,
      reasoning_tokens: 0,
      rejected_prediction_tokens: 0,
    },
    prompt_tokens: prompt,
    prompt_tokens_details: { audio_tokens: 0, cached_tokens: 0 },
    total_tokens: prompt + 2,
  };
  const base = { id: 'chatcmpl-fakeazure', created, model, system_fingerprint: 'fp_fakeazure' };
  if (body.stream) {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const withUsage = body.stream_options?.include_usage === true;
    const chunks: Array<Record<string, unknown> | string> = [
      {
        ...base,
        object: 'chat.completion.chunk',
        choices: [],
        prompt_filter_results: [{ prompt_index: 0, content_filter_results: FILTER_SAFE }],
      },
      {
        ...base,
        object: 'chat.completion.chunk',
        choices: [{ index: 0, delta: { role: 'assistant', content: 'Hello' }, finish_reason: null }],
      },
      { ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
      ...(withUsage ? [{ ...base, object: 'chat.completion.chunk', choices: [], usage }] : []),
      '[DONE]',
    ];
    for (const chunk of chunks) res.write(`data: ${typeof chunk === 'string' ? chunk : JSON.stringify(chunk)}\n\n`);
    return res.end();
  }
  json(res, 200, {
    ...base,
    object: 'chat.completion',
    choices: [
      {
        content_filter_results: FILTER_SAFE,
        finish_reason: 'stop',
        index: 0,
        logprobs: null,
        message: { annotations: [], content: 'Hello', refusal: null, role: 'assistant' },
      },
    ],
    prompt_filter_results: [{ prompt_index: 0, content_filter_results: FILTER_SAFE }],
    usage,
  });
}

function handle(req: AzureReceivedRequest, res: ServerResponse, deployments: Record<string, string>) {
  const hasKey = typeof req.headers['api-key'] === 'string' && req.headers['api-key'].length > 0;
  const hasBearer = /^Bearer \S+/.test(String(req.headers.authorization ?? ''));
  if (!hasKey && !hasBearer) return json(res, 401, AZURE_ACCESS_DENIED);

  const isJson = (req.headers['content-type'] ?? '').includes('json');
  let body: Record<string, any> = {};
  if (isJson && req.body) {
    try {
      body = JSON.parse(req.body);
    } catch {
      return azureError(res, 400, 'BadRequest', 'The request body is not valid JSON.');
    }
  }
  const field = (name: string): unknown =>
    name === '__images' ? inputImages(req.body) : isJson ? body[name] : formField(req.body, name);

  let deployment: string | null;
  let operation: string;
  const classic = /^\/openai\/deployments\/([^/]+)\/(images\/generations|images\/edits|chat\/completions)\/?$/.exec(
    req.path,
  );
  const v1 = /^\/openai\/v1\/(images\/generations|images\/edits|chat\/completions)\/?$/.exec(req.path);
  if (classic) {
    if (!req.query['api-version']) return azureError(res, 404, '404', 'Resource not found');
    deployment = decodeURIComponent(classic[1]);
    operation = classic[2];
  } else if (v1) {
    deployment = typeof field('model') === 'string' ? String(field('model')) : null;
    operation = v1[1];
  } else {
    return azureError(res, 404, '404', 'Resource not found');
  }
  const model = deployment === null ? undefined : deployments[deployment];
  if (!model) {
    return azureError(
      res,
      404,
      'DeploymentNotFound',
      'The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.',
    );
  }
  if (operation === 'chat/completions') return chatAnswer(res, model, body);
  return imagesAnswer(res, model, field, operation === 'images/edits');
}

/** Starts the fake on 127.0.0.1 at a random port; `deployments` maps deployment names to models. */
export async function startFakeAzureOpenAI(
  options: { deployments?: Record<string, string> } = {},
): Promise<FakeAzureOpenAI> {
  const deployments = options.deployments ?? DEFAULT_AZURE_DEPLOYMENTS;
  // latin1: a multipart edit's image bytes stay one character each.
  return startRecordingServer(
    (request, res) => {
      if (request.method !== 'POST') return azureError(res, 405, '405', 'Method not allowed');
      handle(request, res, deployments);
    },
    { bodyEncoding: 'latin1' },
  );
}
