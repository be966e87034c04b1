// Builds wwwroot-src into Aggregator.Web/wwwroot/dist: bundled, minified scripts with sourcemaps,
// one stylesheet with the Bootstrap rules no page uses purged, and an SVG sprite of the
// bootstrap-icons glyphs the pages use. ASP.NET Core's MapStaticAssets then serves them compressed,
// under fingerprinted URLs, cached as immutable — so every file a page loads must be named in a
// page (no runtime-loaded chunks, whose plain URLs would only be revalidated).
//
// Run by `npm run build` and by the Aggregator.Web MSBuild target. Several builds may start at once
// (dotnet test builds several projects, two terminals, an IDE), so the whole job — `npm ci` when
// node_modules is missing or older than package-lock.json, then esbuild — runs under a
// cross-process lock, and a build that waited for the lock skips work the other one just did.
// Only Node built-ins are imported before `npm ci` has run.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const src = path.join(root, "wwwroot-src");
const dist = path.join(root, "Aggregator.Web", "wwwroot", "dist");
const lockDir = path.join(root, "Aggregator.Web", "obj", "frontend-build.lock");
const stamp = path.join(dist, ".build-stamp");
const installedLock = path.join(root, "node_modules", ".package-lock.json");
// MSBuild passes --if-stale: it already compared inputs and outputs, but a build that waited for
// the lock may find the work done by the build that held it.
const ifStale = process.argv.includes("--if-stale");
const outputs = ["site.js", "admin.js", "dashboard.js", "chat.js", "highlight.js", "maths.js", "theme.js", "site.css", "maths.css", "icons.svg"].map((f) => path.join(dist, f));

// bootstrap-icons glyphs used in Features/**/*.cshtml and wwwroot-src/**/*.ts (as icon("name")); only these ship.
const icons = [
  "archive", "box-arrow-up", "check2", "chevron-down", "chevron-left", "chevron-right", "clipboard", "download",
  "file-earmark-pdf", "file-earmark-text", "folder", "folder-plus", "keyboard", "layout-three-columns", "list",
  "lock-fill", "paperclip", "pencil", "pin-angle", "pin-angle-fill", "share", "sliders", "star", "star-fill",
  "three-dots", "trash", "x-lg",
  // live model health (chat/health.ts, Admin/Models)
  "check-circle-fill", "exclamation-triangle-fill", "x-octagon-fill",
];

// Progress for the person waiting. Under MSBuild (the Aggregator.Web target) stdout is a pipe that a plain
// `dotnet run` never shows, so a first run would sit silent for a minute: write to the terminal itself too.
function say(text) {
  console.log(text);
  if (process.stdout.isTTY) return;
  try {
    const tty = fs.openSync(process.platform === "win32" ? "CONOUT$" : "/dev/tty", "w");
    fs.writeSync(tty, `${text}\n`);
    fs.closeSync(tty);
  } catch {
    // No terminal (CI, an IDE): the build log has the line.
  }
}

const mtime = (file) => { try { return fs.statSync(file).mtimeMs; } catch { return 0; } };

function* files(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* files(full);
    else yield full;
  }
}

const newestInput = () => Math.max(
  ...[...files(src)].map(mtime),
  mtime(path.join(root, "package.json")),
  mtime(path.join(root, "package-lock.json")),
  mtime(path.join(root, "tsconfig.json")));

async function withLock(work) {
  fs.mkdirSync(path.dirname(lockDir), { recursive: true });
  const started = Date.now();
  for (;;) {
    try {
      fs.mkdirSync(lockDir);
      fs.writeFileSync(path.join(lockDir, "pid"), String(process.pid));
      break;
    } catch (error) {
      if (error.code !== "EEXIST") throw error;
      if (isStale()) { fs.rmSync(lockDir, { recursive: true, force: true }); continue; }
      if (Date.now() - started > 10 * 60_000) throw new Error(`Timed out waiting for ${lockDir}; delete it if no build is running.`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  const release = () => fs.rmSync(lockDir, { recursive: true, force: true });
  process.once("SIGINT", () => { release(); process.exit(130); });
  process.once("SIGTERM", () => { release(); process.exit(143); });
  try { return await work(); } finally { release(); }
}

// A lock whose owner died (killed build) must not block every later build.
function isStale() {
  try {
    const pid = Number(fs.readFileSync(path.join(lockDir, "pid"), "utf8"));
    if (!pid) return Date.now() - mtime(lockDir) > 30_000;
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return error.code === "ESRCH" || error.code === "ENOENT" && Date.now() - mtime(lockDir) > 30_000;
  }
}

function npmCiIfNeeded() {
  if (mtime(installedLock) >= mtime(path.join(root, "package-lock.json"))) return;
  say("frontend: npm ci (first run: installing the front-end packages)…");
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const result = spawnSync(npm, ["ci", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: root, stdio: "inherit", shell: process.platform === "win32" });
  if (result.status !== 0) throw new Error(`npm ci failed (exit ${result.status ?? result.signal})`);
}

async function build() {
  say("frontend: building wwwroot-src into Aggregator.Web/wwwroot/dist (esbuild, PurgeCSS, icon sprite)…");
  const esbuild = await import("esbuild");
  fs.rmSync(dist, { recursive: true, force: true });
  const common = {
    bundle: true,
    minify: true,
    sourcemap: "linked",
    target: ["es2022", "chrome115", "firefox115", "safari16"],
    logLevel: "warning",
    legalComments: "linked",
  };
  await Promise.all([
    // One self-contained module per page kind: nothing shared is worth a chunk (Bootstrap is on
    // every page through site.js; SignalR only in chat.js). highlight.js and maths.js (KaTeX) are modules of
    // their own that chat.js imports by their fingerprinted URLs once a code block or maths shows.
    esbuild.build({
      ...common,
      entryPoints: {
        site: "wwwroot-src/site.ts", admin: "wwwroot-src/admin.ts", chat: "wwwroot-src/chat.ts", highlight: "wwwroot-src/highlight.ts",
        maths: "wwwroot-src/maths.ts", dashboard: "wwwroot-src/admin/dashboard.ts", // Chart.js: only the dashboard loads it
      },
      outdir: dist,
      format: "esm",
    }),
    // Classic script loaded in <head>: sets the theme before the first paint (no flash, no inline script).
    esbuild.build({ ...common, entryPoints: { theme: "wwwroot-src/theme.ts" }, outdir: dist, format: "iife" }),
    buildCss(esbuild),
    buildMathsCss(esbuild),
  ]);
  writeIconSprite();
  fs.writeFileSync(stamp, new Date().toISOString());
  say(`frontend: built ${path.relative(root, dist)}`);
}

/**
 * site.css bundled by esbuild, with Bootstrap's rules that no page, script or server-set class uses
 * purged first. Only Bootstrap is purged: our own styles (styles/*.css) ship whole, so a class built
 * at run time (tier-${tier}) can never lose its rule.
 */
async function buildCss(esbuild) {
  const { PurgeCSS } = await import("purgecss");
  const [bootstrap] = await new PurgeCSS().purge({
    content: [
      "Aggregator.Web/Features/**/*.cshtml",
      "Aggregator.Web/Features/**/*.cs", // classes set by the server, e.g. MarkdownRenderer's text-end
      "wwwroot-src/**/*.ts",
    ],
    css: ["node_modules/bootstrap/dist/css/bootstrap.css"],
    safelist: {
      // Elements a model's Markdown can produce (Markdig), styled by Bootstrap's reboot.
      standard: ["table", "thead", "tbody", "tr", "th", "td", "blockquote", "pre", "code", "kbd", "ul", "ol", "li", "dl", "dt", "dd",
        "h1", "h2", "h3", "h4", "h5", "h6", "hr", "del", "ins", "mark", "sup", "sub", "strong", "em", "a", "p", "input", "img", "abbr"],
      // Classes Bootstrap's scripts and Razor's validation helpers add at run time.
      greedy: [/^show$/, /collaps/, /^fade$/, /data-bs-popper/, /validation/, /is-invalid/, /is-valid/, /was-validated/],
    },
  });
  const purgedBootstrap = {
    name: "purged-bootstrap",
    setup(build) {
      build.onResolve({ filter: /^bootstrap\/dist\/css\/bootstrap\.css$/ }, () => ({ path: "bootstrap.css", namespace: "purged" }));
      build.onLoad({ filter: /.*/, namespace: "purged" }, () => ({ contents: bootstrap.css, loader: "css" }));
    },
  };
  await esbuild.build({
    bundle: true,
    minify: true,
    logLevel: "warning",
    legalComments: "none",
    entryPoints: { site: "wwwroot-src/site.css" },
    outdir: dist,
    plugins: [purgedBootstrap],
  });
}

/**
 * KaTeX's stylesheet (dist/maths.css, linked by the chat page) with its fonts copied next to it: served from
 * our own origin (CSP font-src 'self'), never a CDN. Browsers fetch only the woff2 faces a formula uses.
 */
async function buildMathsCss(esbuild) {
  await esbuild.build({
    bundle: true,
    minify: true,
    logLevel: "warning",
    legalComments: "none",
    entryPoints: { maths: "node_modules/katex/dist/katex.css" },
    outdir: dist,
    loader: { ".woff2": "file", ".woff": "file", ".ttf": "file" },
    assetNames: "fonts/[name]-[hash]",
  });
}

/** One <symbol> per used glyph, referenced as <svg><use href="icons.svg#name"/></svg> from pages and scripts. */
function writeIconSprite() {
  const folder = path.join(root, "node_modules", "bootstrap-icons", "icons");
  const symbols = icons.map((name) => {
    const svg = fs.readFileSync(path.join(folder, `${name}.svg`), "utf8");
    const viewBox = /viewBox="([^"]+)"/.exec(svg)[1];
    const inner = svg.replace(/^[\s\S]*?<svg[^>]*>/, "").replace(/<\/svg>\s*$/, "").trim();
    return `<symbol id="${name}" viewBox="${viewBox}">${inner}</symbol>`;
  });
  fs.writeFileSync(path.join(dist, "icons.svg"), `<svg xmlns="http://www.w3.org/2000/svg">${symbols.join("")}</svg>\n`);
}

process.chdir(root);
try {
  await withLock(async () => {
    npmCiIfNeeded();
    // Another build may have finished while this one waited for the lock.
    if (ifStale && outputs.every(fs.existsSync) && mtime(stamp) > newestInput()) { console.log("frontend: up to date"); return; }
    await build();
  });
} catch (error) {
  console.error(`frontend: ${error.message ?? error}`);
  process.exit(1);
}
