/**
 * Resolves once `cond()` is true, checking every 20 ms; rejects with "timed out waiting for
 * `what`" after `ms` milliseconds.
 */
export async function until(cond: () => boolean, ms = 8000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
