import { createHash } from 'node:crypto';
import type { CertificateModel, CertificatePerson } from './certificate-model';
import type { SignedCertificate } from './verify-certificate';

/** Every character that could end a text or an attribute value is written as an entity. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

const OUTCOME_LABEL: Record<CertificatePerson['outcome'], string> = {
  erased: 'Erased',
  already_erased: 'Already erased (Verifik did not hold the person)',
  failed: 'Failed: not erased',
  pending: 'Pending',
};

// Print-first: A4 margins, no background colours needed, long ids and signatures wrap instead of overflowing.
const CSS = `
@page { size: A4; margin: 16mm; }
* { box-sizing: border-box; }
body { font: 11pt/1.45 "DejaVu Sans", "Liberation Sans", Arial, sans-serif; color: #111; margin: 0 auto; max-width: 190mm; padding: 12px; }
h1 { font-size: 18pt; margin: 0 0 4px; }
h2 { font-size: 12.5pt; margin: 18px 0 6px; border-bottom: 1px solid #999; padding-bottom: 2px; }
p.lead { margin: 0 0 10px; color: #333; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; }
th, td { text-align: left; vertical-align: top; padding: 4px 6px; border: 1px solid #bbb; overflow-wrap: anywhere; word-break: break-word; }
th { background: #f0f0f0; font-weight: 600; overflow-wrap: normal; word-break: normal; }
dl { display: grid; grid-template-columns: 38% 62%; margin: 0; }
dt, dd { margin: 0; padding: 3px 6px; border-bottom: 1px solid #ddd; overflow-wrap: anywhere; }
dt { font-weight: 600; }
code, .mono { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 9pt; overflow-wrap: anywhere; word-break: break-all; }
.outcome-failed { font-weight: 700; }
.small { font-size: 9pt; color: #333; }
.small .mono { font-size: 8pt; }
tr, dl, .keep { break-inside: avoid; }
.w22 { width: 22%; } .w24 { width: 24%; } .w30 { width: 30%; }
@media print {
  body { padding: 0; max-width: none; font-size: 9.5pt; }
  .small { font-size: 8pt; }
  code, .mono, .small .mono { font-size: 7.5pt; }
  th, td { padding: 2px 4px; }
}
`;

/** The Content-Security-Policy of the page: nothing but its own inline style. */
export const CERTIFICATE_HTML_CSP = `default-src 'none'; style-src 'sha256-${createHash('sha256').update(CSS).digest('base64')}'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

const text = (value: string | number | null | undefined, missing = 'not recorded') =>
  value === null || value === undefined ? `<span class="small">${escapeHtml(missing)}</span>` : escapeHtml(value);

const row = (label: string, value: string) => `<dt>${escapeHtml(label)}</dt><dd>${value}</dd>`;

function evidenceOf(person: CertificatePerson): string {
  if (!person.evidence) return text(null, 'none');
  return Object.entries(person.evidence)
    .map(([name, value]) => `${escapeHtml(name)}: <span class="mono">${escapeHtml(value)}</span>`)
    .join('<br>');
}

const time = (label: string, value: string | null, missing: string) =>
  `${escapeHtml(label)}<br>${value === null ? escapeHtml(missing) : `<span class="mono">${escapeHtml(value)}</span>`}`;

function personRow(person: CertificatePerson): string {
  const detail = [person.lastError && `Error: ${escapeHtml(person.lastError)}`, person.note && escapeHtml(person.note)]
    .filter(Boolean)
    .join('<br>');
  return `<tr>
<td class="mono">${escapeHtml(person.personId)}</td>
<td class="outcome-${escapeHtml(person.outcome)}">${escapeHtml(OUTCOME_LABEL[person.outcome])}<br><span class="small">Verifik answered ${person.vendorStatus === null ? 'nothing recorded' : `HTTP ${escapeHtml(person.vendorStatus)}`}; ${escapeHtml(person.attempts)} attempt(s)</span>${detail ? `<br><span class="small">${detail}</span>` : ''}</td>
<td class="small">${time('Completed', person.completedAt, 'not recorded')}<br>${time('Verified absent', person.verifiedAbsentAt, 'not recorded')}</td>
<td class="small">${evidenceOf(person)}</td>
</tr>`;
}

/** The printable certificate: the same model as the JSON, every stored value escaped, no external resources. */
export function certificateHtml({ certificate: c, jws }: SignedCertificate): string {
  const e = c.erasure;
  const extension = e.extension
    ? `${escapeHtml(e.extension.months)} month(s), asked ${escapeHtml(e.extension.requestedAt)}: ${escapeHtml(e.extension.reason)}`
    : null;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Certificate of erasure ${escapeHtml(e.erasureId)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>Certificate of erasure</h1>
<p class="lead">Issued ${escapeHtml(c.issuedAt)} by ${escapeHtml(c.software.name)} ${escapeHtml(c.software.version)} for the controller <strong>${escapeHtml(c.controller.name)}</strong>. Status of the erasure: <strong>${escapeHtml(e.status)}</strong>.</p>

<h2>The request</h2>
<dl>
${row('Erasure id', `<span class="mono">${escapeHtml(e.erasureId)}</span>`)}
${row('Requested by', text(e.requestedBy))}
${row('Reason', text(e.reason))}
${row('Received', text(e.receivedAt))}
${row('Due', text(e.dueAt))}
${row('Extended due date', text(e.extendedDueAt, 'no extension'))}
${row('Extension', extension ?? text(null, 'none'))}
${row('Completed', text(e.completedAt))}
${e.note ? row('Note', escapeHtml(e.note)) : ''}
</dl>

<h2>System and method</h2>
<dl>
${row('Controller', escapeHtml(c.controller.name))}
${row('System', escapeHtml(c.method.system))}
${row('Erasure call', `<code>${escapeHtml(c.method.operation)}</code>`)}
${row('What it removes', escapeHtml(c.method.meaning))}
${row('Verification', escapeHtml(c.method.verification))}
</dl>

<h2>Persons (${c.persons.length})</h2>
${
  c.persons.length === 0
    ? '<p>No Verifik person was named by or linked to this request.</p>'
    : `<table>
<colgroup><col class="w22"><col class="w24"><col class="w30"><col class="w24"></colgroup>
<thead><tr><th>Person id</th><th>Outcome</th><th>Times (UTC)</th><th>Verifik's evidence</th></tr></thead>
<tbody>
${c.persons.map(personRow).join('\n')}
</tbody>
</table>`
}

<h2>Signature</h2>
<div class="keep">
<dl>
${row('Software', `${escapeHtml(c.software.name)} ${escapeHtml(c.software.version)}`)}
${row('Archive batch', archiveObject(c.archive.batch))}
${row('Archive digest', archiveObject(c.archive.digest))}
${row('Archive', escapeHtml(c.archive.note))}
${row('Detached JWS (ES256)', `<span class="mono">${escapeHtml(jws)}</span>`)}
</dl>
<p class="small">The signature covers the JSON form of this certificate (RFC 8785 canonical JSON), not this page. To check it offline, fetch the JSON form of the same certificate and run <code>npm run verify-certificate -- certificate.json public-key</code> with the certificate key's public key (add <code>--archive</code> and a copy of the archive to check the batch and digest it names).</p>
</div>
</body>
</html>
`;
}

/** An archive object a certificate names: its key, and the SHA-256 of its bytes (and when a digest was signed). */
function archiveObject(ref: { key: string; sha256: string; signedAt?: string } | null): string {
  if (!ref) return text(null, 'none named');
  const signed = ref.signedAt ? `<br>signed ${escapeHtml(ref.signedAt)}` : '';
  return `<span class="mono">${escapeHtml(ref.key)}<br>SHA-256 ${escapeHtml(ref.sha256)}</span>${signed}`;
}
