// A growth sparkline: the last samples of a figure as block characters, scaled between their own
// minimum and maximum (a flat line is the lowest block), newest on the right.

const BLOCKS = '▁▂▃▄▅▆▇█';

export function sparkline(samples: readonly number[], width: number): string {
  if (width <= 0) return '';
  const last = samples.slice(-width);
  if (last.length === 0) return '';
  const min = Math.min(...last);
  const max = Math.max(...last);
  const span = max - min;
  return last.map((v) => BLOCKS[span === 0 ? 0 : Math.round(((v - min) / span) * (BLOCKS.length - 1))]).join('');
}
