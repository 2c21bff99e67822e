import type { StorageCounts } from './storage';

/** What the warm benchmark's parent and its handler process (warm-child.ts) say to each other. */
export const SIDES = ['http', 'sameCalls', 'baseline'] as const;
export type Side = (typeof SIDES)[number];

export interface WarmPlan {
  warmup: number;
  blockSize: number;
  blocksPerSide: number;
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

export interface WarmResult {
  sides: Record<Side, SideResult>;
  /** The handler process's RSS at the end (tsx and all three handlers). */
  rss: number;
}
