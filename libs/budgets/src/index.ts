export * from './budgets.module';
export * from './budgets.service';
export * from './budget-evaluator.service';
