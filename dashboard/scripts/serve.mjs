// Serves the built dashboard (build/site) on 127.0.0.1 only:
//
//   npm run serve        (DASHBOARD_PORT, default 4310)
//
// A static file server with the clean URLs the site links to (/clv ->
// clv.html); it reads nothing but files under build/site.
import {createReadStream, statSync} from "node:fs";
import {createServer} from "node:http";
import {dirname, extname, join, normalize, sep} from "node:path";
import {fileURLToPath} from "node:url";

const site = join(dirname(dirname(fileURLToPath(import.meta.url))), "build", "site");
const port = Number(process.env.DASHBOARD_PORT || 4310);
const types = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2"
};

function resolve(pathname) {
  let path;
  try {
    path = normalize(decodeURIComponent(pathname));
  } catch {
    return null;
  }
  if (path.split(sep).includes("..")) return null;
  const candidates = path.endsWith("/") ? [join(path, "index.html")] : [path, `${path}.html`, join(path, "index.html")];
  for (const candidate of candidates) {
    const file = join(site, candidate);
    if (!file.startsWith(site + sep)) continue;
    try {
      if (statSync(file).isFile()) return file;
    } catch {
      // try the next form
    }
  }
  return null;
}

const server = createServer((request, response) => {
  const {pathname} = new URL(request.url, "http://127.0.0.1");
  const file = request.method === "GET" || request.method === "HEAD" ? resolve(pathname) : null;
  if (!file) {
    response.writeHead(404, {"content-type": "text/plain; charset=utf-8"});
    response.end("not found\n");
    return;
  }
  response.writeHead(200, {"content-type": types[extname(file)] ?? "application/octet-stream", "cache-control": "no-cache"});
  if (request.method === "HEAD") response.end();
  else createReadStream(file).pipe(response);
});
server.listen(port, "127.0.0.1", () => {
  console.log(`dashboard: http://127.0.0.1:${port}/`);
});
// Static files only: nothing to finish, and open keep-alive connections must
// not hold the process.
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(0));
