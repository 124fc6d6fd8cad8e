import { Module } from '@nestjs/common';
import { SecretsAtRest } from './secrets-at-rest.service';
import { WebhookDispatcher } from './webhook-dispatcher.service';
import { WebhooksController } from './webhooks.controller';
import { WebhooksService } from './webhooks.service';
import { DeliveriesRepository, WebhooksRepository } from './webhooks.sql';

@Module({
  controllers: [WebhooksController],
  providers: [WebhooksRepository, DeliveriesRepository, SecretsAtRest, WebhooksService, WebhookDispatcher],
  exports: [WebhooksService, WebhookDispatcher],
})
export class WebhooksModule {}
