import os from 'node:os';

/** Linear-interpolation quantile (q in [0, 1]) of unsorted samples. */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low);
}

export const median = (samples: readonly number[]) => quantile(samples, 0.5);

export const ms = (value: number, digits = 1) => `${value.toFixed(digits)} ms`;
export const ratio = (value: number, base: number) => (base > 0 ? `${(value / base).toFixed(2)}×` : 'n/a');
export const bytes = (value: number) => `${value.toLocaleString('en-US')} B`;
export const mib = (value: number) => `${(value / 1024 / 1024).toFixed(1)} MiB`;

/** A table of figures: rendered as markdown, written as it is by `--json`. */
export interface Table {
  headers: string[];
  rows: (string | number)[][];
}

export function table(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): Table {
  return { headers: [...headers], rows: rows.map((row) => [...row]) };
}

/** A table as markdown. */
export function markdownTable({ headers, rows }: Table): string {
  const line = (cells: readonly (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

export interface Section {
  title: string;
  /** What was run, as a person would type it. */
  command: string;
  samples: string;
  table: Table;
  notes?: string[];
  /** Target lines: [what, met?] */
  targets?: [string, boolean][];
  /** The machine it ran on, when rendered from a saved run (default: this one). */
  machine?: string;
}

/** What `npm run bench -- --json FILE` writes: every section's figures, to compare runs over time. */
export interface SavedRun {
  command: string;
  machine: string;
  startedAt: string;
  totalSeconds: number;
  sections: Section[];
}

/** The machine in one line: Node version, CPUs, memory. */
export function machine(): string {
  const cpus = os.cpus();
  return `Node ${process.version} (${process.execPath.includes('node_modules') ? 'pinned' : 'system'}), ${os.platform()}-${os.arch()}, ${cpus.length} × ${cpus[0]?.model.trim() ?? 'cpu'}, ${Math.round(os.totalmem() / 1024 ** 3)} GiB`;
}

export function render(section: Section): string {
  const out = [
    `### ${section.title}`,
    '',
    `\`${section.command}\` · ${section.machine ?? machine()} · samples: ${section.samples}`,
    '',
    markdownTable(section.table),
  ];
  if (section.targets?.length) {
    out.push('');
    for (const [what, met] of section.targets) out.push(`- ${met ? 'met' : 'MISSED'}: ${what}`);
  }
  if (section.notes?.length) {
    out.push('');
    for (const note of section.notes) out.push(`- ${note}`);
  }
  return out.join('\n') + '\n';
}
