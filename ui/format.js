// Small formatting helpers and a DOM builder shared by the panels.

export function usd(amount) {
  const value = Number(amount) || 0;
  return "$" + (value >= 100 ? value.toFixed(2) : value.toFixed(4));
}

export function tokens(count) {
  const value = Number(count) || 0;
  if (value >= 1e6) return (value / 1e6).toFixed(1) + "M";
  if (value >= 1e4) return Math.round(value / 1e3) + "k";
  return String(value);
}

/** The tokens of a spend (reducer's NO_SPEND fields) in and out: "12k in · 800 out". */
function tokenLine(spent) {
  return `${tokens(spent.input_tokens)} in · ${tokens(spent.output_tokens)} out`;
}

/** The same, each kind in full, for a tooltip. */
function tokenDetail(spent) {
  return (
    `input ${spent.input_tokens} · output ${spent.output_tokens} · cache read ${spent.cache_read_input_tokens} · ` +
    `cache written ${spent.cache_creation_input_tokens}`
  );
}

function plural(count, word, many = `${word}s`) {
  return `${count} ${count === 1 ? word : many}`;
}

/** What a session or an agent spent (reducer's NO_SPEND fields), on one line. */
export function spendLine(spent) {
  const priced = spent.unpriced_turns === spent.turns ? "" : ` · priced ${usd(spent.priced_usd)}`;
  const differ = spent.discrepancies ? ` · ⚠ ${plural(spent.discrepancies, "cost discrepancy", "cost discrepancies")}` : "";
  const cache = tokens(spent.cache_read_input_tokens + spent.cache_creation_input_tokens);
  return `${tokenLine(spent)} · ${cache} cache · ${usd(spent.cost_usd)} · ${plural(spent.turns, "turn")}${priced}${differ}`;
}

/** The same, in full: each kind of token, for a tooltip. */
export function spendDetail(spent) {
  return (
    `${tokenDetail(spent)}\nthe CLI's cost ${usd(spent.cost_usd)} · podium's price ` +
    `${usd(spent.priced_usd)}${spent.unpriced_turns ? ` (${spent.unpriced_turns} turns unpriced)` : ""}` +
    (spent.discrepancies ? `\n${spent.discrepancies} turns priced differently by the CLI and podium (>1%)` : "")
  );
}

/**
 * What the summarizer spent (reducer's state.summarizer: its calls are its
 * turns, priced by podium alone), short enough for the header:
 * "summaries · 3 calls · 2k in · 300 out · $0.0012" (the cache in the detail).
 */
export function summarizerLine(spent) {
  const priced = spent.unpriced_turns === spent.turns ? "" : ` · ${usd(spent.priced_usd)}`;
  const failing = spent.failure ? " · ⚠ failing" : "";
  return `summaries · ${plural(spent.turns, "call")} · ${tokenLine(spent)}${priced}${failing}`;
}

/** The same, in full, with its last failure while it lasts. */
export function summarizerDetail(spent) {
  const unpriced = spent.unpriced_turns ? ` (${plural(spent.unpriced_turns, "call")} unpriced)` : "";
  const { failure } = spent;
  const failed = failure
    ? `\nfailing: ${failure.error} (attempt ${failure.attempt}, again in ${failure.retry_in_s}s)`
    : "";
  return (
    `the AI summaries' model calls, apart from the agents'\n${tokenDetail(spent)}\n` +
    `podium's price ${usd(spent.priced_usd)}${unpriced}` +
    (spent.failures ? `\n${plural(spent.failures, "failed call")}` : "") + failed
  );
}

// Intl formatters are slow to make and fast to use: make them once.
const CLOCK = new Intl.DateTimeFormat([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });

export function clock(iso) {
  return iso ? CLOCK.format(new Date(iso)) : "";
}

export function dateTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return `${d.toLocaleDateString()} ${d.toLocaleTimeString([], { hour12: false })}`;
}

export function shortId(id) {
  return String(id ?? "").slice(0, 8);
}

/** Set an element's text only when it changes: an equal write still costs a relayout. */
export function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

/** Pretty JSON, or the text itself when it is a string already. */
export function pretty(value) {
  if (typeof value === "string") return value;
  return JSON.stringify(value, null, 2);
}

/**
 * h("div#id.row.open", {title: "x", onclick}, child, "text", [more]) — a tiny
 * element builder. Text is always set as text (never parsed as HTML), so
 * nothing an agent writes can inject markup.
 */
export function h(tag, props, ...children) {
  const name = /^[a-z0-9-]*/i.exec(tag)[0];
  const el = document.createElement(name || "div");
  for (const [, sign, word] of tag.slice(name.length).matchAll(/([.#])([^.#]+)/g)) {
    if (sign === "#") el.id = word;
    else el.classList.add(word);
  }
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value == null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key in el && key !== "list") el[key] = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child == null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}
