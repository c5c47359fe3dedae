"""Terminal output for the operators' commands, with rich: colour and tables on a terminal,
plain text when piped or when `NO_COLOR` is set (rich reads it), and never a markup or escape
sequence taken from the client's own text (user agents and paths are shown escaped)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

ACTION_STYLES = {
    "allow": "green",
    "challenge": "yellow",
    "throttle": "magenta",
    "tarpit": "magenta",
    "decoy": "cyan",
    "block": "red",
    "ban": "bold red",
}
PIPE_WIDTH = 200  # piped output is not wrapped at 80 columns


class _Console(Console):
    def on_broken_pipe(self) -> None:
        """The reader left (`| head`): `cli.main` ends quietly, as for any other write."""
        raise BrokenPipeError


def console(*, stderr: bool = False) -> Console:
    out = _Console(stderr=stderr, highlight=False, markup=False, emoji=False, soft_wrap=True)
    if not out.is_terminal:
        out.width = PIPE_WIDTH
    return out


def fail(command: str, message: str, code: int = 2) -> int:
    """An error on stderr, in red on a terminal, with the exit status to return."""
    console(stderr=True).print(Text(f"scrapeshield {command}: {message}", style="red"))
    return code


def safe(value: Any, limit: int | None = None) -> str:
    """Client-controlled text made printable: control characters (ESC...) shown escaped."""
    text = "" if value is None else str(value)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)


def when(t: Any) -> str:
    try:
        return datetime.fromtimestamp(float(t), UTC).strftime("%Y-%m-%d %H:%M:%S")
    except (TypeError, ValueError, OverflowError, OSError):
        return "?"


def ago(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172_800:
        return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m"
    return f"{seconds // 86400}d"


def action_text(event: dict[str, Any]) -> Text:
    action = str(event.get("action", "?"))
    label = action if event.get("enforced", True) else f"{action}*"
    return Text(f"{label:<10}", style=ACTION_STYLES.get(action, ""))


def event_line(event: dict[str, Any]) -> Text:
    """One event on one line: time, action (`*`: monitor mode), rule, client, request, agent."""
    line = Text(when(event.get("time")) + "  ", style="dim")
    line.append_text(action_text(event))
    line.append(f"{safe(event.get('rule', '?'), 40):<28} ", style="bold")
    line.append(f"{safe(event.get('client_key'), 43):<16} ")
    line.append(f"{safe(event.get('method'), 8)} {safe(event.get('path'), 80)}")
    kind = event.get("event", "decision")
    if kind not in ("decision", None):
        line.append(f"  [{safe(kind, 30)}]", style="cyan")
    agent = event.get("agent")
    ua = f"agent={safe(agent, 40)}" if agent else f"ua={safe(event.get('user_agent', ''), 60)!r}"
    line.append(f"  {ua}", style="dim")
    return line


def table(title: str, columns: list[str], *, terminal: bool) -> Table:
    grid = Table(
        title=title,
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD if terminal else None,
        show_edge=False,
        pad_edge=False,
    )
    for index, name in enumerate(columns):
        grid.add_column(name, justify="right" if index == 0 else "left", overflow="ellipsis")
    return grid


def counts_table(title: str, counts: dict[str, int], total: int, *, terminal: bool) -> Table:
    grid = table(title, ["count", "share", "name"], terminal=terminal)
    for name, count in counts.items():
        share = f"{100 * count / total:.1f}%" if total else "-"
        grid.add_row(str(count), share, safe(name, 120))
    return grid


def histogram(per_hour: dict[str, int], *, width: int = 40) -> list[Text]:
    """One line per hour, a bar scaled to the busiest hour."""
    if not per_hour:
        return []
    peak = max(per_hour.values()) or 1
    lines = []
    for hour, count in per_hour.items():
        bar = "█" * max(1, round(width * count / peak)) if count else ""
        line = Text(f"{hour}  {count:>7}  ")
        line.append(bar, style="red" if count == peak else "blue")
        lines.append(line)
    return lines


def remaining(until: float) -> str:
    return ago(until - time.time())
