/**
 * Small dependency-free SVG chart: one line per series over time buckets. Written here
 * instead of a chart library to keep the first load well under the JS budget.
 */
export interface ChartSeries {
  name: string;
  tone: 'ok' | 'bad' | 'warn' | 'info';
  values: readonly number[];
}

const WIDTH = 600;
const HEIGHT = 180;
const PAD = { left: 40, right: 10, top: 10, bottom: 24 };

function niceMax(value: number): number {
  if (value <= 4) return 4;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  return Math.ceil(value / magnitude) * magnitude;
}

function pathFor(values: readonly number[], max: number): string {
  const plotWidth = WIDTH - PAD.left - PAD.right;
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const step = values.length > 1 ? plotWidth / (values.length - 1) : 0;
  return values
    .map((value, index) => {
      const x = PAD.left + index * step;
      const y = PAD.top + plotHeight - (value / max) * plotHeight;
      return `${index === 0 ? 'M' : 'L'}${x.toFixed(1)},${y.toFixed(1)}`;
    })
    .join(' ');
}

export function TimeChart(props: { title: string; labels: readonly string[]; series: readonly ChartSeries[] }) {
  const { title, labels, series } = props;
  const max = niceMax(Math.max(0, ...series.flatMap((entry) => entry.values)));
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const ticks = [0, max / 2, max];
  const summary = series.map((entry) => `${entry.name}: ${entry.values.reduce((a, b) => a + b, 0)}`).join(', ');
  const labelEvery = Math.max(1, Math.ceil(labels.length / 6));
  const step = labels.length > 1 ? (WIDTH - PAD.left - PAD.right) / (labels.length - 1) : 0;
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={`${title}. ${summary}`} preserveAspectRatio="none">
        {ticks.map((tick) => {
          const y = PAD.top + plotHeight - (tick / max) * plotHeight;
          return (
            <g key={tick} className="chart-grid">
              <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y} y2={y} />
              <text x={PAD.left - 6} y={y + 4} textAnchor="end">
                {Number.isInteger(tick) ? tick : tick.toFixed(1)}
              </text>
            </g>
          );
        })}
        {labels.map((label, index) =>
          index % labelEvery === 0 ? (
            <text key={label + index} className="chart-label" x={PAD.left + index * step} y={HEIGHT - 6} textAnchor="middle">
              {label}
            </text>
          ) : null,
        )}
        {series.map((entry) => (
          <path key={entry.name} className={`chart-line tone-${entry.tone}`} d={pathFor(entry.values, max)} />
        ))}
      </svg>
      <ul className="chart-legend">
        {series.map((entry) => (
          <li key={entry.name}>
            <span className={`swatch tone-${entry.tone}`} aria-hidden="true" />
            {entry.name} <strong>{entry.values.reduce((a, b) => a + b, 0)}</strong>
          </li>
        ))}
      </ul>
    </figure>
  );
}
