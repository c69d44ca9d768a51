import { realtime } from "../../../lib-realtime";

export async function POST(req: Request) {
  const { user, text } = (await req.json()) as { user: string; text: string };
  const id = await realtime.channel("chat").emit("chat.message", { user, text });
  return Response.json({ id });
}
