#!/usr/bin/env node
// `cdktf <args>` runs `cdktn <args>`: the CDK Terrain CLI that the project's package-lock.json pins.
//
// cdktf is archived. CDK Terrain continues it with the same commands, the same cdktf.json,
// cdktf.out/ and CDKTF_* variables, and the same Terraform state, so the commands our users type
// (`cdktf deploy <env>`) keep working. The CLI runs in this process: its exit code, its prompts
// and its handling of Ctrl-C are the CLI's own.
"use strict";

const path = require("node:path");

let manifest;
try {
  // Resolved from this file, so it is always the project's pinned CLI, wherever `cdktf` is run from.
  manifest = require.resolve("cdktn-cli/package.json", { paths: [__dirname] });
} catch {
  console.error("cdktf: the CDK Terrain CLI (cdktn-cli) is not installed; run scripts/setup.sh (it runs npm ci)");
  process.exit(1);
}
require(path.join(path.dirname(manifest), require(manifest).bin.cdktn));
