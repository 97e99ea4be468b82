// Progress lines at most every `ms` (a feature pass reports after each batch; a UI or a --json reader
// needs a few lines a second, not hundreds). The last call (done === total) always goes through.
export function throttleProgress(
  report: (done: number, total: number) => void,
  ms = 250,
  now: () => number = Date.now,
): (done: number, total: number) => void {
  let last = -Infinity;
  return (done, total) => {
    const t = now();
    if (done < total && t - last < ms) return;
    last = t;
    report(done, total);
  };
}
