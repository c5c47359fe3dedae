"""The efficacy harness: scripted adversaries against the demo gallery, one fresh server each,
judged against issue 14's targets (`python -m benchmarks.efficacy`; see docs/efficacy.md)."""
