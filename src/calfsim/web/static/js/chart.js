// Girth-versus-time chart in SVG (own code): the likely girth (median), the band from best case
// (p10) to little change (p90), today's girth (dashed) with a tape's measuring error around it,
// and a marker at the week shown in the viewer. SVG attributes only: the CSP forbids inline
// styles.
const NS = 'http://www.w3.org/2000/svg';
const M = { left: 44, right: 12, top: 14, bottom: 36 };

function el(name, attrs = {}, text) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

function niceStep(span) {
  const raw = span / 5;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (raw <= m * p) return m * p;
  return 10 * p;
}

/**
 * Draw one leg's course into `container`.
 * leg: {days: [...], median: [...], p10: [...], p90: [...], baseline_cm}
 * Returns {setWeek(week)} to move the marker.
 */
export function drawChart(container, leg, { tapeErrorCm = 0, maxWeek = 52, title = '' } = {}) {
  container.replaceChildren();
  // Draw at the container's width so that the labels keep their size on a phone.
  const W = Math.round(Math.min(720, Math.max(300, container.clientWidth || 640)));
  const H = W < 500 ? 240 : 300;
  const weeks = leg.days.map((d) => d / 7);
  const keep = weeks.map((w) => w <= maxWeek + 1e-9);
  const pick = (arr) => arr.filter((_, i) => keep[i]);
  const xs = pick(weeks);
  const med = pick(leg.median);
  const lo = pick(leg.p10);
  const hi = pick(leg.p90);
  const base = leg.baseline_cm;
  const yMin = Math.min(...lo, base - tapeErrorCm) - 0.2;
  const yMax = Math.max(...hi, base + tapeErrorCm) + 0.2;
  const x = (w) => M.left + (w / maxWeek) * (W - M.left - M.right);
  const y = (cm) => M.top + ((yMax - cm) / (yMax - yMin)) * (H - M.top - M.bottom);

  const svg = el('svg', {
    viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img',
    'aria-label': `${title}Calf girth over 52 weeks: today ${base.toFixed(1)} cm; likely lowest ${Math.min(...med).toFixed(1)} cm`,
  });
  // Grid and axes.
  const step = niceStep(yMax - yMin);
  for (let v = Math.ceil(yMin / step) * step; v <= yMax; v += step) {
    svg.appendChild(el('line', { x1: M.left, x2: W - M.right, y1: y(v), y2: y(v), stroke: '#eaecf0' }));
    svg.appendChild(el('text', { x: M.left - 6, y: y(v) + 4, 'text-anchor': 'end' }, v.toFixed(step < 1 ? 1 : 0)));
  }
  for (let w = 0; w <= maxWeek; w += 4) {
    svg.appendChild(el('line', { x1: x(w), x2: x(w), y1: H - M.bottom, y2: H - M.bottom + 4, stroke: '#98a2b3' }));
    if (w % 8 === 0) svg.appendChild(el('text', { x: x(w), y: H - M.bottom + 17, 'text-anchor': 'middle' }, String(w)));
  }
  svg.appendChild(el('text', { x: (M.left + W - M.right) / 2, y: H - 4, 'text-anchor': 'middle' }, 'weeks after the first session'));
  svg.appendChild(el('text', { x: 12, y: M.top + 4, transform: `rotate(-90 12 ${M.top + 4})`, 'text-anchor': 'end' }, 'calf girth, cm'));
  svg.appendChild(el('line', { x1: M.left, x2: W - M.right, y1: H - M.bottom, y2: H - M.bottom, stroke: '#98a2b3' }));

  // Tape error around today's girth.
  if (tapeErrorCm > 0) {
    svg.appendChild(el('rect', {
      x: x(0), y: y(base + tapeErrorCm), width: x(maxWeek) - x(0), height: y(base - tapeErrorCm) - y(base + tapeErrorCm),
      fill: '#b54708', 'fill-opacity': 0.09, class: 'tape-error',
    }));
  }
  // The band p10..p90.
  const upper = xs.map((w, i) => `${x(w).toFixed(1)},${y(hi[i]).toFixed(1)}`);
  const lower = xs.map((w, i) => `${x(w).toFixed(1)},${y(lo[i]).toFixed(1)}`).reverse();
  svg.appendChild(el('polygon', { points: [...upper, ...lower].join(' '), fill: '#0f766e', 'fill-opacity': 0.2, class: 'band' }));
  // Today's girth, dashed.
  svg.appendChild(el('line', {
    x1: x(0), x2: x(maxWeek), y1: y(base), y2: y(base), stroke: '#3b4a5a', 'stroke-width': 1.5, 'stroke-dasharray': '6 4', class: 'baseline',
  }));
  svg.appendChild(el('text', { x: W - M.right - 4, y: y(base) - 6, 'text-anchor': 'end' }, `today ${base.toFixed(1)} cm`));
  // The median.
  const line = xs.map((w, i) => `${i ? 'L' : 'M'}${x(w).toFixed(1)},${y(med[i]).toFixed(1)}`).join('');
  svg.appendChild(el('path', { d: line, fill: 'none', stroke: '#0f766e', 'stroke-width': 2.5, class: 'median' }));
  // The week marker.
  const marker = el('g', { class: 'marker' });
  const mLine = el('line', { y1: M.top, y2: H - M.bottom, stroke: '#1b2430', 'stroke-width': 1 });
  const mDot = el('circle', { r: 4.5, fill: '#0f766e', stroke: '#fff', 'stroke-width': 2 });
  marker.append(mLine, mDot);
  svg.appendChild(marker);
  container.appendChild(svg);

  const setWeek = (week, values) => {
    const px = x(week);
    mLine.setAttribute('x1', px);
    mLine.setAttribute('x2', px);
    mDot.setAttribute('cx', px);
    mDot.setAttribute('cy', y(values.median));
  };
  return { setWeek };
}

/** Linear interpolation of a band's arrays at `day`. */
export function valuesAt(leg, day) {
  const { days } = leg;
  let i = days.findIndex((d) => d >= day);
  if (i <= 0) i = i === 0 ? 0 : days.length - 1;
  const j = Math.max(0, days[i] > day ? i - 1 : i);
  const f = days[i] === days[j] ? 0 : (day - days[j]) / (days[i] - days[j]);
  const at = (arr) => arr[j] + f * (arr[i] - arr[j]);
  return { median: at(leg.median), p10: at(leg.p10), p90: at(leg.p90) };
}
