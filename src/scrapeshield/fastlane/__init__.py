"""The fast lane (docs/architecture.md, "The fast lane"): the common request without the whole
pipeline, each step exactly equal to the pipeline (tests/fastlane's differential harness)."""
