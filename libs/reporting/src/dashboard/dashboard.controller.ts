import { Controller, Get, Header, Param, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Public } from '@tokentally/auth';
import { ApiOperation, DomainError } from '@tokentally/common';
import { DASHBOARD_API } from '../reporting.api';

const ASSETS = path.join(__dirname, 'assets');
/** The bundle `npm run build` makes from web/*.ts (build-web.js). */
const BUNDLE = path.join(ASSETS, 'build', 'app.js');

const read = (file: string) => fs.readFileSync(file, 'utf8');

/** The dashboard page and its assets, all served locally (no CDN: it works offline). */
@Controller()
@Public()
export class DashboardController {
  private readonly files: Map<string, { body: string; type: string }>;
  private readonly page = read(path.join(ASSETS, 'index.html'));

  constructor() {
    if (!fs.existsSync(BUNDLE)) throw new Error(`The dashboard's script ${BUNDLE} is missing: run npm run build`);
    this.files = new Map([
      ['app.js', { body: read(BUNDLE), type: 'text/javascript; charset=utf-8' }],
      ['dashboard.css', { body: read(path.join(ASSETS, 'dashboard.css')), type: 'text/css; charset=utf-8' }],
    ]);
  }

  @Get()
  @ApiOperation(DASHBOARD_API.index)
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('cache-control', 'no-cache')
  index(): string {
    return this.page;
  }

  @Get('assets/:file')
  @ApiOperation(DASHBOARD_API.asset)
  @Header('cache-control', 'no-cache')
  asset(@Param('file') file: string, @Res({ passthrough: true }) reply: FastifyReply): string {
    const asset = this.files.get(file);
    if (!asset) throw DomainError.notFound('That dashboard file');
    reply.header('content-type', asset.type);
    return asset.body;
  }
}
