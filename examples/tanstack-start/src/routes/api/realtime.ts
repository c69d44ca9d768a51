// The stream on the app's own origin, passed through to the gateway (the original package's
// `handle(...)`). A middleware here could check the session cookie first and answer 401.
import { handle } from "@forrealtime/server";
import { createServerFileRoute } from "@tanstack/react-start/server";
import { gateway } from "../../realtime";

export const ServerRoute = createServerFileRoute("/api/realtime").methods({
  GET: ({ request }) => handle({ realtime: gateway() })(request),
});
