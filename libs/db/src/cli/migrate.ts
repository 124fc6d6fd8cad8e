// `npm run migration:run`: brings the schema of DATABASE_URL (or of the
// embedded database under DATA_DIR) up to date, then exits.
import { loadConfig, ConfigError } from '@tokentally/common';
import { openDatabase } from '../database';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const database = await openDatabase(config);
  await database.close();
  console.log('migrations are up to date');
}

main().catch((error) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
