"""The demo art gallery (`scrapeshield demo`): a small app protected by the middleware.

An application of the library, like the CLI: may import its public API; nothing imports it but
the CLI, the tests and the benchmarks.
"""
