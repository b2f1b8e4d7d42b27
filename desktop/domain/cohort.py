"""Cohort assignment for a programme's admins: each student to a mentor, maximising the total match score within
every mentor's capacity, with a proper assignment algorithm (scipy's Hungarian method over mentor places when
installed, else the pure-Python one here), where a greedy pass can miss the optimum."""

from __future__ import annotations


def assign_cohort(scores: dict[tuple[str, str], float], capacity: dict[str, int]) -> dict[str, str]:
    """student → mentor, maximising the total score; each mentor takes at most ``capacity`` students and only
    pairs present in ``scores`` (those that passed the hard constraints) may be matched. Students who cannot be
    placed stay out. Mentor places become columns of one assignment problem (Hungarian method): scipy's when
    installed (``osler[admin]``), else the pure-Python solver below, which finds the same optimum more slowly
    (the packaged app leaves out scipy and numpy, ~80 MiB that only an admin's cohort assignment would use)."""
    students = sorted({s for s, _m in scores})
    places = [m for m in sorted(capacity) for _ in range(max(0, capacity[m]))]
    if not students or not places:
        return {}
    forbidden = 1e9
    column: dict[str, list[int]] = {}
    for j, mentor in enumerate(places):
        column.setdefault(mentor, []).append(j)
    row = {s: i for i, s in enumerate(students)}
    cost = [[forbidden] * len(places) for _ in students]
    for (student, mentor), score in scores.items():
        for j in column.get(mentor, ()):
            cost[row[student]][j] = -score
    try:
        from scipy.optimize import linear_sum_assignment  # here, not at the top: only admins assign cohorts
    except ImportError:
        pairs = min_cost_assignment(cost)
    else:
        rows, cols = linear_sum_assignment(cost)
        pairs = list(zip(rows.tolist(), cols.tolist(), strict=True))
    return {students[i]: places[j] for i, j in pairs if cost[i][j] < forbidden}


def min_cost_assignment(cost: list[list[float]]) -> list[tuple[int, int]]:
    """(row, column) pairs of a minimum-cost assignment of a rectangular matrix, min(rows, columns) of them:
    the Hungarian method with potentials and shortest augmenting paths, O(n² m)."""
    if not cost or not cost[0]:
        return []
    transposed = len(cost) > len(cost[0])
    if transposed:
        cost = [list(col) for col in zip(*cost, strict=True)]
    n, m = len(cost), len(cost[0])
    inf = float("inf")
    u, v = [0.0] * (n + 1), [0.0] * (m + 1)
    match = [0] * (m + 1)  # match[j]: the row (1-based) holding column j, 0 for none
    way = [0] * (m + 1)
    for i in range(1, n + 1):
        match[0], j0 = i, 0
        minv, used = [inf] * (m + 1), [False] * (m + 1)
        while True:
            used[j0] = True
            i0, delta, j1 = match[j0], inf, 0
            row, ui0 = cost[i0 - 1], u[i0]
            for j in range(1, m + 1):
                if not used[j]:
                    current = row[j - 1] - ui0 - v[j]
                    if current < minv[j]:
                        minv[j], way[j] = current, j0
                    if minv[j] < delta:
                        delta, j1 = minv[j], j
            for j in range(m + 1):
                if used[j]:
                    u[match[j]] += delta
                    v[j] -= delta
                else:
                    minv[j] -= delta
            j0 = j1
            if match[j0] == 0:
                break
        while j0:
            j1 = way[j0]
            match[j0] = match[j1]
            j0 = j1
    pairs = [(match[j] - 1, j - 1) for j in range(1, m + 1) if match[j]]
    return sorted((c, r) if transposed else (r, c) for r, c in pairs)


def greedy_cohort(scores: dict[tuple[str, str], float], capacity: dict[str, int]) -> dict[str, str]:
    """Best pair first, for comparison: what a hurried spreadsheet does."""
    left = dict(capacity)
    out: dict[str, str] = {}
    for (student, mentor), _score in sorted(scores.items(), key=lambda kv: -kv[1]):
        if student not in out and left.get(mentor, 0) > 0:
            out[student] = mentor
            left[mentor] -= 1
    return out
