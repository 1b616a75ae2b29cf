"""Printing: aligned tables and the one-line verdicts under them."""

from __future__ import annotations

from collections.abc import Sequence

from bench.load import LoadResult


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(cell) for cell in row] for row in [headers, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for index, row in enumerate(cells):
        aligned = [cell.rjust(width) for cell, width in zip(row, widths, strict=True)]
        aligned[0] = row[0].ljust(widths[0])
        lines.append("  ".join(aligned))
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


LOAD_HEADERS = ("", "req/s", "p50 ms", "p99 ms", "server CPU µs/req", "client CPU µs/req")


def load_row(label: str, result: LoadResult) -> list[object]:
    server = f"{result.server_cpu_us:.0f}" if result.server_cpu_us is not None else "n/a"
    return [
        label,
        f"{result.throughput:.0f}",
        f"{result.percentile_ms(0.50):.2f}",
        f"{result.percentile_ms(0.99):.2f}",
        server,
        f"{result.client_cpu_us:.0f}",
    ]


def section(title: str) -> None:
    print(f"\n== {title}")


def verdict(label: str, value: str, target: str, met: bool) -> str:
    return f"{label}: {value}   (target {target}: {'met' if met else 'MISSED'})"
