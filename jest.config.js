// Unit specs live beside the code (libs/**/src/*.spec.ts); end-to-end specs
// under test/ boot the real app against a real database (see test/support).
const { compilerOptions } = require('./tsconfig.json');

const moduleNameMapper = {};
for (const [alias, [target]] of Object.entries(compilerOptions.paths)) {
  const pattern = '^' + alias.replace('/*', '/(.*)') + '$';
  moduleNameMapper[pattern] = '<rootDir>/' + target.replace('/*', '/$1');
}

// ts-jest only transpiles (isolatedModules, no diagnostics): type checking every lib, spec,
// the SDK and the dashboard code is `npm run typecheck`, which CI runs before the tests. Checking
// types again in each jest worker would double the suite's time for no new finding.
const transform = {
  '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.spec.json', diagnostics: false }],
};

module.exports = {
  // Jest reads the timeout from the top level when projects are used; e2e specs boot a database.
  testTimeout: 60000,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      roots: ['<rootDir>/libs', '<rootDir>/apps'],
      testMatch: ['**/*.spec.ts'],
      moduleNameMapper,
      transform,
    },
    {
      displayName: 'e2e',
      testEnvironment: 'node',
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.e2e-spec.ts'],
      // The dashboard's script is bundled from TypeScript (esbuild, well under a second).
      globalSetup: '<rootDir>/test/support/build-dashboard.js',
      moduleNameMapper,
      transform,
      testTimeout: 60000,
    },
  ],
};
