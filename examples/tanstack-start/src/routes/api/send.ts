// Emit from any backend code: the same call the page's server function makes, as a plain
// JSON endpoint (the end-to-end test and curl use it).
import { createServerFileRoute } from "@tanstack/react-start/server";
import { gateway } from "../../realtime";

export const ServerRoute = createServerFileRoute("/api/send").methods({
  POST: async ({ request }) => {
    const { user, text } = (await request.json()) as { user: string; text: string };
    return Response.json({ id: await gateway().channel("chat").emit("chat.message", { user, text }) });
  },
});
