/**
 * Type-level tests: they run as ordinary tests, but what they check is that
 * `npm run typecheck` accepts the good lines and rejects the @ts-expect-error ones.
 */
import { describe, expectTypeOf, it } from "vitest";
import { createRealtimeClient } from "../src/client.js";
import type { EventName, FlatEvents, RealtimeEvent } from "../src/types.js";
import { createRealtime as createReact } from "../src/react.js";
import { createRealtime as createSvelte } from "../src/svelte.js";

type Flat = {
  "chat.message": { text: string; user: string };
  "notification.alert": { text: string; level?: "info" | "warn" };
};

// The nested form `forrealtime codegen` writes: namespace -> event -> payload.
type Nested = {
  chat: { message: { text: string; user: string }; typing: { user: string } };
  notification: { alert: { text: string } };
};

describe("event typing", () => {
  it("flattens the nested form", () => {
    expectTypeOf<EventName<Nested>>().toEqualTypeOf<
      "chat.message" | "chat.typing" | "notification.alert"
    >();
    expectTypeOf<FlatEvents<Nested>["chat.typing"]>().toEqualTypeOf<{ user: string }>();
    expectTypeOf<EventName<Flat>>().toEqualTypeOf<"chat.message" | "notification.alert">();
    expectTypeOf<FlatEvents<Flat>>().toEqualTypeOf<Flat>();
  });

  it("gives onData a discriminated union, narrowed by `events`", () => {
    const client = createRealtimeClient<Nested>({ eventSource: () => ({}) as never });
    client.subscribe({
      channels: ["chat"],
      onData: (e) => {
        if (e.event === "chat.message") expectTypeOf(e.data.text).toBeString();
        else if (e.event === "chat.typing") expectTypeOf(e.data).toEqualTypeOf<{ user: string }>();
        // @ts-expect-error no such field on a notification
        else e.data.user;
      },
    });
    client.subscribe({
      events: ["notification.alert"],
      onData: (e) => {
        expectTypeOf(e.event).toEqualTypeOf<"notification.alert">();
        expectTypeOf(e.data.text).toBeString();
      },
    });
    // @ts-expect-error not an event of the map
    client.subscribe({ events: ["chat.nope"], onData: () => {} });
    // @ts-expect-error the short name alone is not an event name
    client.subscribe({ events: ["message"], onData: () => {} });
    client.destroy();
  });

  it("types the React and Svelte factories the same way", () => {
    const react = createReact<Flat>();
    const svelte = createSvelte<Nested>();
    type ReactOpts = Parameters<typeof react.useRealtime<"chat.message">>[0];
    expectTypeOf<Parameters<NonNullable<ReactOpts["onData"]>>[0]>().toEqualTypeOf<
      RealtimeEvent<Flat, "chat.message">
    >();
    type SvelteOpts = Parameters<typeof svelte.useRealtime<"chat.typing">>[0];
    expectTypeOf<Extract<SvelteOpts, { channels?: unknown }>["events"]>().toEqualTypeOf<
      readonly "chat.typing"[] | undefined
    >();
    // @ts-expect-error unknown event name
    const bad: ReactOpts = { events: ["chat.nope"] };
    void bad;
  });

  it("an untyped client takes any name and unknown data", () => {
    const client = createRealtimeClient({ eventSource: () => ({}) as never });
    client.subscribe({
      events: ["anything.at-all"],
      onData: (e) => {
        expectTypeOf(e.event).toBeString();
        expectTypeOf(e.data).toBeUnknown();
      },
    });
    client.destroy();
  });
});
