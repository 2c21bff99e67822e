/** The line a cold-start child prints once its handler has answered (followed by JSON). */
export const DONE_MARKER = 'BENCH_COLD_DONE ';
