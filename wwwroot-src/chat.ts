// Entry point of the chat page (Features/Chat/Index.cshtml), bundled to wwwroot/dist/chat.js.
import { ChatApp } from "./chat/app";

const root = document.getElementById("chat-app");
if (root) void new ChatApp(root).start();
