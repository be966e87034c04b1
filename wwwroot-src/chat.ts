// Chat page entry point. Stub: the chat feature owns this file and wwwroot-src/chat/**.
export {};
