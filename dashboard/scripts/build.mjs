// Builds the dashboard into build/site with no network access:
//
//   npm run build        (PG* variables and CA_TARGET say which build to show)
//
// Observable Framework names the optional libraries its client can load on
// demand (React for JSX pages, DuckDB, Arrow, Leaflet, ...) by npm version
// and, when its cache does not record a version yet, asks the npm registry
// at build time. The pages here load none of them; recording a version for
// each in the cache first (the installed one where there is one) makes the
// build ask nothing of any network. A page that did load one would fail
// with a missing file, which the browser test reports.
import {spawnSync} from "node:child_process";
import {existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync} from "node:fs";
import {createRequire} from "node:module";
import {dirname, join} from "node:path";
import {fileURLToPath} from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const require = createRequire(join(root, "package.json"));
const framework = dirname(require.resolve("@observablehq/framework/package.json"));

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else if (path.endsWith(".js")) yield path;
  }
}
const names = new Set();
for (const file of files(join(framework, "dist", "client"))) {
  for (const [, name] of readFileSync(file, "utf8").matchAll(/["']npm:((?:@[\w.-]+\/)?[\w.-]+)/g)) names.add(name);
}
const cache = join(root, "src", ".observablehq", "cache");
// Loaders rerun on every build: the figures are those of the database now.
rmSync(join(cache, "data"), {recursive: true, force: true});
for (const name of [...names].sort()) {
  let version = "0.0.0-not-bundled";
  try {
    version = JSON.parse(readFileSync(require.resolve(`${name}/package.json`), "utf8")).version;
  } catch {
    // not installed: no page may load it
  }
  const dir = join(cache, "_npm", `${name}@${version}`);
  if (!existsSync(dir)) mkdirSync(dir, {recursive: true});
}

const result = spawnSync(process.execPath, [join(framework, "dist", "bin", "observable.js"), "build"], {
  cwd: root,
  stdio: "inherit",
  env: {...process.env, OBSERVABLE_TELEMETRY_DISABLE: "true"}
});
process.exit(result.status ?? 1);
