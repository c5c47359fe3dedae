"""The pages people see: block, throttle, unavailable, challenge and failed-verification pages.

Owns their templates (Jinja2, `templates/`, overridable from `pages.template_dir`), the text
catalogues (`catalogues/<language>.toml`, extendable from `pages.catalogue_dir`), the choice of
language from `Accept-Language`, and the settings section. Imports nothing of the pipeline but
`settings_base` and `facts`, so `actions` and `challenge` can render through it (`Shield` builds
one `Pages` and hands it to both). This package's `__init__`
stays import-free because `scrapeshield.settings` imports the section model from
`pages.settings`.
"""
