// Formats, colours and small DOM helpers shared by the pages. Tables carry
// data-check attributes ("page/key/column") so that the browser test can read
// the figures a page shows and compare them with SQL.

const integer = new Intl.NumberFormat("en-US", {maximumFractionDigits: 0});
const cents = new Intl.NumberFormat("en-US", {minimumFractionDigits: 2, maximumFractionDigits: 2});
const compact = new Intl.NumberFormat("en-US", {notation: "compact", maximumFractionDigits: 1});
const percent = new Intl.NumberFormat("en-US", {style: "percent", minimumFractionDigits: 1, maximumFractionDigits: 1});

export const fmt = {
  int: (v) => (v == null ? "–" : integer.format(v)),
  money: (v) => (v == null ? "–" : cents.format(v)),
  compact: (v) => (v == null ? "–" : compact.format(v)),
  // Shares arrive as fractions in [0, 1].
  pct: (v) => (v == null ? "–" : percent.format(v)),
  num: (digits) => {
    const f = new Intl.NumberFormat("en-US", {minimumFractionDigits: digits, maximumFractionDigits: digits});
    return (v) => (v == null ? "–" : f.format(v));
  }
};

// The standard segments from best to worst, then the catch-alls; colours
// follow the usual RFM palette (greens for the best, reds for those at risk).
export const segmentOrder = [
  "Champions",
  "Loyal Customers",
  "Potential Loyalist",
  "New Customers",
  "Promising",
  "Need Attention",
  "About To Sleep",
  "At Risk",
  "Can't Lose Them",
  "Hibernating",
  "Lost",
  "Others",
  "No purchase"
];
const segmentColors = [
  "#1a7f37", "#4caf50", "#9ccc65", "#26a69a", "#4fc3f7", "#fbc02d", "#ffb74d",
  "#f4511e", "#c62828", "#8d6e63", "#9e9e9e", "#bdbdbd", "#e0e0e0"
];
export function segmentRank(segment) {
  const i = segmentOrder.indexOf(segment);
  return i < 0 ? segmentOrder.length : i;
}
export function sortSegments(segments) {
  return [...segments].sort((a, b) => segmentRank(a) - segmentRank(b) || String(a).localeCompare(String(b)));
}
export function segmentColor(segment) {
  const i = segmentOrder.indexOf(segment);
  return i < 0 ? "#757575" : segmentColors[i];
}
// Plot's colour option for segment marks: a fixed domain, so a segment keeps
// its colour on every page.
export function segmentScale(present) {
  const domain = sortSegments(present);
  return {domain, range: domain.map(segmentColor)};
}

export function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value == null || value === false) continue;
    if (name === "style" && typeof value === "object") Object.assign(node.style, value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child == null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function swatch(color) {
  return element("span", {class: "swatch", style: {background: color}});
}

export function kpi(label, value, note, check) {
  return element(
    "div",
    {class: "card kpi"},
    element("span", {class: "kpi-label"}, label),
    element("span", {class: "kpi-value", "data-check": check}, value),
    note ? element("span", {class: "kpi-note"}, note) : null
  );
}

// columns: {label, value(row), format(value), numeric, check (column name
// for data-check), cell(row) to build a custom cell}. key(row) names the row.
export function dataTable(rows, columns, {page, key, footer} = {}) {
  const head = element("thead", {}, element("tr", {}, columns.map((c) => element("th", {class: c.numeric ? "num" : null}, c.label))));
  // Footer cells show the plain value (no swatch or other decoration).
  const cell = (row, c, rowKey, plain = false) =>
    element(
      "td",
      {class: c.numeric ? "num" : null, "data-check": c.check && page ? `${page}/${rowKey}/${c.check}` : null},
      c.cell && !plain ? c.cell(row) : (c.format ?? String)(c.value(row))
    );
  const body = element("tbody", {}, rows.map((row) => element("tr", {}, columns.map((c) => cell(row, c, key?.(row))))));
  const foot = footer ? element("tfoot", {}, element("tr", {}, columns.map((c) => cell(footer, c, "total", true)))) : null;
  return element("table", {class: "data"}, head, body, foot);
}

// The width to give a plot: what the page offers, but never less than
// `least`. Observable's width (and resize()) can report 0 or a few pixels
// before the page is laid out, and a plot narrower than its margins draws
// bars of negative width.
export function plotWidth(available, least = 480) {
  return Math.max(available, least);
}

export function sum(rows, value) {
  return rows.reduce((total, row) => total + (value(row) ?? 0), 0);
}
