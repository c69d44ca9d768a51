// An application's events, as a forrealtime TypeScript user already declares them with Zod.
import { z } from "zod";

export const events = {
  chat: {
    message: z.object({
      text: z.string().max(500),
      user: z.object({ id: z.string(), name: z.string() }),
      replyTo: z.string().optional(),
    }),
    typing: z.object({ userId: z.string(), typing: z.boolean() }),
  },
  notification: {
    alert: z.object({
      level: z.enum(["info", "warning", "critical"]),
      body: z.string(),
      tags: z.array(z.string()),
    }),
  },
};
