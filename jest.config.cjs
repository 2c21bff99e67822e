/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // ky, middy, p-map, jose (its Node build), commander, p-retry and p-throttle ship ESM only: swc turns them into CommonJS for jest like our own code.
  transform: {
    '^.+\\.(t|j)s$': ['@swc/jest', { jsc: { target: 'es2023', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(ky|@middy|p-map|jose|commander|p-retry|p-throttle|is-network-error)/)'],
  // The middy packages export only an `import` condition, which jest's CommonJS resolver skips.
  moduleNameMapper: { '^@middy/([a-z-]+)$': '<rootDir>/node_modules/@middy/$1/index.js' },
  setupFiles: ['<rootDir>/test/support/environment.ts'],
  testTimeout: 30_000,
};
