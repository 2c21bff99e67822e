/**
 * The memory a piece of work holds: a full GC every 25 ms (run node with --expose-gc), then the live
 * heap and the resident set are sampled; the peaks above what they were before the work.
 */
export const MB = 1024 * 1024;
export const gc = (globalThis as { gc?: () => void }).gc;

export async function peakDuring(work: () => Promise<void>): Promise<{ baseMb: number; peakMb: number; rssPeakMb: number }> {
  gc?.();
  const base = process.memoryUsage();
  let peak = base.heapUsed;
  let rssPeak = base.rss;
  const sampler = setInterval(() => {
    gc?.();
    const now = process.memoryUsage();
    peak = Math.max(peak, now.heapUsed);
    rssPeak = Math.max(rssPeak, now.rss);
  }, 25);
  try {
    await work();
  } finally {
    clearInterval(sampler);
  }
  return { baseMb: base.heapUsed / MB, peakMb: (peak - base.heapUsed) / MB, rssPeakMb: (rssPeak - base.rss) / MB };
}
