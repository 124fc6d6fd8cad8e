import { Body, Controller, Headers, HttpCode, Inject, Post, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ApiKeysService, CurrentPrincipal, Principal, Roles } from '@tokentally/auth';
import { ApiOperation, DomainError } from '@tokentally/common';
import { ingestProjectOf } from '@tokentally/ingest';
import { decodeTraceRequestJson } from './json-decoder';
import { OtlpDecodeError, OtlpTraceRequest } from './otlp-model';
import { PROTOBUF_CONTENT_TYPE } from './otlp-body';
import { OTLP_API } from './otlp.api';
import { OtlpTracesService } from './otlp-traces.service';
import { decodeTraceRequestProtobuf, encodeTraceResponseProtobuf } from './protobuf-decoder';

/**
 * OTLP/HTTP trace input (docs/otlp.md): GenAI spans become usage events. The
 * ingest key (or an admin with ?project_id=) names the project, as for
 * POST /v1/events; the answer is OTLP's ExportTraceServiceResponse in the
 * request's encoding. Errors (400, 401, 403, 413, 415) are problem+json.
 *
 * OTLP_TRACES_PATH: its body parsing (protobuf, gzip) is installed by installOtlpBodyParsing (otlp-body.ts).
 */
@Controller('v1/otlp/v1')
export class OtlpController {
  constructor(
    @Inject(OtlpTracesService) private readonly traces: OtlpTracesService,
    @Inject(ApiKeysService) private readonly keys: ApiKeysService,
  ) {}

  @Post('traces')
  @ApiOperation(OTLP_API.traces)
  @Roles('ingest')
  @HttpCode(200)
  async export(
    @Body() body: unknown,
    @Headers('content-type') contentType: string | undefined,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Query('project_id') projectQuery?: string,
  ) {
    const projectId = await ingestProjectOf(this.keys, principal, projectQuery);
    const protobuf = (contentType ?? '').trim().toLowerCase().startsWith(PROTOBUF_CONTENT_TYPE);
    const request = decode(body, protobuf);
    const { partialSuccess } = await this.traces.export(projectId, request);
    if (protobuf) {
      void reply.header('content-type', PROTOBUF_CONTENT_TYPE);
      return encodeTraceResponseProtobuf(partialSuccess);
    }
    // proto3 JSON: an int64 is a decimal string.
    return partialSuccess
      ? {
          partialSuccess: {
            rejectedSpans: String(partialSuccess.rejectedSpans),
            errorMessage: partialSuccess.errorMessage,
          },
        }
      : {};
  }
}

function decode(body: unknown, protobuf: boolean): OtlpTraceRequest {
  try {
    if (!protobuf) return decodeTraceRequestJson(body);
    return decodeTraceRequestProtobuf(Buffer.isBuffer(body) ? body : Buffer.alloc(0));
  } catch (error) {
    if (!(error instanceof OtlpDecodeError)) throw error;
    const what = protobuf ? 'protobuf' : 'OTLP/JSON';
    throw DomainError.validation(
      [{ path: error.path, message: error.message }],
      `The body is not a ${what} ExportTraceServiceRequest.`,
    );
  }
}
