"use client";
// The provider is a client component; `@forrealtime/client/react` is marked "use client",
// so it may be imported from server components too.
import { RealtimeProvider } from "@forrealtime/client/react";
import type { ReactNode } from "react";

export function Providers({ children }: { children: ReactNode }) {
  return <RealtimeProvider api={{ url: "/api/realtime" }}>{children}</RealtimeProvider>;
}
