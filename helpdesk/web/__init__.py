"""The web console for the hub's staff (and experts, for their own tickets): server-rendered
pages over the same use cases as the chat and the command line."""
