/**
 * How every Lambda bundle is built, in one place: the stack's NodejsFunctions and the benchmarks'
 * esbuild builds both read it, so that what `npm run bench` measures is what `cdk deploy` ships.
 * One ESM file per entry with the AWS SDK inside, minified, with an external source map that does
 * not inline the sources (smaller assets; nothing reads it at run time).
 */
export const LAMBDA_BUNDLING = {
  target: 'node24',
  format: 'esm',
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  mainFields: ['module', 'main'],
  /** ESM bundles of CommonJS dependencies call `require` for Node built-ins; ESM output has none. */
  banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
} as const;
