// One repository: its tags with digest, platforms, size, dates; sort by name or date; a
// pull command to copy; delete for those who may.
import { append, copyButton, isArtifact, formatDate, formatPlatform, formatSize, h, shortDigest } from "./dom.js";
import { confirmDialog, manifestHref, rerender, repositoryHref } from "./nav.js";
import { getJson, request } from "./session.js";

const PAGE = 100;

export function pullCommand(tool, name, reference) {
  const separator = reference.includes(":") ? "@" : ":";
  return `${tool} pull ${location.host}/${name}${separator}${reference}`;
}

let tool = "docker";

/** The pull command box: docker or podman, with a copy button. */
export function pullBox(name, reference) {
  const code = h("code", { class: "pull-command" }, pullCommand(tool, name, reference));
  const choose = (value) => () => {
    tool = value;
    code.textContent = pullCommand(tool, name, reference);
    for (const b of box.querySelectorAll("[data-tool]")) b.setAttribute("aria-pressed", String(b.dataset.tool === tool));
  };
  const box = h("div", { class: "pull" },
    h("span", { class: "tools", role: "group", "aria-label": "Client" },
      ["docker", "podman"].map((t) => h("button", { class: "small toggle", type: "button", "data-tool": t, "aria-pressed": String(t === tool), onclick: choose(t) }, t))),
    code,
    copyButton(() => code.textContent));
  return box;
}

export async function renderRepository(view, name, query) {
  const sort = query.get("sort") === "date" ? "date" : "name";
  const params = new URLSearchParams({ n: String(PAGE), sort });
  for (const key of ["last", "offset"]) if (query.get(key)) params.set(key, query.get(key));
  const page = await getJson(`/api/ui/repositories/${name}/tags?${params}`);
  document.title = `${name} · Berth`;

  const rows = page.tags.map((t) =>
    h("tr", { "data-tag": t.tag },
      h("td", null, h("a", { href: manifestHref(name, t.tag) }, t.tag)),
      h("td", { class: "digest" }, h("a", { href: manifestHref(name, t.digest), title: t.digest }, h("code", null, shortDigest(t.digest)))),
      h("td", { class: "platforms" }, isArtifact(t.artifactType) ? h("span", { class: "muted" }, t.artifactType) : (t.platforms ?? []).map((p) => h("span", { class: "chip" }, formatPlatform(p)))),
      h("td", { class: "num" }, formatSize(t.size), t.sharedSize ? h("div", { class: "muted shared", title: "bytes of layers other tags on this page use too" }, `${formatSize(t.sharedSize)} shared`) : null),
      h("td", { class: "wide" }, formatDate(t.created)),
      h("td", null, formatDate(t.pushedAt)),
      h("td", { class: "row-actions" },
        copyButton(() => pullCommand(tool, name, t.tag), "Copy pull", "copy-pull"),
        page.canDelete ? h("button", { class: "small danger", type: "button", onclick: () => deleteReference(name, t.tag, "tag") }, "Delete") : null)));

  const sortLink = (value, label) =>
    h("a", { href: `${repositoryHref(name)}${value === "name" ? "" : "?sort=" + value}`, "aria-current": sort === value ? "true" : null }, label);
  const nextHref = page.next === null ? null : `${repositoryHref(name)}?${new URLSearchParams(sort === "date" ? { sort, offset: page.next } : { last: page.next })}`;
  append(view, [
    breadcrumbs(name),
    h("div", { class: "title" }, h("h1", null, name), h("span", { class: "muted" }, `${page.tagCount} ${page.tagCount === 1 ? "tag" : "tags"}`)),
    page.tags.length ? pullBox(name, page.tags[0].tag) : null,
    h("nav", { class: "sort" }, "Sort: ", sortLink("name", "Name"), " · ", sortLink("date", "Newest first")),
    page.tags.length
      ? h("div", { class: "scroll" }, h("table", { class: "list tags" },
          h("thead", null, h("tr", null, ["Tag", "Digest", "Platforms", "Size", "Created", "Pushed", ""].map((label, i) => h("th", { class: i === 3 ? "num" : i === 4 ? "wide" : null }, label)))),
          h("tbody", null, rows)))
      : h("p", { class: "notice" }, "No tags. Untagged manifests stay reachable by digest."),
    h("nav", { class: "pager" },
      params.has("last") || params.has("offset") ? h("a", { href: `${repositoryHref(name)}${sort === "date" ? "?sort=date" : ""}` }, "« First page") : null,
      nextHref ? h("a", { href: nextHref, rel: "next" }, "Next page »") : null),
  ]);
}

export function breadcrumbs(name, last) {
  const parts = name.split("/");
  return h("nav", { class: "crumbs", "aria-label": "Breadcrumbs" },
    h("a", { href: "/ui/" }, "Repositories"),
    parts.length > 1 ? [" / ", h("a", { href: `/ui/?q=${encodeURIComponent(parts.slice(0, -1).join("/") + "/")}` }, parts.slice(0, -1).join("/"))] : null,
    last ? [" / ", h("a", { href: repositoryHref(name) }, parts.at(-1)), " / ", h("span", null, last)] : null);
}

/** Confirm, then DELETE through the OCI API: the registry decides, the UI only asks. */
export async function deleteReference(name, reference, kind, after) {
  const what = kind === "tag" ? `the tag ${name}:${reference}` : `the manifest ${name}@${reference} and every tag on it`;
  if (!(await confirmDialog(kind === "tag" ? "Delete tag?" : "Delete manifest?", `This removes ${what}.`, "Delete"))) return;
  try {
    await request(`/v2/${name}/manifests/${reference}`, { method: "DELETE" });
  } catch (error) {
    await confirmDialog("Not deleted", error.message, "OK");
    return;
  }
  if (after) after();
  else rerender();
}
