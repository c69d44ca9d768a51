// The component of clients/js/demo/src/original (which clients/js/e2e/tabs.test.mjs runs in
// Chromium against our gateway) is the TypeScript forrealtime 0.1.13 README's own code, with
// only the import line changed (`forrealtime/client` -> `@forrealtime/client/react`): each file,
// less its leading comment, is compared with the README's block as npm ships it.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";

const here = dirname(fileURLToPath(import.meta.url));
const demo = join(here, "../../../../../clients/js/demo/src/original");
const require = createRequire(import.meta.url);
const readme = readFileSync(join(dirname(require.resolve("forrealtime/package.json")), "README.md"), "utf8");

// The first fenced block after `marker` in the README.
function blockAfter(marker) {
  const at = readme.indexOf(marker);
  assert.ok(at >= 0, `the README has no "${marker}"`);
  const m = readme.slice(at).match(/```[a-z]*\n([\s\S]*?)```/);
  assert.ok(m, `no code block after "${marker}"`);
  return m[1].trim();
}

// A demo file less its leading `//` comment, with the import line changed back.
function demoFile(name) {
  const lines = readFileSync(join(demo, name), "utf8").split("\n");
  while (lines[0].startsWith("//")) lines.shift();
  return lines.join("\n").replaceAll('"@forrealtime/client/react"', '"forrealtime/client"').trim();
}

test("the provider is the README's, only the import changed", () => {
  assert.equal(demoFile("App.tsx"), blockAfter("### Add the provider"));
});

test("the component is the README's, verbatim", () => {
  assert.equal(demoFile("Notifications.tsx"), blockAfter("### Subscribe inside a component"));
});

test("the typed hook is the README's plain events type, with the README's own import line", () => {
  // The README's client file ("Infer types from your server") imports createRealtime so.
  const importLine = readme.split("\n").find((l) => l.startsWith("import { createRealtime }"));
  assert.equal(importLine, 'import { createRealtime } from "forrealtime/client";');
  const [first, ...rest] = demoFile("realtime.ts").split("\n");
  assert.equal(first, importLine);
  assert.equal(rest.join("\n").trim(), blockAfter("You can also pass a plain events type"));
});
