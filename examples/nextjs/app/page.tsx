// A server component: "Fetch the last 20 messages" on the server, render them, and hand
// the newest id to the client, which subscribes from there (no gap, no duplicate).
import { realtime, type Message } from "../lib-realtime";
import { Chat } from "./chat";

export const dynamic = "force-dynamic";

export default async function Page() {
  // `last: 20`: the newest 20, oldest first.
  const past = (await realtime.channel("chat").history({ last: 20 })) as Message[];
  return (
    <main>
      <h1>chat</h1>
      <Chat initial={past} />
    </main>
  );
}
