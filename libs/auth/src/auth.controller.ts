import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiOperation, parseOrThrow, field } from '@tokentally/common';
import { AUTH_API } from './auth.api';
import { ApiKeysService } from './api-keys.service';
import { createKeySchema, createProjectSchema } from './dto/auth.dto';
import { CurrentPrincipal, Principal, Roles } from './roles';

/** Projects and API keys: admin only (the guard's default), except GET /v1/me. */
@Controller('v1')
export class AuthController {
  constructor(@Inject(ApiKeysService) private readonly keys: ApiKeysService) {}

  /** Any key: its role, the projects it may read (`project_ids` null: every project) and their names. */
  @Get('me')
  @ApiOperation(AUTH_API.me)
  @Roles('viewer', 'ingest')
  me(@CurrentPrincipal() principal: Principal) {
    return this.keys.whoAmI(principal);
  }

  @Post('projects')
  @ApiOperation(AUTH_API.createProject)
  createProject(@Body() body: unknown) {
    return this.keys.createProject(parseOrThrow(createProjectSchema, body));
  }

  @Get('projects')
  @ApiOperation(AUTH_API.listProjects)
  async listProjects() {
    return { data: await this.keys.listProjects() };
  }

  @Post('keys')
  @ApiOperation(AUTH_API.createKey)
  createKey(@Body() body: unknown) {
    return this.keys.createKey(parseOrThrow(createKeySchema, body));
  }

  @Get('keys')
  @ApiOperation(AUTH_API.listKeys)
  async listKeys() {
    return { data: await this.keys.listKeys() };
  }

  @Delete('keys/:id')
  @ApiOperation(AUTH_API.revokeKey)
  @HttpCode(204)
  async revokeKey(@Param('id') id: string): Promise<void> {
    await this.keys.revokeKey(parseOrThrow(field.uuid(), id, 'id'));
  }
}
