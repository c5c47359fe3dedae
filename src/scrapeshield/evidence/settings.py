"""The `evidence` settings section: what each event records for takedown evidence, and the key
that signs an evidence report (docs/operators.md#evidence)."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from scrapeshield.settings_base import Section, check_key_lengths


class EvidenceSettings(Section):
    """`directive_state`: each event names the directive state in force for its response (a
    short id; each distinct state is stored once, for `states_ttl` seconds). `served_per_minute`:
    at most this many allowed requests of catalogued crawlers are recorded per minute and
    process (0: none), so "was it served?" can be answered without flushing the block log.
    `signing_key`: signs `scrapeshield evidence --out` reports (HMAC-SHA256); unset, the first
    `challenge.secret_keys` key signs."""

    directive_state: bool = True
    served_per_minute: int = Field(default=60, ge=0, le=10_000)
    states_ttl: float = Field(default=90 * 86_400.0, ge=3600, le=3 * 365 * 86_400.0)
    signing_key: SecretStr | None = None

    @field_validator("signing_key")
    @classmethod
    def _key_length(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            check_key_lengths([value])
        return value
