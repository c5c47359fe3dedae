"""First-party credentials: how a site's own mobile and API clients prove who they are.

Owns the `[[credentials]]` settings (`settings`: a header checked by a callable, or an HMAC
signature with rotating shared secrets) and their per-request check (`verify`). A valid
credential is allowed before fingerprinting; bans and rate limits still apply.

May import the pipeline core (`facts`, `errors`, `settings_base`); never `shield`,
`middleware` or another defence. Kept light: importing the package imports nothing.
"""
