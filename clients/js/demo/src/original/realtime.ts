// From the original package's README ("You can also pass a plain events type"), with only
// the import line changed: `from "forrealtime/client"` -> `from "@forrealtime/client/react"`.
import { createRealtime } from "@forrealtime/client/react";

type Events = {
  notification: {
    alert: string;
  };
  chat: {
    message: {
      text: string;
      user: string;
    };
  };
};

export const { useRealtime } = createRealtime<Events>();
