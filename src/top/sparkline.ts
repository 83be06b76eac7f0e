// A growth sparkline: a figure's samples as block characters, scaled between their own minimum and
// maximum (a flat line is the lowest block), oldest left, newest right. More samples than columns
// are put into as many buckets as there are columns, each shown by its highest sample, so that the
// whole history (5 minutes in `top`) fits and a short peak is not lost.

const BLOCKS = '▁▂▃▄▅▆▇█';

export function sparkline(samples: readonly number[], width: number): string {
  if (width <= 0 || samples.length === 0) return '';
  const points = samples.length <= width ? [...samples] : buckets(samples, width);
  const min = Math.min(...points);
  const max = Math.max(...points);
  const span = max - min;
  return points.map((v) => BLOCKS[span === 0 ? 0 : Math.round(((v - min) / span) * (BLOCKS.length - 1))]).join('');
}

function buckets(samples: readonly number[], width: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < width; i++) {
    const from = Math.floor((i * samples.length) / width);
    const to = Math.floor(((i + 1) * samples.length) / width);
    out.push(Math.max(...samples.slice(from, to)));
  }
  return out;
}
