import { z } from 'zod';
import { ApiOperationSpec, field } from '@tokentally/common';

/**
 * The OpenAPI description of POST /v1/otlp/v1/traces (docs/otlp.md). The body
 * is decoded by hand (json-decoder.ts, protobuf-decoder.ts: hostile input,
 * a span-by-span verdict); this schema describes the JSON form OTLP
 * exporters send, for the document and its example.
 */

const anyValueSchema = z.object({
  stringValue: z.string().optional(),
  boolValue: z.boolean().optional(),
  intValue: z.union([z.string().regex(/^-?\d+$/), z.number().int()]).optional(),
  doubleValue: z.number().optional(),
  arrayValue: z.object({ values: z.array(z.unknown()) }).optional(),
  kvlistValue: z.object({ values: z.array(z.unknown()) }).optional(),
  bytesValue: z.string().optional(),
});

const keyValueSchema = z.object({ key: z.string(), value: anyValueSchema });
const attributesSchema = z.array(keyValueSchema);
const unixNanoSchema = z
  .union([z.string().regex(/^\d+$/), z.number().int().min(0)])
  .meta({ description: 'Nanoseconds since the Unix epoch; a decimal string keeps it exact.' });

const spanSchema = z.object({
  traceId: z.string().regex(/^[0-9a-fA-F]{32}$/, 'must be 32 hex digits'),
  spanId: z.string().regex(/^[0-9a-fA-F]{16}$/, 'must be 16 hex digits'),
  parentSpanId: z.string().optional(),
  name: z.string().optional(),
  kind: z.number().int().optional(),
  startTimeUnixNano: unixNanoSchema.optional(),
  endTimeUnixNano: unixNanoSchema.optional(),
  attributes: attributesSchema.optional(),
  status: z.object({ code: z.number().int().min(0).max(2).optional(), message: z.string().optional() }).optional(),
});

const otlpTraceRequestSchema = z
  .object({
    resourceSpans: z
      .array(
        z.object({
          resource: z.object({ attributes: attributesSchema.optional() }).optional(),
          scopeSpans: z
            .array(
              z.object({
                scope: z.object({ name: z.string().optional(), version: z.string().optional() }).optional(),
                spans: z.array(spanSchema).optional(),
              }),
            )
            .optional(),
        }),
      )
      .optional(),
  })
  .meta({ description: 'An OTLP ExportTraceServiceRequest in its JSON encoding (or as application/x-protobuf).' });

const otlpQuerySchema = z.object({
  project_id: field
    .uuid()
    .optional()
    .meta({ description: 'The project to write to: required with an admin key; an ingest key writes to its own.' }),
});

const text = (key: string, value: string) => ({ key, value: { stringValue: value } });
const int = (key: string, value: number) => ({ key, value: { intValue: value } });

const REQUEST = {
  resourceSpans: [
    {
      resource: {
        attributes: [
          text('service.name', 'avatars'),
          text('deployment.environment.name', 'prod'),
          text('tokentally.team', 'growth'),
        ],
      },
      scopeSpans: [
        {
          scope: { name: 'image-client', version: '1.0.0' },
          spans: [
            {
              traceId: '5b8efff798038103d269b633813fc60c',
              spanId: 'eee19b7ec3c1b174',
              name: 'generate_content gpt-image-2',
              kind: 3,
              startTimeUnixNano: '1795774491876000000',
              endTimeUnixNano: '1795774500000000000',
              attributes: [
                text('gen_ai.provider.name', 'openai'),
                text('gen_ai.operation.name', 'generate_content'),
                text('gen_ai.request.model', 'gpt-image-2'),
                text('gen_ai.response.model', 'gpt-image-2-2026-04-21'),
                int('gen_ai.usage.input_tokens', 120),
                int('gen_ai.usage.output_tokens', 4160),
                text('enduser.id', 'u_42'),
                text('tokentally.tag.campaign', 'black-friday'),
              ],
              status: { code: 1 },
            },
          ],
        },
      ],
    },
  ],
};

export const OTLP_API = {
  traces: {
    summary: 'Ingest OpenTelemetry GenAI spans (OTLP/HTTP)',
    tag: 'events',
    description:
      'An OTLP/HTTP trace export, `application/json` or `application/x-protobuf` (optionally `Content-Encoding: gzip`), up to 16 MB (decompressed). Each span that follows the OpenTelemetry GenAI semantic conventions (`gen_ai.provider.name` or `gen_ai.system`, `gen_ai.request.model` / `gen_ai.response.model`, `gen_ai.usage.*`) becomes one usage event whose `event_id` is `otel:<trace_id>:<span_id>`, so a re-exported span is counted once; resource attributes give its dimensions (docs/otlp.md has the mapping). Other spans are skipped. The answer is an OTLP ExportTraceServiceResponse in the encoding of the request: `{}` when every span was taken, `partialSuccess` with the number of rejected spans and why (the valid ones are stored).',
    query: otlpQuerySchema,
    body: otlpTraceRequestSchema,
    requestExample: { body: REQUEST },
    responses: {
      200: {
        description:
          'Committed. `partialSuccess` is present only when some model-call spans were rejected (not stored); `rejectedSpans` is an int64, a decimal string in JSON.',
        example: {
          partialSuccess: {
            rejectedSpans: '1',
            errorMessage:
              '1 of 3 spans rejected and not stored (the request\'s other spans were taken): span 00f067aa0ba902b7 "generate_content gpt-image-2": gen_ai.usage.input_tokens must not be negative (it is -5)',
          },
        },
      },
      413: { description: 'A body over 16 MB, before or after gzip decompression.' },
      415: {
        description:
          'Another content type than application/json or application/x-protobuf, or an encoding other than gzip.',
      },
    },
  } satisfies ApiOperationSpec,
};
