"""The directive endpoints and response filters, built from settings (the shield's entry point
into this package)."""

from __future__ import annotations

from typing import Any

from scrapeshield.directives.aitxt import ai_txt_endpoint
from scrapeshield.directives.base import Endpoint, ResponseFilter
from scrapeshield.directives.headers import DirectiveHeaders
from scrapeshield.directives.html import HtmlInjector
from scrapeshield.directives.images import ImageMetadata
from scrapeshield.directives.preferences import PreferenceResolver
from scrapeshield.directives.robots import render_robots, robots_endpoint
from scrapeshield.directives.rsl import rsl_endpoint
from scrapeshield.directives.settings import DirectivesSettings
from scrapeshield.directives.tdmrep import tdmrep_endpoint
from scrapeshield.fingerprint.catalogue import Catalogue, load_catalogue


def _section(settings: Any) -> DirectivesSettings:
    section: DirectivesSettings = settings.directives
    return section


def build_endpoints(settings: Any, *, catalogue: Catalogue | None = None) -> list[Endpoint]:
    """robots.txt, tdmrep.json and ai.txt as configured (`catalogue`: the packaged one if None)."""
    section = _section(settings)
    preferences = PreferenceResolver(section)
    catalogue = catalogue if catalogue is not None else _catalogue_for(settings)
    endpoints: list[Endpoint] = []
    robots = robots_endpoint(section, catalogue=catalogue, preferences=preferences)
    if robots is not None:
        endpoints.append(robots)
    if section.tdmrep_json:
        endpoints.append(tdmrep_endpoint(section, preferences))
    if section.ai_txt:
        endpoints.append(ai_txt_endpoint(section, preferences))
    if section.rsl:
        endpoints.append(rsl_endpoint(section, preferences, getattr(settings, "terms_url", None)))
    return endpoints


def build_response_filters(settings: Any) -> list[ResponseFilter]:
    section = _section(settings)
    preferences = PreferenceResolver(section)
    filters: list[ResponseFilter] = []
    if section.headers:
        filters.append(DirectiveHeaders(section, preferences))
    if section.inject_html:
        filters.append(HtmlInjector(section, preferences))
    if section.image_metadata:
        terms_url = getattr(settings, "terms_url", None)
        filters.append(ImageMetadata(section, preferences, terms_url=terms_url))
    return filters


def generated_robots(settings: Any, *, catalogue: Catalogue | None = None) -> str:
    """The robots.txt `generate` mode serves (merge mode adds the app's own file first)."""
    section = _section(settings)
    catalogue = catalogue if catalogue is not None else _catalogue_for(settings)
    return render_robots(section, section.operator_rules(), catalogue=catalogue)


def _catalogue_for(settings: Any) -> Catalogue:
    """The catalogue detectors use too: refreshed by `update-data` into fingerprint.data_dir."""
    fingerprint = getattr(settings, "fingerprint", None)
    return load_catalogue(getattr(fingerprint, "data_dir", None))


def trap_paths(settings: Any) -> list[str]:
    """Paths robots.txt disallows for everyone that only a rule-ignoring client would fetch."""
    return list(_section(settings).trap_paths)
