/** The software named on every certificate; test/certificate/software.test.ts keeps it equal to package.json. */
export const SOFTWARE = Object.freeze({ name: 'verifik-erasure', version: '0.1.0' });
