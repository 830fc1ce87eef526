/** Above this many rows (by the planner's estimate) we show or plan with the estimate instead of scanning the table to count it. */
export const EXACT_COUNT_LIMIT = 1_000_000;
