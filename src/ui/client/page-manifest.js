// One manifest: what it is, its config (the image's settings and history), its layers or
// its platforms, what refers to it (signatures, SBOMs, attestations), and the raw JSON.
import { append, copyButton, isArtifact, formatDate, formatPlatform, formatSize, h, shortDigest } from "./dom.js";
import { manifestHref, navigate, repositoryHref } from "./nav.js";
import { breadcrumbs, deleteReference, pullBox } from "./page-repository.js";
import { getJson } from "./session.js";

const field = (label, value) => (value === null || value === undefined || value === "" ? null : [h("dt", null, label), h("dd", null, value)]);
const section = (title, ...content) => h("section", { "data-section": title.toLowerCase() }, h("h2", null, title), ...content);
const table = (headers, rows, cls) =>
  h("div", { class: "scroll" },
    h("table", { class: "list " + (cls ?? "") }, h("thead", null, h("tr", null, headers.map((t) => h("th", { class: t === "Size" || t === "#" ? "num" : null }, t)))), h("tbody", null, rows)));
const digestLink = (name, digest) => h("a", { href: manifestHref(name, digest), title: digest }, h("code", null, shortDigest(digest)));
const pairs = (record) =>
  table(["Key", "Value"], Object.entries(record).map(([k, v]) => h("tr", null, h("td", null, h("code", null, k)), h("td", { class: "wrap" }, String(v)))), "pairs");
const commandLine = (value) => (Array.isArray(value) ? h("code", null, JSON.stringify(value)) : value ? h("code", null, String(value)) : null);

export async function renderManifest(view, name, reference, query) {
  const m = await getJson(`/api/ui/repositories/${name}/manifests/${reference}`);
  document.title = `${name}${m.tag ? ":" + m.tag : "@" + shortDigest(m.digest)} · Berth`;
  const c = m.config ?? {};
  const settings = c.config ?? {};
  const actions = m.canDelete
    ? h("div", { class: "actions" },
        m.tag ? h("button", { class: "danger", type: "button", onclick: () => deleteReference(name, m.tag, "tag", () => navigate(repositoryHref(name))) }, "Delete tag") : null,
        h("button", { class: "danger", type: "button", onclick: () => deleteReference(name, m.digest, "manifest", () => navigate(repositoryHref(name))) }, "Delete manifest"))
    : null;

  append(view, [
    breadcrumbs(name, m.tag ?? shortDigest(m.digest)),
    h("div", { class: "title" }, h("h1", null, `${name}${m.tag ? ":" + m.tag : ""}`), actions),
    pullBox(name, m.tag ?? m.digest),
    h("dl", { class: "facts" },
      field("Digest", [h("code", { class: "wrap" }, m.digest), " ", copyButton(() => m.digest)]),
      field("Media type", h("code", null, m.mediaType)),
      field("Artifact type", isArtifact(m.artifactType) ? h("code", null, m.artifactType) : null),
      field("Manifest size", formatSize(m.size)),
      field("Pushed", formatDate(m.pushedAt)),
      field("Subject", m.subject ? digestLink(name, m.subject) : null),
      field("Created", c.created ? formatDate(c.created) : null),
      field("Author", c.author),
      field("Platform", c.os ? formatPlatform(c) : null),
      field("Entrypoint", commandLine(settings.Entrypoint)),
      field("Command", commandLine(settings.Cmd)),
      field("Working dir", settings.WorkingDir),
      field("User", settings.User),
      field("Ports", settings.ExposedPorts ? Object.keys(settings.ExposedPorts).join(", ") : null)),
    m.children ? section("Platforms", table(["Platform", "Digest", "Media type", "Size", "Pushed"], m.children.map((child) =>
      h("tr", { "data-platform": formatPlatform(child.platform ?? {}) },
        h("td", null, h("a", { href: manifestHref(name, child.digest) }, formatPlatform(child.platform ?? {}))),
        h("td", null, digestLink(name, child.digest)),
        h("td", null, h("code", null, child.mediaType)),
        h("td", { class: "num" }, formatSize(child.size)),
        h("td", null, formatDate(child.pushedAt)))), "children")) : null,
    m.layers ? layersSection(m) : null,
    section("Referrers", m.referrers.length
      ? table(["Artifact type", "Digest", "Size", "Pushed", "Annotations"], m.referrers.map((r) =>
          h("tr", { "data-referrer": r.digest },
            h("td", null, h("code", null, r.artifactType ?? r.mediaType)),
            h("td", null, digestLink(name, r.digest)),
            h("td", { class: "num" }, formatSize(r.size)),
            h("td", null, formatDate(r.pushedAt)),
            h("td", { class: "wrap muted" }, Object.entries(r.annotations ?? {}).map(([k, v]) => `${k}=${v}`).join(", ")))), "referrers")
      : h("p", { class: "muted" }, "No signatures, SBOMs or other artifacts refer to this manifest.")),
    settings.Env?.length ? section("Environment", h("ul", { class: "env" }, settings.Env.map((e) => h("li", null, h("code", null, e))))) : null,
    settings.Labels && Object.keys(settings.Labels).length ? section("Labels", pairs(settings.Labels)) : null,
    c.history?.length ? section("History", h("ol", { class: "history" }, c.history.map((step) =>
      h("li", { class: step.empty_layer ? "empty" : null }, h("code", { class: "wrap" }, (step.created_by ?? step.comment ?? "").replace(/^\/bin\/sh -c #\(nop\)\s*/, "")), " ", h("small", { class: "muted" }, formatDate(step.created)))))) : null,
    m.annotations && Object.keys(m.annotations).length ? section("Annotations", pairs(m.annotations)) : null,
    section("Raw manifest", h("details", { open: query.get("raw") === "1" ? true : null },
      h("summary", null, "Show JSON"), h("pre", { class: "raw" }, prettyJson(m.raw)), copyButton(() => m.raw ?? "", "Copy JSON"))),
  ]);
}

function layersSection(m) {
  const total = m.layers.reduce((sum, layer) => sum + (layer.size ?? 0), 0);
  return section("Layers", table(["#", "Digest", "Media type", "Size"], [
    ...m.layers.map((layer, i) =>
      h("tr", { "data-layer": layer.digest },
        h("td", { class: "num" }, String(i + 1)),
        h("td", { title: layer.digest }, h("code", null, shortDigest(layer.digest))),
        h("td", null, h("code", null, layer.mediaType)),
        h("td", { class: "num" }, formatSize(layer.size)))),
    h("tr", { class: "total" }, h("td"), h("td", null, `${m.layers.length} ${m.layers.length === 1 ? "layer" : "layers"}`), h("td"), h("td", { class: "num" }, formatSize(total))),
  ], "layers"));
}

function prettyJson(raw) {
  try {
    return JSON.stringify(JSON.parse(raw), null, 2);
  } catch {
    return raw ?? "";
  }
}
