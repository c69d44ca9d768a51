import { createRoot } from "react-dom/client";
import { App } from "./App";
import { Notifications } from "./Notifications";

createRoot(document.getElementById("root")!).render(
  <App>
    <Notifications />
  </App>,
);
