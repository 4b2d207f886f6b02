#!/usr/bin/env node
"use strict";
// pctx's npm launcher (the esbuild pattern): npm installed exactly one of the platform
// packages in optionalDependencies, picked by their os/cpu fields; find its binary and run
// it with our arguments and stdio, so `npx pctx start --stdio` speaks MCP on this stdio.
const { spawn } = require("node:child_process");

const PLATFORMS = {
  "linux x64": "@pctx-dev/pctx-linux-x64",
  "linux arm64": "@pctx-dev/pctx-linux-arm64",
  "darwin x64": "@pctx-dev/pctx-darwin-x64",
  "darwin arm64": "@pctx-dev/pctx-darwin-arm64",
  "win32 x64": "@pctx-dev/pctx-win32-x64",
  "win32 arm64": "@pctx-dev/pctx-win32-arm64",
};

function fail(msg) {
  process.stderr.write(`pctx: ${msg}\n`);
  process.exit(1);
}

function binaryPath() {
  if (process.env.PCTX_BINARY) return process.env.PCTX_BINARY;
  const key = `${process.platform} ${process.arch}`;
  const pkg = PLATFORMS[key];
  if (!pkg) fail(`no prebuilt binary for ${key}; build from source: go install github.com/pctx-dev/pctx@latest`);
  const exe = process.platform === "win32" ? "pctx.exe" : "pctx";
  try {
    return require.resolve(`${pkg}/bin/${exe}`);
  } catch {
    fail(`${pkg} is not installed: reinstall pctx without --omit=optional / --no-optional`);
  }
}

const child = spawn(binaryPath(), process.argv.slice(2), { stdio: "inherit", windowsHide: true });
const forward = ["SIGINT", "SIGTERM", "SIGHUP"];
for (const sig of forward) process.on(sig, () => child.kill(sig));
child.on("error", (err) => fail(`cannot run the binary: ${err.message}`));
child.on("exit", (code, signal) => {
  if (signal) {
    for (const sig of forward) process.removeAllListeners(sig);
    process.kill(process.pid, signal);
    return;
  }
  process.exit(code ?? 1);
});
