/** Test helpers: scrape /metrics and read samples off the text page. */
export async function scrape(port: number): Promise<string> {
  const r = await fetch(`http://127.0.0.1:${port}/metrics`);
  if (r.status !== 200) throw new Error(`/metrics answered ${r.status}`);
  return r.text();
}

/** Parses Prometheus text lines into [name, labels, value] (enough for the pages the broker writes). */
export function samples(page: string): { name: string; labels: Record<string, string>; value: number }[] {
  const out: { name: string; labels: Record<string, string>; value: number }[] = [];
  for (const line of page.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparsable line: ${line}`);
    const labels: Record<string, string> = {};
    if (m[2]) for (const l of m[2].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

/** The sum of the samples of `name` whose labels include `match`. */
export function value(page: string, name: string, match: Record<string, string> = {}): number {
  return samples(page)
    .filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);
}

/** Metric names on the page (from the TYPE lines and the samples). */
export function metricNames(page: string): Set<string> {
  const names = new Set<string>();
  for (const s of samples(page)) names.add(s.name);
  for (const line of page.split('\n')) {
    const m = /^# TYPE (\S+) /.exec(line);
    if (m) names.add(m[1]);
  }
  return names;
}
