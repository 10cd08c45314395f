// DOM building and formatting helpers. No innerHTML anywhere: every name, tag, label and
// annotation a registry holds reaches the page as text.

/** h("a", { href, onclick }, "text", child, [children]) -> an element. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

/** Append children to `el`, skipping null/false (DOM's own append would print "null"). */
export function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

const UNITS = ["B", "kB", "MB", "GB", "TB"];
/** Decimal units, as docker prints them. */
export function formatSize(bytes) {
  if (typeof bytes !== "number") return "—";
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 2 : 1)} ${UNITS[unit]}`;
}

const RELATIVE = [["year", 31536e6], ["month", 2592e6], ["day", 864e5], ["hour", 36e5], ["minute", 6e4]];
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

/** A <time> saying "3 hours ago", the exact time on hover. */
export function formatDate(iso) {
  if (!iso) return h("span", { class: "muted" }, "—");
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return h("span", { class: "muted" }, String(iso));
  const delta = date.getTime() - Date.now();
  const [unit, ms] = RELATIVE.find(([, ms]) => Math.abs(delta) >= ms) ?? ["second", 1e3];
  return h("time", { datetime: date.toISOString(), title: date.toLocaleString() }, relative.format(Math.round(delta / ms), unit));
}

const IMAGE_CONFIGS = ["application/vnd.oci.image.config.v1+json", "application/vnd.docker.container.image.v1+json"];
/** An artifact type worth showing: not the plain image config every image has. */
export const isArtifact = (type) => Boolean(type) && !IMAGE_CONFIGS.includes(type);

export const shortDigest = (digest) => (digest ? digest.replace(/^sha256:/, "").slice(0, 12) : "");

export function formatPlatform(p) {
  return [p.os, p.architecture, p.variant].filter(Boolean).join("/") || "unknown";
}

/** Copy text; falls back to a selected field where the Clipboard API is not allowed (plain http). */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const field = h("textarea", { class: "offscreen", readonly: true });
    field.value = text;
    document.body.append(field);
    field.select();
    const ok = document.execCommand("copy");
    field.remove();
    return ok;
  }
}

/** A button that copies `text()` and says so. */
export function copyButton(text, label = "Copy", cls = "") {
  const button = h("button", {
    class: "small " + cls,
    type: "button",
    title: "Copy to the clipboard",
    onclick: async () => {
      button.textContent = (await copyText(text())) ? "Copied" : "Copy failed";
      setTimeout(() => (button.textContent = label), 1500);
    },
  }, label);
  return button;
}
