"""The co-founder chat (UI-9): a project's state as the chat sees it (`context`), the founder's questions told
apart (`intents`), the offline model's answers (`offline`), actions proposed and run only on the founder's
confirmation through the same core functions as the buttons (`actions`), and one question answered, streamed
(`assistant`). Conversations are not stored: the UI keeps the current one in the browser tab's memory."""
