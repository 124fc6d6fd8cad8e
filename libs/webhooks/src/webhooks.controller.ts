import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiOperation, field, parseOrThrow } from '@tokentally/common';
import { WEBHOOKS_API } from './webhooks.api';
import { createWebhookSchema, deliveriesQuerySchema, updateWebhookSchema } from './webhooks.dto';
import { WebhooksService } from './webhooks.service';

/** Webhook endpoints (admin only). */
@Controller('v1')
export class WebhooksController {
  constructor(@Inject(WebhooksService) private readonly webhooks: WebhooksService) {}

  @Post('webhooks')
  @ApiOperation(WEBHOOKS_API.create)
  create(@Body() body: unknown) {
    return this.webhooks.create(parseOrThrow(createWebhookSchema, body));
  }

  @Get('webhooks')
  @ApiOperation(WEBHOOKS_API.list)
  async list() {
    return { data: await this.webhooks.list() };
  }

  @Get('webhooks/:id')
  @ApiOperation(WEBHOOKS_API.get)
  get(@Param('id') id: string) {
    return this.webhooks.get(parseOrThrow(field.uuid(), id, 'id'));
  }

  @Patch('webhooks/:id')
  @ApiOperation(WEBHOOKS_API.update)
  update(@Param('id') id: string, @Body() body: unknown) {
    return this.webhooks.update(parseOrThrow(field.uuid(), id, 'id'), parseOrThrow(updateWebhookSchema, body));
  }

  @Delete('webhooks/:id')
  @ApiOperation(WEBHOOKS_API.remove)
  @HttpCode(204)
  async remove(@Param('id') id: string): Promise<void> {
    await this.webhooks.remove(parseOrThrow(field.uuid(), id, 'id'));
  }

  @Post('webhooks/:id/rotate-secret')
  @ApiOperation(WEBHOOKS_API.rotate)
  @HttpCode(200)
  rotate(@Param('id') id: string) {
    return this.webhooks.rotateSecret(parseOrThrow(field.uuid(), id, 'id'));
  }

  @Post('webhooks/:id/test')
  @ApiOperation(WEBHOOKS_API.test)
  @HttpCode(200)
  test(@Param('id') id: string) {
    return this.webhooks.test(parseOrThrow(field.uuid(), id, 'id'));
  }

  @Get('webhooks/:id/deliveries')
  @ApiOperation(WEBHOOKS_API.deliveries)
  deliveries(@Param('id') id: string, @Query() query: unknown) {
    return this.webhooks.deliveries(parseOrThrow(field.uuid(), id, 'id'), parseOrThrow(deliveriesQuerySchema, query));
  }

  @Post('webhook-deliveries/:id/resend')
  @ApiOperation(WEBHOOKS_API.resend)
  @HttpCode(200)
  resend(@Param('id') id: string) {
    return this.webhooks.resend(parseOrThrow(field.uuid(), id, 'id'));
  }
}
