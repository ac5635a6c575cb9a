"""Skill names: how typed text becomes one canonical skill.

`Python`, `#python` and ` python ` are one skill; `k8s` is `kubernetes`. Folding lowercases,
turns spaces and underscores into hyphens and drops punctuation other than `+ # .` (so `c++`,
`c#` and `node.js` survive). Aliases map folded names to canonical ones; ids and statements
only ever use canonical names.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

MAX_LENGTH = 64

# A small shipped table; SKILL_ALIASES_FILE adds to it (same format as `read_alias_lines`).
SHIPPED_ALIASES: Mapping[str, tuple[str, ...]] = {
    "kubernetes": ("k8s", "kube"),
    "javascript": ("js", "ecmascript"),
    "typescript": ("ts",),
    "python": ("py", "python3"),
    "postgresql": ("postgres", "psql", "pg"),
    "machine-learning": ("ml",),
    "artificial-intelligence": ("ai",),
    "amazon-web-services": ("aws",),
    "google-cloud": ("gcp", "google-cloud-platform"),
    "microsoft-azure": ("azure",),
    "continuous-integration": ("ci",),
    "user-experience": ("ux",),
    "user-interface": ("ui",),
    "golang": ("go",),
    "csharp": ("c#",),
    "cplusplus": ("c++", "cpp"),
    "react": ("reactjs", "react.js"),
    "nodejs": ("node", "node.js"),
    "terraform": ("tf",),
    "excel": ("ms-excel", "microsoft-excel"),
    "public-speaking": ("presenting", "presentations"),
    "project-management": ("pm",),
    "sql": ("structured-query-language",),
}

_SEPARATORS = re.compile(r"[\s_/]+")
_UNWANTED = re.compile(r"[^\w+#.\-]")
_REPEATED_HYPHENS = re.compile(r"-{2,}")
_LEADING_SIGNS = re.compile(r"^[-.#]+")


class AliasFileProblem(ValueError):
    """A line of the alias file cannot be read; the message names it."""


def fold(raw: str) -> str:
    """`  Machine Learning ` → `machine-learning`; `#Python` → `python`; `C++` → `c++`."""
    text = unicodedata.normalize("NFKC", raw).strip().lower()
    text = _SEPARATORS.sub("-", text).replace("_", "-")
    text = _UNWANTED.sub("", text)
    # Leading `#`s are tag signs, wherever dropped punctuation left them.
    text = _LEADING_SIGNS.sub("", _REPEATED_HYPHENS.sub("-", text)).rstrip("-.")
    return text[:MAX_LENGTH].rstrip("-.")


def read_alias_lines(lines: Iterable[str], source: str = "aliases") -> dict[str, str]:
    """`canonical: alias, alias` per line (a line starting with `#` is a comment) →
    {folded alias: canonical}. `#` elsewhere is part of a name (`csharp: c#`)."""
    aliases: dict[str, str] = {}
    for number, line in enumerate(lines, start=1):
        content = line.strip()
        if not content or content.startswith("#"):
            continue
        canonical, colon, rest = content.partition(":")
        canonical = fold(canonical)
        names = [fold(name) for name in rest.split(",") if fold(name)]
        if not colon or not canonical or not names:
            raise AliasFileProblem(
                f"{source} line {number}: expected `skill: alias, alias`, got {line.strip()!r}"
            )
        for name in names:
            aliases[name] = canonical
    return aliases


class SkillNames:
    """Folding plus aliases: the one way every capability turns text into a skill."""

    def __init__(self, extra: Mapping[str, str] | None = None) -> None:
        self._aliases = {
            fold(alias): canonical
            for canonical, names in SHIPPED_ALIASES.items()
            for alias in names
        }
        self._aliases.update(extra or {})
        # A canonical name never maps elsewhere, even if an alias file says so by mistake.
        for canonical in set(self._aliases.values()):
            self._aliases.pop(canonical, None)
        self._well_known = frozenset(self._aliases.values())

    @classmethod
    def from_file(cls, path: Path | None) -> SkillNames:
        if path is None:
            return cls()
        return cls(read_alias_lines(path.read_text().splitlines(), source=str(path)))

    def canonical(self, raw: str) -> str:
        """The canonical skill for typed text ('' when nothing usable was typed)."""
        folded = fold(raw)
        return self._aliases.get(folded, folded)

    def is_alias(self, raw: str) -> bool:
        return fold(raw) in self._aliases

    @property
    def well_known(self) -> frozenset[str]:
        """Canonical names the alias table knows, declared by anyone or not (built once: every
        /kudos with values asks)."""
        return self._well_known


class SkillNamesByTeam:
    """Each workspace's skill names: the alias file's in every workspace, and a workspace's
    own aliases (its L&D setting, `read_alias_lines`' format) added over them, its own line
    winning. Made again only when the workspace's aliases change."""

    def __init__(
        self,
        file_aliases: Mapping[str, str] | None = None,
        own_aliases: Callable[[str], str] = lambda team_id: "",
    ) -> None:
        self._file_aliases = dict(file_aliases or {})
        self.default = SkillNames(self._file_aliases)
        self._own_aliases = own_aliases
        self._by_team: dict[str, tuple[str, SkillNames]] = {}

    @classmethod
    def from_file(
        cls, path: Path | None, own_aliases: Callable[[str], str] = lambda team_id: ""
    ) -> SkillNamesByTeam:
        if path is None:
            return cls(None, own_aliases)
        return cls(read_alias_lines(path.read_text().splitlines(), source=str(path)), own_aliases)

    def for_team(self, team_id: str) -> SkillNames:
        own = self._own_aliases(team_id)
        if not own:
            return self.default
        made = self._by_team.get(team_id)
        if made is None or made[0] != own:
            extra = {**self._file_aliases, **read_alias_lines(own.splitlines())}
            made = self._by_team[team_id] = (own, SkillNames(extra))
        return made[1]
