// dist/cjs holds the CommonJS build (for `require`): a package.json there makes Node and
// TypeScript read its .js and .d.ts files as CommonJS.
import { writeFileSync } from "node:fs";
writeFileSync(new URL("../dist/cjs/package.json", import.meta.url), '{ "type": "commonjs" }\n');
