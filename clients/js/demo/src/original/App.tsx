// The original package's README provider ("Add the provider"), with only the import line
// changed: `from "forrealtime/client"` -> `from "@forrealtime/client/react"`.
import { RealtimeProvider } from "@forrealtime/client/react";

export function App({ children }: { children: React.ReactNode }) {
  return (
    <RealtimeProvider api={{ url: "/api/realtime" }}>
      {children}
    </RealtimeProvider>
  );
}
