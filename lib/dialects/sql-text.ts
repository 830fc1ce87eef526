// Reading SQL text without running it: the pieces the source guard (./sqlserver/read-only) and the post-refresh
// steps' parameters (lib/config/step-parameters) both need.

/** For a string literal or quoted name opening at `start` (`'`, `"` or `[`, a doubled closer escaping itself): the
 *  index of its closing character, or -1 when the text ends first. */
export function quotedEnd(sql: string, start: number): number {
  const close = sql[start] === "[" ? "]" : sql[start];
  let j = start + 1;
  for (;;) {
    if (j >= sql.length) return -1;
    if (sql[j] === close && sql[j + 1] === close) j += 2;
    else if (sql[j] === close) return j;
    else j++;
  }
}
