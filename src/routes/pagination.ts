/** Shared by tags/list and _catalog: the JSON page plus RFC 5988 `Link` to the next one. */
export function paginatedJson(url: URL, body: object, items: string[], n: number | undefined, more: boolean): Response {
  const headers = new Headers({ "Content-Type": "application/json" });
  const last = items.at(-1);
  if (more && n !== undefined && last !== undefined) {
    const next = new URLSearchParams({ n: String(n), last });
    headers.set("Link", `<${url.pathname}?${next}>; rel="next"`);
  }
  return new Response(JSON.stringify(body), { headers });
}
