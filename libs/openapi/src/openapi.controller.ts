import { Controller, Get, Header, Inject, Param, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { Public } from '@tokentally/auth';
import { ApiOperation, DomainError } from '@tokentally/common';
import { DOCS_PAGE, DOCS_SCRIPT, DocsAsset, loadDocsAssets } from './docs-page';
import { OPENAPI_VERSION } from './openapi-document';
import { OpenApiService } from './openapi.service';

const DOCS_FILES = ['swagger-ui-bundle.js', 'swagger-ui.css', 'docs.js'] as const;
const docsFileParams = z.object({
  file: z.enum(DOCS_FILES, { error: `must be one of ${DOCS_FILES.join(', ')}` }),
});

/** GET /openapi.json (the API described, generated from the routes' zod schemas) and GET /docs (browsable). */
@Controller()
@Public()
export class OpenApiController {
  private assets: Map<string, DocsAsset> | null = null;

  constructor(@Inject(OpenApiService) private readonly openapi: OpenApiService) {}

  @Get('openapi.json')
  @Header('cache-control', 'no-cache')
  @ApiOperation({
    summary: 'This API, described in OpenAPI 3.1',
    description:
      'Generated at the first request from the routes of the running service and the zod schemas that validate their requests.',
    responses: {
      200: {
        description: 'The OpenAPI document.',
        example: {
          openapi: OPENAPI_VERSION,
          info: { title: 'TokenTally API', version: '1' },
          paths: { '/health': { get: { operationId: 'Health_health', summary: 'Liveness' } } },
        },
      },
    },
  })
  document() {
    return this.openapi.document();
  }

  @Get('docs')
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('cache-control', 'no-cache')
  @ApiOperation({
    summary: 'Browse this API (Swagger UI)',
    description: 'Swagger UI over /openapi.json, served by this service with every asset (works offline).',
    responses: { 200: { description: 'The page.', contentType: 'text/html', example: DOCS_PAGE } },
  })
  page(): string {
    return DOCS_PAGE;
  }

  @Get('docs/:file')
  @Header('cache-control', 'public, max-age=3600')
  @ApiOperation({
    summary: 'A script or stylesheet of the docs page',
    params: docsFileParams,
    requestExample: { params: { file: 'docs.js' } },
    responses: {
      200: { description: 'The file.', contentType: 'text/javascript', example: DOCS_SCRIPT },
      404: { description: 'No such file.' },
    },
  })
  asset(@Param('file') file: string, @Res({ passthrough: true }) reply: FastifyReply): string {
    this.assets ??= loadDocsAssets();
    const asset = docsFileParams.safeParse({ file }).success ? this.assets.get(file) : undefined;
    if (!asset) throw DomainError.notFound('That file of the API browser');
    reply.header('content-type', asset.type);
    return asset.body;
  }
}
