export default { async fetch(req: Request) { return new Response(JSON.stringify({ m: req.method, url: req.url, cr: req.headers.get("content-range"), has: req.headers.has("content-range") })); } };
