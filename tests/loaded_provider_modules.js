// Test probe, preloaded into every Node process of a synth with `node --require`: at exit, appends
// to $LOADED_PROVIDER_MODULES how many AWS provider submodules (lib/<name>/index.js) it loaded.
"use strict";
const fs = require("node:fs");
const SUBMODULE = /[\\/]@cdktn[\\/]provider-aws[\\/]lib[\\/][^\\/]+[\\/]index\.js$/;
process.on("exit", () => {
  const loaded = Object.keys(require.cache).filter((file) => SUBMODULE.test(file)).length;
  fs.appendFileSync(process.env.LOADED_PROVIDER_MODULES, `${loaded}\n`);
});
