"""Views of the example art site; each can read what scrapeshield decided about its request."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse


def shield_decision(request: HttpRequest) -> object:
    """scrapeshield's `Decision` for this request: the ASGI scope's `state` (Django's
    `ASGIRequest` keeps the scope as `request.scope`). None when the shield did not run."""
    scope = getattr(request, "scope", {})
    return scope.get("state", {}).get("scrapeshield")


def gallery(request: HttpRequest) -> HttpResponse:
    decision = shield_decision(request)
    shown = f"{decision.action.value} ({decision.rule})" if decision is not None else "off"
    return HttpResponse(f"<h1>Gallery</h1><p>shield: {shown}</p>")


def search(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"q": request.GET.get("q", ""), "results": []})


def original(request: HttpRequest, artwork_id: int) -> HttpResponse:
    return HttpResponse(f"the full-size image of {artwork_id}", content_type="text/plain")


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")
