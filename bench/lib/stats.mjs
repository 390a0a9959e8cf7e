// Summaries of repeated trials.

/** summarize answers {n, min, median, max} of the samples (numbers). */
export function summarize(samples) {
  const s = samples.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  const n = s.length;
  if (!n) return { n: 0, min: null, median: null, max: null };
  const mid = n >> 1;
  const median = n % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { n, min: s[0], median, max: s[n - 1] };
}

/** median of the samples. */
export function median(samples) { return summarize(samples).median; }
