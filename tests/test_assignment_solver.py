"""The pure-Python assignment solver the packaged app uses (it leaves scipy out) finds scipy's optimum."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest
from scipy.optimize import linear_sum_assignment

from desktop.domain.matching import min_cost_assignment


def total(cost: list[list[float]], pairs: list[tuple[int, int]]) -> float:
    return sum(cost[i][j] for i, j in pairs)


@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (5, 9), (9, 5), (12, 36), (40, 25)])
def test_same_total_as_scipy(shape: tuple[int, int]) -> None:
    rng = random.Random(f"{shape}")
    rows, cols = shape
    for _ in range(5):
        cost = [
            [rng.choice([1e9, -rng.random() * 10, -float(rng.randint(0, 3))]) for _ in range(cols)] for _ in range(rows)
        ]
        pairs = min_cost_assignment(cost)
        r, c = linear_sum_assignment(cost)
        assert len(pairs) == min(rows, cols)
        assert len({i for i, _ in pairs}) == len({j for _, j in pairs}) == len(pairs)
        assert total(cost, pairs) == pytest.approx(float(sum(cost[i][j] for i, j in zip(r, c, strict=True))))


def test_assign_cohort_without_scipy_matches_with_it() -> None:
    """In a process where scipy cannot be imported, as in the packaged app, assign_cohort gives the same result."""
    program = """
import builtins, json, random
real_import = builtins.__import__
def no_scipy(name, globals=None, locals=None, fromlist=(), level=0):
    if level == 0 and name.split(".")[0] in ("scipy", "numpy"):
        raise ImportError(name)
    return real_import(name, globals, locals, fromlist, level)
builtins.__import__ = no_scipy
from desktop.domain.matching import assign_cohort
rng = random.Random(7)
scores = {(f"s{i}", f"m{j}"): round(rng.random(), 3) for i in range(30) for j in range(12) if rng.random() < 0.6}
print(json.dumps(assign_cohort(scores, {f"m{j}": rng.randint(0, 3) for j in range(12)}), sort_keys=True))
"""
    without = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True).stdout
    with_scipy = subprocess.run(
        [sys.executable, "-c", program.replace("builtins.__import__ = no_scipy", "")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert without.strip().startswith("{") and without == with_scipy
