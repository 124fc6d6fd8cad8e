export * from './budgets.module';
export * from './budgets.service';
