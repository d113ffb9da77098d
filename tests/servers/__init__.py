"""The servers the tests and the benchmarks start, in one place: PostgreSQL, Synapse (a
real homeserver), a stand-in for the Telegram Bot API, and a round-robin balancer in
front of several workers. Each runs on 127.0.0.1 on a free port (``net.free_port``)."""
