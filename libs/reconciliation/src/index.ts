export * from './reconciliation.module';
export * from './reconciliation.service';
export { RECONCILIATION_JOB, ReconciliationJob } from './reconciliation-job.service';
