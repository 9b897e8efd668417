"""What changed between the api-versions a run covered, for the reports' "What changed" section.

The changes come from the version profiles this callrec carries (`callrec.specs.consecutive`),
not from the results file: a run's api-versions only choose which pairs are compared.
"""

from __future__ import annotations

from dataclasses import dataclass

from callrec.report._records import Run
from callrec.specs import VersionChanges, api_versions, consecutive


@dataclass(frozen=True, slots=True)
class Compared:
    pairs: tuple[VersionChanges, ...]  # consecutive pairs of the run's known api-versions
    unknown: tuple[str, ...]  # the run's api-versions this callrec has no profile for

    @property
    def rows(self) -> int:
        """Table rows: one per change, one for a pair without any."""
        return sum(max(len(pair.entries), 1) for pair in self.pairs)


def compared(run: Run) -> Compared | None:
    """The changes between consecutive api-versions of ``run``; None when it covered fewer
    than two (then there is nothing to show)."""
    if len(run.versions) < 2:
        return None
    known = set(api_versions())
    covered = [version for version in run.versions if version in known]
    unknown = tuple(version for version in run.versions if version not in known)
    return Compared(pairs=tuple(consecutive(covered)), unknown=unknown)
