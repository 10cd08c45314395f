// Repositories the caller may pull, a page at a time, filtered by name, grouped by namespace.
import { append, formatDate, h } from "./dom.js";
import { navigate, repositoryHref } from "./nav.js";
import { currentUser, getJson, isAuthRequired } from "./session.js";

const PAGE = 50;

export async function renderRepositories(view, query) {
  const q = query.get("q") ?? "";
  const last = query.get("last");
  const params = new URLSearchParams({ n: String(PAGE) });
  if (q) params.set("q", q);
  if (last) params.set("last", last);
  const { repositories, next } = await getJson(`/api/ui/repositories?${params}`);
  document.title = "Repositories · Berth";

  let timer;
  const filter = h("input", {
    type: "search", name: "q", value: q, "data-focus": q ? true : null, placeholder: "Filter by name", "aria-label": "Filter repositories by name",
    oninput: () => {
      clearTimeout(timer);
      timer = setTimeout(() => navigate(filter.value ? `/ui/?q=${encodeURIComponent(filter.value)}` : "/ui/", { replace: true }), 200);
    },
  });
  const groups = new Map();
  for (const repository of repositories) {
    if (!groups.has(repository.namespace)) groups.set(repository.namespace, []);
    groups.get(repository.namespace).push(repository);
  }
  const rows = [...groups].flatMap(([namespace, members]) => [
    groups.size > 1 || namespace ? h("tr", { class: "group" }, h("th", { colspan: 3, scope: "rowgroup" }, namespace ? namespace + "/" : "(top level)")) : null,
    ...members.map((r) =>
      h("tr", { "data-repository": r.name },
        h("td", null, h("a", { href: repositoryHref(r.name) }, r.name)),
        h("td", { class: "num" }, `${r.tagCount} ${r.tagCount === 1 ? "tag" : "tags"}`),
        h("td", null, formatDate(r.pushedAt)))),
  ]);
  const pager = h("nav", { class: "pager" },
    last ? h("a", { href: q ? `/ui/?q=${encodeURIComponent(q)}` : "/ui/" }, "« First page") : null,
    next ? h("a", { href: `/ui/?${new URLSearchParams({ ...(q && { q }), last: next })}`, rel: "next" }, "Next page »") : null);
  const empty = !repositories.length &&
    h("p", { class: "notice" }, q ? `No repository matches "${q}".` : "No repositories yet.",
      isAuthRequired() && !currentUser() ? " Sign in to see private repositories." : "");
  append(view, [
    h("div", { class: "title" }, h("h1", null, "Repositories"), filter),
    empty || h("table", { class: "list repositories" },
      h("thead", null, h("tr", null, h("th", null, "Name"), h("th", { class: "num" }, "Tags"), h("th", null, "Last pushed"))),
      h("tbody", null, rows)),
    pager,
  ]);
}
