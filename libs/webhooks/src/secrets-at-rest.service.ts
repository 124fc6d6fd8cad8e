import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@tokentally/common';
import { keyringOf, sealClearSecrets } from '@tokentally/common/secrets';

/**
 * At start-up: opens the data key of the database with SECRETS_KEY (a wrong or
 * missing key stops the start here, with a message saying which), makes the
 * data key on a first start, and seals any secret still in clear (written by
 * an older replica during a rolling upgrade).
 */
@Injectable()
export class SecretsAtRest implements OnModuleInit {
  private readonly logger = new Logger(SecretsAtRest.name);

  constructor(
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    const keyring = await keyringOf(this.db, this.config);
    const sealed = await sealClearSecrets((sql, parameters) => this.db.query(sql, parameters), keyring);
    if (sealed > 0) this.logger.log(`encrypted ${sealed} secret(s) that were stored in clear`);
    if (!this.config.secretsKey) {
      this.logger.log(
        'SECRETS_KEY is not set: the key that encrypts webhook and chart-link secrets is kept in the database itself. Set SECRETS_KEY in production (see docs/budgets.md).',
      );
    }
  }
}
