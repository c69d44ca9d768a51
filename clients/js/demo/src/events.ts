// The demo's events, in the nested form `forrealtime codegen` writes
// (namespace -> event -> payload).
export type Events = {
  chat: { message: { user: string; text: string } };
  notification: { alert: { text: string } };
};

export const CHAT = "chat";
export const NOTIFICATIONS = "notifications";
