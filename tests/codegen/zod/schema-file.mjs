// The few lines a Zod user writes to get our schema file from a forrealtime-style Zod schema
// ({namespace: {event: ZodType}}): z.toJSONSchema() of each leaf, target draft-7 (what the
// server's validator reads). Copied in README.md, "Typed events".
import { writeFileSync } from "node:fs";
import { z } from "zod";

export function toSchemaFile(events) {
  return Object.fromEntries(
    Object.entries(events).map(([ns, byName]) => [
      ns,
      Object.fromEntries(
        Object.entries(byName).map(([name, type]) => [
          name,
          z.toJSONSchema(type, { target: "draft-7" }),
        ]),
      ),
    ]),
  );
}

export function writeSchemaFile(events, path) {
  writeFileSync(path, JSON.stringify(toSchemaFile(events), null, 2) + "\n");
}
