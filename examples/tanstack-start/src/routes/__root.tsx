/// <reference types="vite/client" />
import { RealtimeProvider } from "@forrealtime/client/react";
import { HeadContent, Outlet, Scripts, createRootRoute } from "@tanstack/react-router";

export const Route = createRootRoute({
  head: () => ({
    meta: [{ charSet: "utf-8" }, { title: "forrealtime · TanStack Start" }],
  }),
  component: Root,
});

function Root() {
  return (
    <html lang="en">
      <head>
        <HeadContent />
      </head>
      <body>
        {/* The stream on the app's own origin: /api/realtime passes it through to the gateway. */}
        <RealtimeProvider api={{ url: "/api/realtime" }}>
          <Outlet />
        </RealtimeProvider>
        <Scripts />
      </body>
    </html>
  );
}
