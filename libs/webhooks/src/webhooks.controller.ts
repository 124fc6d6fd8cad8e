import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Query } from '@nestjs/common';
import { field, parseOrThrow } from '@tokentally/common';
import { createWebhookSchema, deliveriesQuerySchema, updateWebhookSchema } from './webhooks.dto';
import { WebhooksService } from './webhooks.service';

/** Webhook endpoints (admin only). */
@Controller('v1')
export class WebhooksController {
  constructor(@Inject(WebhooksService) private readonly webhooks: WebhooksService) {}

  @Post('webhooks')
  create(@Body() body: unknown) {
    return this.webhooks.create(parseOrThrow(createWebhookSchema, body));
  }

  @Get('webhooks')
  async list() {
    return { data: await this.webhooks.list() };
  }

  @Get('webhooks/:id')
  get(@Param('id') id: string) {
    return this.webhooks.get(parseOrThrow(field.uuid(), id, 'id'));
  }

  @Patch('webhooks/:id')
  update(@Param('id') id: string, @Body() body: unknown) {
    return this.webhooks.update(parseOrThrow(field.uuid(), id, 'id'), parseOrThrow(updateWebhookSchema, body));
  }

  @Delete('webhooks/:id')
  @HttpCode(204)
  async remove(@Param('id') id: string): Promise<void> {
    await this.webhooks.remove(parseOrThrow(field.uuid(), id, 'id'));
  }

  @Post('webhooks/:id/rotate-secret')
  @HttpCode(200)
  rotate(@Param('id') id: string) {
    return this.webhooks.rotateSecret(parseOrThrow(field.uuid(), id, 'id'));
  }

  @Post('webhooks/:id/test')
  @HttpCode(200)
  test(@Param('id') id: string) {
    return this.webhooks.test(parseOrThrow(field.uuid(), id, 'id'));
  }

  @Get('webhooks/:id/deliveries')
  deliveries(@Param('id') id: string, @Query() query: unknown) {
    return this.webhooks.deliveries(parseOrThrow(field.uuid(), id, 'id'), parseOrThrow(deliveriesQuerySchema, query));
  }

  @Post('webhook-deliveries/:id/resend')
  @HttpCode(200)
  resend(@Param('id') id: string) {
    return this.webhooks.resend(parseOrThrow(field.uuid(), id, 'id'));
  }
}
