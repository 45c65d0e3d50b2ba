// Preloaded (node --require) into the jsii kernel that a synth starts: see infrakit/jsii_node.py.
//
// A prebuilt provider's lib/index.js requires every one of its submodules when the kernel loads
// the package: about 2,400 for AWS, which is most of the 4 s that `import cdktn_provider_aws.vpc`
// costs. Here that file is replaced by an object whose properties require their submodule when
// first read, so the kernel loads only the resources a stack builds. Each property holds the same
// module object the file would have assigned, so types and synthesized output are unchanged (a
// test compares the bytes).
//
// Only a file made of nothing but `exports.x = __importStar(require("./y"))` lines (with the
// compiler's helpers before them and comments) is replaced; any other file loads as usual.
"use strict";

const Module = require("node:module");
const fs = require("node:fs");

const PROVIDER_INDEX = /[\\/]node_modules[\\/]@cdktn[\\/]provider-[a-z0-9-]+[\\/]lib[\\/]index\.js$/;
const ES_MODULE_MARKER = 'Object.defineProperty(exports, "__esModule", { value: true });';
const SUBMODULE = /^exports\.([A-Za-z_$][\w$]*) = __importStar\(require\("(\.\/[\w./-]+)"\)\);$/;
const HARMLESS = /^(\s*|\/\/.*|exports\.[\w$]+( = exports\.[\w$]+)* = void 0;)$/;

/** [[name, request], ...] when `source` is a plain index of submodules; otherwise null. */
function submodules(source) {
  const start = source.indexOf(ES_MODULE_MARKER);
  if (start < 0) return null;
  const found = [];
  for (const line of source.slice(start + ES_MODULE_MARKER.length).split("\n")) {
    const match = SUBMODULE.exec(line);
    if (match) found.push([match[1], match[2]]);
    else if (!HARMLESS.test(line)) return null;
  }
  return found.length > 0 ? found : null;
}

/** What TypeScript's __importStar makes of a module: itself when it is an ES module. */
function importStar(value) {
  if (value && value.__esModule) return value;
  const result = { default: value };
  for (const key of Object.keys(value || {})) if (key !== "default") result[key] = value[key];
  return result;
}

const compile = Module._extensions[".js"];
Module._extensions[".js"] = function loadOnDemand(module, filename) {
  const found = PROVIDER_INDEX.test(filename) ? submodules(fs.readFileSync(filename, "utf8")) : null;
  if (found === null) return compile(module, filename);
  const exports = module.exports;
  Object.defineProperty(exports, "__esModule", { value: true });
  for (const [name, request] of found) {
    Object.defineProperty(exports, name, {
      enumerable: true,
      configurable: true,
      get() {
        const value = importStar(module.require(request));
        Object.defineProperty(exports, name, { value, enumerable: true, writable: true, configurable: true });
        return value;
      },
    });
  }
};
