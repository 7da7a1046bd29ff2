/** A small accessible bar chart (SVG, no chart library): one bar per point. */
export function BarChart({
  points,
  label,
  height = 160,
}: {
  points: { x: string; y: number }[];
  label: string;
  height?: number;
}) {
  const max = Math.max(1, ...points.map((p) => p.y));
  const w = 100 / Math.max(1, points.length);
  return (
    <figure style={{ margin: 0 }}>
      <svg
        role="img"
        aria-label={label}
        viewBox={`0 0 100 ${height}`}
        preserveAspectRatio="none"
        style={{ width: '100%', height, display: 'block' }}
      >
        {points.map((p, i) => {
          const h = (p.y / max) * (height - 4);
          return (
            <rect key={p.x} x={i * w + w * 0.15} y={height - h} width={w * 0.7} height={h} fill="#1677ff">
              <title>{`${p.x}: ${p.y}`}</title>
            </rect>
          );
        })}
      </svg>
      <figcaption style={{ display: 'flex', justifyContent: 'space-between', fontSize: 12, color: 'rgba(0,0,0,.45)' }}>
        <span>{points[0]?.x}</span>
        <span>{points[points.length - 1]?.x}</span>
      </figcaption>
    </figure>
  );
}
