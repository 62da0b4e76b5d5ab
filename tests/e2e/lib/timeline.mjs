// The demo's picture: a publication over simulated days as an SVG. One bar per stage Microsoft
// reported (certification, provisioning, sign-off, live ...), a tick per check, and the notices.

const WIDTH = 960;
const LEFT = 20;
const CHART = WIDTH - 2 * LEFT;
const DAY = 86_400;
const COLOURS = ['#4e79a7', '#f28e2b', '#59a14f', '#b07aa1', '#76b7b2', '#edc948', '#e15759', '#9c755f'];

const escape = (text) => String(text).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

/**
 * `checks`: [{seconds, stage}] in order (simulated seconds since the upload, the stage the check saw);
 * `notices`: [{seconds, event}]; `totalSeconds`: where the picture ends. Returns the SVG text.
 */
export function timelineSvg({ title, checks, notices, totalSeconds }) {
  const total = Math.max(totalSeconds, 1);
  const x = (seconds) => LEFT + (CHART * seconds) / total;
  // A stage lasts from the first check that saw it to the first check that saw the next one.
  const stages = [];
  for (const [i, check] of checks.entries()) {
    const end = checks[i + 1]?.seconds ?? total;
    const last = stages.at(-1);
    if (last && last.stage === check.stage) last.end = end;
    else stages.push({ stage: check.stage, start: check.seconds, end });
  }
  // The last check, which saw the operation end, draws a tick but no stage.
  const drawn = stages.filter((s) => s.end > s.start);
  const colour = new Map();
  for (const { stage } of drawn) if (!colour.has(stage)) colour.set(stage, COLOURS[colour.size % COLOURS.length]);

  const parts = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="230" viewBox="0 0 ${WIDTH} 230" font-family="sans-serif" font-size="11">`);
  parts.push(`<rect width="${WIDTH}" height="230" fill="#ffffff"/>`);
  parts.push(`<text x="${LEFT}" y="20" font-size="14" font-weight="bold">${escape(title)}</text>`);
  for (const s of drawn) {
    const [x0, x1] = [x(s.start), x(s.end)];
    parts.push(`<rect class="stage" x="${x0.toFixed(1)}" y="40" width="${Math.max(x1 - x0, 1).toFixed(1)}" height="30" fill="${colour.get(s.stage)}"><title>${escape(s.stage)}</title></rect>`);
    if (x1 - x0 > s.stage.length * 6.2) parts.push(`<text x="${(x0 + 4).toFixed(1)}" y="59" fill="#ffffff">${escape(s.stage)}</text>`);
  }
  for (const c of checks) parts.push(`<line class="check" x1="${x(c.seconds).toFixed(1)}" y1="76" x2="${x(c.seconds).toFixed(1)}" y2="88" stroke="#333333"/>`);
  parts.push(`<text x="${LEFT}" y="102" fill="#555555">each tick: one check (${checks.length})</text>`);
  for (const [i, n] of notices.entries()) {
    const nx = x(n.seconds);
    const y = 130 + (i % 2) * 22;
    // A notice near the right edge is labelled on its left.
    const right = nx > WIDTH - 120;
    parts.push(`<circle class="notice" cx="${nx.toFixed(1)}" cy="${y - 4}" r="4" fill="#e15759"/>`);
    parts.push(`<text x="${(right ? nx - 7 : nx + 7).toFixed(1)}" y="${y}"${right ? ' text-anchor="end"' : ''}>notice: ${escape(n.event)}</text>`);
  }
  for (let day = 0; day <= total / DAY; day++) {
    const dx = x(day * DAY);
    parts.push(`<line x1="${dx.toFixed(1)}" y1="180" x2="${dx.toFixed(1)}" y2="186" stroke="#333333"/>`);
    parts.push(`<text x="${dx.toFixed(1)}" y="200" text-anchor="middle">day ${day}</text>`);
  }
  parts.push(`<line x1="${LEFT}" y1="180" x2="${LEFT + CHART}" y2="180" stroke="#333333"/>`);
  let lx = LEFT;
  for (const [stage, fill] of colour) {
    parts.push(`<rect x="${lx}" y="213" width="10" height="10" fill="${fill}"/>`);
    parts.push(`<text x="${lx + 14}" y="222" fill="#333333">${escape(stage)}</text>`);
    lx += 24 + stage.length * 6.2;
  }
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
