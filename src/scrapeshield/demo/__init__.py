"""The demo art gallery (`scrapeshield demo`)."""
