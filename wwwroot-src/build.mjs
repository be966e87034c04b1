// Builds wwwroot-src into Aggregator.Web/wwwroot/dist (bundled, minified, with sourcemaps).
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
const outputs = ["site.js", "admin.js", "chat.js", "theme.js", "site.css"].map((f) => path.join(dist, f));

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
  console.log("frontend: npm ci");
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const result = spawnSync(npm, ["ci", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: root, stdio: "inherit", shell: process.platform === "win32" });
  if (result.status !== 0) throw new Error(`npm ci failed (exit ${result.status ?? result.signal})`);
}

async function build() {
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
    // Modules: shared code (Bootstrap, SignalR) lands once in chunks/ instead of in every entry.
    esbuild.build({
      ...common,
      entryPoints: { site: "wwwroot-src/site.ts", admin: "wwwroot-src/admin.ts", chat: "wwwroot-src/chat.ts" },
      outdir: dist,
      format: "esm",
      splitting: true,
      chunkNames: "chunks/[name]-[hash]",
    }),
    // Classic script loaded in <head>: sets the theme before the first paint (no flash, no inline script).
    esbuild.build({ ...common, entryPoints: { theme: "wwwroot-src/theme.ts" }, outdir: dist, format: "iife" }),
    esbuild.build({
      ...common,
      entryPoints: { site: "wwwroot-src/site.css" },
      outdir: dist,
      loader: { ".woff": "file", ".woff2": "file", ".ttf": "file", ".svg": "file", ".png": "file" },
      assetNames: "assets/[name]-[hash]",
    }),
  ]);
  fs.writeFileSync(stamp, new Date().toISOString());
  console.log(`frontend: built ${path.relative(root, dist)}`);
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
