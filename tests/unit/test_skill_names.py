"""Skill names (bot/domain/skill_names.py), the alias file setting, and how `/skills` reads
typed skills and levels (bot/domain/skills.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings
from bot.domain.skill_names import (
    MAX_LENGTH,
    SHIPPED_ALIASES,
    AliasFileProblem,
    SkillNames,
    SkillNamesByTeam,
    fold,
    read_alias_lines,
)
from bot.domain.skills import (
    ADD_EXAMPLE,
    SkillsRefused,
    read_level,
    read_skill_list,
    read_skill_names,
)

MINIMAL = {"SLACK_BOT_TOKEN": "xoxb-1111-2222-token", "SLACK_SIGNING_SECRET": "signing-secret"}
NAMES = SkillNames()


# Folding ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "folded"),
    [
        ("Python", "python"),
        ("  python  ", "python"),
        ("PYTHON", "python"),
        ("#Python", "python"),
        ("##python", "python"),
        ("Machine Learning", "machine-learning"),
        ("  Machine   Learning ", "machine-learning"),
        ("machine_learning", "machine-learning"),
        ("machine\tlearning", "machine-learning"),
        ("CI/CD", "ci-cd"),
        ("public - speaking", "public-speaking"),
        ("C++", "c++"),
        ("C#", "c#"),
        ("#C#", "c#"),
        ("Node.js", "node.js"),
        ("node.js.", "node.js"),
        ("-python-", "python"),
        ("python!", "python"),
        ("R&D", "rd"),
        ("(python)", "python"),
        ("Écriture", "écriture"),
        ("ＰＹＴＨＯＮ", "python"),  # full-width letters, NFKC
        ("Ｃ＋＋", "c++"),
        ("ﬁnance", "finance"),  # the fi ligature
        ("", ""),
        ("   ", ""),
        ("#", ""),
        ("!!!", ""),
        ("..", ""),
    ],
)
def test_folding(typed: str, folded: str) -> None:
    assert fold(typed) == folded


def test_a_folded_name_is_at_most_max_length() -> None:
    assert MAX_LENGTH == 64
    assert fold("x" * 200) == "x" * 64
    assert fold("Y" * 64) == "y" * 64
    assert len(fold("word " * 40)) == 64


@pytest.mark.parametrize("typed", ["python", "Machine Learning", "C++", "node.js", "é_t é"])
def test_folding_twice_changes_nothing(typed: str) -> None:
    assert fold(fold(typed)) == fold(typed)


def test_truncation_never_leaves_a_trailing_hyphen() -> None:
    folded = fold("a" * 63 + " b")

    assert folded == "a" * 63
    assert fold(folded) == folded


@pytest.mark.parametrize("typed", ["-#python", ".#Python", "(#python)", "<#C0PY>"])
def test_a_hash_after_dropped_punctuation_is_still_a_tag_sign(typed: str) -> None:
    folded = fold(typed)

    assert not folded.startswith("#")
    assert fold(folded) == folded


@pytest.mark.parametrize(("typed", "folded"), [("# #python", "python"), ("# #", ""), ("#_#", "")])
def test_every_leading_tag_sign_goes(typed: str, folded: str) -> None:
    assert fold(typed) == folded


# Aliases ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("k8s", "kubernetes"),
        ("K8S", "kubernetes"),
        ("kube", "kubernetes"),
        ("kubernetes", "kubernetes"),
        ("js", "javascript"),
        ("#JS", "javascript"),
        ("JavaScript", "javascript"),
        ("py", "python"),
        ("Python3", "python"),
        ("postgres", "postgresql"),
        ("ML", "machine-learning"),
        ("Machine Learning", "machine-learning"),
        ("C#", "csharp"),
        ("C++", "cplusplus"),
        ("Node.js", "nodejs"),
        ("React.js", "react"),
        ("Google Cloud Platform", "google-cloud"),
        ("rust", "rust"),  # not an alias: folded only
        ("", ""),
    ],
)
def test_shipped_aliases(typed: str, canonical: str) -> None:
    assert NAMES.canonical(typed) == canonical


def test_aliases_are_known_and_canonical_names_are_well_known() -> None:
    assert NAMES.is_alias("K8s")
    assert not NAMES.is_alias("kubernetes")
    assert not NAMES.is_alias("rust")
    assert set(SHIPPED_ALIASES) == NAMES.well_known


def test_canonical_names_are_never_aliased_elsewhere() -> None:
    names = SkillNames({"python": "snakes", "foo": "bar", "bar": "baz", "k8s": "k8s"})

    assert names.canonical("python") == "python"
    assert names.canonical("py") == "python"
    assert names.canonical("foo") == "bar"
    # `bar` is canonical (foo maps to it), so its own alias line is ignored.
    assert names.canonical("bar") == "bar"
    assert names.canonical("k8s") == "k8s"
    for canonical in names.well_known:
        assert names.canonical(canonical) == canonical


ALIAS_FILE = """\
# Skills our guild talks about, canonical first.

  # an indented comment
kubernetes: openshift, OKD
fsharp: F#, f-sharp
data science: DS, Data_Science
pg: postgres-db
"""


def test_an_alias_file_adds_to_the_shipped_table() -> None:
    extra = read_alias_lines(ALIAS_FILE.splitlines())
    names = SkillNames(extra)

    assert extra == {
        "openshift": "kubernetes",
        "okd": "kubernetes",
        "f#": "fsharp",
        "f-sharp": "fsharp",
        "ds": "data-science",
        "data-science": "data-science",
        "postgres-db": "pg",
    }
    assert names.canonical("OpenShift") == "kubernetes"
    assert names.canonical("k8s") == "kubernetes"  # shipped aliases stay
    assert names.canonical("F#") == "fsharp"
    assert names.canonical("F Sharp") == "fsharp"
    assert names.canonical("Data Science") == "data-science"
    assert names.canonical("DS") == "data-science"
    # The file makes `pg` canonical, which wins over the shipped `pg` → postgresql.
    assert names.canonical("pg") == "pg"
    assert names.canonical("postgres") == "postgresql"
    assert {"fsharp", "data-science", "pg"} <= names.well_known


def test_csharp_keeps_its_hash_in_an_alias_file() -> None:
    assert read_alias_lines(["csharp: c#, C Sharp"]) == {"c#": "csharp", "c-sharp": "csharp"}


@pytest.mark.parametrize(
    ("lines", "number"),
    [
        (["python: py", "nonsense without a colon"], 2),
        (["# comment", "", ": orphan alias"], 3),
        (["golang:"], 1),
        (["golang: , ,"], 1),
        (["golang: !!!"], 1),
        (["!!!: something"], 1),
    ],
)
def test_a_bad_alias_line_is_named_by_number(lines: list[str], number: int) -> None:
    with pytest.raises(AliasFileProblem) as raised:
        read_alias_lines(lines, source="aliases.txt")

    message = str(raised.value)
    assert f"aliases.txt line {number}:" in message
    assert "skill: alias" in message
    assert "\n" not in message


def test_skill_names_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "aliases.txt"
    path.write_text(ALIAS_FILE, encoding="utf-8")

    names = SkillNames.from_file(path)

    assert names.canonical("okd") == "kubernetes"
    assert names.canonical("js") == "javascript"
    assert SkillNames.from_file(None).canonical("okd") == "okd"

    path.write_text("python: py\nbroken\n", encoding="utf-8")
    with pytest.raises(AliasFileProblem, match=r"aliases\.txt line 2"):
        SkillNames.from_file(path)


def test_a_workspaces_own_aliases_add_to_the_files_and_win_and_follow_its_changes(
    tmp_path: Path,
) -> None:
    path = tmp_path / "aliases.txt"
    path.write_text("monitoring: o11y, mon\n", encoding="utf-8")
    own = {"T0OWN": "observability: o11y, obs"}
    names = SkillNamesByTeam.from_file(path, lambda team_id: own.get(team_id, ""))

    mine, others = names.for_team("T0OWN"), names.for_team("T0ELSE")
    assert [mine.canonical(t) for t in ("o11y", "obs", "mon", "k8s")] == [
        "observability",
        "observability",
        "monitoring",
        "kubernetes",
    ]
    assert [others.canonical(t) for t in ("o11y", "obs", "mon")] == [
        "monitoring",
        "obs",
        "monitoring",
    ]
    assert names.for_team("T0OWN") is mine  # made once while the setting stays

    own["T0OWN"] = "tracing: obs"
    assert names.for_team("T0OWN").canonical("obs") == "tracing"
    assert names.for_team("T0OWN").canonical("o11y") == "monitoring"


# The SKILL_ALIASES_FILE setting ----------------------------------------------------------------


def test_a_good_alias_file_is_accepted_at_start_up(tmp_path: Path) -> None:
    path = tmp_path / "aliases.txt"
    path.write_text(ALIAS_FILE, encoding="utf-8")

    settings = load_settings({**MINIMAL, "SKILL_ALIASES_FILE": str(path)}, env_file=None)

    assert settings.skill_aliases_file == path
    assert SkillNames.from_file(settings.skill_aliases_file).canonical("OKD") == "kubernetes"


def test_a_bad_alias_file_stops_start_up_naming_the_setting_and_the_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "aliases.txt"
    path.write_text("# aliases\nkubernetes: k8s\nthis line has no colon\n", encoding="utf-8")

    with pytest.raises(ConfigError) as raised:
        load_settings({**MINIMAL, "SKILL_ALIASES_FILE": str(path)}, env_file=None)

    message = str(raised.value)
    assert message.startswith("SKILL_ALIASES_FILE")
    assert "line 3" in message
    assert "this line has no colon" in message
    assert "\n" not in message


def test_an_alias_file_that_is_not_text_stops_start_up(tmp_path: Path) -> None:
    path = tmp_path / "aliases.txt"
    path.write_bytes(b"python: py\n\xff\xfe\x00garbage\n")

    with pytest.raises(ConfigError) as raised:
        load_settings({**MINIMAL, "SKILL_ALIASES_FILE": str(path)}, env_file=None)

    assert str(raised.value).startswith("SKILL_ALIASES_FILE")
    assert "\n" not in str(raised.value)


# Reading what people type into /skills ---------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "level"),
    [
        ("learning", "learning"),
        ("beginner", "learning"),
        ("novice", "learning"),
        ("learner", "learning"),
        ("practitioner", "practitioner"),
        ("intermediate", "practitioner"),
        ("proficient", "practitioner"),
        ("expert", "expert"),
        ("advanced", "expert"),
        ("  Advanced ", "expert"),
        ("EXPERT", "expert"),
    ],
)
def test_levels_and_their_synonyms(word: str, level: str) -> None:
    assert read_level(word) == level


@pytest.mark.parametrize("word", ["guru", "senior", "", "3"])
def test_an_unknown_level_is_refused_listing_the_levels(word: str) -> None:
    with pytest.raises(SkillsRefused) as raised:
        read_level(word)

    message = raised.value.message
    assert f"“{word}”" in message
    for level in ("learning", "practitioner", "expert"):
        assert f"`{level}`" in message
    assert ADD_EXAMPLE in message


def test_a_skill_list_with_levels_aliases_and_defaults() -> None:
    assert read_skill_list("python:expert, react, public speaking:learning", NAMES) == [
        ("python", "expert"),
        ("react", "practitioner"),
        ("public-speaking", "learning"),
    ]
    assert read_skill_list("Py:Advanced, k8s : beginner,JS:intermediate", NAMES) == [
        ("python", "expert"),
        ("kubernetes", "learning"),
        ("javascript", "practitioner"),
    ]


def test_a_skill_named_twice_is_one_skill_at_the_last_level_typed() -> None:
    assert read_skill_list("python, Py:expert, #Python3:learning, react", NAMES) == [
        ("python", "learning"),
        ("react", "practitioner"),
    ]


def test_channel_links_and_tags_read_as_skills() -> None:
    typed = "<#C0PY|python>:expert, <#G0JS|js>, #Rust, ,, "

    assert read_skill_list(typed, NAMES) == [
        ("python", "expert"),
        ("javascript", "practitioner"),
        ("rust", "practitioner"),
    ]


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("", "Name at least one skill"),
        (" , ,, ", "Name at least one skill"),
        ("python, !!!", "I couldn't read a skill in “!!!”"),
        (":expert", "I couldn't read a skill in “:expert”"),
        ("python:guru", "“guru” isn't a level I know"),
    ],
)
def test_a_skill_list_that_cannot_be_read_is_refused_with_an_example(typed: str, says: str) -> None:
    with pytest.raises(SkillsRefused) as raised:
        read_skill_list(typed, NAMES)

    assert says in raised.value.message
    assert ADD_EXAMPLE in raised.value.message
    assert str(raised.value) == raised.value.message


def test_skill_names_ignore_levels_and_repeats() -> None:
    typed = "react, k8s:expert, React.js, <#C0PY|python>, kubernetes"

    assert read_skill_names(typed, NAMES) == ["react", "kubernetes", "python"]
    assert read_skill_names("python, !!!", NAMES) == ["python"]


@pytest.mark.parametrize("typed", ["", " , ", "!!!", ":expert"])
def test_no_skill_to_remove_is_refused_with_an_example(typed: str) -> None:
    with pytest.raises(SkillsRefused) as raised:
        read_skill_names(typed, NAMES)

    assert "Name the skill to remove" in raised.value.message
    assert "/skills remove react" in raised.value.message


def test_typed_skills_use_the_alias_file_too() -> None:
    names = SkillNames(read_alias_lines(["kubernetes: openshift"]))

    assert read_skill_list("OpenShift:expert", names) == [("kubernetes", "expert")]
    assert read_skill_names("openshift", names) == ["kubernetes"]
