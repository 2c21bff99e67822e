/**
 * The printable certificate in a real browser: Debian's Chromium driven by puppeteer-core (it never
 * downloads a browser), in a child process (test/support/browser/render-certificate.ts). `.ci/run` installs Chromium on a fresh CI machine; where CI is set and no
 * Chromium is found this test fails, elsewhere it is skipped with a warning.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CERTIFICATE_HTML_CSP, certificateHtml } from '../../lambda/certificate/certificate-html';
import { certificateModel, type CertifiableRecord } from '../../lambda/certificate/certificate-model';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available && process.env.CI)
  throw new Error(`Chromium not found at ${CHROMIUM}: .ci/run installs it (apt-get install chromium)`);
if (!available) console.warn(`SKIPPED: the certificate browser test needs Chromium at ${CHROMIUM} (apt-get install chromium)`);
const describeInBrowser = available ? describe : describe.skip;

const LONG = 'x'.repeat(120);
const record: CertifiableRecord = {
  erasureId: `msg_${LONG}`,
  status: 'failed',
  receivedAt: '2026-11-28T10:00:00.000Z',
  completedAt: '2026-11-28T10:05:00.412Z',
  dueAt: '2026-12-28T10:00:00.000Z',
  extendedDueAt: '2027-02-28T10:00:00.000Z',
  extension: { months: 2, reason: `Complex request ${LONG}`, requestedAt: '2026-12-01T08:00:00.000Z' },
  requestedBy: `arn:aws:sts::123456789012:assumed-role/privacy-portal/${LONG}`,
  reason: '<script>document.title="pwned"</script>',
  persons: Array.from({ length: 40 }, (_, i) => ({
    personId: `65175da13e81e4fabc${String(i).padStart(6, '0')}`,
    outcome: i === 39 ? ('failed' as const) : ('erased' as const),
    vendorStatus: i === 39 ? 401 : 200,
    attempts: 1 + (i % 3),
    completedAt: '2026-11-28T10:00:00.412Z',
    verifiedAbsentAt: i % 2 ? '2026-11-28T10:00:01.000Z' : undefined,
    evidence:
      i === 39
        ? undefined
        : { signature: 'Certified by Verifik.co', dateTime: '2026-11-28T10:00:00Z', responseId: `65175da13e81e4fabc${i}` },
    lastError: i === 39 ? 'VENDOR_UNAUTHORIZED' : undefined,
  })),
};
const model = certificateModel(record, {
  organizationName: 'Beispiel Datenschutz GmbH & Co. KG',
  issuedAt: new Date('2026-11-29T09:00:00Z'),
  // The longest unbreakable strings a certificate carries: archive keys and SHA-256 hashes.
  archive: {
    state: 'covered',
    batch: { sequence: 41, key: 'batches/000000000041.json', sha256: 'ab'.repeat(32) },
    digest: { sequence: 7, key: 'digests/000000000007.json', sha256: 'cd'.repeat(32), signedAt: '2026-11-28T11:00:00.000Z' },
  },
});
const page = certificateHtml({ certificate: model, jws: `eyJhbGciOiJFUzI1NiJ9..${'A'.repeat(86)}` });

interface Report {
  problems: string[];
  title: string;
  text: string;
  borderCollapse: string;
  scripts: number;
  overflow: Record<string, { page: number; elements: string[] }>;
  pdfPages: number;
}

describeInBrowser('the certificate page in Chromium', () => {
  let report: Report;

  beforeAll(async () => {
    const folder = mkdtempSync(join(tmpdir(), 'certificate-html-'));
    try {
      writeFileSync(join(folder, 'certificate.html'), page);
      const { stdout } = await promisify(execFile)(
        join('node_modules', '.bin', 'tsx'),
        ['test/support/browser/render-certificate.ts', CHROMIUM, join(folder, 'certificate.html'), CERTIFICATE_HTML_CSP],
        { timeout: 60_000 },
      );
      report = JSON.parse(stdout) as Report;
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  }, 90_000);

  it('loads nothing else, runs nothing, and its style passes the content security policy', () => {
    expect(report.problems).toEqual([]);
    expect(report.scripts).toBe(0);
    expect(report.title).toBe(`Certificate of erasure msg_${LONG}`);
    // The style applied: a style the policy refused would leave tables with separate borders.
    expect(report.borderCollapse).toBe('collapse');
  });

  it('shows the controller, the request, every person, the method, the software and the signature', () => {
    for (const expected of [
      'Certificate of erasure',
      'Beispiel Datenschutz GmbH & Co. KG',
      '<script>document.title="pwned"</script>',
      'DELETE /v2/face-recognition/persons/{id}',
      'Verifik face-recognition',
      'Persons (40)',
      '65175da13e81e4fabc000039',
      'Failed: not erased',
      '2027-02-28T10:00:00.000Z',
      'verifik-erasure 0.1.0',
      'digests/000000000007.json',
      `SHA-256 ${'cd'.repeat(32)}`,
      'signed 2026-11-28T11:00:00.000Z',
      'Batch 41 of the audit archive holds this erasure as certified here',
      'Detached JWS (ES256)',
    ]) {
      expect(report.text).toContain(expected);
    }
  });

  it('overflows nowhere, on screen and in print, A4 wide and on a narrow window', () => {
    expect(Object.keys(report.overflow).sort()).toEqual(['print@420', 'print@794', 'screen@420', 'screen@794']);
    expect(report.overflow).toEqual(Object.fromEntries(Object.keys(report.overflow).map((k) => [k, { page: 0, elements: [] }])));
  });

  // Measured: 6 pages (Chromium's --print-to-pdf) to 7 (puppeteer's page.pdf), about six persons a page;
  // more than 8 means a row or a block has grown out of shape.
  it('prints 40 persons on a few A4 pages', () => {
    expect(report.pdfPages).toBeGreaterThanOrEqual(2);
    expect(report.pdfPages).toBeLessThanOrEqual(8);
  });
});
