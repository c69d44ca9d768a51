// A server component: "Fetch the last 20 messages" on the server, render them, and hand
// the newest id to the client, which subscribes from there (no gap, no duplicate).
import { realtime, type Message } from "../lib-realtime";
import { Chat } from "./chat";

export const dynamic = "force-dynamic";

export default async function Page() {
  // `last: 20` asks for the newest 20, oldest first. A gateway without `?last=` answers
  // from the oldest, so keep the tail here as well.
  const past = ((await realtime.channel("chat").history({ last: 20 })) as Message[]).slice(-20);
  return (
    <main>
      <h1>chat</h1>
      <Chat initial={past} />
    </main>
  );
}
