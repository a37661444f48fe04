/**
 * `GET /docs`: a browsable API reference that needs no CDN (works offline and on Lambda): a
 * small page rendering /openapi.json with plain DOM calls.
 */
export const docsPage = (specUrl: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>lamindb-serverless API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.6rem}code,pre{font:13px ui-monospace,monospace;background:#f5f5f5;border-radius:4px}
pre{padding:.6rem;overflow:auto}details{border:1px solid #ddd;border-radius:6px;margin:.5rem 0;padding:.4rem .8rem}
summary{cursor:pointer}.m{display:inline-block;width:4.5rem;font-weight:600;text-transform:uppercase}
.get{color:#1a7f37}.post{color:#0550ae}.put{color:#8250df}.patch{color:#9a6700}.delete{color:#cf222e}
table{border-collapse:collapse}td,th{border-bottom:1px solid #eee;padding:.2rem .6rem;text-align:left}
</style></head><body><h1>lamindb-serverless API</h1>
<p>Machine-readable: <a href="${specUrl}">${specUrl}</a>. Every route except /health, /openapi.json and /docs needs <code>Authorization: Bearer &lt;token&gt;</code>.</p>
<div id="routes">loading…</div>
<script>
const el = (tag, attrs = {}, ...kids) => { const e = document.createElement(tag); Object.assign(e, attrs); e.append(...kids); return e; };
fetch(${JSON.stringify(specUrl)}).then(r => r.json()).then(spec => {
  const root = document.getElementById("routes"); root.textContent = "";
  for (const [path, ops] of Object.entries(spec.paths)) for (const [method, op] of Object.entries(ops)) {
    const params = (op.parameters || []).map(p => el("tr", {}, el("td", {}, el("code", {}, p.name)), el("td", {}, p.in), el("td", {}, p.description || "")));
    const body = op.requestBody ? el("pre", {}, JSON.stringify(op.requestBody.content, null, 2)) : "";
    const responses = Object.entries(op.responses || {}).map(([s, r]) => el("li", {}, el("code", {}, s), " " + (r.description || "")));
    root.append(el("details", {}, el("summary", {}, el("span", { className: "m " + method }, method), el("code", {}, path), " — " + (op.summary || "")),
      el("p", {}, op.description || ""), params.length ? el("table", {}, ...params) : "", body, el("ul", {}, ...responses)));
  }
}).catch(e => { document.getElementById("routes").textContent = "could not load the API description: " + e; });
</script></body></html>`;
