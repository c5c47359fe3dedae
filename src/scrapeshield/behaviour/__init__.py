"""Behaviour: what a scraper does over many requests that a person browsing does not.

Owns the per-client behaviour counters and their signals (`detector`), the hidden trap link and
its flag (`trap`), and their settings (`[behaviour]`); the store scripts they run are beside
them.

May import the pipeline core (`detector`, `facts`, `signals`, `bans`, `settings_base`, `store`);
never `shield`, `middleware` or another defence's detectors. Kept light: importing the package
imports nothing.
"""
