import type { StorageCounts } from './storage';

/** What the warm benchmark's parent and its handler process (warm-child.ts) say to each other. */
export const SIDES = ['http', 'sameCalls', 'baseline'] as const;
export type Side = (typeof SIDES)[number];

export interface WarmPlan {
  warmup: number;
  blockSize: number;
  blocksPerSide: number;
  /** Requests per side traced after the measured blocks, for the round trips on the critical path. */
  traced: number;
  /** Sandbox persons for each side, one per request (warm-up included). */
  persons: Record<Side, string[]>;
}

export interface SideResult {
  latenciesMs: number[];
  cpuUserUs: number;
  cpuSystemUs: number;
  requests: number;
  failures: string[];
  storage: StorageCounts;
}

/** The sequential round trips of a side's traced requests. */
export interface RoundTripResult {
  /** Round trips before the answer, per traced request. */
  counts: number[];
  /** The most frequent sequence, e.g. `SendMessage ∥ PutItem → Verifik DELETE → …`, and how often it came. */
  typical: string;
  typicalCount: number;
}

export interface WarmResult {
  sides: Record<Side, SideResult>;
  roundTrips: Record<Side, RoundTripResult>;
  /** The handler process's RSS at the end (tsx and all three handlers). */
  rss: number;
}
