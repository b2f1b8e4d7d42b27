"""How every benchmark prints a figure: name, value, unit, and, where the issue set one, the target and ratio."""

from __future__ import annotations


def row(name: str, value: float, unit: str, target: float | None = None, fmt: str = ".3f", width: int = 56) -> None:
    verdict = ""
    if target is not None:
        verdict = f"  target ≤ {target:g} {unit}  ratio {value / target:.2f}  {'ok' if value <= target else 'MISSED'}"
    print(f"  {name:<{width}} {value:12{fmt}} {unit}{verdict}")
