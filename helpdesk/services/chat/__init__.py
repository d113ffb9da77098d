"""The chat side of the use cases: what a command or button press in a chat calls, and
the reply the sender sees. The use cases themselves (helpdesk.services.*) know nothing
of chats; this layer is thin on purpose."""
