import { DynamicModule, Global, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@tokentally/common';
import { Database, openDatabase } from './database';
import { HealthController } from './health.controller';
import { EventBus } from './event-bus';
import { UsageSignalRelay } from './usage-signal-relay';

@Injectable()
class DatabaseLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(Database) private readonly database: Database,
    @Inject(UsageSignalRelay) private readonly signals: UsageSignalRelay,
  ) {}

  // Last of the shutdown hooks: jobs and requests have stopped by now. The last usage signal goes before the close.
  async onApplicationShutdown(): Promise<void> {
    await this.signals.close();
    await this.database.close();
  }
}

@Global()
@Module({})
export class DbModule {
  static forRoot({ http = true }: { http?: boolean } = {}): DynamicModule {
    return {
      module: DbModule,
      controllers: http ? [HealthController] : [],
      providers: [
        {
          provide: Database,
          inject: [APP_CONFIG],
          useFactory: (config: AppConfig) => openDatabase(config),
        },
        { provide: DataSource, inject: [Database], useFactory: (database: Database) => database.dataSource },
        DatabaseLifecycle,
        EventBus,
        UsageSignalRelay,
      ],
      exports: [Database, DataSource, EventBus],
    };
  }
}
