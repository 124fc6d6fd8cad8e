export * from './decimal';
export * from './token-kinds';
export * from './price-sheet';
export * from './cost';
export * from './model-names';
export * from './price-book';
export * from './price-change';
