#!/usr/bin/env node
// Validate a .glb/.gltf file with the Khronos glTF validator (npm `gltf-validator`) and print
// the report as JSON on stdout.
//
// Usage: node tools/validate_gltf.mjs FILE.glb [--max-issues N]
// Exit status: 0 when the report has no errors, 1 when it has errors, 2 when the file cannot be
// read or the validator refuses it (message on stderr).
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(import.meta.url);

function usage(message) {
  process.stderr.write(`${message}\nusage: node tools/validate_gltf.mjs FILE.glb [--max-issues N]\n`);
  process.exit(2);
}

const args = process.argv.slice(2);
let file = null;
let maxIssues = 0; // 0 = unlimited
for (let i = 0; i < args.length; i += 1) {
  if (args[i] === "--max-issues") {
    maxIssues = Number.parseInt(args[i + 1] ?? "", 10);
    if (!Number.isInteger(maxIssues) || maxIssues < 0) usage("--max-issues needs a count >= 0");
    i += 1;
  } else if (file === null) {
    file = args[i];
  } else {
    usage(`unexpected argument: ${args[i]}`);
  }
}
if (file === null) usage("missing FILE");

let validator;
try {
  validator = require("gltf-validator");
} catch (error) {
  process.stderr.write(`gltf-validator is not installed (run \`npm ci\` at the repo root): ${error}\n`);
  process.exit(2);
}

let bytes;
try {
  bytes = new Uint8Array(await readFile(file));
} catch (error) {
  process.stderr.write(`cannot read ${file}: ${error.message}\n`);
  process.exit(2);
}

const dir = path.dirname(path.resolve(file));
try {
  const report = await validator.validateBytes(bytes, {
    uri: path.basename(file),
    maxIssues,
    writeTimestamp: false,
    // Resolves external buffers/images of a .gltf next to it; a .glb needs none.
    externalResourceFunction: (uri) =>
      readFile(path.resolve(dir, decodeURIComponent(uri))).then((data) => new Uint8Array(data)),
  });
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  process.exit(report.issues.numErrors === 0 ? 0 : 1);
} catch (error) {
  process.stderr.write(`the validator refused ${file}: ${error}\n`);
  process.exit(2);
}
