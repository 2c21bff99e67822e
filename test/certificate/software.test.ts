import { readFileSync } from 'node:fs';
import { SOFTWARE } from '../../lambda/certificate/software';

describe('the software named on certificates', () => {
  it('is the package’s own name and version', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { name: string; version: string };
    expect(SOFTWARE).toEqual({ name: pkg.name, version: pkg.version });
  });
});
