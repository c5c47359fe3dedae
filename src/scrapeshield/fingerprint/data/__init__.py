"""Package data: catalogue, IP ranges; each file records its source and date."""
