// Builds the npm packages from dist/bin/<os>-<arch>/ (scripts/dist.sh): one per platform
// (@pctx-dev/pctx-<platform>-<cpu>, with os/cpu so npm installs only the matching one;
// bin/ holds pctx and tsgo/, the type checker pctx finds beside itself) and
// the main package `pctx` (the launcher, with every platform package as an optional
// dependency), then `npm pack`s each into <dist>/npm.
// Usage: node packaging/npm/build.mjs DIST_DIR NPM_VERSION
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const [dist, version] = process.argv.slice(2);
if (!dist || !/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version ?? "")) {
  console.error("usage: node build.mjs DIST_DIR NPM_VERSION (semver, e.g. 0.1.0)");
  process.exit(2);
}
const here = dirname(fileURLToPath(import.meta.url));
const targets = [
  ["linux", "amd64", "linux", "x64"],
  ["linux", "arm64", "linux", "arm64"],
  ["darwin", "amd64", "darwin", "x64"],
  ["darwin", "arm64", "darwin", "arm64"],
  ["windows", "amd64", "win32", "x64"],
  ["windows", "arm64", "win32", "arm64"],
];
const common = {
  version,
  license: "MIT",
  homepage: "https://github.com/pctx-dev/pctx",
  repository: { type: "git", url: "git+https://github.com/pctx-dev/pctx.git" },
};
const out = join(dist, "npm");
mkdirSync(out, { recursive: true });
const work = mkdtempSync(join(tmpdir(), "pctx-npm-"));
const pack = (dir) => execFileSync("npm", ["pack", "--silent", "--pack-destination", out], { cwd: dir, stdio: ["ignore", "ignore", "inherit"] });

const optional = {};
for (const [goos, goarch, os, cpu] of targets) {
  const name = `@pctx-dev/pctx-${os}-${cpu}`;
  optional[name] = version;
  const exe = goos === "windows" ? "pctx.exe" : "pctx";
  const bin = join(dist, "bin", `${goos}-${goarch}`);
  if (!existsSync(join(bin, exe))) {
    console.error(`npm: no ${join(bin, exe)}: ${name} not packed`);
    continue;
  }
  const dir = join(work, `${os}-${cpu}`);
  cpSync(bin, join(dir, "bin"), { recursive: true });
  chmodSync(join(dir, "bin", exe), 0o755);
  writeFileSync(join(dir, "README.md"), `# ${name}\n\nThe pctx binary for ${os} ${cpu}, with tsgo (TypeScript's native compiler, ` +
    `Apache-2.0: bin/tsgo/LICENSE) beside it. Install \`pctx\` instead.\n`);
  writeFileSync(join(dir, "package.json"), JSON.stringify({
    name, ...common, license: "MIT AND Apache-2.0", description: `The pctx binary for ${os} ${cpu}`,
    os: [os], cpu: [cpu], files: ["bin/"], preferUnplugged: true,
  }, null, 2) + "\n");
  pack(dir);
}
const main = join(work, "pctx");
mkdirSync(join(main, "bin"), { recursive: true });
copyFileSync(join(here, "pctx", "bin", "pctx.js"), join(main, "bin", "pctx.js"));
chmodSync(join(main, "bin", "pctx.js"), 0o755);
copyFileSync(join(here, "..", "..", "README.md"), join(main, "README.md"));
writeFileSync(join(main, "package.json"), JSON.stringify({
  name: "pctx", ...common,
  description: "Code Mode MCP server: agents write one TypeScript program that calls many tools",
  keywords: ["mcp", "code-mode", "agents"],
  bin: { pctx: "bin/pctx.js" }, files: ["bin/pctx.js"], engines: { node: ">=18" },
  optionalDependencies: optional,
}, null, 2) + "\n");
pack(main);
rmSync(work, { recursive: true, force: true });
