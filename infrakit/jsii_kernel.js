// jsii's kernel, run in the Node process that jsii's Python starts: see run_kernel_in_place() in
// infrakit/jsii_node.py, which names this file in JSII_RUNTIME.
//
// jsii's own runtime script (jsii/_embedded/jsii/bin__jsii-runtime.js) is a relay. It starts a
// second Node that runs the kernel (lib__program.js) with its API channel on fd 3, copies every
// message between that channel and its own stdin and stdout, and sends on what the kernel's
// JavaScript writes to stdout or stderr as one JSON line on its own stderr ({"stdout": base64} or
// {"stderr": base64}), which jsii's Python decodes (stderr_sink, jsii/_kernel/providers/process.py).
// So every request and every response passes through two Node processes, and a synth starts two.
//
// Here the kernel runs in this process, reading requests from stdin and answering on stdout, and
// what JavaScript writes to process.stdout or process.stderr reaches Python as the relay sends it.
// The kernel bundle is the one jsii's Python ships ($INFRAKIT_JSII_PROGRAM), changed in two places
// only, each of which must occur exactly once (jsii_node.kernel_program checks that before naming
// this file; this file checks again, and fails saying so):
//   - its channel, from fd 3 to stdin and stdout;
//   - the worker that indexes a package the first time it is loaded, which jsii extracts as
//     lib/runtime-index-worker.js and ships as lib__runtime-index-worker.js, beside the bundle.
"use strict";

const fs = require("node:fs");
const Module = require("node:module");
const path = require("node:path");
const { Writable } = require("node:stream");

const CHANGES = [
  ["readFD:3,writeFD:3", "readFD:0,writeFD:1"],
  ['"runtime-index-worker.js"', '"lib__runtime-index-worker.js"'],
];

/** A stream whose every write becomes one `{"<key>": base64}` line on fd 2, as the relay sends it. */
function forwardedAs(key) {
  return new Writable({
    write(chunk, encoding, done) {
      const line = Buffer.from(`${JSON.stringify({ [key]: chunk.toString("base64") })}\n`);
      for (let written = 0; written < line.length; ) written += fs.writeSync(2, line, written);
      done();
    },
  });
}

const program = process.env.INFRAKIT_JSII_PROGRAM;
let source = fs.readFileSync(program, "utf8");
for (const [before, after] of CHANGES) {
  if (source.split(before).length !== 2) {
    throw new Error(`${program}: expected ${before} exactly once; set INFRAKIT_JSII_RELAY=1 to use jsii's relay`);
  }
  source = source.replace(before, after);
}

// Before anything writes to them: fd 1 now carries the kernel's responses only.
for (const name of ["stdout", "stderr"]) {
  const stream = forwardedAs(name);
  Object.defineProperty(process, name, { configurable: true, enumerable: true, get: () => stream });
}
// An exception nothing catches is printed through process.stderr too, as the relay forwards it.
process.on("uncaughtException", (error) => {
  process.stderr.write(`${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});
// The kernel links the packages it loads into its work directory with symbolic links only when
// Node runs with --preserve-symlinks (which the relay gives the Node it starts); jsii_node.py sets
// NODE_PRESERVE_SYMLINKS=1, which Node reads at start but does not list in process.execArgv.
if (process.env.NODE_PRESERVE_SYMLINKS === "1" && !process.execArgv.includes("--preserve-symlinks")) {
  process.execArgv.push("--preserve-symlinks");
}

// Asked by `python -m infrakit.jsii_index` (scripts/setup.sh): the kernel's exit waits for the
// index workers it started, which would otherwise stop with it, unfinished. Node exits, with the
// status the kernel asked for, once the last of them is done.
if (process.env.INFRAKIT_JSII_FINISH_INDEXING === "1") {
  const threads = require("node:worker_threads");
  const indexing = new Set();
  const Worker = threads.Worker;
  threads.Worker = class extends Worker {
    constructor(file, ...rest) {
      super(file, ...rest);
      if (String(file).endsWith("runtime-index-worker.js")) {
        indexing.add(this);
        this.once("exit", () => indexing.delete(this));
      }
    }
  };
  const exit = process.exit.bind(process);
  process.exit = (code) => {
    if (indexing.size === 0) exit(code);
    process.exitCode = code;
  };
}

const kernel = new Module(program, module);
kernel.filename = program;
kernel.paths = Module._nodeModulePaths(path.dirname(program));
kernel._compile(source, program);
